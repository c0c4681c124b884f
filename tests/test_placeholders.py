"""The sample show's placeholders are recognised in any show.toml: documentation domains in
the base URL, owner email and website, and the sample's title; a producer's own values pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO

from pipeline.config import ShowInfo, load_show
from pipeline.publish.placeholders import (
    SAMPLE_TITLE,
    blocking,
    is_example_email,
    is_example_host,
    placeholders,
    still_the_samples,
)

OWN = {"title": "Agents Weekly", "author": "A", "owner_name": "O",
       "owner_email": "pod@agents-weekly.net", "base_url": "https://agents-weekly.net/pod",
       "website": "https://agents-weekly.net"}


def show(**changes: str) -> ShowInfo:
    return ShowInfo(**{**OWN, **changes})


def test_the_shipped_show_is_all_placeholders() -> None:
    found = placeholders(load_show(REPO).show)
    assert [p.key for p in found] == ["title", "owner_email", "base_url", "website"]
    assert [p.key for p in blocking(load_show(REPO).show)] == ["owner_email", "base_url"]
    assert found[0].value == SAMPLE_TITLE


def test_a_producers_own_show_has_none() -> None:
    assert placeholders(show()) == []
    assert placeholders(show(website="")) == []


@pytest.mark.parametrize(("key", "value"), [
    ("base_url", "https://example.org/mlaisu/podcast"),
    ("base_url", "http://EXAMPLE.COM"),
    ("base_url", "https://cdn.example.net/pod/"),
    ("base_url", "https://podcast.example/feed"),
    ("owner_email", "podcast@example.org"),
    ("owner_email", "me@Mail.Example.com"),
    ("website", "https://www.example.org"),
])
def test_each_placeholder_is_named_with_its_fix(key: str, value: str) -> None:
    [found] = placeholders(show(**{key: value}))
    assert (found.key, found.value) == (key, value)
    assert found.fix.startswith(f"set {key} under [show] in assets/show.toml: ")
    assert found.blocks_publishing is (key in ("base_url", "owner_email"))


def test_the_sample_title_is_a_placeholder_only_beside_an_example_address() -> None:
    assert placeholders(show(title="  ML & AI Safety Updates ")) == []  # this show's own
    found = placeholders(show(title="ML & AI Safety Updates", website="https://example.org"))
    assert [p.key for p in found] == ["title", "website"]
    assert found[0].fix.startswith("set title under [show] in assets/show.toml: ")


@pytest.mark.parametrize("host", [
    "example.org.evil.net", "myexample.org", "example.organic.com", "examples.com", "",
    "example.co.uk",
])
def test_hosts_that_only_look_like_example_domains_are_real(host: str) -> None:
    assert not is_example_host(host)


def test_emails() -> None:
    assert is_example_email("a@example.com")
    assert not is_example_email("example.com")  # no address at all: the feed checks that
    assert not is_example_email("example.org@agents-weekly.net")


def test_the_words_for_one_and_for_several() -> None:
    one = placeholders(show(base_url="https://example.org"))
    assert still_the_samples(one) == "base_url is still the sample show's"
    several = placeholders(show(title=SAMPLE_TITLE, owner_email="a@example.org",
                                base_url="https://example.org"))
    assert still_the_samples(several) == (
        "title, owner_email and base_url are still the sample show's")


def test_a_show_toml_variant_read_from_disk(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    text = (REPO / "assets" / "show.toml").read_text(encoding="utf-8")
    text = text.replace('owner_email = "podcast@example.org"', 'owner_email = "me@mlaisu.ai"')
    (tmp_path / "assets" / "show.toml").write_text(text, encoding="utf-8")
    assert [p.key for p in blocking(load_show(tmp_path).show)] == ["base_url"]
