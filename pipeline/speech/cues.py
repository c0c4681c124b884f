"""Cut aligned caption words into cues by the common style rules: short lines, at most two
of them, on screen long enough to read and not too long, broken at punctuation and clause
boundaries, never across a section boundary, never overlapping, with a gap between cues.
A heading is a cue of its own, and a cue never runs from one list item into the next."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby

from pipeline.formats import TimedSection
from pipeline.speech.align import CaptionWord


@dataclass(frozen=True)
class CueRules:
    max_line: int = 42  # characters a line (Netflix English)
    max_lines: int = 2
    min_duration: float = 1.0  # seconds on screen
    max_duration: float = 7.0
    max_cps: float = 20.0  # characters a second, where the pauses allow
    min_gap: float = 2 / 30  # two frames at 30 fps between cues
    sentence_close: int = 20  # a sentence ending a cue this long (characters) closes it
    max_pause: float = 1.5  # a silence this long (seconds) between words ends a cue
    max_lead: float = 0.3  # a short cue may appear this much before its first word, or
    # hold the screen this much into the next cue's first word


@dataclass
class Cue:
    start: float
    end: float
    lines: list[str]
    section_index: int

    @property
    def text(self) -> str:
        return " ".join(self.lines)


_CONJUNCTIONS = frozenset([
    "and", "but", "or", "so", "because", "which", "that", "who", "whom", "whose", "while",
    "when", "where", "if", "although", "though", "unless", "until", "since", "as", "than",
    "whether", "nor", "yet"])
_SENTENCE_END = re.compile(r"[.!?…][\"')\]]*$")
_CLAUSE_END = re.compile(r"[,;:—–][\"')\]]*$|^[—–]$")


def break_score(before: str, after: str | None) -> int:
    """How good a break is between two words: sentence end 3, clause punctuation 2,
    before a conjunction 1, elsewhere 0."""
    if _SENTENCE_END.search(before):
        return 3
    if _CLAUSE_END.search(before):
        return 2
    if after is not None and after.lower().strip("\"'(") in _CONJUNCTIONS:
        return 1
    return 0


def split_lines(words: Sequence[str], rules: CueRules,
                boundaries: frozenset[int] = frozenset()) -> list[str] | None:
    """The cue's text in at most `max_lines` lines of at most `max_line` characters, broken
    at the best place (a segment boundary such as the end of a heading, punctuation, then
    balance); None when it does not fit."""
    text = " ".join(words)
    if len(text) <= rules.max_line and not boundaries:
        return [text]
    if rules.max_lines < 2:
        return [text] if len(text) <= rules.max_line else None
    best: tuple[float, int] | None = None
    for k in range(1, len(words)):
        top, bottom = " ".join(words[:k]), " ".join(words[k:])
        if len(top) > rules.max_line or len(bottom) > rules.max_line:
            continue
        quality = 4 if k in boundaries else break_score(words[k - 1], words[k])
        score = 10 * quality - abs(len(top) - len(bottom))
        if best is None or score > best[0]:
            best = (score, k)
    if best is None:
        return [text] if len(text) <= rules.max_line else None
    k = best[1]
    return [" ".join(words[:k]), " ".join(words[k:])]


def _fits(words: Sequence[CaptionWord], rules: CueRules) -> bool:
    if len(words) == 1:
        return True
    if words[-1].end - words[0].start > rules.max_duration:
        return False
    texts = [w.text for w in words]
    lead = _heading_lead(words)
    if lead:  # a heading opening a cue keeps the first line to itself
        top, bottom = " ".join(texts[:lead]), " ".join(texts[lead:])
        return rules.max_lines >= 2 and max(len(top), len(bottom)) <= rules.max_line
    return split_lines(texts, rules) is not None


def _heading_lead(words: Sequence[CaptionWord]) -> int:
    """How many words of a heading open these words, when other words follow it."""
    lead = next((k for k, w in enumerate(words) if w.kind != "heading"), 0)
    return lead if words[0].kind == "heading" else 0


def _long_enough(rules: CueRules) -> float:
    """Speech this long makes a cue that stays on screen long enough even when the next
    cue follows at once and the gap has to come out of this one."""
    return rules.min_duration + rules.min_gap


def _best_split(words: list[CaptionWord], rules: CueRules) -> int:
    """Where to close a cue that cannot take the next word: the best-scoring boundary
    that leaves the closed part on screen long enough, the latest among equals."""
    best_k, best_score = len(words), -1
    for k in range(1, len(words) + 1):
        if words[k - 1].end - words[0].start < _long_enough(rules) and k < len(words):
            continue
        after = words[k].text if k < len(words) else None
        score = break_score(words[k - 1].text, after)
        if after is not None and words[k].segment != words[k - 1].segment:
            score = 3
        if score >= best_score:
            best_k, best_score = k, score
    return best_k


def _closes_sentence(words: list[CaptionWord], rules: CueRules) -> bool:
    chars = len(" ".join(w.text for w in words))
    long_enough = words[-1].end - words[0].start >= _long_enough(rules)
    return break_score(words[-1].text, None) == 3 and chars >= rules.sentence_close and long_enough


def _starts_new_cue(current: list[CaptionWord], word: CaptionWord, rules: CueRules) -> bool:
    """A long silence, or a new segment (a heading, the next paragraph) once the current
    cue is long enough to stay on screen, starts a new cue."""
    if word.start - current[-1].end >= rules.max_pause:
        return True
    return (word.segment != current[-1].segment and _can_stand(current, word, rules)
            and current[-1].end - current[0].start >= rules.min_duration / 2)


def hard_break(before: CaptionWord, after: CaptionWord) -> bool:
    """Whether a cue must end between two words: at a heading's edges, between list items
    and where a list starts or ends."""
    if (before.segment, before.item) == (after.segment, after.item):
        return False
    kinds = (before.kind, after.kind)
    return "heading" in kinds or "list" in kinds


def runs(words: list[CaptionWord], rules: CueRules | None = None) -> list[list[CaptionWord]]:
    """The words cut at every hard break, except after a heading said too quickly to stand
    on screen alone before the next word: it then opens the next cue, on its own line."""
    out: list[list[CaptionWord]] = []
    for word in words:
        if not out or (hard_break(out[-1][-1], word) and _can_stand(out[-1], word, rules)):
            out.append([])
        out[-1].append(word)
    return out


def _can_stand(run: list[CaptionWord], after: CaptionWord, rules: CueRules | None) -> bool:
    if rules is None or run[0].kind != "heading" or after.kind == "heading":
        return True
    # the next cue may appear up to max_lead late to let a heading be read (see _hold)
    return after.start + rules.max_lead - rules.min_gap - run[0].start >= rules.min_duration


def _seconds(words: list[CaptionWord]) -> float:
    return words[-1].end - words[0].start


def _rebalance(groups: list[list[CaptionWord]], after: float,
               rules: CueRules) -> list[list[CaptionWord]]:
    """A run's last cue that the pause before the next run cannot hold long enough joins
    the cue before it, or takes words from it, where both still fit."""
    if len(groups) < 2 or after - groups[-1][0].start - rules.min_gap >= rules.min_duration:
        return groups
    both = groups[-2] + groups[-1]
    if _fits(both, rules):
        return [*groups[:-2], both]
    cuts = [k for k in range(1, len(both))
            if min(_seconds(both[:k]), _seconds(both[k:])) >= _long_enough(rules)
            and _fits(both[:k], rules) and _fits(both[k:], rules)]
    if not cuts:
        return groups
    k = max(cuts, key=lambda k: (break_score(both[k - 1].text, both[k].text), k))
    return [*groups[:-2], both[:k], both[k:]]


def pack(words: list[CaptionWord], rules: CueRules) -> list[list[CaptionWord]]:
    """Group one section's words into cues, each run between hard breaks on its own."""
    parts = runs(words, rules)
    groups: list[list[CaptionWord]] = []
    for n, run in enumerate(parts):
        after = parts[n + 1][0].start if n + 1 < len(parts) else math.inf
        groups.extend(_rebalance(_pack_run(run, rules), after, rules))
    return groups


