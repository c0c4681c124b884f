"""The YouTube title and description of an episode, within YouTube's limits, with chapters
from the timeline and the issue's links, from the show's jinja2 templates.

When not every link fits, each section keeps its first links (see `first_links`), the list
ends with "N more links: <the full issue's URL>", and `youtube_texts` says so."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from pipeline.config import template_dirs, template_path
from pipeline.episode import Episode
from pipeline.errors import PipelineError
from pipeline.formats import Link, Script, TimedSection, Timeline
from pipeline.publish.chapterlist import Chapter, chapter_list
from pipeline.publish.rss import issue_url
from pipeline.util.platforms import (
    CHAPTER_TITLE_MAX,
    HASHTAGS_MAX,
    YOUTUBE_DESCRIPTION_MAX,
    YOUTUBE_TITLE_MAX,
)
from pipeline.util.text import shorten


def youtube_safe(text: str) -> str:
    """YouTube rejects < and > in titles and descriptions."""
    return text.replace("<", "‹").replace(">", "›")


def chapter_title(title: str) -> str:
    return shorten(youtube_safe(title), CHAPTER_TITLE_MAX - 1)


def chapters(sections: list[TimedSection], duration: float) -> tuple[list[Chapter], str]:
    """YouTube chapters from the timeline's sections, by the rule of `chapterlist`."""
    return chapter_list([(s.start, s.title) for s in sections], duration, chapter_title,
                        "YouTube")


@dataclass(frozen=True)
class RankedLink:
    link: Link
    rank: int  # how many of its section's links come before it


def episode_links(script: Script) -> list[RankedLink]:
    """Every link once, in the issue's order, ranked within its section."""
    seen: set[str] = set()
    per_section: dict[str, int] = {}
    found = []
    for segment in script.segments:
        for link in segment.links:
            if link.url in seen:
                continue
            seen.add(link.url)
            rank = per_section.get(segment.section, 0)
            per_section[segment.section] = rank + 1
            safe = Link(text=youtube_safe(link.text or link.url), url=youtube_safe(link.url))
            found.append(RankedLink(safe, rank))
    return found


def first_links(links: list[RankedLink], count: int) -> list[Link]:
    """The `count` links a description keeps when not all fit, in the issue's order: every
    section's first link, then every section's second, and so on, so a long digest gives up
    its tail before a short section loses any."""
    order = sorted(range(len(links)), key=lambda i: (links[i].rank, i))
    return [links[i].link for i in sorted(order[:count])]


def most_that_fit(links: list[RankedLink], render: Callable[[list[Link], int], str]) -> int:
    """How many links fit in YouTube's limit; `render` takes the kept links and the number
    left out."""
    low, high = 0, len(links)  # invariant: low fits or is 0, high + 1 does not fit
    while low < high:
        middle = (low + high + 1) // 2
        kept = first_links(links, middle)
        if len(render(kept, len(links) - middle).encode()) <= YOUTUBE_DESCRIPTION_MAX:
            low = middle
        else:
            high = middle - 1
    return low


MORE_LINKS = re.compile(r"^(\d+) more links?\b", re.MULTILINE)


def links_left_out(description: str) -> int:
    """The N of the description's 'N more links: <url>' line, 0 without one."""
    found = MORE_LINKS.search(description)
    return int(found.group(1)) if found else 0


def full_issue_url(episode: Episode) -> str:
    """Where the full issue is read: the feed's issue URL, else the show's website."""
    base = episode.settings.show.base_url.strip().rstrip("/")
    if base or episode.settings.feed.issue_url.strip():
        return issue_url(episode, base)
    return episode.settings.show.website.strip()


def hashtag(tag: str) -> str:
    return "#" + "".join(w[:1].upper() + w[1:] for w in re.findall(r"\w+", tag))


@functools.lru_cache(maxsize=8)
def template_env(root: Path) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(template_dirs(root)),
                              autoescape=False, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def render_template(root: Path, name: str, context: dict[str, Any]) -> str:
    """The show's template `name` (assets/templates, else the package's) filled in."""
    try:
        return template_env(root).get_template(name).render(context)
    except jinja2.TemplateNotFound:
        raise PipelineError("template not found", template_path(root, name),
                            "restore it from git") from None
    except jinja2.TemplateError as exc:
        raise PipelineError(f"template error: {exc}", template_path(root, name)) from None


def _links_why(listed: int, total: int) -> str:
    if listed == total:
        return ""
    return (f"links cut: {listed} of {total} listed, {total - listed} more counted with the "
            f"full issue's URL (YouTube allows {YOUTUBE_DESCRIPTION_MAX} bytes)")


def youtube_texts(episode: Episode, script: Script, timeline: Timeline) -> tuple[str, str, str]:
    """The title, the description (within YouTube's limits) and why chapters or links are
    missing from it ('' when nothing is)."""
    folder = episode.root
    show = episode.settings.show
    found, why = chapters(timeline.sections, timeline.duration)
    links = episode_links(script)
    context = {"episode": script.episode, "show": show, "chapters": found,
               "listen_on": show.listen_on, "issue_url": youtube_safe(full_issue_url(episode)),
               "hashtags": [hashtag(t) for t in episode.settings.youtube.tags][:HASHTAGS_MAX]}

    def render(kept: list[Link], left_out: int) -> str:
        values = {**context, "links": kept, "more_links": left_out}
        return youtube_safe(render_template(folder, "youtube-description.txt.j2", values))

    title = youtube_safe(" ".join(render_template(folder, "youtube-title.txt.j2",
                                                  context).split()))
    listed = most_that_fit(links, render)
    description = render(first_links(links, listed), len(links) - listed)
    description = description.encode()[:YOUTUBE_DESCRIPTION_MAX].decode("utf-8", "ignore")
    why = "; ".join(part for part in (why, _links_why(listed, len(links))) if part)
    return shorten(title, YOUTUBE_TITLE_MAX), description, why
