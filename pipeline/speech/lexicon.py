"""The pronunciation lexicon: how the voice says names and acronyms.

`assets/pronunciations.toml` has one table, `[say]`, mapping a term to how it is said:
"spell" (letter by letter), "word" (as an ordinary word) or a respelling said as written.
Terms match whole words, case-sensitively; plurals and possessives follow (LLMs, GPU's).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import tomli_w

from pipeline.errors import PipelineError
from pipeline.util import fsutil

SPELL = "spell"
WORD = "word"
TABLE = "say"

# Both hibari and espeak-ng read a lone "A" between spelled letters as the article "uh";
# "Eh" is the spelling both read as the letter name (checked with their phonemizers).
_LETTER_SAYING = {"A": "Eh"}
_SUFFIX = r"(?P<suffix>s['’]|['’]s|s)?"


def spell(term: str) -> str:
    """Letters (and digits) one by one, separated by spaces: "AGI" -> "Eh G I"."""
    return " ".join(_LETTER_SAYING.get(c, c) for c in term.upper() if c.isalnum())


def _as_word(term: str) -> str:
    return term[:1].upper() + term[1:].lower()


def _with_suffix(said: str, suffix: str, spelled: bool) -> str:
    if not suffix:
        return said
    if spelled:
        # "L L Ms" makes hibari say "M S"; "L L M's" is read as "emz" for both forms.
        return said + "'s"
    return said + suffix


@dataclass(frozen=True)
class Lexicon:
    """Terms and how to say them, in the file's order. `apply` rewrites a text."""

    entries: Mapping[str, str] = field(default_factory=dict)
    _pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", MappingProxyType(dict(self.entries)))
        terms = sorted(self.entries, key=len, reverse=True)
        pattern = None
        if terms:
            alternatives = "|".join(re.escape(t) for t in terms)
            pattern = re.compile(rf"(?<!\w)(?P<term>{alternatives}){_SUFFIX}(?!\w)")
        object.__setattr__(self, "_pattern", pattern)

    def saying(self, term: str) -> str:
        """How `term` (a key of the lexicon) is said."""
        value = self.entries[term]
        if value == SPELL:
            return spell(term)
        if value == WORD:
            return _as_word(term)
        return value

    def apply(self, text: str) -> str:
        """Replace every whole-word occurrence of a term (and its plural/possessive)."""
        if self._pattern is None:
            return text
        return self._pattern.sub(self._replace, text)

    def _replace(self, match: re.Match[str]) -> str:
        term = match.group("term")
        spelled = self.entries[term] == SPELL
        return _with_suffix(self.saying(term), match.group("suffix") or "", spelled)


def _read(path: Path) -> dict:
    try:
        data = path.read_bytes()
        return tomllib.loads(data.decode("utf-8"))
    except FileNotFoundError:
        raise PipelineError(
            "pronunciation lexicon not found", path, "create it with a [say] table"
        ) from None
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise PipelineError(f"not UTF-8 at line {line} (byte {exc.start})", path,
                            "save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise PipelineError(f"invalid TOML: {exc}", path) from None


def _check_entry(path: Path, term: object, value: object) -> None:
    if not isinstance(term, str) or not term.strip() or term != term.strip():
        raise PipelineError(f"[say] key {term!r} is empty or has spaces around it", path)
    if isinstance(value, dict):
        raise PipelineError(f"[say] key '{term}' is a table, not a string", path,
                            'write term = "spell", "word" or a respelling')
    if not isinstance(value, str) or not value.strip():
        raise PipelineError(f"[say] key '{term}' must be a non-empty string, got {value!r}", path,
                            'write "spell", "word" or a respelling')


def _entries(data: dict, path: Path) -> dict[str, str]:
    for key in data:
        if key != TABLE:
            raise PipelineError(f"unknown table or key '{key}'", path,
                                "the lexicon has only a [say] table")
    table = data.get(TABLE, {})
    if not isinstance(table, dict):
        raise PipelineError(f"'{TABLE}' must be a table", path, "write [say] on its own line")
    for term, value in table.items():
        _check_entry(path, term, value)
    return dict(table)


def load_lexicon(path: Path) -> Lexicon:
    """Read a pronunciation lexicon; any problem is a PipelineError naming the file and key."""
    path = Path(path)
    return Lexicon(_entries(_read(path), path))


def add_entries(path: Path, new: Mapping[str, str]) -> list[str]:
    """Append terms not yet in the lexicon at `path`, keeping its text and comments.

    Existing terms are never changed (the producer's choice wins). Returns the terms added.
    The file is created if missing and written atomically, only if the result loads.
    """
    path = Path(path)
    existing = _entries(_read(path), path) if path.exists() else {}
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    added = {t: s for t, s in new.items() if t not in existing}
    for term, saying in added.items():
        _check_entry(path, term, saying)
    if not added:
        return []
    if not re.search(rf"^\s*\[{TABLE}\]\s*(#.*)?$", text, re.MULTILINE):
        text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + f"[{TABLE}]\n"
    text = text if text.endswith("\n") else text + "\n"
    text += tomli_w.dumps(added)
    _entries(tomllib.loads(text), path)
    fsutil.write_text(path, text)
    return list(added)
