"""Align recognised words to the script, so captions carry the script's spelling with the
recognised timings.

Per segment: the display text is split into words; each display word's spoken form (the
script stage's normaliser) gives its tokens; those are aligned to the segment's actual
spoken tokens, so every spoken token knows the display word it came from. The recognised
words (assigned to segments by time) are then aligned to the spoken tokens. A display word
takes the times of the recognised words aligned to its tokens; one the model missed is
interpolated between its neighbours. Recognised words with no counterpart are dropped and
counted, except a run of several (an ad lib), which is kept and flagged.
"""

from __future__ import annotations

import bisect
import contextlib
import difflib
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from num2words import num2words

from pipeline.config import cache_dir
from pipeline.formats import (
    Dropped,
    HeardDifferently,
    Missed,
    Script,
    Segment,
    Stretch,
    TimedSegment,
    Timeline,
)
from pipeline.speech.asr import Word
from pipeline.util import fsutil

Normaliser = Callable[[str], str]  # display text -> spoken text
ADLIB_MIN_WORDS = 4  # this many consecutive unmatched recognised words make an ad lib
SNAP_SECONDS = 0.5  # a segment's first and last words snap to the timeline's times this near

_CURRENCY = {"$": "dollars", "£": "pounds", "€": "euros"}
_NUMBER = re.compile(r"([$£€]?)(\d+(?:,\d{3})*(?:\.\d+)?)(%|st|nd|rd|th|s)?", re.IGNORECASE)
_ACRONYM = re.compile(r"^[A-Z]{2,4}s?$")
_APOSTROPHES = re.compile(r"['’ʼ]")
_WORD = re.compile(r"[^\W_]+")


def _number_words(match: re.Match[str]) -> str:
    currency, digits, suffix = match.group(1), match.group(2).replace(",", ""), match.group(3)
    suffix = (suffix or "").lower()
    try:
        value = float(digits) if "." in digits else int(digits)
        if suffix in ("st", "nd", "rd", "th") and isinstance(value, int):
            words = num2words(value, to="ordinal")
        elif isinstance(value, int) and 1100 <= value <= 2099 and "," not in match.group(2):
            words = num2words(value, to="year")
        else:
            words = num2words(value)
    except (ValueError, OverflowError, NotImplementedError):
        return match.group(0)
    if suffix == "%":
        words += " percent"
    elif suffix == "s":  # the 1990s -> nineteen nineties
        words = words[:-1] + "ies" if words.endswith("y") else words + "s"
    return f" {words} {_CURRENCY.get(currency, '')} "


def tokens(text: str) -> list[str]:
    """Comparable tokens: numbers in words, lower case, punctuation and hyphens gone."""
    text = _APOSTROPHES.sub("", text).replace("&", " and ")
    text = _NUMBER.sub(_number_words, text)
    return _WORD.findall(text.lower())


def heard_tokens(word: str) -> list[str]:
    """Tokens of a recognised word; a short all-capitals word is read letter by letter
    ("ML" -> m l), which is how the script's spoken text writes acronyms."""
    bare = word.strip(".,;:!?\"'()")
    if _ACRONYM.match(bare):
        return [c.lower() for c in bare if c.isupper()] + (["s"] if bare.endswith("s") else [])
    return tokens(word)


# --- sequence alignment -------------------------------------------------------------

@lru_cache(maxsize=65536)
def _sub_cost(a: str, b: str) -> float:
    if a == b:
        return 0.0
    return 1.0 - 0.4 * difflib.SequenceMatcher(None, a, b).ratio()


def _least_sub_cost(a: str, b: str) -> float:
    """A floor under `_sub_cost` from the lengths alone: difflib's ratio is at most
    2 * min / (sum of lengths)."""
    return 1.0 - 0.8 * min(len(a), len(b)) / (len(a) + len(b)) if a or b else 1.0


