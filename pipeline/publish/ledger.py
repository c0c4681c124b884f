"""Where each episode goes in the feed, checked against the ledger of what is published.

A published episode keeps its guid and enclosure URL for ever: `plan` says what a build
would change about published episodes, and `pipeline feed` refuses such a build unless told
to accept it. The ledgers themselves are `formats.Ledger` (episodes/published.toml, written
only by `pipeline publish`) and `formats.PendingLedger` (public/.ledger.toml).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.episode import Episode
from pipeline.errors import PipelineError
from pipeline.formats import Ledger, LedgerEpisode, LedgerShow, PendingEpisode, PendingLedger
from pipeline.util import lock
from pipeline.util.hashing import sha256_file

# podcast:guid namespace from the Podcasting 2.0 spec.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
LEDGER = Path("episodes") / "published.toml"
PENDING = ".ledger.toml"  # in public/: a dot-file, so `pipeline publish` never delivers it
PUBLIC_LOCK = ".public.lock"  # beside public/: held while public/ is built or published
CHANGE_FIX = (
    "undo the change, or rerun with --allow-changed-guid to accept it "
    "(podcast apps then show those episodes again as new)"
)


def podcast_guid(feed_url: str) -> str:
    """The channel's podcast:guid: UUIDv5 of the feed URL without scheme and trailing slashes."""
    bare = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", feed_url.strip()).rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def item_guid(channel_guid: str, slug: str) -> str:
    """An episode's guid: UUIDv5 of its slug in the channel's guid, so unique across shows."""
    return str(uuid.uuid5(uuid.UUID(channel_guid), slug))


def read_pending(public: Path) -> PendingLedger:
    """The ledger `pipeline feed` left in public/ for `pipeline publish` to record."""
    path = public / PENDING
    if not path.is_file():
        raise PipelineError("public/ has no pending ledger: it was built by an older "
                            "pipeline", path, "rebuild it: make feed")
    return PendingLedger.read_toml(path)


def public_lock(root: Path, command: str, say: Callable[[str], None] | None = None
                ) -> contextlib.AbstractContextManager[None]:
    """The lock over public/ and the ledger: `pipeline feed` holds it while it builds public/
    and `pipeline publish` while it sends public/ and records the ledger, so neither sees
    the other's half-done work. If it has to wait, `say` gets one line saying for whom."""

    if not root.is_dir():
        raise PipelineError("no such project folder", root, "check --root or $PIPELINE_ROOT")

    def waiting(holder: str) -> None:
        if say is not None:
            say(f"{command}: waiting for {holder} to finish with public/")

    return lock.exclusive(root / PUBLIC_LOCK, f"pipeline {command}", waiting)


def ledger_digest(path: Path) -> str:
    """What a pending ledger was built against: the committed ledger's sha256, or ""."""
    return sha256_file(path) if path.is_file() else ""


@dataclass(frozen=True)
class Planned:
    """One episode's identity in the feed."""

    episode: Episode
    sha256: str
    guid: str
    mp3_name: str  # the file name under public/<slug>/
    enclosure_url: str
    first_published: dt.datetime | None  # None: never published

    @property
    def slug(self) -> str:
        return self.episode.slug

    def ledger_entry(self) -> PendingEpisode:
        return PendingEpisode(slug=self.slug, number=self.episode.meta.number, guid=self.guid,
                              enclosure_url=self.enclosure_url, sha256=self.sha256,
                              first_published=self.first_published)


def mp3_name(previous: LedgerEpisode | None, sha256: str) -> str:
    """`episode.mp3` at first; the published name while the audio is the same; a new name
    carrying the content hash for corrected audio, since an enclosure URL never changes audio."""
    if previous is None:
        return "episode.mp3"
    if previous.sha256 == sha256:
        return urlsplit(previous.enclosure_url).path.rsplit("/", 1)[-1]
    return f"episode-{sha256[:12]}.mp3"


def renamed_from(ledger: Ledger, number: int, built: set[str]) -> LedgerEpisode | None:
    """A published entry with this episode number whose folder is no longer built."""
    return next((e for e in ledger.episodes if e.number == number and e.slug not in built), None)


def plan_episode(episode: Episode, ledger: Ledger, built: set[str], base: str,
                 channel_guid: str) -> tuple[Planned, LedgerEpisode | None]:
    """Where the episode goes, and the ledger entry it was published under, if any."""
    sha = sha256_file(episode.build / "episode.mp3")
    previous = ledger.entry(episode.slug) or renamed_from(ledger, episode.meta.number, built)
    name = mp3_name(previous, sha)
    planned = Planned(
        episode=episode, sha256=sha, guid=item_guid(channel_guid, episode.slug), mp3_name=name,
        enclosure_url=f"{base}/{episode.slug}/{name}",
        first_published=previous.first_published if previous else None,
    )
    return planned, previous


def change(previous: LedgerEpisode | None, planned: Planned) -> str | None:
    """What this build would change about a published episode, in words; None if nothing."""
    if previous is None:
        return None
    if previous.slug != planned.slug:
        return (f"episode {previous.number} was published as '{previous.slug}' and is now "
                f"'{planned.slug}': its guid would change from {previous.guid} to {planned.guid}")
    if previous.guid != planned.guid:
        return f"'{planned.slug}': its guid would change from {previous.guid} to {planned.guid}"
    if previous.sha256 == planned.sha256 and previous.enclosure_url != planned.enclosure_url:
        return (f"'{planned.slug}': its enclosure URL would change from "
                f"{previous.enclosure_url} to {planned.enclosure_url}")
    return None


def plan(episodes: list[Episode], ledger: Ledger,
         base: str) -> tuple[list[Planned], LedgerShow, list[str]]:
    """Every episode's place, the show's ledger entry, and the changes to published ones."""
    feed_url = f"{base}/feed.xml"
    channel_guid = ledger.show.guid if ledger.show else podcast_guid(feed_url)
    built = {episode.slug for episode in episodes}
    changes = []
    if ledger.show and ledger.show.feed_url != feed_url:
        changes.append(f"the feed URL would change from {ledger.show.feed_url} to {feed_url} "
                       "(show.base_url changed), and every published enclosure URL with it")
    planned, claimed = [], set()
    for episode in episodes:
        item, previous = plan_episode(episode, ledger, built, base, channel_guid)
        planned.append(item)
        claimed.add(previous.slug if previous else item.slug)
        changes.append(change(previous, item))
    changes += [
        f"published episode '{entry.slug}' is gone ({LEDGER.parent}/{entry.slug}/build/"
        "episode.mp3 not found): the feed would drop it"
        for entry in ledger.episodes if entry.slug not in claimed
    ]
    show = LedgerShow(feed_url=feed_url, guid=channel_guid)
    return planned, show, [c for c in changes if c]
