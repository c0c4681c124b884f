"""Technical text, read so that it means what it says: code, command-line flags, paths,
issue references, handles, commit hashes, versions, identifiers with digits and slashes.

`read_code_spans`, `read_handles` and `read_prose_code` run early, on the text as
written, because code, handles, issue numbers, flags and paths are made of the characters
later passes take away (backticks, @, #, _, --). `Technical.read` runs on the cleaned
text just before the lexicon and the numbers. None of them rewrites a term the lexicon
has: the producer's saying wins.
The readings are listed, with the reasons, in spoken.py's "Choices".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from pipeline.config import SpokenSettings
from pipeline.speech.lexicon import Lexicon, spell
from pipeline.speech.numbers import (
    cardinal,
    digits,
    integer,
    is_year,
    label_number,
    plural,
    substitute,
)

Reader = Callable[[re.Match[str]], str]

# --- versions -------------------------------------------------------------------------

_PRE = (r"(?:[-.]?(?P<tag>rc|alpha|beta|pre|preview|dev|nightly)(?:\.?(?P<tagn>\d+))?"
        r"|(?<=\d)(?P<short>a|b|rc|post|dev)(?P<shortn>\d+))")
_CORE = r"(?P<core>\d+(?:\.\d+)+)"
_TAGS = {"rc": "R C", "a": "alpha", "b": "beta"}
# Capitalised words after which a decimal is an amount, not a version ("About 2.5 hours").
_NOT_NAMES = {"In", "On", "At", "By", "About", "Over", "Under", "Only", "And", "The", "With",
              "Around", "Up", "To", "Of", "For", "From", "Nearly", "Almost", "Just", "Roughly",
              "Approximately", "Some", "Another", "All", "Each", "Every", "Less", "More",
              "Than", "Down", "Without", "Within", "Is", "Was", "Are", "Were", "Has", "Had",
              "Score", "Scored", "Scores", "Accuracy", "Loss", "Ratio", "Rate", "Mean",
              "Average", "Median", "Total", "Between"}
_NOT_AFTER = r"(?!\.?\d|/\d|[ \t]?(?:%|percent\b|[x×](?!\w)|°))"
_RELEASE_WORDS = r"(?=[ \t]+(?:release|releases|released|is out|ships|update)\b)"


def version_words(core: str) -> str:
    """A version's numbers: "0.14.1" -> "zero point fourteen point one"."""
    return " point ".join(integer(part) for part in core.split("."))


def _pre_words(m: re.Match[str]) -> str:
    groups = m.groupdict()
    tag = groups.get("tag") or groups.get("short")
    if not tag:
        return ""
    number = groups.get("tagn") or groups.get("shortn")
    said = " " + _TAGS.get(tag, tag)
    return said + (" " + integer(number) if number else "")


def _version(m: re.Match[str]) -> str:
    return version_words(m["core"]) + _pre_words(m)


_PREFIXED = re.compile(rf"\bv(?P<v>\d+(?:\.\d+)*)(?:{_PRE})?\b(?!\.\d)")
_WORD_PREFIXED = re.compile(rf"\b(?P<word>[Vv]ersion|[Rr]elease)[ \t]+{_CORE}(?:{_PRE})?\b"
                            rf"{_NOT_AFTER}")
_TAGGED = re.compile(rf"(?<![\w.]){_CORE}{_PRE}(?![\w.]*\d)")
_THREE_PARTS = re.compile(r"(?<![\w.])(?!\d{1,2}\.\d{1,2}\.\d{4}\b)(?P<core>\d+(?:\.\d+){2,})\b"
                          r"(?!\.\d)")
_NAMED = re.compile(rf"\b(?P<name>[A-Z][A-Za-z]*)[ \t](?P<core>\d+\.\d+)(?P<more>(?:/\d+\.\d+)*)\b"
                    rf"{_NOT_AFTER}")
_BEFORE_RELEASE = re.compile(rf"(?<![\w.])(?P<core>\d+\.\d+)\b{_RELEASE_WORDS}")
_AFTER_CODE = re.compile(r"`[ \t]+(?P<core>\d+(?:\.\d+)+)\b(?!\.\d)")
_DECIMAL = re.compile(r"(?<![\w.$€£¥₹])\d+\.\d+\b(?!\.\d)")


