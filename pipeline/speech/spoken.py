"""Spoken text: what the voice reads for a block of an issue.

`to_spoken` takes a block's inline Markdown as written (code spans, links, emphasis, inline
HTML and entities, a soft line break as "\n") or text already flattened, and runs a fixed
sequence of passes, each a function from text to text: code read as code; HTML, entities
and line breaks; links; handles and web addresses; code written without backticks (issue
numbers, flags, paths); emoji and Markdown markers out; abbreviations; technical text
(hashes, slashes, versions, identifiers with digits, in technical.py); the pronunciation
lexicon; numbers (numbers.py); symbols; pauses; a final tidy. The result holds no digit,
URL, Markdown marker or emoji, and no doubled spaces or stray punctuation. The same input
always gives the same output.

Choices where several readings exist (those marked * are a producer's setting, the
`[spoken]` table of show.toml; any term in the lexicon is said as the lexicon says):
- Slash dates (6/1, 1/6/2023) are ambiguous between US and European order, so they are
  read as written, "six slash one"; write dates with month names or as 2023-01-06. A
  dotted date (6.1.2023) is European, "the sixth of January". Halves, thirds and quarters
  (n/d with n < d <= 4) are read as fractions ("two thirds"); 24/7 as "twenty-four
  seven"; a decimal over 5, 10 or 100 is a rating ("4.5/5", "four point five out of five").
- A four-digit number from 1100 to 2099 without a comma is read as a year ("the 2023
  report", "Q1 2024 results"), except after a word that announces a count ("a 2048 token
  window", "with 1500 people") or an amount word followed by a noun ("over 1200
  researchers"). Year cues ("in", "since", month names...) always give a year.
- ISO and month-name dates are read month first ("January sixth, twenty twenty-three");
  "6 January" keeps its order ("the sixth of January"). A date range says "to" and the
  month and year once: 2024-01-05 to 2024-01-07 and Jan 5-7, 2024 are both "January fifth
  to seventh, twenty twenty-four"; 5-7 January is "the fifth to the seventh of January";
  Jan-Mar is "January to March". Abbreviated weekdays are read as written (Mon-Fri, "Mon
  to Fri"); a lexicon entry (Mon = "Monday") expands them.
- A dash between numbers is "to" ("10-20", "10-20%", "1.2x-3x", "9am-5pm", "2023-24"),
  "and" after "between". A minus or plus sign before a number is said ("-0.5%" is "minus
  zero point five percent", so is a true minus); "±" is "plus or minus", "<5" "less than
  five", "≥5" "at least five", "1M+" "one million plus". 1e21 is "ten to the twenty-one",
  3.5e-4 "three point five times ten to the minus four". A phone number (three or more
  dash-joined groups, 1-800-555-0199) is read digit by digit, group by group.
- A unit right after a number is said in full: 250ms "two hundred and fifty
  milliseconds", 80GB, 5 GHz, 7nm, "+7.3 pp" "plus seven point three percentage points".
- A version is read as its whole numbers, the same way in any context: 0.14 "zero point
  fourteen", 0.14.1 "zero point fourteen point one", 0.14-rc.2 "zero point fourteen R C
  two", v1.2.3-beta.1 "version one point two point three beta one", 1.80.0 "one point
  eighty point zero". A number is a version when it has three parts or a pre-release tag,
  follows v, "version" or "release", follows a capitalised name ("Python 3.11", not
  "About 2.5"), a code span (`tokio` 1.38) or a name joined by a hyphen (GPT-3.5), comes
  before "release", or is marked so anywhere in the same block (or in `versions`, which
  the script stage fills from the whole issue with `versions_in`). Any other decimal reads
  its digits one by one ("three point one four").
- A commit hash (7 to 40 hex characters with both digits and letters, or any after
  "commit"/"hash"/"SHA") is spelled, only its first `hash_length`* characters (7: git's
  short form), after the word "commit" unless the text already says it: "a1b2c3d" is
  "commit Eh one B two C three D"; a range a..b or a...b is "commits ... to ...".
- Digits inside a name are said the way people say model numbers: i686 "i six
  eighty-six", x86_64 "x eighty-six sixty-four", aarch64 "Eh arch sixty-four", H100 "H one
  hundred", RTX4090 "RTX forty ninety", GPT-4o "GPT four o", COVID-19 "COVID nineteen",
  CVE-2024-3094 "CVE twenty twenty-four thirty ninety-four". So is a three- or four-digit
  number right after a name in capitals, unless it is a year or an amount of money (RTX
  4090, PEP 750 "PEP seven fifty", ISO 8601). Llama-3.1-8B is "Llama three point one eight
  B" (a size joined to a name is said as written; "an 8B model" and "175B parameters" say
  "billion"). B2B, P2P, E2E are "B to B"; a single digit before K is a resolution, "4K"
  "four K"; 8x7B and 1920x1080 are "by"; Q1-Q3 is "Q one to Q three"; arXiv:2407.21783 is
  "arXiv twenty-four oh seven dot two one seven eight three".
- A slash: between alternatives (AI/ML, f16/f32/f64, Rheinland/Pfalz) it is read as
  `slash`* ("or"; three or more are a list, "f sixteen, f thirty-two or f sixty-four");
  r/rust and u/name are "r slash rust"; a unit per a unit is "per" (km/h "kilometers per
  hour", 10 tok/s, $20/month); I/O, TCP/IP, CI/CD, A/B, he/him are one name ("I O", "TCP
  IP"), n/a "not applicable", H/T "hat tip"; and/or, w/, w/o are words. A place name
  with a slash is an alternative too unless the lexicon has it ("Rheinland/Pfalz" =
  "Rheinland-Pfalz"): no rule tells "Rheinland/Pfalz" from "Windows/Linux".
- Handles are read whole, like an email address, with the leading @ silent: @user "user",
  @user@mastodon.social "user at mastodon dot social", @name.bsky.social "name dot bsky
  dot social", @org/team "org slash team"; an underscore in a handle is "underscore".
- Code (in backticks, or a path, flag or a::b written without them) is read as
  programmers say it: "." is "dot" and "/" "slash" (`os.path.join`, `src/main.rs`), "::"
  and "_" are silent (`std::sync::Arc` "S T D sync Arc", `with_linkage` "with linkage"),
  `__init__` is "dunder init", a leading _ "underscore"; a flag keeps its dashes (`--dry-run`
  "dash dash dry-run", `-j2` "dash j two"); brackets and sigils are silent; a short
  lowercase name with no vowel is spelled (std, nn, rs, npm). Outside backticks, __word__
  is Markdown bold, not a dunder.
- Issue and PR numbers are whole numbers, never years: #1234 "number one thousand two
  hundred and thirty-four", PR #56 "PR fifty-six", rust-lang/rust#12345 "rust number
  twelve thousand...", GH-12 "GitHub issue twelve".
- Emoji* are dropped (default) or said by name ("rocket"; a run of the same one once, skin
  tones left out). A keycap digit (1️⃣) is always its digit.
- A link whose text is "here" is replaced by `link_here`* ("Full report in the show
  notes"); one whose text is "this", "link" or "this link" is followed by it ("Read this in
  the show notes"). "{site}" in `link_here` is the link's site name ("on {site}": "Full
  report on lesswrong"). Other links are read as their text.
- A line break ends a sentence unless the line ends with punctuation or a word that
  cannot end one ("the", "and", "by"), or the next line starts with a small letter: then
  it is a wrapped line. <br> and a Markdown hard break end the sentence whatever follows.
- Inline HTML tags are silent (<small>, <em>, comments), a footnote mark (<sup>1</sup>)
  is dropped; entities are decoded (&amp; is "and", &nbsp; a space, &mdash; a pause,
  &#8217; an apostrophe); <code> is code.
- A bare web address is read as the site's registrable name, "lesswrong"; an email address
  is read in full ("hello at example dot org"), since listeners need all of it.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Collection
from functools import lru_cache
from urllib.parse import urlsplit

import emoji

from pipeline.config import SpokenSettings
from pipeline.speech.lexicon import Lexicon, spell
from pipeline.speech.numbers import cardinal, number_words, say_numbers, substitute
from pipeline.speech.technical import (
    Technical,
    read_code_spans,
    read_handles,
    read_prose_code,
    versions_in,
)

__all__ = ["cardinal", "number_words", "site_name", "to_spoken", "versions_in"]

_DEFAULT = SpokenSettings()


def to_spoken(text: str, lexicon: Lexicon, settings: SpokenSettings | None = None,
              versions: Collection[str] = ()) -> str:
    """The text as the voice should read it. `versions` are two-part version numbers
    found elsewhere in the issue (`versions_in`), read as versions here too."""
    settings = settings or _DEFAULT
    known = set(versions) | versions_in(text) if "." in text else set(versions)
    technical = Technical(lexicon, settings, frozenset(known))
    terms = lexicon.entries
    steps: list[Callable[[str], str]] = [
        lambda t: read_code_spans(t, terms), _html, _line_breaks,
        lambda t: _links(t, settings), read_handles, _say_links,
        lambda t: read_prose_code(t, terms), lambda t: _clean_markup(t, settings),
        _expand_abbreviations, technical.read, lexicon.apply, say_numbers, _say_symbols,
        _pauses, _tidy]
    for step in steps:
        text = step(text)
    return text


# --- HTML, line breaks and links ------------------------------------------------------

_HTML_LINK = re.compile(r"<a\b[^>]*?\bhref=[\"'](?P<url>[^\"']*)[\"'][^>]*>(?P<text>.*?)</a\s*>",
                        re.S | re.I)
_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^<>\s]+)>")
_BREAK_TAG = re.compile(r"[ \t]*<br\s*/?>[ \t]*\n?", re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
# a footnote mark: <sup>1</sup>, <sup>[2]</sup>
_FOOTNOTE_MARK = re.compile(r"<sup>\s*\[?\d+\]?\s*</sup>", re.I)


def _html(text: str) -> str:
    """Inline HTML: links kept as Markdown links, <br> a hard break, other tags silent,
    then entities decoded."""
    if "<" in text:
        text = _HTML_LINK.sub(lambda m: f"[{m['text']}]({m['url']})", text)
        text = _AUTOLINK.sub(r"\1", text).replace("mailto:", "")
        text = _BREAK_TAG.sub("\\\n", _COMMENT.sub(" ", _FOOTNOTE_MARK.sub("", text)))
        text = _HTML_TAG.sub(" ", text)
    return html.unescape(text) if "&" in text else text


# Words a sentence does not end on: a line break after one is a wrapped line.
_CONTINUES = {"a", "an", "the", "of", "and", "or", "but", "to", "in", "on", "at", "by",
              "for", "with", "from", "as", "that", "which", "who", "is", "are", "was",
              "were", "be", "into", "than", "its", "their", "our", "your", "my", "this",
              "these", "those", "via", "about", "over", "under", "like", "if", "so"}
_LINE_BREAK = re.compile(r"(?P<word>\S*?)(?P<hard>\\|[ \t]{2,})?[ \t]*\n\s*")
_NEXT_WORD = re.compile(r"[\W_]*?([^\W_])")


def _line_break(m: re.Match[str]) -> str:
    word = m["word"]
    if not word or word[-1] in ".!?:;,…—–-":
        return word + " "
    if word.strip("*_~").lower() in _CONTINUES:
        return word + " "
    following = _NEXT_WORD.match(m.string, m.end())
    wrapped = not m["hard"] and (following is None or following[1].islower())
    return word + (" " if wrapped else ". ")


def _line_breaks(text: str) -> str:
    if "\n" not in text:
        return text
    return _LINE_BREAK.sub(_line_break, text.replace("\r\n", "\n").strip())


_MD_LINK = re.compile(r"(?P<image>!?)\[(?P<text>[^\]]*)\]\((?P<url><[^>]*>|[^)\s]*)"
                      r"(?:\s+[\"'(][^)]*)?\)")
_REF_LINK = re.compile(r"(?P<image>!?)\[(?P<text>[^\]]+)\]\[[^\]]*\]")
_FOOTNOTE_REF = re.compile(r"\[\^[^\]]+\]")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_HERE = {"here", "right here", "over here", "click here"}
_POINTERS = {"this", "that", "link", "this link", "the link", "these", "source"}


def _link_place(url: str | None, settings: SpokenSettings) -> str:
    place = settings.link_here
    if "{site}" in place:
        name = site_name(urlsplit((url or "").strip("<>")).hostname or "")
        return place.replace("{site}", name) if name else _DEFAULT.link_here
    return place


def _link(m: re.Match[str], settings: SpokenSettings) -> str:
    text, url = m["text"].strip(), m.groupdict().get("url")
    if m["image"]:
        return text
    if not text:
        return (url or "").strip("<>")
    key = text.lower().strip(" .!:")
    if key in _HERE:
        return _same_case(text, _link_place(url, settings))
    if key in _POINTERS:
        return f"{text} {_link_place(url, settings)}"
    return text


def _links(text: str, settings: SpokenSettings) -> str:
    """Backslash escapes undone, Markdown links to their text (or to where a link named
    "here" can be found), footnote references out."""
    if "\\" in text:
        text = _ESCAPE.sub(r"\1", text)
    if "[" not in text:
        return text
    text = _FOOTNOTE_REF.sub("", text)
    text = _MD_LINK.sub(lambda m: _link(m, settings), text)
    return _REF_LINK.sub(lambda m: _link(m, settings), text)


# --- emoji, Markdown markers and odd characters -----------------------------------------

_CITATION = re.compile(r"\[\d+(?:[,–-]\s?\d+)*\]")
_SKIN_TONE = re.compile(r"_(?:medium-light|medium-dark|light|medium|dark)_skin_tone")
_KEYCAP = re.compile("([0-9])\ufe0f?\u20e3")  # 1️⃣ is the digit, whatever else is said
_NAMED_RUN = re.compile(r"(\x00[^\x00]+\x00)(?:\s*\1)+")


def _markers(text: str) -> str:
    text = _CITATION.sub("", text)
    text = re.sub(r"\b([CF])#", r"\1 sharp", text)
    text = re.sub(r"#\s?(?=\d)", "number ", text)
    text = re.sub(r"(?<=\w)_(?=\w)", " ", text)
    text = re.sub(r"[*_`#~]+", "", text)
    return re.sub(r"(?m)^\s*>+\s?", "", text)


def _emoji_name(chars: str, data: dict) -> str:
    name = _SKIN_TONE.sub("", data["en"].strip(":")).replace("_", " ")
    return f"\x00{name}\x00"


def _say_emoji(text: str, settings: SpokenSettings) -> str:
    text = _KEYCAP.sub(r"\1", text)
    if settings.emoji == "drop":
        return emoji.replace_emoji(text, replace=" ")
    named = _NAMED_RUN.sub(r"\1", emoji.replace_emoji(text, replace=_emoji_name))
    return named.replace("\x00", " ")


def _clean_markup(text: str, settings: SpokenSettings) -> str:
    if not text.isascii():
        text = _say_emoji(text, settings)
        text = re.sub(r"[™®©]", "", text)
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
    r"(?<![A-Za-z0-9/-])(?P<scheme>)(?P<host>(?:[A-Za-z0-9-]+\.)+[a-z][A-Za-z]+)(?::\d+)?"
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
    (r"\s*[|•·]\s*", ", "),
    (r"@(?=\w)", ""),
    (r"(?<![.][^\W\d_])(?<=[^\W\d_])\.(?=[^\W\d_]{2})", " dot "),
    (r"\s@\s", " at "),
]
_SYMBOL_PATTERNS = [(re.compile(p), s) for p, s in _SYMBOLS]


def _say_symbols(text: str) -> str:
    return substitute(_SYMBOL_PATTERNS, text)


_PAUSES: list[tuple[str, str]] = [
    (r"(?:\.\.\.|…)+(?=\s*$|\s+[A-Z\"“])", "."),
    (r"(?:\.\.\.|…)+", ", "),
    (r"\s*(?:—|--)\s*|\s+[–-]\s+", ", "),
    (r"[(\[{]\s*[)\]}]", ""),
    (r"\s*[(\[{]\s*", ", "),
    (r"\s*[)\]}]", ", "),
]
_PAUSE_PATTERNS = [(re.compile(p), s) for p, s in _PAUSES]


def _pauses(text: str) -> str:
    return substitute(_PAUSE_PATTERNS, text)


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
        text = substitute(_TIDY_PATTERNS, text)
        if text == before:
            break
    return text.strip()
