"""Stage `review`: `build/review.html`, the page a producer opens before publishing.

It shows what the other stages built, side by side: the video with its captions, the
chapters (a click seeks), the audio, the QA figures, the script with the words the model
heard differently, a waveform and loudness-over-time picture (`build/review-loudness.png`),
the slides, the YouTube text and the feed item as `pipeline feed` would publish it. Every
URL is relative to `build/` (the captions travel inside the page: see captions_url), so the
page works opened from disk and served over HTTP. A missing or damaged input is named on
the page with the command that builds it.

`pipeline review episodes/<slug>`
"""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click
import ffmpeg
import jinja2
import numpy as np
from markupsafe import Markup
from PIL import Image, ImageDraw, ImageFont

from pipeline.config import load_show
from pipeline.episode import Episode, load_episode
from pipeline.errors import PipelineError
from pipeline.media.ffmpeg import compile_argv
from pipeline.media.ffmpeg import run as run_ffmpeg
from pipeline.media.loudness import Loudness, parse_ebur128
from pipeline.publish import feed
from pipeline.util import fsutil

PAGE = "review.html"
PICTURE = "review-loudness.png"
TEMPLATE = "review.html.j2"
# build file -> the stage that makes it
SOURCES = {
    "script.json": "script",
    "timeline.json": "narrate",
    "episode.mp3": "master",
    "chapters.json": "master",
    "captions.vtt": "captions",
    "qa.json": "captions",
    "slides.json": "slides",
    "thumbnail.jpg": "slides",
    "video.mp4": "video",
    "youtube-title.txt": "video",
    "youtube-description.txt": "video",
}
JSON_FILES = ("script.json", "timeline.json", "chapters.json", "qa.json", "slides.json")
PICTURE_RATE = 8000  # samples a second decoded for the waveform: plenty for 1200 columns
ABSOLUTE_GATE = -70.0  # LUFS: BS.1770's absolute gate; quieter is silence
LOUDNESS_SLACK = 1.0  # LU either side of the target that still passes
TITLE_LIMIT = 100  # YouTube's title limit, characters
DESCRIPTION_LIMIT = 5000  # YouTube's description limit, bytes


# ---------------------------------------------------------------- reading the build


