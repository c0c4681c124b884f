"""The YouTube title and description of an episode, within YouTube's limits, with chapters
from the timeline and the issue's links, from the show's jinja2 templates."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from pipeline.config import template_dirs, template_path
from pipeline.episode import Episode
from pipeline.errors import PipelineError
from pipeline.formats import Link, Script, TimedSection, Timeline
from pipeline.util.platforms import (
    CHAPTER_MIN_COUNT,
    CHAPTER_MIN_SECONDS,
    CHAPTER_TITLE_MAX,
    HASHTAGS_MAX,
    YOUTUBE_DESCRIPTION_MAX,
    YOUTUBE_TITLE_MAX,
)
from pipeline.util.text import shorten
from pipeline.util.timecode import clock


@dataclass(frozen=True)
class Chapter:
    start: float
    title: str

    @property
    def time(self) -> str:
        return clock(self.start)


def youtube_safe(text: str) -> str:
    """YouTube rejects < and > in titles and descriptions."""
    return text.replace("<", "‹").replace(">", "›")


def chapter_title(title: str) -> str:
    return shorten(youtube_safe(title), CHAPTER_TITLE_MAX - 1)


def chapters(sections: list[TimedSection], duration: float) -> tuple[list[Chapter], str]:
    """YouTube chapters from the timeline's sections: the first at 0:00, each at least 10 s
    (a shorter section is joined to the next; a short last one to the one before). Fewer
    than three leaves them out; the second value then says why."""
    result: list[Chapter] = []
    pending: float | None = None
    for i, section in enumerate(sections):
        begin = 0.0 if i == 0 else (pending if pending is not None else section.start)
        end = sections[i + 1].start if i + 1 < len(sections) else duration
        if end - begin < CHAPTER_MIN_SECONDS:
            if i + 1 < len(sections):
                pending = begin
            continue
        pending = None
        result.append(Chapter(begin, chapter_title(section.title)))
    if len(result) < CHAPTER_MIN_COUNT:
        return [], (f"chapters left out: {len(result)} section(s) of at least "
                    f"{CHAPTER_MIN_SECONDS:.0f} s, YouTube needs {CHAPTER_MIN_COUNT}")
    return result, ""


def episode_links(script: Script) -> list[Link]:
    seen: dict[str, str] = {}
    for segment in script.segments:
        for link in segment.links:
            seen.setdefault(link.url, link.text or link.url)
    return [Link(text=youtube_safe(text), url=youtube_safe(url)) for url, text in seen.items()]


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


def youtube_texts(episode: Episode, script: Script, timeline: Timeline) -> tuple[str, str, str]:
    """The title, the description (within YouTube's limits) and why chapters are missing."""
    folder = episode.root
    show = episode.settings.show
    found, why = chapters(timeline.sections, timeline.duration)
    context = {"episode": script.episode, "show": show, "chapters": found,
               "listen_on": show.listen_on, "links": episode_links(script),
               "hashtags": [hashtag(t) for t in episode.settings.youtube.tags][:HASHTAGS_MAX]}
    title = youtube_safe(" ".join(render_template(folder, "youtube-title.txt.j2",
                                                  context).split()))
    description = youtube_safe(render_template(folder, "youtube-description.txt.j2", context))
    while len(description.encode()) > YOUTUBE_DESCRIPTION_MAX and context["links"]:
        context["links"] = context["links"][:-1]
        description = youtube_safe(render_template(folder, "youtube-description.txt.j2",
                                                   context))
    description = description.encode()[:YOUTUBE_DESCRIPTION_MAX].decode("utf-8", "ignore")
    return shorten(title, YOUTUBE_TITLE_MAX), description, why
