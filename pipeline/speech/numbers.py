"""Numbers in words: dates, date and time ranges, times, money, percentages, signs, ranges,
decades, ordinals, multipliers, fractions, years and plain numbers (see spoken.py for the
choices). `say_numbers` is the pass `to_spoken` runs; the rest are the readings that
technical.py shares, so a number is read the same way wherever it comes from."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from num2words import num2words

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
_MONTH_ABBREVIATIONS = {m[:3]: m for m in _MONTHS} | {"Sept": "September"}
_MONTH_NAMES = "|".join(sorted(_MONTHS + list(_MONTH_ABBREVIATIONS), key=len, reverse=True))
_MONTH = rf"(?P<month>{_MONTH_NAMES})\b"
_WEEKDAY = (r"(?:Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun)(?:day|sday|nesday|rsday|urday)?"
            r"\b\.?")
NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|\d+(?:\.\d+)?"
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
_CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"),
               "€": ("euro", "euros", "cent", "cents"),
               "£": ("pound", "pounds", "penny", "pence"),
               "¥": ("yen", "yen", "", ""),
               "₹": ("rupee", "rupees", "paisa", "paise")}
SCALES = {"k": "thousand", "K": "thousand", "m": "million", "M": "million", "mn": "million",
          "MM": "million", "b": "billion", "B": "billion", "bn": "billion", "t": "trillion",
          "T": "trillion", "tn": "trillion"} | {
    w: w for w in ("thousand", "million", "billion", "trillion")}


def cardinal(number: int) -> str:
    """An integer in words, without commas: 1200 -> "one thousand two hundred"."""
    return num2words(number).replace(",", "")


def digits(written: str) -> str:
    """Digits one by one: "007" -> "zero zero seven"."""
    return " ".join(num2words(int(d)) for d in written)


def integer(written: str) -> str:
    """A whole number as written; a leading zero makes it a string of digits."""
    written = written.replace(",", "")
    if len(written) > 1 and written.startswith("0"):
        return digits(written)
    return cardinal(int(written))


def number_words(text: str) -> str:
    """A number as written (commas, decimals) in words: "1.05" -> "one point zero five"."""
    whole, _, fraction = text.partition(".")
    words = integer(whole) if whole else "zero"
    return f"{words} point {digits(fraction)}" if fraction else words


def _pair(written: str) -> str:
    """Two digits as said in a model or flight number: "86" -> "eighty-six", "04" -> "oh four"."""
    return f"oh {cardinal(int(written[1]))}" if written[0] == "0" else cardinal(int(written))


def label_number(written: str) -> str:
    """Digits that name something (i686, H100, RTX 4090, ISO 8601), said the way people say
    model numbers: "one hundred", "six eighty-six", "forty ninety", "eighty-six oh one"."""
    if len(written) <= 2 or (len(written) <= 4 and written.endswith("00") and written[0] != "0"):
        return integer(written)
    if len(written) == 3 and written[0] != "0":
        return f"{cardinal(int(written[0]))} {_pair(written[1:])}"
    if len(written) == 4 and written[0] != "0":
        return f"{_pair(written[:2])} {_pair(written[2:])}"
    return digits(written)


def year(written: str) -> str:
    return num2words(int(written), to="year")


def is_year(written: str) -> bool:
    return len(written) == 4 and written.isdigit() and 1100 <= int(written) <= 2099


def ordinal(written: str) -> str:
    return num2words(int(written), to="ordinal")


def plural(words: str) -> str:
    """Plural of number words: "nineteen ninety" -> "nineteen nineties"."""
    head, _, last = words.rpartition(" ")
    last = last[:-1] + "ies" if last.endswith("y") else last + "s"
    return f"{head} {last}".strip()


def _to(m: re.Match[str]) -> str:
    """What joins the ends of a range: "and" after "between", else "to"."""
    between = re.search(r"\b[Bb]etween\s+$", m.string[max(0, m.start() - 10):m.start()])
    return "and" if between else "to"


# --- dates and times ------------------------------------------------------------------

def _month_name(written: str) -> str:
    return _MONTH_ABBREVIATIONS.get(written, written)


def _iso_parts(written: str) -> tuple[str, int, str] | None:
    """(year, month, day) of a valid ISO date, else None."""
    year_, month, day = written.split("-")
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return None
    return year_, int(month), day


def _iso_date(m: re.Match[str]) -> str:
    parts = _iso_parts(m[0])
    if parts is None:
        year_, month, day = m[0].split("-")
        return f"{year(year_)} {cardinal(int(month))} {cardinal(int(day))}"
    year_, month, day = parts
    return f"{_MONTHS[month - 1]} {ordinal(day)}, {year(year_)}"


def _iso_range(m: re.Match[str]) -> str:
    first, last = _iso_parts(m["first"]), _iso_parts(m["last"])
    if first is None or last is None:
        return m[0]
    (y1, m1, d1), (y2, m2, d2) = first, last
    start, joint = f"{_MONTHS[m1 - 1]} {ordinal(d1)}", m["joint"] or _to(m)
    if y1 != y2:
        return f"{start}, {year(y1)} {joint} {_MONTHS[m2 - 1]} {ordinal(d2)}, {year(y2)}"
    end = ordinal(d2) if m1 == m2 else f"{_MONTHS[m2 - 1]} {ordinal(d2)}"
    return f"{start} {joint} {end}, {year(y1)}"


def _dotted_date(m: re.Match[str]) -> str:
    day, month = int(m["day"]), int(m["month"])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m[0]
    return f"the {ordinal(m['day'])} of {_MONTHS[month - 1]}, {year(m['year'])}"


def _month_first(m: re.Match[str]) -> str:
    said = f"{_month_name(m['month'])} {ordinal(m['day'])}"
    if m["end"]:
        said += f" {_to(m)} {ordinal(m['end'])}"
    return f"{said}, {year(m['year'])}" if m["year"] else said


def _month_day_range(m: re.Match[str]) -> str:
    said = (f"{_month_name(m['month'])} {ordinal(m['day'])} {m['joint'] or _to(m)} "
            f"{_month_name(m['month2'])} {ordinal(m['day2'])}")
    return f"{said}, {year(m['year'])}" if m["year"] else said


def _day_first(m: re.Match[str]) -> str:
    said = f"the {ordinal(m['day'])}"
    if m["end"]:
        said += f" {_to(m)} the {ordinal(m['end'])}"
    said += f" of {_month_name(m['month'])}"
    return f"{said}, {year(m['year'])}" if m["year"] else said


def _month_range(m: re.Match[str]) -> str:
    return f"{_month_name(m['month'])} to {_month_name(m['month2'])}"


def _minutes(minutes: str) -> str:
    if minutes in ("", "00"):
        return ""
    return f" oh {digits(minutes[1])}" if minutes.startswith("0") else f" {integer(minutes)}"


def _clock_12(m: re.Match[str]) -> str:
    half = "a.m." if m["half"] in "Aa" else "p.m."
    return f"{integer(m['hour'])}{_minutes(m['minutes'] or '')} {half}"


def _clock_24(m: re.Match[str]) -> str:
    hour, minutes = int(m["hour"]), m["minutes"]
    if hour > 24 or int(minutes) > 59:
        return f"{cardinal(hour)} {integer(minutes)}"
    if minutes == "00":
        return f"{cardinal(hour)} hundred" if hour > 12 else f"{cardinal(hour)} o'clock"
    return cardinal(hour) + _minutes(minutes)


# --- amounts --------------------------------------------------------------------------

def _amount(value: str, units: tuple[str, str, str, str]) -> str:
    whole, _, cents = value.replace(",", "").partition(".")
    if len(cents) > 2 or (cents and not units[2]):
        return f"{number_words(value)} {units[1]}"
    cents_value = int(cents.ljust(2, "0")) if cents else 0
    said = [] if int(whole) == 0 and cents_value else [
        f"{integer(whole)} {units[0] if int(whole) == 1 else units[1]}"]
    if cents_value:
        said.append(f"{cardinal(cents_value)} {units[2] if cents_value == 1 else units[3]}")
    return " and ".join(said)


def _money(m: re.Match[str]) -> str:
    units = _CURRENCIES[m["symbol"]]
    scale = SCALES[m["scale"].strip()] + " " if m["scale"] else ""
    if not scale and not m["high"]:
        return _amount(m["low"], units)
    high = f" to {number_words(m['high'])}" if m["high"] else ""
    return f"{number_words(m['low'])}{high} {scale}{units[1]}"


def _low_to_high(m: re.Match[str]) -> str:
    high = f" to {number_words(m['high'])}" if m["high"] else ""
    return number_words(m["low"]) + high


def _scaled_range(m: re.Match[str]) -> str:
    if m["scale1"] and SCALES[m["scale1"]] != SCALES[m["scale"]]:
        return f"{number_words(m['low'])} {SCALES[m['scale1']]} to " \
               f"{number_words(m['high'])} {SCALES[m['scale']]}"
    return f"{_low_to_high(m)} {SCALES[m['scale']]}"


def _decade(m: re.Match[str]) -> str:
    written = m["digits"]
    if int(written) in (100, 1000):
        return "hundreds" if written == "100" else "thousands"
    return plural(year(written) if is_year(written) else cardinal(int(written)))


def _slashes(m: re.Match[str]) -> str:
    return " slash ".join(year(p) if is_year(p) else number_words(p) for p in m[0].split("/"))


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


def _scientific(m: re.Match[str]) -> str:
    exponent = m["exponent"].lstrip("+")
    power = ("minus " if exponent[0] in "-−" else "") + cardinal(int(exponent.lstrip("-−")))
    if m["mantissa"] == "1":
        return f"ten to the {power}"
    return f"{number_words(m['mantissa'])} times ten to the {power}"


def _out_of(m: re.Match[str]) -> str:
    if float(m["top"]) > int(m["bottom"]):
        return _slashes(m)
    return f"{number_words(m['top'])} out of {cardinal(int(m['bottom']))}"


def _phone(m: re.Match[str]) -> str:
    return ", ".join(digits(group) for group in re.split(r"[-. ]", m[0]))


def _range(m: re.Match[str]) -> str:
    low, high, joint = m["low"], m["high"], f" {_to(m)} "
    if is_year(low) and (is_year(high) or len(high) == 2 and high > low[2:]):
        return year(low) + joint + (year(high) if len(high) == 4 else cardinal(int(high)))
    return number_words(low) + joint + number_words(high)


def _plain(m: re.Match[str]) -> str:
    if is_year(m[0]) and _reads_as_year(m.string, m.start(), m.end()):
        return year(m[0])
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
_DASH = r"[ \t]?[-–][ \t]?"
_ISO = r"\d{4}-\d{2}-\d{2}"
_MONTH2 = _MONTH.replace("month", "month2")
_CLOCK = r"\d{1,2}(?::\d{2})?[ \t]?[AaPp]\.?[Mm]\b|\d{1,2}:\d{2}\b"
_SCALE = r"bn|mn|tn|[kKMBT]"
_JOINTS = "to|until|till|through"
_PASSES: list[tuple[str, str | Callable[[re.Match[str]], str]]] = [
    # signs and comparisons first, so "-0.5%" keeps its minus whatever reads the rest
    (r"(?<![\w.,)\]%'’-])[-−](?=[$€£¥₹]?\.?\d)", "minus "),
    (r"(?<![\w.)\]%'’+])\+(?=[$€£¥₹]?\.?\d)", "plus "),
    (r"±[ \t]?(?=[$€£¥₹]?\.?\d)", "plus or minus "),
    (r"(?:<=|≤)[ \t]?(?=[$€£¥₹]?\.?\d)", "at most "),
    (r"(?:>=|≥)[ \t]?(?=[$€£¥₹]?\.?\d)", "at least "),
    (r"(?<![\w<])<[ \t]?(?=[$€£¥₹]?\.?\d)", "less than "),
    (r"(?<![\w>-])>[ \t]?(?=[$€£¥₹]?\.?\d)", "more than "),
    (r"(?<![\w.])(?P<mantissa>\d+(?:\.\d+)?)[eE](?P<exponent>[-+−]?\d+)\b", _scientific),
    (rf"\b(?P<first>{_ISO})(?:[ \t]?(?:[-–—/→]|->)[ \t]?|\s+(?P<joint>{_JOINTS}|and)\s+)"
     rf"(?P<last>{_ISO})\b", _iso_range),
    (rf"\b{_ISO}\b", _iso_date),
    (r"\b(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})\b", _dotted_date),
    (r"(?<![\w.-])\+?\d{1,4}(?:-\d{2,4}){2,}(?![\w-])", _phone),
    (rf"\b{_MONTH}\.?\s+(?P<day>\d{{1,2}}){_SUFFIX}(?:{_DASH}|\s+(?P<joint>to|until|till|and)\s+)"
     rf"{_MONTH2}\.?\s+(?P<day2>\d{{1,2}}){_SUFFIX}\b(?:,?\s+(?P<year>\d{{4}})\b)?",
     _month_day_range),
    (rf"\b{_MONTH}\.?\s+(?P<day>\d{{1,2}}){_SUFFIX}(?:[-–](?P<end>\d{{1,2}}){_SUFFIX})?\b"
     rf"(?:,?\s+(?P<year>\d{{4}})\b)?", _month_first),
    (rf"\b(?:the\s+)?(?P<day>\d{{1,2}}){_SUFFIX}(?:[-–](?P<end>\d{{1,2}}){_SUFFIX})?\s+"
     rf"{_MONTH}(?:\.?,?\s+(?P<year>\d{{4}})\b)?", _day_first),
    (rf"\b{_MONTH}\.?{_DASH}{_MONTH2}\.?", _month_range),
    (rf"\b(?P<first>{_WEEKDAY}){_DASH}(?=\b{_WEEKDAY})", r"\g<first> to "),
    (rf"(?:(?<=\d)|(?<=\d[AaPp][Mm])|(?<=\d [AaPp][Mm])|(?<=[AaPp]\.[Mm]\.)){_DASH}"
     rf"(?={_CLOCK})", " to "),
    (r"\b(?P<hour>\d{1,2})(?::(?P<minutes>\d{2}))?\s?(?P<half>[AaPp])\.?[Mm]\b\.?", _clock_12),
    (r"\b(?P<hour>\d{1,2}):(?P<minutes>\d{2})\b", _clock_24),
    (rf"(?:US)?(?P<symbol>[$€£¥₹])\s?(?P<low>{NUM})(?:\s?(?:[-–]|to)\s?(?P=symbol)?"
     rf"(?P<high>{NUM}))?(?P<scale>\s?(?:thousand|million|billion|trillion)\b"
     rf"|(?:bn|mn|tn|MM|[kKmMbBtT])\b)?", _money),
    (rf"(?P<low>{NUM})(?:\s?%?\s?[-–]\s?(?P<high>{NUM}))?\s?(?:%|percent\b)",
     lambda m: f"{_low_to_high(m)} percent"),
    (r"(?<![\w.'’])['’]?(?P<digits>\d{2,4})s\b", _decade),
    (r"\b(\d+)(?:st|nd|rd|th)\b", lambda m: ordinal(m[1])),
    (rf"(?P<low>{NUM})(?:[x×]?{_DASH}(?P<high>{NUM}))?\s?[x×](?![A-Za-z0-9])",
     lambda m: f"{_low_to_high(m)} times"),
    (r"(?<=\d[kKMBT])\+(?!\w)", " plus"),
    (rf"(?P<low>{NUM})(?:(?P<scale1>{_SCALE})?{_DASH}(?P<high>{NUM}))?(?P<scale>{_SCALE})\b",
     _scaled_range),
    (r"(?<![\d.])(?P<top>\d+\.\d+)/(?P<bottom>5|10|100)\b(?!\.\d)", _out_of),
    (r"\b\d+/\d+/\d+\b", _slashes),
    (r"(?<![\d.])(?P<top>\d+)/(?P<bottom>\d+)\b(?!\.\d)", _fraction),
    (r"\bA(?=\d)", "Eh "),
    (r"(?<=[A-Za-z])-(?=\d)", " "),
    (r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])(?!s\b)", " "),
    (rf"(?<![\d.,])(?P<low>{NUM})\s?[-–]\s?(?P<high>{NUM})(?!\d|\.\d)", _range),
    (r"(?<![\w.,)-])[-−](?=\d)", "minus "),
    (r"(?<=\d)\+", " plus"),
    (r"(?<![\w.])\.(\d+)\b", lambda m: f"point {digits(m[1])}"),
    (NUM, _plain),
    (r"\d+", lambda m: number_words(m[0])),
]
_PATTERNS = [(re.compile(p), r) for p, r in _PASSES]


def substitute(patterns: list[tuple[re.Pattern[str], Any]], text: str) -> str:
    """Apply each (pattern, replacement) in order."""
    for pattern, replacement in patterns:
        text = pattern.sub(replacement, text)
    return text


def say_numbers(text: str) -> str:
    """Every number left in `text`, in words."""
    return substitute(_PATTERNS, text)
