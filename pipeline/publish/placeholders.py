"""The sample show's placeholders in `assets/show.toml`, which a producer's own show replaces.

A URL or an email address on a documentation domain (example.com, .net, .org, or the
`.example` top-level domain, RFC 2606) is a placeholder wherever it sits, and so is the
sample show's title while such an address is there. The base URL and the owner email end
up in every podcast app, so `pipeline publish` refuses them; the others are warnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from pipeline.config import ShowInfo

SHOW_FILE = "assets/show.toml"
SAMPLE_TITLE = "ML & AI Safety Updates"
EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org", "example")
BLOCKS_PUBLISHING = ("base_url", "owner_email")
WHY = {
    "title": "every episode's intro and the feed say it",
    "owner_email": "Apple and Spotify verify the show through it",
    "base_url": "the URL public/ is served from",
    "website": "the show's link in the feed, the outro slide and the description",
}


@dataclass(frozen=True)
class Placeholder:
    key: str  # under [show]
    value: str

    @property
    def blocks_publishing(self) -> bool:
        return self.key in BLOCKS_PUBLISHING

    @property
    def fix(self) -> str:
        return f"set {self.key} under [show] in {SHOW_FILE}: {WHY[self.key]}"


def is_example_host(host: str) -> bool:
    """example.org, www.example.org, a host under .example: names reserved for examples."""
    host = host.strip().lower().rstrip(".")
    return any(host == domain or host.endswith("." + domain) for domain in EXAMPLE_DOMAINS)


def is_example_url(url: str) -> bool:
    return is_example_host(urlsplit(url.strip()).hostname or "")


def is_example_email(email: str) -> bool:
    _, at, domain = email.strip().rpartition("@")
    return bool(at) and is_example_host(domain)


def placeholders(show: ShowInfo) -> list[Placeholder]:
    """The [show] values still the sample's, in the order a producer would set them. The
    title counts only beside an example address: the sample's title is this repository's
    own show, whose producer, once the addresses are real, is not to be told otherwise."""
    found = {
        "owner_email": is_example_email(show.owner_email),
        "base_url": is_example_url(show.base_url),
        "website": is_example_url(show.website),
    }
    found = {"title": any(found.values()) and show.title.strip() == SAMPLE_TITLE, **found}
    return [Placeholder(key, getattr(show, key)) for key, hit in found.items() if hit]


def blocking(show: ShowInfo) -> list[Placeholder]:
    """The placeholders that `pipeline publish` refuses to send."""
    return [p for p in placeholders(show) if p.blocks_publishing]


def still_the_samples(found: list[Placeholder]) -> str:
    """'title, owner_email and base_url are still the sample show's'."""
    names = [p.key for p in found]
    if len(names) == 1:
        return f"{names[0]} is still the sample show's"
    return f"{', '.join(names[:-1])} and {names[-1]} are still the sample show's"
