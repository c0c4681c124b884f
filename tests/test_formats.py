"""pipeline/formats.py: the stage files' models, and docs/FORMATS.md that describes them.

How the document is read: a file's section starts at a Markdown heading (outside fenced
code) that lists the file's name, several names separated by ", ", and ends with the make
target in parentheses and backticks: `## qa.json (`make captions EP=<slug>`)`. It runs to
the next heading of the same or a higher level. Within it, each ```json or ```toml fence is
an example, and the prose is everything outside fences.

The document and the models must agree both ways:
- each model's section has exactly one example, and the model reads it through its own read
  (extra fields are forbidden, so a documented field the model lacks fails);
- every field of the model, nested models included, is a key in the example or a word in
  backticks in the prose (so a field added without a word of documentation fails);
- every file of MADE_BY has a heading, and the target the heading names is MADE_BY's.

Below those, unit tests of formats.py itself: its one-line errors, atomic writes, make
targets, and the rules of the timeline, the YouTube record and the ledgers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import json
import re
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import pytest
from builders import script, segment, timed, timeline
from pydantic import BaseModel

from pipeline.errors import PipelineError
from pipeline.formats import (
    MADE_BY,
    STAGE_FILES,
    Chapter,
    Chapters,
    FileStamp,
    Ledger,
    LedgerEpisode,
    LedgerShow,
    PendingEpisode,
    PendingLedger,
    Script,
    StageFile,
    Timeline,
    TomlFile,
    UploadStep,
    VideoBody,
    YouTubeRecord,
    YouTubeVideos,
    rebuild_hint,
    require,
    target_for,
)

DOC = Path(__file__).resolve().parent.parent / "docs" / "FORMATS.md"
HEADING = re.compile(r"^(#{1,6}) (.+)$")
FILE_HEADING = re.compile(r"^(?P<names>.+?) \(`make (?P<target>[\w-]+)( EP=<slug>)?`\)$")
# the ledgers are not in a build folder: the document names them by their path
TOML_FILES: dict[type[TomlFile], str] = {
    Ledger: "episodes/published.toml",
    PendingLedger: "public/.ledger.toml",
    YouTubeVideos: "episodes/youtube.toml",
}
DOCUMENTED: dict[type[BaseModel], str] = {**{m: m.FILE for m in STAGE_FILES}, **TOML_FILES}


# ------------------------------------------------------------------ reading the document


@dataclass(frozen=True)
class DocSection:
    names: tuple[str, ...]
    target: str
    prose: str
    examples: tuple[tuple[str, str], ...]  # (language, text) of each fenced block


def fenced(lines: list[str]) -> list[bool]:
    """For each line, whether it lies inside (or is) a code fence."""
    inside, flags = False, []
    for line in lines:
        fence = line.startswith("```")
        flags.append(inside or fence)
        inside = inside != fence
    return flags


def split_fences(lines: list[str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The prose and the fenced blocks of a section's lines."""
    prose: list[str] = []
    blocks: list[tuple[str, str]] = []
    language, body = None, []
    for line in lines:
        if line.startswith("```") and language is None:
            language, body = line[3:].strip(), []
        elif line.startswith("```"):
            blocks.append((language, "\n".join(body)))
            language = None
        elif language is None:
            prose.append(line)
        else:
            body.append(line)
    return "\n".join(prose), tuple(blocks)


def headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(line number, level, text) of each heading outside code fences."""
    found = []
    for number, (line, in_fence) in enumerate(zip(lines, fenced(lines), strict=True)):
        match = None if in_fence else HEADING.match(line)
        if match:
            found.append((number, len(match[1]), match[2].strip()))
    return found


def doc_sections(text: str) -> list[DocSection]:
    """The file sections of the document, in order."""
    lines = text.splitlines()
    marks = headings(lines)
    sections = []
    for i, (start, level, title) in enumerate(marks):
        match = FILE_HEADING.match(title)
        if not match:
            continue
        end = next((n for n, lv, _ in marks[i + 1:] if lv <= level), len(lines))
        prose, examples = split_fences(lines[start + 1:end])
        sections.append(DocSection(tuple(match["names"].split(", ")), match["target"],
                                   prose, examples))
    return sections


def section_for(name: str, text: str | None = None) -> DocSection:
    found = [s for s in doc_sections(text or DOC.read_text(encoding="utf-8")) if name in s.names]
    assert len(found) == 1, f"docs/FORMATS.md: {len(found)} headings name {name}, not one"
    return found[0]


# ------------------------------------------------------------------ what the models hold


def nested_models(annotation: Any) -> list[type[BaseModel]]:
    """The models inside a field's type: list[X], dict[str, X], X | None, X."""
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in nested_models(arg)]