def _pack_run(words: list[CaptionWord], rules: CueRules) -> list[list[CaptionWord]]:
    groups: list[list[CaptionWord]] = []
    current: list[CaptionWord] = []
    for word in words:
        if current and _starts_new_cue(current, word, rules):
            groups.append(current)
            current = []
        while current and not _fits([*current, word], rules):
            k = _best_split(current, rules)
            groups.append(current[:k])
            current = current[k:]
        current.append(word)
        if _closes_sentence(current, rules):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def _cue(group: list[CaptionWord], rules: CueRules) -> Cue:
    texts = [w.text for w in group]
    boundaries = frozenset(k for k in range(1, len(group))
                           if group[k].segment != group[k - 1].segment)
    lines = split_lines(texts, rules, boundaries) or [" ".join(texts)]
    return Cue(group[0].start, max(w.end for w in group), lines, group[0].section_index)


def time_cues(cues: list[Cue], rules: CueRules, section_ends: dict[int, float]) -> None:
    """Lengthen each cue for reading (min duration, reading speed) into the pause after it,
    keep it within 7 s and its section, and keep a gap before the next cue. Times are
    whole milliseconds, as the files write them; an end is rounded down, never into a gap."""
    for cue in cues:
        cue.start = round(cue.start, 3)
    for i, cue in enumerate(cues):
        wanted = max(cue.end, cue.start + rules.min_duration,
                     cue.start + len(cue.text) / rules.max_cps)
        limit = cue.start + rules.max_duration
        if cue.section_index in section_ends:
            limit = min(limit, max(section_ends[cue.section_index], cue.end))
        if i + 1 < len(cues):
            limit = min(limit, cues[i + 1].start - rules.min_gap)
        cue.end = math.floor(min(wanted, limit) * 1000 + 1e-6) / 1000
    for before, cue in zip(cues, cues[1:], strict=False):
        _lead_in(before, cue, rules)
    for cue, after in zip(cues, cues[1:], strict=False):
        _hold(cue, after, rules)