def versions_in(text: str) -> set[str]:
    """Two-part version numbers the text marks as versions (v0.14, Bevy 0.14, 0.14-rc.1,
    the 0.14 release). Pass them to `to_spoken` for other blocks of the same issue, so
    that a bare "0.14" there is read as the same version, not as a decimal."""
    found = {m["v"] for m in _PREFIXED.finditer(text)}
    for pattern in (_WORD_PREFIXED, _TAGGED, _BEFORE_RELEASE, _AFTER_CODE):
        found.update(m["core"] for m in pattern.finditer(text))
    for m in _NAMED.finditer(text):
        if m["name"] not in _NOT_NAMES:
            found.update([m["core"], *m["more"].split("/")[1:]])
    return {v for v in found if v.count(".") == 1}


# --- code -----------------------------------------------------------------------------

_CODE_PASSES: list[tuple[str, str]] = [
    (r"^\s*[$>]\s+", ""),  # a shell prompt
    (r"(?<![\w-])--(?=\w)", " dash dash "),
    (r"(?<![\w-])-(?=[A-Za-z])", " dash "),
    (r"(?<!\w)__(?P<name>[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*)__(?!\w)", r" dunder \g<name> "),
    (r"(?<![\w.])_+(?=[A-Za-z0-9])", " underscore "),
    (r"_+", " "),
    (r"::", " "),
    (r"->|=>", " to "),
    (r"===?", " equals "),
    (r"!=", " not equals "),
    (r"&&", " and "),
    (r"\|\|", " or "),
    (r"\|", " pipe "),
    (r"(?<![\w.])\.\./", " dot dot slash "),
    (r"(?<![\w.])\.(?![\w./])", " dot "),
    (r"(?<![\w.])\./", " dot slash "),
    (r"~/", " tilde slash "),
    (r"(?<=[\w)\]])\.(?=[A-Za-z])|(?<![\w.])\.(?=[A-Za-z])", " dot "),
    (r"/", " slash "),
    (r"\\", " backslash "),
    (r"@", " at "),
    (r"=", " equals "),
    (r"[\[\](){}<>&*#$!?;:\"'`^~]", " "),
]
_CODE_PATTERNS = [(re.compile(p), s) for p, s in _CODE_PASSES]
# Short lowercase names without a vowel are said letter by letter: std, nn, rs, src, npm.
_VOWELLESS = re.compile(r"\b[bcdfghjklmnpqrstvwxz]{2,3}\b")
_WHOLE_VERSION = re.compile(rf"v?{_CORE}(?:{_PRE})?")
_URL_LIKE = re.compile(r"(?:https?|ftp)://|www\.|mailto:", re.I)


def read_code(code: str, keep: Collection[str] = ()) -> str:
    """A piece of code as it is said: `cargo build --release` -> "cargo build dash dash
    release", `os.path.join` -> "os dot path dot join", `__init__` -> "dunder init".
    Names in `keep` (the lexicon's terms) are left for the lexicon."""
    code = code.strip()
    if _URL_LIKE.match(code):
        return code
    if whole := _WHOLE_VERSION.fullmatch(code):
        return ("version " if code.startswith("v") else "") + _version(whole)
    code = substitute(_CODE_PATTERNS, code)
    code = _VOWELLESS.sub(lambda m: m[0] if m[0] in keep else spell(m[0]), code)
    return " ".join(code.split())


_CODE_SPAN = re.compile(r"(?<!`)(?P<ticks>`+)(?!`)(?P<code>.+?)(?<!`)(?P=ticks)(?!`)"
                        r"(?:[ \t]+(?P<core>\d+(?:\.\d+)+)\b(?!\.\d))?", re.S)
_HTML_CODE = re.compile(r"<code>(.*?)</code>", re.S | re.I)


def _code_span(m: re.Match[str], keep: Collection[str]) -> str:
    said = f" {read_code(m['code'], keep)} "
    return said + version_words(m["core"]) if m["core"] else said


def read_code_spans(text: str, keep: Collection[str] = ()) -> str:
    """Code spans (`...` and <code>...</code>) read as code; a version just after one
    (`tokio` 1.38) read as a version. Names in `keep` are left for the lexicon."""
    if "<" in text:
        text = _HTML_CODE.sub(lambda m: f"`{m[1]}`", text)
    return _CODE_SPAN.sub(lambda m: _code_span(m, keep), text) if "`" in text else text


def _handle(m: re.Match[str]) -> str:
    said = m["user"].replace(".", " dot ").replace("_", " underscore ")
    if m["host"]:
        said += " at " + m["host"].replace(".", " dot ")
    return said + (" slash " + m["team"] if m["team"] else "")


_HANDLE = re.compile(r"(?<![\w@/.])@(?P<user>[A-Za-z0-9_](?:[\w-]|\.(?=\w))*)"
                     r"(?:@(?P<host>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)|/(?P<team>[\w-]+))?")