def align_tokens(ref: Sequence[str], hyp: Sequence[str]) -> list[tuple[int | None, int | None]]:
    """Edit-distance alignment: pairs (ref index, hyp index), None on the missing side.
    Substitutions cost less between similar words, so "Neil" pairs with "neel". A
    substitution whose floor already loses to an insertion or a deletion is not priced
    (difflib is most of the time otherwise): the table, and so the alignment, is the same."""
    if list(ref) == list(hyp):  # what the table's backtrace gives, without the table
        return [(i, i) for i in range(len(ref))]
    n, m = len(ref), len(hyp)
    cost = [[float(i + j) if i == 0 or j == 0 else 0.0 for j in range(m + 1)]
            for i in range(n + 1)]
    for i in range(1, n + 1):
        row, prev, a = cost[i], cost[i - 1], ref[i - 1]
        for j in range(1, m + 1):
            gap, diag, b = min(prev[j], row[j - 1]) + 1.0, prev[j - 1], hyp[j - 1]
            if a == b:
                row[j] = min(diag, gap)
            elif diag + 0.6 >= gap or diag + _least_sub_cost(a, b) >= gap:
                row[j] = gap
            else:
                row[j] = min(diag + _sub_cost(a, b), gap)
    return _backtrace(cost, ref, hyp)


ALIGN_VERSION = "1"  # part of every kept alignment's key: bump when align_tokens changes
KEEP_CELLS = 400  # alignments of at least this many table cells are kept on disk


def kept_alignment(ref: Sequence[str], hyp: Sequence[str]) -> list[tuple[int | None, int | None]]:
    """align_tokens, kept in the cache by the two token lists: after an edit, the segments
    whose words did not change are not aligned again."""
    if len(ref) * len(hyp) < KEEP_CELLS:
        return align_tokens(ref, hyp)
    blob = json.dumps([ALIGN_VERSION, list(ref), list(hyp)]).encode()
    digest = hashlib.sha256(blob).hexdigest()
    path = cache_dir() / "align" / digest[:2] / f"{digest}.json"
    try:
        return [(a, b) for a, b in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, ValueError, TypeError):
        pairs = align_tokens(ref, hyp)
    with contextlib.suppress(OSError):  # a cache that cannot be written only costs time
        fsutil.write_text(path, json.dumps(pairs))
    return pairs


def _backtrace(cost: list[list[float]], ref: Sequence[str],
               hyp: Sequence[str]) -> list[tuple[int | None, int | None]]:
    pairs: list[tuple[int | None, int | None]] = []
    i, j = len(ref), len(hyp)
    while i or j:
        here = cost[i][j]
        if i and j and abs(here - cost[i - 1][j - 1] - _sub_cost(ref[i - 1], hyp[j - 1])) < 1e-9:
            i, j = i - 1, j - 1
            pairs.append((i, j))
        elif i and abs(here - cost[i - 1][j] - 1.0) < 1e-9:
            i -= 1
            pairs.append((i, None))
        else:
            j -= 1
            pairs.append((None, j))
    return pairs[::-1]


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Word-level Levenshtein distance (substitutions, deletions, insertions), by Myers'
    and Hyyrö's bit-parallel method: one column of the table is a pair of bit vectors
    (one bit per word of `ref`) and each word of `hyp` advances it in a few operations."""
    if not ref or not hyp:
        return len(ref) + len(hyp)
    where: dict[str, int] = {}
    for i, word in enumerate(ref):
        where[word] = where.get(word, 0) | 1 << i
    mask, top = (1 << len(ref)) - 1, 1 << (len(ref) - 1)
    up, down, score = mask, 0, len(ref)  # +1 and -1 steps down the column
    for word in hyp:
        eq = where.get(word, 0)
        xv = eq | down
        xh = (((eq & up) + up) ^ up) | eq
        right_up = down | ~(xh | up)
        right_down = up & xh
        score += bool(right_up & top) - bool(right_down & top)
        right_up = (right_up << 1) | 1
        right_down <<= 1
        up = (right_down | ~(xv | right_up)) & mask
        down = right_up & xv & mask
    return score


def wer(ref: Sequence[str], hyp: Sequence[str]) -> float:
    """Word error rate of `hyp` against `ref`."""
    if not ref:
        return float(bool(hyp))
    return edit_distance(ref, hyp) / len(ref)


# --- display words and their spoken tokens ------------------------------------------

def spoken_owners(display_words: list[str], spoken: str,
                  normalise: Normaliser) -> tuple[list[str], list[int]]:
    """The segment's spoken tokens, and for each the index of the display word it says."""
    own_tokens: list[str] = []
    owner_of: list[int] = []
    for index, word in enumerate(display_words):
        for token in (t for part in normalise(word).split() for t in heard_tokens(part)):
            own_tokens.append(token)
            owner_of.append(index)
    # the same tokeniser as the recognised side, so "ML" is m l on both
    spoken_tokens = [t for part in spoken.split() for t in heard_tokens(part)]
    owners: list[int] = []
    pending = 0  # spoken tokens said before any display word was matched
    for own, sp in kept_alignment(own_tokens, spoken_tokens):
        if sp is None:
            continue
        if own is not None:
            owners.extend([owner_of[own]] * (pending + 1))
            pending = 0
        elif owners:
            owners.append(owners[-1])
        else:
            pending += 1
    owners.extend([len(display_words) - 1] * pending)
    return spoken_tokens, owners