def _lead_in(before: Cue, cue: Cue, rules: CueRules) -> None:
    """A cue too short to read (a few words left after a full cue, a pause too short to
    hold them) starts a little earlier, taking the time from the cue before it in the
    same section when that one can spare it; a section's first cue is never moved."""
    need = round(rules.min_duration - (cue.end - cue.start), 3)
    if need <= 0 or need > rules.max_lead or before.section_index != cue.section_index:
        return
    if before.end - need - before.start < rules.min_duration:
        return
    before.end = round(before.end - need, 3)
    cue.start = round(cue.start - need, 3)


def _hold(cue: Cue, after: Cue, rules: CueRules) -> None:
    """A cue still too short to read (a heading or list item alone, with no time to borrow
    before it) holds the screen a little longer, the next cue in its section appearing up
    to `max_lead` late, when that one stays long enough."""
    if cue.end - cue.start >= rules.min_duration or after.section_index != cue.section_index:
        return
    end = round(cue.start + rules.min_duration, 3)
    start = math.ceil((end + rules.min_gap) * 1000 - 1e-6) / 1000
    if not 0 < start - after.start <= rules.max_lead or after.end - start < rules.min_duration:
        return
    cue.end, after.start = end, start


def make_cues(words: list[CaptionWord], sections: list[TimedSection],
              rules: CueRules | None = None) -> list[Cue]:
    """Cues for a whole episode; `sections` are timeline.json's sections (in order)."""
    rules = rules or CueRules()
    ordered = sorted(words, key=lambda w: (w.section_index, w.start))
    cues: list[Cue] = []
    for _section, group in groupby(ordered, key=lambda w: w.section_index):
        cues.extend(_cue(g, rules) for g in pack(list(group), rules))
    cues.sort(key=lambda c: c.start)
    ends = {s.index: s.end for s in sections}
    time_cues(cues, rules, ends)
    return cues


def violations(cues: list[Cue], rules: CueRules | None = None) -> list[str]:
    """Every broken style rule, one line each (empty when all hold)."""
    rules = rules or CueRules()
    found: list[str] = []
    for i, cue in enumerate(cues):
        where = f"cue {i + 1} ({cue.start:.2f}-{cue.end:.2f} s)"
        duration = cue.end - cue.start
        if len(cue.lines) > rules.max_lines:
            found.append(f"{where}: {len(cue.lines)} lines")
        found.extend(f"{where}: line of {len(line)} characters" for line in cue.lines
                     if len(line) > rules.max_line and " " in line)
        if not rules.min_duration - 1e-6 <= duration <= rules.max_duration + 1e-6:
            found.append(f"{where}: on screen {duration:.2f} s")
        if i + 1 < len(cues) and cues[i + 1].start - cue.end < rules.min_gap - 1e-6:
            found.append(f"{where}: gap to the next cue {cues[i + 1].start - cue.end:.3f} s")
    return found