def field_names(model: type[BaseModel], seen: set[type[BaseModel]] | None = None) -> set[str]:
    """Every field name of `model` and of the models it holds, at any depth."""
    seen = seen if seen is not None else set()
    seen.add(model)
    names = set(model.model_fields)
    for info in model.model_fields.values():
        for inner in nested_models(info.annotation):
            if inner not in seen:
                names |= field_names(inner, seen)
    return names


def keys_of(data: Any) -> set[str]:
    """Every key of every object in parsed JSON or TOML."""
    if isinstance(data, dict):
        return set(data) | {k for value in data.values() for k in keys_of(value)}
    if isinstance(data, list):
        return {k for value in data for k in keys_of(value)}
    return set()


def backticked_words(prose: str) -> set[str]:
    """The identifiers inside `code` spans: `segments[].start/end` names three."""
    spans = re.findall(r"`([^`]+)`", prose)
    return {word for span in spans for word in re.findall(r"[A-Za-z_]\w*", span)}


def parse_example(language: str, text: str) -> Any:
    return tomllib.loads(text) if language == "toml" else json.loads(text)


def read_example(model: type[BaseModel], text: str, tmp_path: Path) -> BaseModel:
    """The example as the pipeline reads the file: through the model's own read."""
    if issubclass(model, StageFile):
        build = tmp_path / "episodes" / "2023-01-06-ai-improving-itself" / "build"
        build.mkdir(parents=True)
        model.path(build).write_text(text, encoding="utf-8")
        return model.read(build)
    path = tmp_path / Path(DOCUMENTED[model]).name
    path.write_text(text, encoding="utf-8")
    return model.read_toml(path)


def made_by(name: str) -> str | None:
    """MADE_BY's entry for a file the document names: by its name, or its folder's
    (`slides/NNN.png`)."""
    path = Path(name)
    key = path.name if path.name in MADE_BY else path.parent.name
    return key if key in MADE_BY else None


# ------------------------------------------------------------------ the document and the models


@pytest.mark.parametrize("model", list(DOCUMENTED), ids=lambda m: m.__name__)
def test_the_documented_example_is_read_by_its_model(model: type[BaseModel],
                                                     tmp_path: Path) -> None:
    section = section_for(DOCUMENTED[model])
    language = "toml" if model in TOML_FILES else "json"
    examples = [text for lang, text in section.examples if lang == language]
    assert len(examples) == 1, f"{DOCUMENTED[model]}: {len(examples)} {language} examples"
    assert isinstance(read_example(model, examples[0], tmp_path), model)


@pytest.mark.parametrize("model", list(DOCUMENTED), ids=lambda m: m.__name__)
def test_every_field_of_the_model_is_documented(model: type[BaseModel]) -> None:
    section = section_for(DOCUMENTED[model])
    named = backticked_words(section.prose)
    for language, text in section.examples:
        if language in ("json", "toml"):
            named |= keys_of(parse_example(language, text))
    missing = sorted(field_names(model) - named)
    assert not missing, f"docs/FORMATS.md, {DOCUMENTED[model]}: not described: {missing}"


def test_the_make_target_of_each_documented_file_is_made_by() -> None:
    covered = set()
    for section in doc_sections(DOC.read_text(encoding="utf-8")):
        for name in section.names:
            key = made_by(name)
            assert key is not None, f"docs/FORMATS.md names {name}, which MADE_BY lacks"
            assert section.target == MADE_BY[key], (
                f"{name}: the document says make {section.target}, MADE_BY make {MADE_BY[key]}")
            covered.add(key)
    assert covered == set(MADE_BY), f"no heading for {sorted(set(MADE_BY) - covered)}"