# --- results --------------------------------------------------------------------------

@dataclass
class CaptionWord:
    text: str
    start: float
    end: float
    segment: str
    section_index: int
    source: str  # "heard" (as in the script), "corrected", "interpolated", "adlib"
    kind: str = "paragraph"  # the segment's kind: cues never join a heading to its neighbours
    item: int | None = None  # in a list segment, the index of the item the word is in


@dataclass
class SegmentReport:
    id: str
    reference_tokens: int
    errors: int
    recognised: str

    @property
    def wer(self) -> float:
        return self.errors / self.reference_tokens if self.reference_tokens else 0.0


@dataclass
class Alignment:
    words: list[CaptionWord] = field(default_factory=list)
    segments: list[SegmentReport] = field(default_factory=list)
    heard_differently: list[HeardDifferently] = field(default_factory=list)
    missed: list[Missed] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    stretches: list[Stretch] = field(default_factory=list)
    sounds: list[Word] = field(default_factory=list)  # "[Music]" and the like, left out

    @property
    def raw_wer(self) -> float:
        ref = sum(s.reference_tokens for s in self.segments)
        return sum(s.errors for s in self.segments) / ref if ref else 0.0


# --- recognised words into segments -----------------------------------------------------

def assign_to_segments(words: list[Word], segments: list[TimedSegment]) -> list[list[Word]]:
    """Recognised words per timeline segment, by each word's midpoint (a word in a pause
    goes to the nearer segment)."""
    buckets: list[list[Word]] = [[] for _ in segments]
    if not segments:
        return buckets
    for word in words:
        mid = (word.start + word.end) / 2
        distances = [max(s.start - mid, mid - s.end, 0.0) for s in segments]
        buckets[distances.index(min(distances))].append(word)
    return buckets


def speech_only(words: list[Word]) -> tuple[list[Word], list[Word]]:
    """Split off what Whisper writes for sounds that are not speech: "[Music]",
    "(upbeat music)", "♪" (words with no letters or digits)."""
    kept: list[Word] = []
    sounds: list[Word] = []
    inside = False
    for word in words:
        inside = inside or word.text.startswith(("[", "("))
        (sounds if inside or not heard_tokens(word.text) else kept).append(word)
        if inside and word.text.rstrip(".,;:!?").endswith(("]", ")")):
            inside = False
    return kept, sounds


@dataclass
class _Heard:
    """Recognised words of one segment, flattened to tokens."""
    words: list[Word]
    tokens: list[str]
    word_of: list[int]  # token -> index in words

    @classmethod
    def of(cls, words: list[Word]) -> _Heard:
        toks: list[str] = []
        word_of: list[int] = []
        for index, word in enumerate(words):
            for token in heard_tokens(word.text):
                toks.append(token)
                word_of.append(index)
        return cls(words, toks, word_of)


@dataclass
class _Matches:
    """How one segment's heard words map onto its display words."""
    heard_by_display: dict[int, list[int]]  # display index -> heard word indices
    inexact: set[int]  # display words not heard exactly as scripted
    display_of: list[int | None]  # heard word index -> display index (None: unmatched)
    # heard word index -> the first display index it serves ("X-LAT" serves EAGx and LatAm)
    first_display_of: list[int | None]


