"""The episode source: `episodes/<slug>/issue.md`, YAML front matter and a Markdown body."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from pipeline.config import ShowSettings, load_show, project_root
from pipeline.errors import PipelineError
from pipeline.markdown import plain

SLUG_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})-[a-z0-9]+(?:-[a-z0-9]+)*$")
FRONT_MATTER_FIX = "start issue.md with front matter: ---, title/number/date/summary, ---"
# What no feed, ID3 tag or caption file can carry: C0 controls but tab and line breaks, DEL
# and the C1 controls, lone surrogates (only an escape in YAML's double quotes makes one),
# and the two noncharacters XML excludes.
UNSAFE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
UNSAFE_FIX = "delete it: feeds, tags and captions cannot carry it"


class _FrontMatterLoader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, so a bad date is reported by field name."""


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class FrontMatter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    number: int
    date: dt.date
    summary: str
    settings: dict[str, Any] = {}  # per-episode overrides of assets/show.toml
    # heading text -> how its section is narrated in this issue (as [editorial] rules)
    narrate: dict[str, str] = {}

    @field_validator("title", "summary")
    @classmethod
    def _plain_text(cls, value: str) -> str:
        """One line of plain text: Markdown in it is reduced to its words, because the
        title and summary go to ID3 tags, YouTube, the feed and the voice as they are."""
        text = plain(value.strip()) if value.strip() else ""
        if not text:
            raise ValueError("must not be empty")
        return text

    @field_validator("number")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be a whole number of at least 1")
        return value


@dataclass(frozen=True)
class Episode:
    slug: str
    dir: Path
    meta: FrontMatter
    body: str
    settings: ShowSettings

    @property
    def source(self) -> Path:
        return self.dir / "issue.md"

    @property
    def build(self) -> Path:
        return self.dir / "build"

    @property
    def root(self) -> Path:
        return project_root(self.dir)

    @property
    def assets(self) -> Path:
        return self.root / "assets"


def check_slug(slug: str, path: Path) -> None:
    """A slug is `YYYY-MM-DD-words`: a real date, then lowercase words joined by hyphens."""
    match = SLUG_RE.match(slug)
    fix = "rename the folder like 2023-01-06-ai-improving-itself"
    if not match:
        raise PipelineError(f"episode folder name '{slug}' is not YYYY-MM-DD-words", path, fix)
    try:
        dt.date.fromisoformat(match.group(1))
    except ValueError:
        raise PipelineError(f"'{match.group(1)}' in '{slug}' is not a date", path, fix) from None


def read_utf8(path: Path) -> str:
    """Read a text file, naming the line and column of the first byte that is not UTF-8."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PipelineError("file not found", path, "create it with `make new`") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise PipelineError(
            f"not UTF-8 at line {line}, column {col} (byte 0x{raw[exc.start]:02x})",
            path,
            "save the file as UTF-8",
        ) from None


def _unsafe(char: str) -> str:
    kind = "a lone surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
    return f"U+{ord(char):04X}, {kind}"


def _escaped(text: str) -> str:
    """`text` with its unsafe characters as \\uXXXX, fit for a one-line message."""
    return UNSAFE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def check_text(text: str, path: Path) -> None:
    """The issue as written holds no unsafe character; the first is named by line and column."""
    found = UNSAFE_RE.search(text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        col = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
        raise PipelineError(f"{_unsafe(found.group())} at line {line}, column {col}", path,
                            UNSAFE_FIX)


def check_values(data: Any, path: Path, where: str = "") -> None:
    """No front matter key or value holds an unsafe character (a YAML escape can write any)."""
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{where}.{key}" if where else str(key)
            check_values(str(key), path, name)
            check_values(value, path, name)
    elif isinstance(data, list):
        for n, value in enumerate(data):
            check_values(value, path, f"{where}[{n}]")
    elif isinstance(data, str) and (found := UNSAFE_RE.search(data)):
        raise PipelineError(f"front matter field '{_escaped(where)}' holds "
                            f"{_unsafe(found.group())}", path, "delete the escape that makes "
                            "it, such as \\x07 or \\ud800 in double quotes; feeds, tags and "
                            "captions cannot carry it")


def split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str]:
    """Split `---` YAML front matter from the Markdown body."""
    text = text.removeprefix("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise PipelineError("no front matter", path, FRONT_MATTER_FIX)
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), None)
    if end is None:
        raise PipelineError("front matter is not closed by a --- line", path, FRONT_MATTER_FIX)
    try:
        data = yaml.load("".join(lines[1:end]), Loader=_FrontMatterLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark else ""
        raise PipelineError(f"malformed front matter{where}", path, FRONT_MATTER_FIX) from None
    if not isinstance(data, dict):
        raise PipelineError("front matter is not a mapping of fields", path, FRONT_MATTER_FIX)
    check_values(data, path)
    return data, "".join(lines[end + 1 :])


def parse_front_matter(data: dict[str, Any], path: Path) -> FrontMatter:
    try:
        return FrontMatter.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "missing":
            msg, fix = f"front matter lacks the required field '{key}'", f"add '{key}:'"
        elif err["type"] == "extra_forbidden":
            msg = f"unknown front matter field '{key}'"
            fix = "remove it; allowed: title, number, date, summary, settings, narrate"
        else:
            msg, fix = f"front matter field '{key}': {err['msg'].lower()}", None
        raise PipelineError(msg, path, fix) from None


def episode_folder(episode_dir: Path | str) -> Path:
    """The episode folder as an absolute path, checked to be `<project>/episodes/<slug>`
    itself. The show's settings come from the project around the folder's real place, so a
    link to a folder elsewhere would take another project's show.toml, and a link to a
    sibling would be a second folder, and a second feed item, for one slug."""
    folder = Path(os.path.abspath(episode_dir))  # stages may run tools in other folders
    if not (Path(episode_dir).is_dir() and folder.is_dir()):
        raise PipelineError("no such episode folder", folder, "check the path or `make new`")
    if folder.parent.name != "episodes":
        raise PipelineError("not in an episodes/ folder", folder,
                            "keep each episode in <project>/episodes/<slug>")
    real, episodes = folder.resolve(), folder.parent.parent.resolve() / "episodes"
    if real == episodes / folder.name:
        return folder
    if real.parent == episodes:
        raise PipelineError(f"another name for episodes/{real.name} (a link to it)", folder,
                            "remove the link: one folder per episode")
    raise PipelineError(f"resolves to {real}, outside this project's episodes/", folder,
                        "move the folder into episodes/ instead of linking to it")


def load_episode(episode_dir: Path | str) -> Episode:
    """Read and check an episode folder; every problem is one PipelineError line."""
    episode_dir = episode_folder(episode_dir)
    slug = episode_dir.name
    check_slug(slug, episode_dir)
    source = episode_dir / "issue.md"
    text = read_utf8(source)
    check_text(text, source)
    data, body = split_front_matter(text, source)
    meta = parse_front_matter(data, source)
    if not body.strip():
        raise PipelineError("the issue has no body after the front matter", source,
                            "write the issue's Markdown below the closing ---")
    settings = load_show(project_root(episode_dir), meta.settings, source)
    return Episode(slug=slug, dir=episode_dir, meta=meta, body=body, settings=settings)