def read_handles(text: str) -> str:
    """@user -> "user", @user@host.social -> "user at host dot social",
    @name.bsky.social -> "name dot bsky dot social", @org/team -> "org slash team": the
    whole handle, never only its host."""
    return _HANDLE.sub(_handle, text) if "@" in text else text


_ISSUE_KINDS = r"PRs?|MRs?|[Ii]ssues?|[Pp]ull [Rr]equests?|[Bb]ugs?|[Tt]ickets?"
_PROSE_CODE: list[tuple[str, str | Reader]] = [
    (r"(?<![\w/.-])(?P<owner>[A-Za-z0-9][\w.-]*)/(?P<repo>[A-Za-z0-9][\w.-]*)#(?P<n>\d+)\b",
     lambda m: f"{m['repo']} number {cardinal(int(m['n']))}"),
    (rf"\b(?P<kind>{_ISSUE_KINDS})[ \t]?#(?P<n>\d+)\b",
     lambda m: f"{m['kind']} {cardinal(int(m['n']))}"),
    (r"\b[Gg][Hh]-(?P<n>\d+)\b", lambda m: f"GitHub issue {cardinal(int(m['n']))}"),
    (r"(?<![\w&#])#(?P<n>\d+)\b", lambda m: f"number {cardinal(int(m['n']))}"),
    (r"(?<![\w-])--(?P<flag>[A-Za-z](?:\w|-(?=\w))*)(?![\w-])", r"dash dash \g<flag>"),
    (r"(?<![\w-])-(?P<flag>[A-Za-z]{1,2}\d?)(?=[\s.,;:)]|$)", r"dash \g<flag>"),
]
_PROSE_PATHS = [re.compile(p) for p in (
    r"\b\w+(?:::\w+)+",
    r"(?<![\w/.:~-])(?:~|\.{1,2})?/?(?:[\w.-]+/)+[\w-]+\.[A-Za-z]\w{0,5}(?![\w/])",
    r"(?<![\w/.:])(?:/[A-Za-z_.][\w.-]*){2,}/?(?![\w/])",
)]
_PROSE_CODE_PATTERNS = [(re.compile(p), r) for p, r in _PROSE_CODE]
_PROSE_HINT = re.compile(r"[#:/-]")


def read_prose_code(text: str, keep: Collection[str] = ()) -> str:
    """Code written without backticks: issue and PR numbers, flags, a::b paths and file
    paths. Terms in `keep` (the lexicon's) are left for the lexicon."""
    if not _PROSE_HINT.search(text):
        return text
    text = substitute(_PROSE_CODE_PATTERNS, text)
    for pattern in _PROSE_PATHS:
        text = pattern.sub(lambda m: m[0] if m[0] in keep else read_code(m[0], keep), text)
    return text


# --- hashes, identifiers, slashes -----------------------------------------------------

_HASH_CUES = r"[Cc]ommits?|hash|SHA|sha|revision|rev"
_HASH = re.compile(rf"(?<![\w.#/-])(?P<cue>(?:{_HASH_CUES})[ \t]+)?(?P<a>[0-9a-f]{{7,40}})"
                   r"(?:\.{2,3}(?P<b>[0-9a-f]{7,40}))?(?![\w-])")
_LETTER_RUNS = {"aarch": "Eh arch", "amd": "A M D", "riscv": "risk five", "ppc": "P P C",
                "A": "Eh", "a": "Eh"}
_PIECE = re.compile(r"\d+(?:\.\d+)+|\d+|[A-Za-z]+")
_SLASH_NAMES = {"I/O": "I O", "TCP/IP": "TCP IP", "UDP/IP": "UDP IP", "CI/CD": "CI CD",
                "A/B": "Eh B", "N/A": "not applicable", "n/a": "not applicable",
                "he/him": "he him", "she/her": "she her", "they/them": "they them",
                "c/o": "care of", "H/T": "Hat tip", "h/t": "hat tip"}
_UNITS = {"km": "kilometers", "m": "meters", "mi": "miles", "ft": "feet", "B": "bytes",
          "KB": "kilobytes", "kB": "kilobytes", "MB": "megabytes", "GB": "gigabytes",
          "TB": "terabytes", "Kb": "kilobits", "Mb": "megabits", "Gb": "gigabits",
          "kbit": "kilobits", "Mbit": "megabits", "Gbit": "gigabits", "tok": "tokens",
          "req": "requests", "it": "iterations", "img": "images", "ops": "operations"}
