"""Spoken text: what the voice reads for a paragraph of plain text.

`to_spoken` runs a fixed sequence of passes, each a function from text to text:
markup and emoji out, web addresses to site names, abbreviations, the pronunciation
lexicon, numbers (dates, times, money, percentages, ranges, versions, ordinals, years),
symbols to words, dashes/ellipses/brackets to pauses, and a final tidy. The result holds
no digit, URL, Markdown marker or emoji, and no doubled spaces or stray punctuation.

Choices where several readings exist:
- Slash dates (6/1, 1/6/2023) are ambiguous between US and European order, so they are
  read as written, "six slash one"; write dates with month names or as 2023-01-06.
  Halves, thirds and quarters (n/d with n < d <= 4) are read as fractions ("two thirds");
  24/7 as "twenty-four seven".
- A four-digit number from 1100 to 2099 without a comma is read as a year ("the 2023
  report", "Q1 2024 results"), except after a word that announces a count ("a 2048 token
  window", "with 1500 people") or an amount word followed by a noun ("over 1200
  researchers"). Year cues ("in", "since", month names...) always give a year.
- A decimal after a capitalised name ("Python 3.11", "Llama 3.1") or after v/version is a
  version, its parts read as whole numbers ("three point eleven"); other decimals read
  their digits one by one ("three point one four").
- ISO and month-name dates are read month first ("January sixth, twenty twenty-three");
  "6 January" keeps its order ("the sixth of January").
- A bare web address is read as the site's registrable name, "lesswrong"; an email address
  is read in full ("hello at example dot org"), since listeners need all of it.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import emoji
from num2words import num2words

from pipeline.speech.lexicon import Lexicon, spell


def to_spoken(text: str, lexicon: Lexicon) -> str:
    """The text as the voice should read it."""
    for step in (_unwrap_links, _say_links, _clean_markup, _expand_abbreviations,
                 lexicon.apply, _say_numbers, _say_symbols, _pauses, _tidy):
        text = step(text)
    return text


# --- markup, emoji and odd characters -------------------------------------------------

_MD_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]*)\)")
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_CITATION = re.compile(r"\[\d+(?:[,–-]\s?\d+)*\]")


def _markers(text: str) -> str:
    text = _CITATION.sub("", text)
    text = re.sub(r"\b([CF])#", r"\1 sharp", text)
    text = re.sub(r"#\s?(?=\d)", "number ", text)
    text = re.sub(r"(?<=\w)_(?=\w)", " ", text)
    text = re.sub(r"[*_`#~]+", "", text)
    return re.sub(r"(?m)^\s*>+\s?", "", text)


def _unwrap_links(text: str) -> str:
    """Entities decoded, Markdown links to their anchor text, HTML tags out."""
    text = html.unescape(text)
    text = _MD_LINK.sub(lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"<((?:https?://|mailto:)[^<>\s]+)>", r"\1", text).replace("mailto:", "")
    return _HTML_TAG.sub(" ", text)


def _clean_markup(text: str) -> str:
    if not text.isascii():
        text = emoji.replace_emoji(text, replace=" ")
    text = unicodedata.normalize("NFKC", text).replace("\u2044", "/")
    text = re.sub(r"[\u200b-\u200f\u2060\ufe0e\ufe0f]", "", text)
    # "~50%" is "about fifty percent"; elsewhere a tilde is a Markdown marker.
    text = re.sub(r"~\s?(?=[$€£]?\d)", "about ", text)
    return _markers(text)


# --- web addresses --------------------------------------------------------------------

_EMAIL = re.compile(r"([\w.+-]+)@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})")
_SCHEME_URL = re.compile(
    r"(?P<scheme>(?:https?|ftp)://)(?P<host>[A-Za-z0-9.-]*)(?::\d+)?(?P<path>[/?#]\S*)?"
)
_BARE_URL = re.compile(
    r"(?<![A-Za-z0-9-])(?P<scheme>)(?P<host>(?:[A-Za-z0-9-]+\.)+[a-z][A-Za-z]+)(?::\d+)?"
    r"(?P<path>/\S*)?"
)
_TRAILING = re.compile(r"[.,;:!?)\]'\"’”]+$")
# File names whose extension is also a country's domain are said as files.
_FILE_EXTENSIONS = {"py", "md", "sh", "rs", "pl", "cc"}


@lru_cache(maxsize=1)
def _extractor():
    import tldextract

    # The suffix list shipped inside tldextract; no download, no cache on disk.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def site_name(host: str) -> str | None:
    """The registrable name of a host ("www.lesswrong.com" -> "lesswrong"), or None."""
    parts = _extractor()(host)
    if not parts.suffix or not parts.domain:
        return None
    return parts.domain.replace("-", " ")


def _say_url(match: re.Match[str]) -> str:
    scheme, host, path = match["scheme"], match["host"], match["path"] or ""
    if host.endswith((".", "-")):
        host, path = host.rstrip(".-"), host[len(host.rstrip(".-")):] + path
    trail = _TRAILING.search(path)
    tail = trail[0] if trail else ""
    if not scheme and not path and host.rsplit(".", 1)[-1] in _FILE_EXTENSIONS:
        return host.replace(".", " dot ")
    name = site_name(host)
    if name is None and scheme:
        name = host if host.isalpha() else "a link"
    if name is None:
        # Not a web address: a file or library name such as Node.js.
        return host.replace(".", " dot ") + path
    return name + tail


def _say_email(match: re.Match[str]) -> str:
    user = match.group(1).replace(".", " dot ")
    return f"{user} at {match.group(2).replace('.', ' dot ')}"


def _say_links(text: str) -> str:
    text = _EMAIL.sub(_say_email, text)
    text = _SCHEME_URL.sub(_say_url, text)
    return _BARE_URL.sub(_say_url, text)


# --- abbreviations --------------------------------------------------------------------

_ABBREVIATIONS: list[tuple[str, str]] = [
    (r"\b[Ee]\.\s?g\.,?(?=\s)", "for example,"),
    (r"\b[Ee]\.\s?g\.", "for example"),
    (r"\b[Ii]\.\s?e\.,?(?=\s)", "that is,"),
    (r"\b[Ii]\.\s?e\.", "that is"),
    (r"\b[Vv]s\.?(?=[\s),;:]|$)", "versus"),
    (r"\b[Ee]tc\.(?=\s*$|\s+[A-Z])", "et cetera."),
    (r"\b[Ee]tc\b\.?", "et cetera"),
    (r"\b[Aa]pprox\.?(?=[\s),;:]|$)", "approximately"),
    (r"\b[Cc]f\.(?=[\s),;:]|$)", "compare"),
    (r"\bet al\.?(?=\s*[^\s.A-Z])", "and colleagues"),
    (r"\bet al\.", "and colleagues."),
    (r"\b[Aa]\.k\.a\.", "also known as"),
    (r"\b[Ww]/o\b", "without"),
    (r"\b[Ww]/(?=\s)", "with"),
    (r"\band/or\b", "and or"),
    (r"\bNo\.\s?(?=\d)", "number "),
    (r"\bDr\.(?=\s+[A-Z])", "Doctor"),
    (r"\bProf\.(?=\s+[A-Z])", "Professor"),
    (r"\bMr\.(?=\s+[A-Z])", "Mister"),
    (r"\bMrs\.(?=\s+[A-Z])", "Missus"),
    (r"\bU\.S\.(?=\s+[a-z])", "U S"),
    (r"\bU\.S\.", "U S."),
    (r"\bU\.K\.(?=\s+[a-z])", "U K"),
    (r"\bU\.K\.", "U K."),
]
_ABBREVIATION_PATTERNS = [(re.compile(p), s) for p, s in _ABBREVIATIONS]
_LETTER_AND_LETTER = re.compile(r"\b([A-Z])&([A-Z])\b")


def _expand_abbreviations(text: str) -> str:
    for pattern, saying in _ABBREVIATION_PATTERNS:
        text = pattern.sub(lambda m, s=saying: _same_case(m[0], s), text)
    return _LETTER_AND_LETTER.sub(lambda m: f"{spell(m[1])} and {spell(m[2])}", text)


def _same_case(written: str, saying: str) -> str:
    return saying[:1].upper() + saying[1:] if written[:1].isupper() else saying


# --- numbers --------------------------------------------------------------------------

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
_MONTH_ABBREVIATIONS = {m[:3]: m for m in _MONTHS} | {"Sept": "September"}
_MONTH = r"(?P<month>" + "|".join(
    sorted(_MONTHS + list(_MONTH_ABBREVIATIONS), key=len, reverse=True)) + r")\b"
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|\d+(?:\.\d+)?"
_YEAR_CUES = {"in", "since", "until", "till", "of", "year", "early", "late",
              "mid", "before", "after", "circa", "during", "and", "the",
              "spring", "summer", "autumn", "fall", "winter", "through", "versus",
              "between"} | {
    m.lower() for m in _MONTHS} | {m.lower() for m in _MONTH_ABBREVIATIONS}
# "a 2048 token window", "with 1500 people": a count, whatever follows.
_COUNT_CUES = {"a", "an", "with", "only", "just", "total", "first", "last", "next", "top",
               "these", "those", "all", "every", "per", "than", "some", "nearly", "almost",
               "roughly", "approximately"}
# "over 1200 researchers" is a count, "over 2023 and 2024" is not.
_AMOUNT_CUES = {"about", "around", "over", "under", "to", "by", "from", "up"}
_FUNCTION_WORDS = {"and", "or", "to", "through", "was", "is", "were", "will", "when", "with",
                   "as", "for", "but", "saw", "has", "had", "onwards", "onward", "in", "on",
                   "at", "by", "of", "the", "we", "it", "there", "they", "this", "that",
                   "a", "an", "until", "before", "after", "i", "you", "he", "she", "et"}
# Capitalised words after which a decimal is an amount, not a version ("About 2.5 hours").
_NOT_NAMES = {"In", "On", "At", "By", "About", "Over", "Under", "Only", "And", "The", "With",
              "Around", "Up", "To", "Of", "For", "From", "Nearly", "Almost", "Just", "Roughly",
              "Approximately", "Some", "Another", "All", "Each", "Every", "Less", "More",
              "Than", "Down", "Without", "Within", "Is", "Was", "Are", "Were", "Has", "Had"}
_CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"),
               "€": ("euro", "euros", "cent", "cents"),
               "£": ("pound", "pounds", "penny", "pence"),
               "¥": ("yen", "yen", "", ""),
               "₹": ("rupee", "rupees", "paisa", "paise")}
_SCALES = {"k": "thousand", "K": "thousand", "m": "million", "M": "million", "mn": "million",
           "MM": "million", "b": "billion", "B": "billion", "bn": "billion", "t": "trillion",
           "T": "trillion", "tn": "trillion"} | {
    w: w for w in ("thousand", "million", "billion", "trillion")}


def cardinal(number: int) -> str:
    """An integer in words, without commas: 1200 -> "one thousand two hundred"."""
    return num2words(number).replace(",", "")


def _digits(digits: str) -> str:
    return " ".join(num2words(int(d)) for d in digits)


def _integer(digits: str) -> str:
    digits = digits.replace(",", "")
    if len(digits) > 1 and digits.startswith("0"):
        return _digits(digits)
    return cardinal(int(digits))


def number_words(text: str) -> str:
    """A number as written (commas, decimals) in words: "1.05" -> "one point zero five"."""
    whole, _, fraction = text.partition(".")
    words = _integer(whole) if whole else "zero"
    return f"{words} point {_digits(fraction)}" if fraction else words


def _year(digits: str) -> str:
    return num2words(int(digits), to="year")


def _is_year(digits: str) -> bool:
    return len(digits) == 4 and digits.isdigit() and 1100 <= int(digits) <= 2099


def _ordinal(digits: str) -> str:
    return num2words(int(digits), to="ordinal")


def _plural(words: str) -> str:
    """Plural of number words: "nineteen ninety" -> "nineteen nineties"."""
    head, _, last = words.rpartition(" ")
    last = last[:-1] + "ies" if last.endswith("y") else last + "s"
    return f"{head} {last}".strip()


def _iso_date(m: re.Match[str]) -> str:
    month, day = int(m["month"]), int(m["day"])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return f"{_year(m['year'])} {cardinal(month)} {cardinal(day)}"
    return f"{_MONTHS[month - 1]} {_ordinal(m['day'])}, {_year(m['year'])}"


def _month_name(m: re.Match[str]) -> str:
    return _MONTH_ABBREVIATIONS.get(m["month"], m["month"])


def _month_first(m: re.Match[str]) -> str:
    said = f"{_month_name(m)} {_ordinal(m['day'])}"
    if m["end"]:
        said += f" to {_ordinal(m['end'])}"
    return f"{said}, {_year(m['year'])}" if m["year"] else said


def _day_first(m: re.Match[str]) -> str:
    said = f"the {_ordinal(m['day'])} of {_month_name(m)}"
    return f"{said}, {_year(m['year'])}" if m["year"] else said


def _minutes(minutes: str) -> str:
    if minutes in ("", "00"):
        return ""
    return f" oh {_digits(minutes[1])}" if minutes.startswith("0") else f" {_integer(minutes)}"


def _clock_12(m: re.Match[str]) -> str:
    half = "a.m." if m["half"] in "Aa" else "p.m."
    return f"{_integer(m['hour'])}{_minutes(m['minutes'] or '')} {half}"


def _clock_24(m: re.Match[str]) -> str:
    hour, minutes = int(m["hour"]), m["minutes"]
    if hour > 24 or int(minutes) > 59:
        return f"{cardinal(hour)} {_integer(minutes)}"
    if minutes == "00":
        return f"{cardinal(hour)} hundred" if hour > 12 else f"{cardinal(hour)} o'clock"
    return cardinal(hour) + _minutes(minutes)


def _amount(value: str, units: tuple[str, str, str, str]) -> str:
    whole, _, cents = value.replace(",", "").partition(".")
    if len(cents) > 2 or (cents and not units[2]):
        return f"{number_words(value)} {units[1]}"
    cents_value = int(cents.ljust(2, "0")) if cents else 0
    said = [] if int(whole) == 0 and cents_value else [
        f"{_integer(whole)} {units[0] if int(whole) == 1 else units[1]}"]
    if cents_value:
        said.append(f"{cardinal(cents_value)} {units[2] if cents_value == 1 else units[3]}")
    return " and ".join(said)


def _money(m: re.Match[str]) -> str:
    units = _CURRENCIES[m["symbol"]]
    scale = _SCALES[m["scale"].strip()] + " " if m["scale"] else ""
    if not scale and not m["high"]:
        return _amount(m["low"], units)
    high = f" to {number_words(m['high'])}" if m["high"] else ""
    return f"{number_words(m['low'])}{high} {scale}{units[1]}"


def _percent(m: re.Match[str]) -> str:
    high = f" to {number_words(m['high'])}" if m["high"] else ""
    return f"{number_words(m['low'])}{high} percent"


def _decade(m: re.Match[str]) -> str:
    digits = m["digits"]
    if int(digits) in (100, 1000):
        return "hundreds" if digits == "100" else "thousands"
    words = _year(digits) if _is_year(digits) else cardinal(int(digits))
    return _plural(words)


def _version(version: str) -> str:
    return " point ".join(_integer(part) for part in version.split("."))


def _named_version(m: re.Match[str]) -> str:
    if m["name"] in _NOT_NAMES:
        return f"{m['name']} {number_words(m['version'])}"
    return f"{m['name']} {_version(m['version'])}"


def _slashes(m: re.Match[str]) -> str:
    return " slash ".join(_year(p) if _is_year(p) else number_words(p) for p in m[0].split("/"))


def _fraction(m: re.Match[str]) -> str:
    top, bottom = int(m["top"]), int(m["bottom"])
    if (top, bottom) == (24, 7):
        return "twenty-four seven"
    if not 0 < top < bottom <= 4:
        return _slashes(m)
    name = {2: "half", 3: "third", 4: "quarter"}[bottom]
    if top > 1:
        name = "halves" if bottom == 2 else name + "s"
    return f"{cardinal(top)} {name}"


def _range(m: re.Match[str]) -> str:
    low, high = m["low"], m["high"]
    between = re.search(r"\b[Bb]etween\s+$", m.string[max(0, m.start() - 10):m.start()])
    joint = " and " if between else " to "
    if _is_year(low) and _is_year(high):
        return _year(low) + joint + _year(high)
    return number_words(low) + joint + number_words(high)


def _plain(m: re.Match[str]) -> str:
    if _is_year(m[0]) and _reads_as_year(m.string, m.start(), m.end()):
        return _year(m[0])
    return number_words(m[0])


def _reads_as_year(text: str, start: int, end: int) -> bool:
    before = re.findall(r"[A-Za-z]+", text[max(0, start - 20):start])
    previous = before[-1].lower() if before else ""
    if previous in _COUNT_CUES:
        return False
    if previous in _YEAR_CUES:
        return True
    after = re.match(r"\s+([a-z]+)\b", text[end:])
    counts_things = after is not None and after[1] not in _FUNCTION_WORDS
    return not (counts_things and previous in _AMOUNT_CUES)


_SUFFIX = r"(?:st|nd|rd|th)?"
_NUMBER_PASSES: list[tuple[str, str | Callable[[re.Match[str]], str]]] = [
    (r"(?<=[A-Za-z])-(?=\d)", " "),
    (r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b", _iso_date),
    (rf"\b{_MONTH}\.?\s+(?P<day>\d{{1,2}}){_SUFFIX}(?:[-–](?P<end>\d{{1,2}}){_SUFFIX})?\b"
     rf"(?:,?\s+(?P<year>\d{{4}})\b)?", _month_first),
    (rf"\b(?:the\s+)?(?P<day>\d{{1,2}}){_SUFFIX}\s+{_MONTH}(?:\.?,?\s+(?P<year>\d{{4}})\b)?",
     _day_first),
    (r"\b(?P<hour>\d{1,2})(?::(?P<minutes>\d{2}))?\s?(?P<half>[AaPp])\.?[Mm]\b\.?", _clock_12),
    (r"\b(?P<hour>\d{1,2}):(?P<minutes>\d{2})\b", _clock_24),
    (rf"(?:US)?(?P<symbol>[$€£¥₹])\s?(?P<low>{_NUM})(?:\s?(?:[-–]|to)\s?(?P=symbol)?"
     rf"(?P<high>{_NUM}))?(?P<scale>\s?(?:thousand|million|billion|trillion)\b"
     rf"|(?:bn|mn|tn|MM|[kKmMbBtT])\b)?", _money),
    (rf"(?P<low>{_NUM})(?:\s?[-–]\s?(?P<high>{_NUM}))?\s?(?:%|percent\b)", _percent),
    (r"(?<![\w.'’])['’]?(?P<digits>\d{2,4})s\b", _decade),
    (r"\b(\d+)(?:st|nd|rd|th)\b", lambda m: _ordinal(m[1])),
    (r"\b(?:v|(?P<v>[Vv])ersion )(?P<version>\d+(?:\.\d+)*)\b",
     lambda m: f"{'V' if m['v'] == 'V' else 'v'}ersion {_version(m['version'])}"),
    (r"\b\d+\.\d+(?:\.\d+)+\b", lambda m: _version(m[0])),
    (r"\b(?P<name>[A-Z][A-Za-z]*) (?P<version>\d+\.\d+)\b", _named_version),
    (rf"(?P<low>{_NUM})\s?[x×](?![A-Za-z0-9])", lambda m: f"{number_words(m['low'])} times"),
    (rf"(?P<low>{_NUM})(?P<scale>bn|mn|tn|[kKMBT])\b",
     lambda m: f"{number_words(m['low'])} {_SCALES[m['scale']]}"),
    (r"\b\d+/\d+/\d+\b", _slashes),
    (r"\b(?P<top>\d+)/(?P<bottom>\d+)\b", _fraction),
    (r"\bA(?=\d)", "Eh "),
    (r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])(?!s\b)", " "),
    (rf"(?<![\d.,])(?P<low>{_NUM})\s?[-–]\s?(?P<high>{_NUM})(?!\d|\.\d)", _range),
    (r"(?<![\w.,)-])[-−](?=\d)", "minus "),
    (r"(?<![\w.])\+(?=\d)", "plus "),
    (r"(?<=\d)\+", " plus"),
    (r"(?<![\w.])\.(\d+)\b", lambda m: f"point {_digits(m[1])}"),
    (_NUM, _plain),
    (r"\d+", lambda m: number_words(m[0])),
]
_NUMBER_PATTERNS = [(re.compile(p), r) for p, r in _NUMBER_PASSES]


def _substitute(patterns: list[tuple[re.Pattern[str], Any]], text: str) -> str:
    """Apply each (pattern, replacement) in order."""
    for pattern, replacement in patterns:
        text = pattern.sub(replacement, text)
    return text


def _say_numbers(text: str) -> str:
    return _substitute(_NUMBER_PATTERNS, text)


# --- symbols and pauses ---------------------------------------------------------------

_SYMBOLS: list[tuple[str, str]] = [
    (r"\s*&\s*", " and "),
    (r"(?<=\w)\+\+", " plus plus"),
    (r"\s\+\s|(?<=\w)\+(?=\w)", " plus "),
    (r"\s<\s", " less than "),
    (r"\s>\s", " greater than "),
    (r"\s*(?:->|→|=>)\s*", " to "),
    (r"\s*=\s*", " equals "),
    (r"(?<=[^\W\d_])–(?=[^\W\d_])", " to "),
    (r"≈\s*", "about "),
    (r"°\s?C\b", " degrees Celsius"),
    (r"°\s?F\b", " degrees Fahrenheit"),
    (r"°", " degrees"),
    (r"%", " percent"),
    (r"(?<=[A-Za-z])/(?=[A-Za-z])", " or "),
    (r"\s*[|•·]\s*", ", "),
    (r"@(?=\w)", ""),
    (r"(?<=[^\W\d_]{2})\.(?=[^\W\d_]{2})", " dot "),
    (r"\s@\s", " at "),
]
_SYMBOL_PATTERNS = [(re.compile(p), s) for p, s in _SYMBOLS]


def _say_symbols(text: str) -> str:
    return _substitute(_SYMBOL_PATTERNS, text)


_PAUSES: list[tuple[str, str]] = [
    (r"(?<=[^\s.!?,;:])[ \t]*\n\s*(?=\S)", ". "),  # a line break ends a sentence
    (r"(?:\.\.\.|…)+(?=\s*$|\s+[A-Z\"“])", "."),
    (r"(?:\.\.\.|…)+", ", "),
    (r"\s*(?:—|--)\s*|\s+[–-]\s+", ", "),
    (r"[(\[{]\s*[)\]}]", ""),
    (r"\s*[(\[{]\s*", ", "),
    (r"\s*[)\]}]", ", "),
]
_PAUSE_PATTERNS = [(re.compile(p), s) for p, s in _PAUSES]


def _pauses(text: str) -> str:
    return _substitute(_PAUSE_PATTERNS, text)


# Letters, combining marks, spaces and sentence punctuation stay; anything else goes.
_KEEP = set(".,;:!?'\"’‘“”- ")


def _strip_symbols(text: str) -> str:
    return "".join(
        c if c in _KEEP or unicodedata.category(c)[0] in "LM" else " " for c in text
    )


_TIDY: list[tuple[str, str | Callable[[re.Match[str]], str]]] = [
    (r"\s+", " "),
    (r"\s+([,.;:!?])", r"\1"),
    (r"[,;:](?:\s*[,;:])+", lambda m: m[0][0]),
    (r"[,;:]\s*(?=[.!?])", ""),
    (r"(?<![ap]\.m)([.!?])\s*[,;:]+", r"\1"),
    (r"([.!?])(?:\s*\.)+", r"\1"),
    (r"([,;:])(?=[^\s\d])", r"\1 "),
    (r"([“‘])\s*[,;:]\s*", r"\1"),
    (r"^[\s,;:.!?'’-]+", ""),
    (r"\s*[,;:]+$", "."),
    (r"[\s-]+$", ""),
]
_TIDY_PATTERNS = [(re.compile(p), s) for p, s in _TIDY]


def _tidy(text: str) -> str:
    text = _strip_symbols(text)
    for _ in range(3):  # a rule can expose work for an earlier one: ", ; ." needs two rounds
        before = text
        text = _substitute(_TIDY_PATTERNS, text)
        if text == before:
            break
    return text.strip()