def _match(spoken: list[str], owners: list[int], heard: _Heard) -> _Matches:
    matches = _Matches({}, set(), [None] * len(heard.words), [None] * len(heard.words))
    for s, h in kept_alignment(spoken, heard.tokens):
        if s is None:
            continue
        if h is None:
            matches.inexact.add(owners[s])
            continue
        display, word = owners[s], heard.word_of[h]
        if word not in matches.heard_by_display.setdefault(display, []):
            matches.heard_by_display[display].append(word)
        matches.display_of[word] = display
        if matches.first_display_of[word] is None:
            matches.first_display_of[word] = display
        if spoken[s] != heard.tokens[h]:
            matches.inexact.add(display)
    return matches


def _unmatched_runs(display_of: list[int | None]) -> list[list[int]]:
    runs: list[list[int]] = []
    for index, display in enumerate(display_of):
        if display is not None:
            continue
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def _neighbour_to_attach(run: list[int], m: _Matches) -> int | None:
    """A short unmatched run beside a misheard word is likely the rest of it ("sewer"
    before "position" for "superposition"): the display word it belongs to, or None. Of a
    neighbour heard for two display words, a run before it goes with the first of them and
    a run after it with the last, so the display words keep their order in time."""
    before = m.display_of[run[0] - 1] if run[0] > 0 else None
    after = m.first_display_of[run[-1] + 1] if run[-1] + 1 < len(m.display_of) else None
    for display in (before, after):
        if display is not None and display in m.inexact:
            return display
    return None


def _place_unmatched(seg_id: str, heard: _Heard, m: _Matches,
                     result: Alignment) -> dict[int, list[int]]:
    """Attach, drop or flag each unmatched run; returns ad-lib words by the display index
    they follow (-1: before the first)."""
    adlibs: dict[int, list[int]] = {}
    for run in _unmatched_runs(m.display_of):
        texts = [heard.words[i].text for i in run]
        if len(run) >= ADLIB_MIN_WORDS:
            after = max((d for d in m.display_of[: run[0]] if d is not None), default=-1)
            adlibs.setdefault(after, []).extend(run)
            result.stretches.append(Stretch(segment=seg_id, start=heard.words[run[0]].start,
                                            end=heard.words[run[-1]].end, text=" ".join(texts)))
            continue
        display = _neighbour_to_attach(run, m)
        if display is not None:
            m.heard_by_display[display].extend(run)
            continue
        result.dropped.extend(Dropped(segment=seg_id, word=heard.words[i].text,
                                      start=heard.words[i].start) for i in run)
    return adlibs


@dataclass
class _Item:
    text: str
    start: float | None
    end: float | None
    source: str
    index: int | None = None  # its display word; None for an ad lib


def _interpolate(items: list[_Item], lo: float, hi: float) -> None:
    """Give untimed items times between their timed neighbours, by length of text."""
    i = 0
    while i < len(items):
        if items[i].start is not None:
            i += 1
            continue
        j = i
        while j < len(items) and items[j].start is None:
            j += 1
        left = items[i - 1].end if i > 0 else lo
        right = items[j].start if j < len(items) else hi
        left = left if left is not None else lo
        right = max(right if right is not None else hi, left)
        weights = [len(item.text) + 1 for item in items[i:j]]
        t = left
        for item, weight in zip(items[i:j], weights, strict=True):
            item.start = t
            t += (right - left) * weight / sum(weights)
            item.end = t
        i = j


def _snap_to_segment(items: list[_Item], lo: float, hi: float) -> None:
    """The timeline knows when a segment's speech starts and ends more exactly than
    Whisper's word timings (often 0.1-0.3 s off at the edges): use it where they agree."""
    first, last = items[0], items[-1]
    near_start = first.start is not None and abs(first.start - lo) <= SNAP_SECONDS
    if first.source != "adlib" and near_start:
        first.start = lo
        first.end = max(first.end or lo, lo)
    if last.source != "adlib" and last.end is not None and abs(last.end - hi) <= SNAP_SECONDS:
        last.end = max(hi, last.start or hi)


def _items(display_words: list[str], heard: _Heard, m: _Matches,
           adlibs: dict[int, list[int]]) -> list[_Item]:
    def adlib_items(after: int) -> list[_Item]:
        return [_Item(heard.words[i].text, heard.words[i].start, heard.words[i].end, "adlib",
                      None) for i in adlibs.get(after, [])]

    items = adlib_items(-1)
    for index, text in enumerate(display_words):
        found = sorted(m.heard_by_display.get(index, []))
        if found:
            source = "corrected" if index in m.inexact else "heard"
            items.append(_Item(text, min(heard.words[w].start for w in found),
                               max(heard.words[w].end for w in found), source, index))
        else:
            items.append(_Item(text, None, None, "interpolated", index))
        items.extend(adlib_items(index))
    return items