_PER = {"s": "second", "sec": "second", "ms": "millisecond", "min": "minute", "h": "hour",
        "hr": "hour", "d": "day", "day": "day", "wk": "week", "week": "week", "mo": "month",
        "month": "month", "yr": "year", "year": "year", "token": "token", "user": "user",
        "seat": "seat", "GPU": "GPU", "person": "person", "query": "query"}
_TIME = {k: v for k, v in _PER.items() if v in ("second", "millisecond", "minute", "hour",
                                               "day", "week", "month", "year")}
# Units said in full after a number: "250ms", "80 GB", "+7.3 pp".
_AFTER_NUMBER = {"ms": "millisecond", "ns": "nanosecond", "µs": "microsecond",
                 "μs": "microsecond", "KB": "kilobyte", "MB": "megabyte", "GB": "gigabyte",
                 "TB": "terabyte", "KiB": "kibibyte", "MiB": "mebibyte", "GiB": "gibibyte",
                 "TiB": "tebibyte", "kHz": "kilohertz", "MHz": "megahertz", "GHz": "gigahertz",
                 "km": "kilometer", "kg": "kilogram", "cm": "centimeter", "mm": "millimeter",
                 "nm": "nanometer", "pp": "percentage point"}
_CURRENCY_CODES = {"USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "CNY", "INR", "SEK"}
_ITEM = r"(?:[A-Za-z]|\d+(?:\.\d+)?[A-Za-z])(?:[\w+'’-]|\.(?=\w))*"


def _alternatives(pattern: dict[str, str]) -> str:
    return "|".join(re.escape(k) for k in sorted(pattern, key=len, reverse=True))


def _say_hash(written: str, length: int) -> str:
    return " ".join(spell(c) if c.isalpha() else cardinal(int(c)) for c in written[:length])


def _say_piece(piece: str) -> str:
    """One hyphen-free part of an identifier: "i686" -> "i six eighty-six"."""
    if plural_of := re.fullmatch(r"(.*\d{2})s", piece):
        return plural(_say_piece(plural_of[1]))
    said = []
    for run in _PIECE.findall(piece):
        if run[0].isalpha():
            said.append(_LETTER_RUNS.get(run, run))
        else:
            said.append(version_words(run) if "." in run else label_number(run))
    return " ".join(said)


def _list(items: list[str], word: str) -> str:
    if word == "slash" or len(items) <= 2:
        return f" {word} ".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def _hash(t: Technical, m: re.Match[str]) -> str:
    hashes = [h for h in (m["a"], m["b"]) if h]
    mixed = all(re.search(r"\d", h) and re.search("[a-f]", h) for h in hashes)
    if not (m["cue"] or mixed) or any(h in t.lexicon.entries for h in hashes):
        return m[0]
    said = " to ".join(_say_hash(h, t.settings.hash_length) for h in hashes)
    return (m["cue"] or ("commits " if m["b"] else "commit ")) + said


def _hyphenated(t: Technical, m: re.Match[str]) -> str:
    parts = re.split(r"[-_]", m[0])
    return " ".join(p if p in t.lexicon.entries else _say_piece(p) for p in parts)


def _named(t: Technical, m: re.Match[str]) -> str:
    if m["name"] in _NOT_NAMES:
        return m[0]
    cores = [m["core"], *m["more"].split("/")[1:]]
    return f"{m['name']} {_list([version_words(c) for c in cores], t.settings.slash)}"


def _label(t: Technical, m: re.Match[str]) -> str:
    if is_year(m["n"]) or m["name"] in _CURRENCY_CODES:
        return m[0]
    return f"{m['name']} {label_number(m['n'])}"


def _unit(t: Technical, m: re.Match[str]) -> str:
    one = re.search(r"(?:^|[^\d.,])1$", m.string[:m.start()])
    name = _AFTER_NUMBER[m["unit"]]
    return " " + (name if one else name + "s")


def _letter(letter: str) -> str:
    return _LETTER_RUNS.get(letter, letter)


TechnicalReader = Callable[["Technical", re.Match[str]], str]
_SLASH_PASSES: list[tuple[str, TechnicalReader]] = [
    (rf"(?<![\w/])(?:{_alternatives(_SLASH_NAMES)})(?![\w/])", lambda t, m: _SLASH_NAMES[m[0]]),
    (r"(?<![\w/])(?P<kind>[ru])/(?P<name>\w+)", lambda t, m: f"{m['kind']} slash {m['name']}"),
    (rf"(?<![\w/])(?P<unit>{_alternatives(_UNITS)})/(?P<per>{_alternatives(_PER)})\b",
     lambda t, m: f"{_UNITS[m['unit']]} per {_PER[m['per']]}"),
    (rf"(?<![\w/])(?P<unit>[A-Za-z]{{2,}})/(?P<per>{_alternatives(_TIME)})\b",
     lambda t, m: f"{m['unit']} per {_PER[m['per']]}"),
    (rf"(?<=[\d%])[ \t]?/(?P<per>{_alternatives(_PER)})\b",
     lambda t, m: f" per {_PER[m['per']]}"),
    (rf"(?<![\w/.@-]){_ITEM}(?:/{_ITEM})+(?![\w/]|\.\w)",
     lambda t, m: _list(m[0].split("/"), t.settings.slash)),
]
_IDENTIFIER_PASSES: list[tuple[str, TechnicalReader]] = [
    (r"\b(?P<name>arXiv|arxiv):?[ \t]?(?P<a>\d{4})\.(?P<b>\d{4,5})(?:v(?P<v>\d+))?\b",
     lambda t, m: f"{m['name']} {label_number(m['a'])} dot {digits(m['b'])}"
                  + (f" version {integer(m['v'])}" if m["v"] else "")),
    (_PREFIXED.pattern, lambda t, m: "version " + version_words(m["v"]) + _pre_words(m)),
    (_WORD_PREFIXED.pattern, lambda t, m: f"{m['word']} {_version(m)}"),
    (_TAGGED.pattern, lambda t, m: _version(m)),
    (_THREE_PARTS.pattern, lambda t, m: _version(m)),
    (r"(?<![\w.])(?P<n>\d+)\.x\b", lambda t, m: f"{integer(m['n'])} point x"),
    (r"\bQ(?P<a>[1-4])[-–]Q(?P<b>[1-4])\b",
     lambda t, m: f"Q {cardinal(int(m['a']))} to Q {cardinal(int(m['b']))}"),
    (r"\b(?P<a>[A-Z])2(?P<b>[A-Z])\b", lambda t, m: f"{_letter(m['a'])} to {_letter(m['b'])}"),
    (r"(?<![\w.])(?!0x)(?P<a>\d+)[x×](?P<b>\d+)(?P<unit>[A-Za-z]{0,2})\b",
     lambda t, m: f"{label_number(m['a'])} by {label_number(m['b'])} {m['unit']}".strip()),
    (r"(?<![\w.-])(?=[\w.-]*\d)[A-Za-z][A-Za-z0-9]*(?:[._][A-Za-z0-9]+)*"
     r"(?:-[A-Za-z0-9]+(?:[._][A-Za-z0-9]+)*)+(?![\w-]|\.\w)", _hyphenated),
    (r"(?<![\w.-])[A-Za-z]+\d[A-Za-z0-9]*(?:[._][A-Za-z0-9]+)*(?![\w-]|\.\w)", _hyphenated),
    (r"\b(?P<n>[1-9])K\b", lambda t, m: f"{cardinal(int(m['n']))} K"),
    (r"\b(?P<name>[A-Z]{2,}[0-9]*)[ \t](?P<n>\d{3,4})(?![\w%]|[.,:/-]\d|[ \t]?%)", _label),
    (rf"(?<=\d)[ \t]?(?P<unit>{_alternatives(_AFTER_NUMBER)})\b", _unit),
    (_NAMED.pattern, _named),
    (_BEFORE_RELEASE.pattern, lambda t, m: _version(m)),
    (_DECIMAL.pattern, lambda t, m: version_words(m[0]) if m[0] in t.versions else m[0]),
]
_HASH_PATTERNS = [(_HASH, _hash)]
_SLASH_PATTERNS = [(re.compile(p), r) for p, r in _SLASH_PASSES]
_IDENTIFIER_PATTERNS = [(re.compile(p), r) for p, r in _IDENTIFIER_PASSES]
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class Technical:
    """Hashes, slashes, versions and identifiers with digits, for one lexicon (whose terms
    are left to it), one show's settings and the versions known in the issue."""

    lexicon: Lexicon
    settings: SpokenSettings
    versions: Collection[str] = ()

    def read(self, text: str) -> str:
        """The text with its technical terms in words."""
        text = self._apply(_HASH_PATTERNS, text)
        if "/" in text:
            text = self._apply(_SLASH_PATTERNS, text)
        if _DIGIT.search(text):
            text = self._apply(_IDENTIFIER_PATTERNS, text)
        return text

    def _apply(self, passes: list[tuple[re.Pattern[str], TechnicalReader]], text: str) -> str:
        entries = self.lexicon.entries
        for pattern, reader in passes:
            text = pattern.sub(
                lambda m, read=reader: m[0] if m[0] in entries else read(self, m), text)
        return text