def test_the_section_reader_keeps_to_its_headings() -> None:
    text = ("## a.json (`make x EP=<slug>`)\n`one` two\n### Detail\n`three`\n```toml\n"
            "# not a heading\nk = 1\n```\n## b.json, c.txt (`make y`)\n`four`\n"
            "## Other notes\n`five`\n")
    a, b = section_for("a.json", text), section_for("c.txt", text)
    assert (a.target, b.target, b.names) == ("x", "y", ("b.json", "c.txt"))
    assert backticked_words(a.prose) == {"one", "three"} and a.examples == (
        ("toml", "# not a heading\nk = 1"),)
    assert backticked_words(b.prose) == {"four"}


def test_field_names_reach_nested_and_recursive_models() -> None:
    assert {"steps", "session_uri", "playlist_id", "sha256", "previous"} <= field_names(
        YouTubeRecord)
    assert {"duration", "cached", "kept_seconds", "first_clips"} <= field_names(Timeline)


# ------------------------------------------------------------------ reading and writing


SLUG = "2024-05-17-test-issue"
NOW = dt.datetime(2024, 5, 17, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def build(tmp_path: Path) -> Path:
    folder = tmp_path / "episodes" / SLUG / "build"
    folder.mkdir(parents=True)
    return folder


def three_segments() -> Script:
    return script([segment("intro/intro-1", "Welcome to the show.", section_index=0),
                   segment("robots/heading-1", "Robots"),
                   segment("robots/paragraph-1", "Robots can now fold laundry.")])


def failure(model: type[StageFile], build: Path, data: Any) -> str:
    """The one line a read of `data` written as the model's file fails with."""
    text = data if isinstance(data, str) else json.dumps(data)
    model.path(build).write_text(text, encoding="utf-8")
    with pytest.raises(PipelineError) as caught:
        model.read(build)
    return str(caught.value)


@pytest.mark.parametrize("model", STAGE_FILES, ids=lambda m: m.__name__)
def test_a_missing_file_names_the_target_that_builds_it(model: type[StageFile],
                                                        build: Path) -> None:
    with pytest.raises(PipelineError) as caught:
        model.read(build)
    path = build / model.FILE
    assert str(caught.value) == (
        f"{path}: not found (build it: make {MADE_BY[model.FILE]} EP={SLUG})")


def test_invalid_json_names_the_file_and_how_to_rebuild_it(build: Path) -> None:
    line = failure(Script, build, '{"version": 1,')
    assert line.startswith(f"{build / 'script.json'}: not valid JSON (")
    assert line.endswith(f"(rebuild it: make script EP={SLUG})")


def test_a_damaged_youtube_record_is_restored_not_rebuilt(build: Path) -> None:
    line = failure(YouTubeRecord, build, "{")
    assert line.endswith("(restore it; delete it only if the video is not on YouTube)")
    assert "make upload" not in line


def test_a_wrong_type_deep_in_a_list_names_its_path(build: Path) -> None:
    data = three_segments().dump()
    data["segments"][2]["spoken"] = 5
    assert failure(Script, build, data) == (
        f"{build / 'script.json'}: segments[2].spoken: input should be a valid string "
        f"(rebuild it: make script EP={SLUG})")


def test_a_missing_field_is_named(build: Path) -> None:
    data = three_segments().dump()
    del data["segments"][1]["display"]
    assert "script.json: segments[1].display: field required (" in failure(Script, build, data)


def test_an_unknown_field_is_refused(build: Path) -> None:
    data = three_segments().dump()
    data["segments"][0]["colour"] = "red"
    assert ": segments[0].colour: an unknown field (" in failure(Script, build, data)


@pytest.mark.parametrize("text", ["[]", '"a script"', "3"])
def test_a_top_level_non_object_is_not_a_json_object(build: Path, text: str) -> None:
    assert failure(Script, build, text) == (
        f"{build / 'script.json'}: not a JSON object (rebuild it: make script EP={SLUG})")


def test_a_model_rule_is_one_line_too(build: Path) -> None:
    data = three_segments().dump()
    data["segments"][1]["section"] = "robotics"
    assert ": segment robots/heading-1 names an unknown section 'robotics' (" in failure(
        Script, build, data)


def test_write_replaces_the_file_and_leaves_no_temporary_file(build: Path) -> None:
    first = Chapters(chapters=[Chapter(startTime=0.0, endTime=5.0, title="Introduction")])
    second = Chapters(chapters=[Chapter(startTime=0.0, endTime=7.5, title="Intro")])
    assert first.write(build) == build / "chapters.json"
    second.write(build)
    assert [p.name for p in build.iterdir()] == ["chapters.json"]
    assert Chapters.read(build) == second


class UnwritableChapters(Chapters):
    def dump(self) -> dict[str, Any]:
        raise RuntimeError("the disk is full")


def test_an_interrupted_write_keeps_the_old_file(build: Path) -> None:
    old = Chapters(chapters=[Chapter(startTime=0.0, endTime=5.0, title="Introduction")])
    old.write(build)
    before = (build / "chapters.json").read_bytes()
    with pytest.raises(RuntimeError):
        UnwritableChapters(chapters=[]).write(build)
    # a lone surrogate passes the model but cannot be encoded: the temporary file beside
    # the target exists by then, and the write fails inside it
    with pytest.raises(UnicodeEncodeError):
        Chapters(chapters=[Chapter(startTime=0.0, endTime=1.0, title="\ud800")]).write(build)
    assert (build / "chapters.json").read_bytes() == before
    assert [p.name for p in build.iterdir()] == ["chapters.json"]


# ------------------------------------------------------------------ which target makes a file


@pytest.mark.parametrize(("path", "target"), [
    ("episodes/ep/build/qa.json", "make captions EP=ep"),
    ("episodes/ep/build/narration.wav", "make narrate EP=ep"),
    ("episodes/ep/build/slides/004.png", "make slides EP=ep"),
    ("episodes/ep/build/youtube.json", "make upload EP=ep"),
    ("episodes/ep/build/notes.txt", "make episode EP=ep"),
    ("public/feed.xml", "make feed"),
    ("public/.ledger.toml", "make feed"),
    ("episodes/published.toml", "make publish"),
])
def test_target_for(path: str, target: str) -> None:
    assert target_for(path) == target
    assert rebuild_hint(Path(path)) == f"rebuild it: {target}"


def test_require_names_the_target_of_a_missing_file(build: Path) -> None:
    (build / "timeline.json").write_text("{}", encoding="utf-8")
    assert require(build / "timeline.json") == build / "timeline.json"
    with pytest.raises(PipelineError, match=rf"not found \(build it: make master EP={SLUG}\)"):
        require(build / "episode.mp3")


# ------------------------------------------------------------------ the models' own rules


def test_a_timeline_covers_the_script_or_says_it_is_older(build: Path) -> None:
    spans = [timed("intro/intro-1", 0.5, 2.0, section_index=0),
             timed("robots/heading-1", 3.0, 3.8)]
    older = timeline(spans, duration=6.0)
    with pytest.raises(PipelineError) as caught:
        older.check_covers(three_segments(), build)
    assert str(caught.value) == (
        f"{build / 'timeline.json'}: has no times for segment 'robots/paragraph-1' of "
        f"script.json (the narration is older than the script: make narrate EP={SLUG})")
    current = timeline([*spans, timed("robots/paragraph-1", 4.0, 5.5)], duration=6.0)
    current.check_covers(three_segments(), build)
    assert current.times()["robots/paragraph-1"] == (4.0, 5.5)


def stamp(name: str) -> FileStamp:
    return FileStamp(name=name, bytes=1024, sha256=hashlib.sha256(name.encode()).hexdigest())


VIDEO_BODY: VideoBody = {
    "snippet": {"title": "Test Issue", "description": "", "tags": [], "categoryId": "28",
                "defaultLanguage": "en", "defaultAudioLanguage": "en"},
    "status": {"privacyStatus": "private", "selfDeclaredMadeForKids": False}}


def test_a_youtube_record_with_previous_uploads_round_trips(build: Path) -> None:
    first = YouTubeRecord(
        steps={"video": UploadStep(status="done", id="dQw4w9WgXcQ", privacy="private",
                                   url="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
                                   file=stamp("video.mp4"), at="2024-05-17T10:00:00Z")},
        video_file=stamp("video.mp4"), request=VIDEO_BODY)
    second = YouTubeRecord(
        steps={"video": UploadStep(status="started", file=stamp("video.mp4"),
                                   session_uri="https://upload.example/?upload_id=abc",
                                   at="2024-05-18T10:00:00Z")},
        previous=[first])
    second.write(build)
    assert "null" not in (build / "youtube.json").read_text(encoding="utf-8")
    again = YouTubeRecord.read(build)
    assert again == second
    assert again.previous[0].steps["video"].id == "dQw4w9WgXcQ"
    assert again.steps["video"].id is None


# ------------------------------------------------------------------ the ledgers

SHOW = LedgerShow(feed_url="https://example.org/podcast/feed.xml",
                  guid="a88fdd82-175e-52a0-91c5-0ff6f7424270")


def episode(slug: str, number: int, when: dt.datetime | None = None) -> PendingEpisode:
    return PendingEpisode(slug=slug, number=number, guid=str(uuid.uuid5(uuid.UUID(SHOW.guid),
                                                                         slug)),
                          enclosure_url=f"https://example.org/podcast/{slug}/episode.mp3",
                          sha256=hashlib.sha256(slug.encode()).hexdigest(),
                          first_published=when)


def ledger_of(*episodes: PendingEpisode) -> Ledger:
    return Ledger(show=SHOW, episodes=[LedgerEpisode(**e.model_dump()) for e in episodes])


def test_publishing_dates_new_episodes_and_keeps_old_dates() -> None:
    earlier = NOW - dt.timedelta(days=7)
    ledger = ledger_of(episode("2024-05-10-one", 1, earlier))
    pending = PendingLedger(built_against="", show=SHOW,
                            episodes=[episode("2024-05-10-one", 1), episode("2024-05-17-two", 2)])
    published = pending.published(ledger, NOW)
    assert [e.first_published for e in published.episodes] == [earlier, NOW]
    assert pending.changes(ledger)
    assert not pending.changes(published)


def test_a_pending_date_wins_over_the_ledger() -> None:
    earlier = NOW - dt.timedelta(days=7)
    pending = PendingLedger(built_against="", show=SHOW,
                            episodes=[episode("2024-05-10-one", 1, earlier)])
    assert pending.published(Ledger(), NOW).episodes[0].first_published == earlier


def test_a_new_mp3_is_a_change() -> None:
    old = episode("2024-05-10-one", 1, NOW)
    pending = PendingLedger(built_against="", show=SHOW,
                            episodes=[old.model_copy(update={"sha256": "0" * 64})])
    assert pending.changes(ledger_of(old))


def test_the_ledger_round_trips_through_toml_and_writes_only_changes(tmp_path: Path) -> None:
    path = tmp_path / "episodes" / "published.toml"
    assert Ledger.read(path) == Ledger()
    ledger = ledger_of(episode("2024-05-10-one", 1, NOW))
    assert ledger.write_toml(path)
    assert not ledger.write_toml(path)
    assert path.read_text(encoding="utf-8").startswith("# What the feed has published")
    assert Ledger.read(path) == ledger
    assert ledger.entry("2024-05-10-one") == ledger.episodes[0]
    assert ledger.entry("2024-05-17-two") is None


def test_a_pending_ledger_leaves_out_unpublished_dates(tmp_path: Path) -> None:
    path = tmp_path / "public" / ".ledger.toml"
    pending = PendingLedger(built_against="", show=SHOW, episodes=[episode("2024-05-17-two", 2)])
    pending.write_toml(path)
    assert "first_published =" not in path.read_text(encoding="utf-8")
    assert PendingLedger.read_toml(path) == pending


def test_a_ledger_guid_must_be_a_uuid(tmp_path: Path) -> None:
    path = tmp_path / "published.toml"
    path.write_text('[show]\nfeed_url = "https://example.org/feed.xml"\nguid = "mlaisu"\n',
                    encoding="utf-8")
    with pytest.raises(PipelineError) as caught:
        Ledger.read(path)
    assert str(caught.value).startswith(f"{path}: ledger entry show.guid: ")
    assert str(caught.value).endswith("(restore the file from git)")