def _report_differences(seg_id: str, display_words: list[str], spoken: list[str],
                        owners: list[int], heard: _Heard, m: _Matches,
                        result: Alignment) -> None:
    for index in sorted(m.inexact):
        expected = " ".join(t for t, o in zip(spoken, owners, strict=True) if o == index)
        found = sorted(m.heard_by_display.get(index, []))
        said = {"segment": seg_id, "display": display_words[index], "expected": expected}
        if found:
            result.heard_differently.append(HeardDifferently(
                **said, heard=" ".join(heard.words[w].text for w in found),
                start=heard.words[found[0]].start))
        else:
            result.missed.append(Missed(**said))


def item_starts(display_words: list[str], items: list[str]) -> list[int] | None:
    """Where each list item starts among the display words; None when the items are not
    found there in order."""
    starts: list[int] = []
    at = 0
    for item in filter(None, (item.split() for item in items)):
        found = next((k for k in range(at, len(display_words) - len(item) + 1)
                      if display_words[k:k + len(item)] == item), None)
        if found is None:
            return None
        starts.append(found)
        at = found + len(item)
    return starts


def item_of_words(segment: Segment) -> list[int | None]:
    """For each display word, the index of the list item it is in (None outside a list)."""
    words = segment.display.split()
    starts = item_starts(words, segment.items) if segment.items else None
    if not starts:
        return [None] * len(words)
    return [max(0, bisect.bisect_right(starts, k) - 1) for k in range(len(words))]


def caption_words(segment: Segment, items: list[_Item]) -> list[CaptionWord]:
    """The timed items as caption words; an ad lib is in the list item of the word before."""
    item_of = item_of_words(segment)
    out: list[CaptionWord] = []
    item = item_of[0] if item_of else None
    for i in items:
        item = item_of[i.index] if i.index is not None else item
        if i.start is not None and i.end is not None:
            out.append(CaptionWord(i.text, float(i.start), float(i.end), segment.id,
                                   segment.section_index, i.source, segment.kind, item))
    return out


def align_segment(script_segment: Segment, timed: TimedSegment, words: list[Word],
                  normalise: Normaliser, result: Alignment) -> None:
    """Align one segment's recognised words to its script; append to `result`."""
    seg_id = script_segment.id
    display_words = script_segment.caption.split()
    # the reference is the display text said in words, before the lexicon's respellings:
    # Whisper writes "AI" and "Jaime", not the voice's "Eh I" and "Hymeh"
    spoken, owners = spoken_owners(display_words, normalise(script_segment.caption),
                                   normalise)
    heard = _Heard.of(words)
    m = _match(spoken, owners, heard)
    adlibs = _place_unmatched(seg_id, heard, m, result)
    items = _items(display_words, heard, m, adlibs)
    _interpolate(items, timed.start, timed.end)
    if items:
        _snap_to_segment(items, timed.start, timed.end)
    result.words.extend(caption_words(script_segment, items))
    _report_differences(seg_id, display_words, spoken, owners, heard, m, result)
    result.segments.append(SegmentReport(seg_id, len(spoken), edit_distance(spoken, heard.tokens),
                                         " ".join(w.text for w in words)))


def identity(text: str) -> str:
    """A normaliser that leaves text as written (numbers still become words in tokens)."""
    return text


def align(script: Script, timeline: Timeline, words: list[Word],
          normalise: Normaliser = identity) -> Alignment:
    """Align a whole episode's recognised words to its script, segment by segment."""
    timed = {s.id: s for s in timeline.segments}
    segments = [s for s in script.segments if s.id in timed]
    result = Alignment()
    words, result.sounds = speech_only(words)
    buckets = assign_to_segments(words, [timed[s.id] for s in segments])
    for segment, bucket in zip(segments, buckets, strict=True):
        align_segment(segment, timed[segment.id], bucket, normalise, result)
    return result
