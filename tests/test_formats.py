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
"""

from __future__ import annotations

import inspect
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import BaseModel

from pipeline.formats import (
    MADE_BY,
    STAGE_FILES,
    Ledger,
    PendingLedger,
    StageFile,
    Timeline,
    TomlFile,
    YouTubeRecord,
)

DOC = Path(__file__).resolve().parent.parent / "docs" / "FORMATS.md"
HEADING = re.compile(r"^(#{1,6}) (.+)$")
FILE_HEADING = re.compile(r"^(?P<names>.+?) \(`make (?P<target>[\w-]+)( EP=<slug>)?`\)$")
# the ledgers are not in a build folder: the document names them by their path
TOML_FILES: dict[type[TomlFile], str] = {
    Ledger: "episodes/published.toml",
    PendingLedger: "public/.ledger.toml",
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