@dataclass
class Inputs:
    """What the build folder holds: parsed JSON, text files, and what is missing or broken."""

    build: Path
    slug: str
    json: dict[str, Any] = field(default_factory=dict)
    missing: list[dict[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def has(self, name: str) -> bool:
        return (self.build / name).is_file()

    def fix(self, name: str) -> str:
        return f"make {SOURCES.get(name, 'episode')} EP={self.slug}"

    def broken(self, name: str, what: str) -> None:
        self.problems.append(f"{name}: {what} (rebuild it: {self.fix(name)})")


def read_inputs(build: Path, slug: str) -> Inputs:
    """Note every missing build file and parse the JSON ones; nothing here raises."""
    inputs = Inputs(build, slug)
    for name in SOURCES:
        if not inputs.has(name):
            inputs.missing.append({"file": name, "command": inputs.fix(name)})
    for name in JSON_FILES:
        if inputs.has(name):
            inputs.json[name] = _read_json(inputs, name)
    return inputs


def _read_json(inputs: Inputs, name: str) -> dict[str, Any]:
    try:
        data = json.loads((inputs.build / name).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        inputs.broken(name, f"not valid JSON ({exc})")
        return {}
    if not isinstance(data, dict):
        inputs.broken(name, "not a JSON object")
        return {}
    return data


def read_text(inputs: Inputs, name: str) -> str | None:
    path = inputs.build / name
    if not path.is_file():
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        inputs.broken(name, "not UTF-8")
        return None


def _list(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """A list of objects under `key`, or an empty list when the field is absent or wrong."""
    value = data.get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def clock(seconds: float) -> str:
    """0:07, 12:34, 1:02:03."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def url(name: str) -> str:
    """A build file's URL relative to review.html."""
    return quote(name)


# ---------------------------------------------------------------- measuring the audio


def measure_argv(mp3: Path, rate: int = PICTURE_RATE) -> list[str]:
    """One ffmpeg pass: ebur128 logs loudness every 100 ms and the summary (integrated,
    range, true peak) on stderr; mono float samples at `rate` for the waveform on stdout.
    The ebur128 branch ends in a null output, or ffmpeg-python would drop it."""
    split = ffmpeg.input(str(mp3))["a"].filter_multi_output("asplit")
    meter = split[0].filter("ebur128", peak="true").output("-", format="null")
    wave = split[1].filter("aformat", sample_fmts="flt", sample_rates=rate,
                           channel_layouts="mono").output("-", format="f32le")
    return compile_argv(ffmpeg.merge_outputs(wave, meter).global_args("-nostats"))


def measure(mp3: Path, fix: str) -> tuple[np.ndarray, Loudness]:
    """Decoded samples (mono, PICTURE_RATE) and the loudness of `mp3`."""
    result = run_ffmpeg(measure_argv(mp3), "ffmpeg could not measure the audio", mp3, fix)
    samples = np.frombuffer(result.stdout, dtype="<f4")
    return samples, parse_ebur128(result.stderr)


# ---------------------------------------------------------------- the picture


@dataclass(frozen=True)
class Layout:
    width: int = 1200
    wave: int = 150  # waveform panel height
    plot: int = 150  # loudness panel height
    axis: int = 20  # time labels under the panels
    top_lufs: float = -6.0
    bottom_lufs: float = -46.0

    @property
    def height(self) -> int:
        return self.wave + self.plot + self.axis


INK = {"bg": (250, 250, 247), "wave": (52, 101, 164), "ceiling": (204, 0, 0),
       "momentary": (170, 190, 215), "short": (32, 74, 135), "target": (46, 139, 87),
       "chapter": (150, 150, 150), "text": (40, 40, 40), "rule": (200, 200, 200)}


def peak_columns(samples: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest sample under each of `width` columns."""
    if samples.size == 0:
        return np.zeros(width), np.zeros(width)
    edges = np.linspace(0, samples.size, width + 1).astype(int)
    edges[1:] = np.maximum(edges[1:], edges[:-1] + 1)  # every column gets a sample
    edges = np.minimum(edges, samples.size)
    starts = np.minimum(edges[:-1], samples.size - 1)
    return np.minimum.reduceat(samples, starts), np.maximum.reduceat(samples, starts)


def tick_step(duration: float, most: int = 12) -> int:
    """Seconds between time labels: the smallest round step giving at most `most` labels."""
    steps = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
    return next((s for s in steps if duration / s <= most), steps[-1])


def _draw_wave(draw: ImageDraw.ImageDraw, samples: np.ndarray, lay: Layout,
               ceiling_db: float) -> None:
    mid, half = lay.wave / 2, lay.wave / 2 - 4
    lows, highs = peak_columns(samples, lay.width)
    for x, (low, high) in enumerate(zip(lows, highs, strict=True)):
        draw.line([(x, mid - high * half), (x, mid - low * half)], fill=INK["wave"])
    level = 10 ** (ceiling_db / 20) * half
    for y in (mid - level, mid + level):
        draw.line([(0, y), (lay.width, y)], fill=INK["ceiling"])
    draw.text((4, 2), f"waveform; red: the {ceiling_db:g} dBTP ceiling", fill=INK["text"])


def _lufs_y(value: float, lay: Layout) -> float:
    value = min(max(value, lay.bottom_lufs), lay.top_lufs)
    share = (lay.top_lufs - value) / (lay.top_lufs - lay.bottom_lufs)
    return lay.wave + 2 + share * (lay.plot - 4)


def _audible_runs(times: list[float], values: list[float]) -> list[list[tuple[float, float]]]:
    """Stretches of (time, LUFS) above the absolute gate; ebur128 prints -120.7 and the like
    for silence and for a window it has not filled yet, which are no loudness to draw."""
    runs: list[list[tuple[float, float]]] = [[]]
    for t, value in zip(times, values, strict=True):
        if value > ABSOLUTE_GATE:
            runs[-1].append((t, value))
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def _draw_loudness(draw: ImageDraw.ImageDraw, loud: Loudness, duration: float, lay: Layout,
                   target: float) -> None:
    draw.line([(0, lay.wave), (lay.width, lay.wave)], fill=INK["rule"])
    scale = lay.width / duration if duration > 0 else 0
    for values, ink in ((loud.momentary, "momentary"), (loud.short_term, "short")):
        for run in _audible_runs(loud.times, values):
            points = [(t * scale, _lufs_y(v, lay)) for t, v in run]
            if len(points) > 1:
                draw.line(points, fill=INK[ink], width=2 if ink == "short" else 1)
    y = _lufs_y(target, lay)
    for x in range(0, lay.width, 12):
        draw.line([(x, y), (x + 6, y)], fill=INK["target"])
    draw.text((4, lay.wave + 2), f"loudness (LUFS): short-term dark, momentary light, "
              f"target {target:g} green; {lay.top_lufs:g} at top, {lay.bottom_lufs:g} "
              "at bottom", fill=INK["text"])


def _draw_time(draw: ImageDraw.ImageDraw, duration: float, chapters: list[float],
               lay: Layout) -> None:
    if duration <= 0:
        return
    scale = lay.width / duration
    for start in chapters:
        if 0 < start < duration:
            draw.line([(start * scale, 0), (start * scale, lay.wave + lay.plot)],
                      fill=INK["chapter"])
    step = tick_step(duration)
    for second in range(0, int(duration) + 1, step):
        x = second * scale
        draw.line([(x, lay.wave + lay.plot), (x, lay.wave + lay.plot + 4)], fill=INK["text"])
        draw.text((min(x + 2, lay.width - 40), lay.wave + lay.plot + 5), clock(second),
                  fill=INK["text"])


def draw_picture(samples: np.ndarray, rate: int, loud: Loudness, chapters: list[float],
                 target_lufs: float, ceiling_db: float, lay: Layout | None = None) -> Image.Image:
    """Waveform above, loudness over time below, chapter starts as grey lines, a time axis;
    x is proportional to time over the whole width."""
    lay = lay or Layout()
    image = Image.new("RGB", (lay.width, lay.height), INK["bg"])
    draw = ImageDraw.Draw(image)
    draw.font = ImageFont.load_default()
    duration = samples.size / rate
    _draw_time(draw, duration, chapters, lay)
    _draw_wave(draw, samples, lay, ceiling_db)
    _draw_loudness(draw, loud, duration, lay, target_lufs)
    return image


# ---------------------------------------------------------------- page parts


def chapter_list(inputs: Inputs) -> list[dict[str, Any]]:
    """Chapters from chapters.json, else the timeline's sections."""
    rows = [(c.get("startTime"), c.get("title"))
            for c in _list(inputs.json.get("chapters.json", {}), "chapters")]
    if not rows:
        rows = [(s.get("start"), s.get("title"))
                for s in _list(inputs.json.get("timeline.json", {}), "sections")]
    chapters = [{"start": float(start), "title": str(title), "clock": clock(float(start))}
                for start, title in rows if isinstance(start, int | float)]
    return sorted(chapters, key=lambda c: c["start"])


def _word_spans(display: str, start: float | None, end: float | None) -> list[dict[str, Any]]:
    """The display text cut into words and the space between them, as the captions stage
    cuts it (str.split), so its word indices count the same words. With the segment's
    times, each word gets an estimated time: its share of the characters before it."""
    spans = [{"text": piece, "word": not piece.isspace(), "kind": "plain"}
             for piece in re.split(r"(\s+)", display) if piece]
    if start is not None and end is not None and display:
        offset = len(display) - len(display.lstrip())
        for span in spans:
            span["at"] = start + (end - start) * offset / len(display)
            offset += len(span["text"])
    return spans


def _find(words: list[dict[str, Any]], entry: dict[str, Any], cursor: int) -> int | None:
    """The entry's word: at its `index` when given; else among the words with its text from
    `cursor` on, the one whose estimated time is nearest the time it was heard (the first
    without times). Entries come in the segment's word order."""
    index = entry.get("index")
    if isinstance(index, int):
        return index if 0 <= index < len(words) else None
    text = str(entry.get("display", ""))
    candidates = [i for i in range(cursor, len(words)) if words[i]["text"] == text]
    heard_at = entry.get("start")
    if not candidates or not isinstance(heard_at, int | float) or "at" not in words[0]:
        return candidates[0] if candidates else None
    return min(candidates, key=lambda i: abs(words[i]["at"] - heard_at))


def _place(words: list[dict[str, Any]], entries: list[dict[str, Any]], kind: str) -> None:
    cursor = 0
    for entry in entries:
        index = _find(words, entry, cursor)
        if index is None:
            continue
        words[index].update(kind=kind, heard=entry.get("heard", ""),
                            expected=entry.get("expected", ""))
        cursor = index + 1


def mark_words(display: str, heard: list[dict[str, Any]], missed: list[dict[str, Any]],
               start: float | None = None, end: float | None = None) -> list[dict[str, Any]]:
    """The display text as spans; words the model heard differently or missed are marked."""
    spans = _word_spans(display, start, end)
    words = [span for span in spans if span["word"]]
    _place(words, heard, "heard")
    _place(words, missed, "missed")
    return spans


def _seconds(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _by_segment(entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        grouped.setdefault(str(entry.get("segment")), []).append(entry)
    return grouped


def _segment_view(segment: dict[str, Any], times: dict[str, dict[str, Any]],
                  qa: dict[str, Any]) -> dict[str, Any]:
    seg_id = str(segment.get("id", ""))
    heard = _by_segment(_list(qa, "heard_differently")).get(seg_id, [])
    missed = _by_segment(_list(qa, "missed")).get(seg_id, [])
    report = next((s for s in _list(qa, "segments") if s.get("id") == seg_id), {})
    start, end = (_seconds(times.get(seg_id, {}).get(key)) for key in ("start", "end"))
    return {
        "id": seg_id, "kind": segment.get("kind", ""), "start": start,
        "clock": clock(start) if start is not None else "",
        "spans": mark_words(str(segment.get("display", "")), heard, missed, start, end),
        "raw_wer": report.get("raw_wer"), "model_heard": report.get("heard", ""),
        "stretches": _by_segment(_list(qa, "flagged_stretches")).get(seg_id, []),
    }


def script_view(inputs: Inputs) -> list[dict[str, Any]]:
    """The script section by section, each segment with its start time and marked words."""
    script = inputs.json.get("script.json", {})
    qa = inputs.json.get("qa.json", {})
    times = {str(s.get("id")): s for s in _list(inputs.json.get("timeline.json", {}),
                                                 "segments")}
    sections = [{"id": s.get("id"), "title": s.get("title", ""), "segments": []}
                for s in _list(script, "sections")]
    by_id = {section["id"]: section for section in sections}
    for segment in _list(script, "segments"):
        section = by_id.get(segment.get("section"))
        if section is None:
            section = {"id": segment.get("section"), "title": str(segment.get("section")),
                       "segments": []}
            by_id[section["id"]] = section
            sections.append(section)
        section["segments"].append(_segment_view(segment, times, qa))
    return [s for s in sections if s["segments"]]


def slide_list(inputs: Inputs) -> list[dict[str, Any]]:
    """The slides that exist on disk, from slides.json, else every slides/*.png."""
    listed = _list(inputs.json.get("slides.json", {}), "slides")
    if not listed:
        listed = [{"file": f"slides/{p.name}"} for p in sorted(inputs.build.glob("slides/*.png"))]
    slides = []
    for slide in listed:
        name = str(slide.get("file", ""))
        if not name or not (inputs.build / name).is_file():
            if name:
                inputs.problems.append(f"slides.json lists {name}, which is not there "
                                       f"(rebuild: {inputs.fix('slides.json')})")
            continue
        start = slide.get("start")
        timed = isinstance(start, int | float)
        slides.append({"url": url(name), "title": str(slide.get("title", "")),
                       "start": start if timed else None,
                       "clock": f"{clock(start)}–{clock(slide.get('end') or start)}"
                       if timed else name})
    return slides


def _check(label: str, value: Any, target: str, ok: bool | None) -> dict[str, Any]:
    return {"label": label, "value": value, "target": target,
            "status": "" if ok is None else ("ok" if ok else "bad")}


def _percent(value: Any) -> str:
    return f"{value:.1%}" if isinstance(value, int | float) else "–"


def qa_figures(loud: Loudness | None, inputs: Inputs, episode: Episode) -> list[dict[str, Any]]:
    """Rows of the QA table: measured loudness against the show's targets, the WERs."""
    audio = episode.settings.audio
    rows = []
    if loud is not None:
        level, peak = loud.integrated, loud.true_peak
        rows += [
            _check("Integrated loudness", f"{level:.1f} LUFS" if level is not None else "–",
                   f"{audio.loudness_lufs:g} ± {LOUDNESS_SLACK:g} LU",
                   None if level is None
                   else abs(level - audio.loudness_lufs) <= LOUDNESS_SLACK),
            _check("True peak", f"{peak:.1f} dBTP" if peak is not None else "–",
                   f"at most {audio.true_peak_db:g} dBTP",
                   None if peak is None else peak <= audio.true_peak_db),
            _check("Loudness range", f"{loud.range:.1f} LU" if loud.range is not None else "–",
                   "", None),
        ]
    qa = inputs.json.get("qa.json")
    if qa:
        rows += [
            _check("Word error rate, raw (Whisper against the script)",
                   _percent(qa.get("raw_wer")), "", None),
            _check("Word error rate, corrected (captions against the script)",
                   _percent(qa.get("corrected_wer")), "", None),
            _check("Words heard differently", len(_list(qa, "heard_differently")), "", None),
            _check("Words not heard", len(_list(qa, "missed")), "", None),
            _check("Stretches heard but not in the script",
                   len(_list(qa, "flagged_stretches")), "none",
                   not _list(qa, "flagged_stretches")),
            _check("Caption cues", qa.get("cues", "–"), "", None),
            _check("Cue rule violations", len(qa.get("cue_rule_violations") or []), "none",
                   not qa.get("cue_rule_violations")),
        ]
    return rows


def youtube_text(inputs: Inputs) -> dict[str, Any]:
    """The title and description as they will be sent, with YouTube's limits checked."""
    title = read_text(inputs, "youtube-title.txt")
    description = read_text(inputs, "youtube-description.txt")
    checks = []
    if title is not None:
        title = title.strip()
        checks.append(_check("Title length", f"{len(title)} characters",
                             f"at most {TITLE_LIMIT}", len(title) <= TITLE_LIMIT))
    if description is not None:
        size = len(description.encode("utf-8"))
        checks.append(_check("Description size", f"{size} bytes",
                             f"at most {DESCRIPTION_LIMIT}", size <= DESCRIPTION_LIMIT))
    text = (title or "") + (description or "")
    if text:
        checks.append(_check("Angle brackets (YouTube refuses < and >)",
                             "none" if not re.search("[<>]", text) else "found", "none",
                             not re.search("[<>]", text)))
    thumbnail = url("thumbnail.jpg") if inputs.has("thumbnail.jpg") else None
    return {"title": title, "description": description, "checks": checks,
            "thumbnail": thumbnail}


# ---------------------------------------------------------------- the feed item


def _artwork_url(root: Path, base: str, artwork: str, notes: list[str]) -> str:
    path = root / "assets" / artwork
    try:
        suffix = feed.check_artwork(path)
    except PipelineError as exc:
        notes.append(exc.line())
        return f"{base}/{artwork}"
    return f"{base}/artwork-{feed.sha256_file(path)[:12]}{suffix}"


def _item_xml(xml: str) -> str:
    """The <item> element of a rendered one-item feed, as the template wrote it."""
    ET.fromstring(xml.encode("utf-8"))  # the same check `pipeline feed` makes: it parses
    start, end = xml.index("<item>"), xml.rindex("</item>") + len("</item>")
    lines = xml[start:end].splitlines()
    indent = len(lines[-1]) - len(lines[-1].lstrip())
    return "\n".join(line[indent:] if line[:indent].isspace() else line for line in lines)


def feed_item(episode: Episode, env: jinja2.Environment) -> dict[str, Any]:
    """The episode's feed item rendered by the feed stage's own code and template."""
    root = episode.root
    notes: list[str] = []
    try:
        show = load_show(root)
        base = feed.check_show(show, root / "assets" / "show.toml")
        ledger = feed.read_ledger(root / feed.LEDGER)
        guid = ledger.show.guid if ledger.show else feed.podcast_guid(f"{base}/feed.xml")
        built = {p.parent.parent.name for p in (root / "episodes").glob("*/build/episode.mp3")}
        planned, previous = feed.plan_episode(episode, ledger, built, base, guid)
        if changed := feed.change(previous, planned):
            notes.append(f"publishing would change a published episode: {changed}")
        item = feed.item_context(planned, base)
        artwork = _artwork_url(root, base, show.show.artwork, notes)
        channel = feed.channel_context(show, base, guid, artwork, [item])
        xml = env.get_template("feed.xml.j2").render(channel=channel, items=[item])
        return {"item": item, "notes_html": Markup(item["notes"]), "xml": _item_xml(xml),
                "notes_bytes": len(item["notes"].encode("utf-8")), "problems": notes,
                "published": previous is not None}
    except PipelineError as exc:
        return {"item": None, "problems": [*notes, exc.line()]}
    except ET.ParseError as exc:
        return {"item": None, "problems": [*notes, f"the feed item does not parse: {exc}"]}


# ---------------------------------------------------------------- the stage


@dataclass(frozen=True)
class Review:
    page: Path
    picture: Path | None
    missing: list[dict[str, str]]
    problems: list[str]


def captions_url(vtt: Path) -> str | None:
    """The captions as a data: URL. Browsers treat every file: URL as its own origin, so a
    page opened from disk may not fetch a <track> beside it (Chromium refuses with "Unsafe
    attempt to load URL"); a data: URL goes to the same WebVTT parser from disk and HTTP."""
    if not vtt.is_file():
        return None
    return "data:text/vtt;charset=utf-8;base64," + base64.b64encode(vtt.read_bytes()).decode()


def _media(inputs: Inputs, language: str) -> dict[str, Any]:
    return {
        "video": url("video.mp4") if inputs.has("video.mp4") else None,
        "audio": url("episode.mp3") if inputs.has("episode.mp3") else None,
        "captions": captions_url(inputs.build / "captions.vtt"),
        "language": language,
    }


def write_picture(episode: Episode, inputs: Inputs,
                  chapters: list[dict[str, Any]]) -> tuple[Loudness | None, float | None]:
    """Measure episode.mp3 and write the picture; (None, None) without an MP3."""
    mp3 = episode.build / "episode.mp3"
    if not mp3.is_file():
        return None, None
    samples, loud = measure(mp3, f"rebuild it: {inputs.fix('episode.mp3')}")
    audio = episode.settings.audio
    image = draw_picture(samples, PICTURE_RATE, loud, [c["start"] for c in chapters],
                         audio.loudness_lufs, audio.true_peak_db)
    with fsutil.atomic_path(episode.build / PICTURE) as tmp:
        image.save(tmp, format="PNG")
    return loud, samples.size / PICTURE_RATE


def page_context(episode: Episode, inputs: Inputs, env: jinja2.Environment) -> dict[str, Any]:
    chapters = chapter_list(inputs)
    loud, duration = write_picture(episode, inputs, chapters)
    has_mp3 = inputs.has("episode.mp3")
    return {
        "show": episode.settings.show, "episode": episode.meta, "slug": episode.slug,
        "media": _media(inputs, episode.settings.show.language),
        "chapters": chapters, "qa": qa_figures(loud, inputs, episode),
        "qa_info": inputs.json.get("qa.json", {}),
        "picture": {"url": url(PICTURE), "duration": duration} if loud else None,
        "script": script_view(inputs), "slides": slide_list(inputs),
        "youtube": youtube_text(inputs),
        "feed": feed_item(episode, env) if has_mp3 else None,
        "missing": inputs.missing, "problems": inputs.problems,
    }


def build_review(episode: Episode) -> Review:
    """Write build/review.html (and build/review-loudness.png when there is an MP3)."""
    inputs = read_inputs(episode.build, episode.slug)
    env = feed.environment(episode.root)
    context = page_context(episode, inputs, env)
    html = env.get_template(TEMPLATE).render(**context)
    fsutil.write_text(episode.build / PAGE, html)
    picture = episode.build / PICTURE if context["picture"] else None
    problems = inputs.problems + (context["feed"] or {}).get("problems", [])
    return Review(episode.build / PAGE, picture, inputs.missing, problems)


@click.command("review")
@click.argument("episode_dir", type=click.Path(file_okay=False, path_type=Path))
def command(episode_dir: Path) -> None:
    """Write build/review.html: everything to check before publishing, on one page."""
    review = build_review(load_episode(episode_dir))
    for item in review.missing:
        click.echo(f"review: not built yet: {item['file']} ({item['command']})", err=True)
    for problem in review.problems:
        click.echo(f"review: warning: {problem}", err=True)
    click.echo(f"wrote {review.page} (open {review.page.resolve().as_uri()})")
