"""`pipeline lexicon suggest episodes/<slug>`: pronunciation entries from the words the
captions stage flagged, each checked by a round trip through the show's voice and Whisper.

The captions stage lists in `build/qa.json` the display words Whisper wrote differently
("superposition" heard as "sewer position"). For each such word not yet in the lexicon,
a few sayings are tried in a short carrier sentence (the words around it in the script):
the saying goes into the lexicon as the script stage would apply it, the voice speaks the
sentence and Whisper transcribes it with the show's settings. The word as written is tried
first; if Whisper gets it right that way no entry is needed. Otherwise the first saying for
which Whisper writes the display word is proposed; `--write` appends the proposals to
`assets/pronunciations.toml` (existing entries are never changed).
"""

from __future__ import annotations

import calendar
import difflib
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from pipeline.errors import PipelineError
from pipeline.formats import QA, Script
from pipeline.speech.align import align_tokens, heard_tokens
from pipeline.speech.lexicon import SPELL, WORD, Lexicon
from pipeline.util.progress import task

CONTEXT_WORDS = 6  # words of the script kept on each side of the word in the carrier
MAX_SAYINGS = 6  # sayings tried per word, the word as written included
FALLBACK_CARRIER = "Today we talk about {word} again."
BEYOND = "homophone or beyond respelling: captions already carry the script's spelling"

_EDGE_PUNCTUATION = ".,;:!?\"'()[]{}“”‘’«»*_"
_POSSESSIVE = re.compile(r"['’]s$")
_CALENDAR = {n.lower() for n in (*calendar.month_name, *calendar.month_abbr,
                                 *calendar.day_name, *calendar.day_abbr) if n}
_CURRENCY = set("$€£¥₹%")
_VOWELS = "aeiouy"
# prefixes at which a compound splits ("super position" -> "super-position")
_PREFIXES = ("super", "hyper", "counter", "inter", "multi", "poly", "micro", "macro", "meta",
             "over", "under", "trans", "semi", "anti", "auto", "post", "cyber", "neuro",
             "sub", "pre", "non", "out", "bio", "geo", "tele")
# letter groups and a plainer English spelling of their usual sound in names and loanwords
_RESPELLINGS = (("eau", "oh"), ("illa", "eeya"), ("ee", "ea"), ("ie", "ee"), ("ei", "ay"),
                ("ph", "f"))
_NAME_RESPELLINGS = (("th", "t"),)  # for capitalised words only: Thibodeau -> Tibodoh


# --- the flagged words ----------------------------------------------------------------

@dataclass(frozen=True)
class Flagged:
    """A display word the captions stage flagged, with its occurrences grouped."""
    word: str
    count: int
    heard: tuple[str, ...]  # what Whisper wrote, most frequent first ("" when missed)
    segment: str  # the first occurrence's segment id


def bare(word: str) -> str:
    """The word without surrounding punctuation or a possessive: "Neel's," -> "Neel"."""
    return _POSSESSIVE.sub("", word.strip(_EDGE_PUNCTUATION))


def _letters(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).lower()


def is_number_or_date(word: str) -> bool:
    """Digits, money, percentages and calendar words are the script stage's business."""
    return (any(c.isdigit() for c in word) or bool(_CURRENCY.intersection(word))
            or word.lower().rstrip(".") in _CALENDAR)


# British and American spellings of one word sound the same: behaviour/behavior,
# summarise/summarize, analyse/analyze, centre/center
_SPELLING_VARIANTS = ((r"our\b", "or"), (r"is(e|ed|es|ing|ation)\b", r"iz\1"),
                      (r"ys(e|ed|es|ing)\b", r"yz\1"), (r"tre\b", "ter"))


def _american(text: str) -> str:
    for pattern, replacement in _SPELLING_VARIANTS:
        text = re.sub(pattern, replacement, text)
    return text


def skip_reason(word: str, heard: str | None, lexicon: Lexicon) -> str | None:
    """Why a flagged word is no candidate for the lexicon, or None if it is one."""
    if not _letters(word):
        return "no letters"
    if lexicon.apply(word) != word:
        return "already in the lexicon"
    if is_number_or_date(word):
        return "a number or date"
    if heard is not None and _letters(heard) == _letters(word):
        return "differs only in case, spacing or punctuation"
    if heard is not None and _american(_letters(heard)) == _american(_letters(word)):
        return "a spelling variant of the same word"
    if word.islower() and len(word) <= 4:
        return "a short common word"  # "an" as "a", "the" dropped: Whisper's slip, not the voice's
    return None


def _occurrences(qa: QA) -> Iterable[tuple[str, str | None, str]]:
    for entry in qa.heard_differently:
        yield entry.display, entry.heard, entry.segment
    for entry in qa.missed:
        yield entry.display, None, entry.segment


def flagged_words(qa: QA, lexicon: Lexicon) -> list[Flagged]:
    """Candidates for the lexicon, most often flagged first (first seen breaks ties)."""
    heard: dict[str, Counter[str]] = {}
    counts: Counter[str] = Counter()
    segment: dict[str, str] = {}
    for display, said, seg in _occurrences(qa):
        word = bare(display)
        said = bare(said) if said is not None else None
        if skip_reason(word, said, lexicon):
            continue
        counts[word] += 1
        segment.setdefault(word, seg)
        heard.setdefault(word, Counter())[said or ""] += 1
    return [Flagged(word, n, tuple(h for h, _ in heard[word].most_common()), segment[word])
            for word, n in counts.most_common()]


# --- candidate sayings ------------------------------------------------------------------

def _keep_case(word: str, saying: str) -> str:
    return saying[:1].upper() + saying[1:] if word[:1].isupper() else saying


def compound_split(word: str) -> str | None:
    """Split at a camel-case boundary or a known prefix: LatAm -> Lat-Am,
    superposition -> super-position."""
    camel = re.sub(r"(?<=[a-z])(?=[A-Z])", "-", word)
    if camel != word:
        return camel
    lower = word.lower()
    for prefix in _PREFIXES:
        rest = lower[len(prefix):]
        if lower.startswith(prefix) and len(rest) >= 4 and "-" not in word:
            return word[:len(prefix)] + "-" + word[len(prefix):]
    return None


def respellings(word: str) -> list[str]:
    """One respelling per rule that applies, then all of them together."""
    rules = _RESPELLINGS + (_NAME_RESPELLINGS if word[:1].isupper() else ())
    lower = word.lower()
    single = [lower.replace(old, new) for old, new in rules if old in lower]
    table = dict(rules)
    pattern = "|".join(sorted(map(re.escape, table), key=len, reverse=True))
    combined = re.sub(pattern, lambda m: table[m[0]], lower)  # one pass: no rule redoes another
    return [_keep_case(word, s) for s in dict.fromkeys([*single, combined]) if s != lower]


def syllables(word: str) -> str | None:
    """Hyphens between syllables by a plain rule: one consonant between vowels starts
    the next syllable, of two or more the first closes this one (su-per-po-si-tion); a
    final silent e (with d or s) adds none (Mil-lidge, En-cul-tured)."""
    split = [_syllables(part) for part in word.split("-")]
    if all(len(parts) < 2 for parts in split):
        return None
    return _keep_case(word, "-".join("-".join(parts) for parts in split))


def _syllables(part: str) -> list[str]:
    lower = part.lower()
    parts = re.findall(rf"[^{_VOWELS}]*[{_VOWELS}]+", lower)
    if not parts:
        return [lower]
    tail = lower[sum(map(len, parts)):]
    if len(parts) > 1 and parts[-1].endswith("e") and len(parts[-1]) > 1 and tail in "ds":
        parts[-2:] = [parts[-2] + parts[-1]]
    pieces: list[str] = []
    for i, piece in enumerate(parts):
        onset = len(piece) - len(piece.lstrip("bcdfghjklmnpqrstvwxz"))
        if i and onset >= 2:
            pieces[-1] += piece[0]
            piece = piece[1:]
        pieces.append(piece)
    pieces[-1] += tail
    return pieces


def candidate_sayings(word: str) -> list[str]:
    """Sayings to try for `word`, the word as written first: heard right that way in the
    carrier, it needs no entry (a respelling would change every future "piece" for one
    slip). All-capitals terms: spelled, then read as a word."""
    if len(word) >= 2 and word.isupper():
        found = [word, SPELL, WORD]
    else:
        found = [word, compound_split(word), *respellings(word), syllables(word)]
    unique: list[str] = []
    for saying in found:
        if saying and saying not in unique and (saying == word or saying.lower() != word.lower()):
            unique.append(saying)
    return unique[:MAX_SAYINGS]


# --- the carrier sentence ---------------------------------------------------------------

def carrier(word: str, display: str | None) -> str:
    """The words around `word` in its segment's display text, or a fixed sentence."""
    words = (display or "").split()
    for index, token in enumerate(words):
        if bare(token) == word:
            start = max(0, index - CONTEXT_WORDS)
            text = " ".join(words[start:index + CONTEXT_WORDS + 1])
            return text if text[-1] in ".!?" else text.rstrip(",;:") + "."
    return FALLBACK_CARRIER.format(word=word)


def word_tokens(word: str, lexicon: Lexicon | None = None) -> list[str]:
    """A display word's tokens as the captions stage expects to hear them: the script
    stage's reading with only the lexicon's "word" entries, as `captions.script_normaliser`
    reads it (Whisper writes "AI" and "Jaime", not the voice's "Eh I" and "Hymeh")."""
    from pipeline.speech.spoken import to_spoken

    entries = lexicon.entries if lexicon is not None else {}
    words = Lexicon({term: saying for term, saying in entries.items() if saying == WORD})
    return [t for part in to_spoken(word, words).split() for t in heard_tokens(part)]


def with_saying(lexicon: Lexicon, word: str, saying: str) -> Lexicon:
    """The lexicon as the next build would read it with `word` said as `saying`."""
    if saying == word:
        return lexicon
    return Lexicon({**lexicon.entries, word: saying})


def heard_for(sentence: str, word: str, heard: str, lexicon: Lexicon | None = None) -> str:
    """What Whisper wrote where `word` was said in `sentence`: the tokens aligned to it as
    the captions stage aligns them, with unmatched neighbours that make it a closer match
    ("sewer" of "sewer position", not "or" of "research or Neil")."""
    ref: list[str] = []
    ours: list[bool] = []
    for written in sentence.split():
        found = word_tokens(written, lexicon)
        ref += found
        ours += [bare(written) == word] * len(found)
    hyp = [t for w in heard.split() for t in heard_tokens(w)]
    pairs = align_tokens(ref, hyp)
    mine = [i for i, (r, _) in enumerate(pairs) if r is not None and ours[r]]
    if not mine:
        return ""
    target = "".join(word_tokens(word, lexicon))
    lo, hi = mine[0], mine[-1]

    def closeness(a: int, b: int) -> float:
        said = "".join(hyp[h] for _, h in pairs[a:b + 1] if h is not None)
        return difflib.SequenceMatcher(None, said, target).ratio()

    while lo > 0 and pairs[lo - 1][0] is None and closeness(lo - 1, hi) > closeness(lo, hi):
        lo -= 1
    while (hi + 1 < len(pairs) and pairs[hi + 1][0] is None
           and closeness(lo, hi + 1) > closeness(lo, hi)):
        hi += 1
    return " ".join(hyp[h] for _, h in pairs[lo:hi + 1] if h is not None)


def contains(heard: list[str], wanted: list[str]) -> bool:
    """`wanted` occurs in `heard` as a run of consecutive tokens."""
    n = len(wanted)
    return n > 0 and any(heard[i:i + n] == wanted for i in range(len(heard) - n + 1))


# --- the round trip ---------------------------------------------------------------------

Listen = Callable[[str, str, str], str]  # (carrier, word, saying) -> what Whisper wrote


@dataclass
class RoundTrip:
    """Speak a sentence with a saying in the lexicon, as the script and narrate stages
    would, and transcribe it as the captions stage would. Loads voice and model once."""
    lexicon: Lexicon
    voice_settings: Any
    whisper_settings: Any
    _voice: Any = field(default=None, init=False)
    _transcriber: Any = field(default=None, init=False)

    def spoken(self, sentence: str, word: str, saying: str) -> str:
        from pipeline.speech.spoken import to_spoken

        return to_spoken(sentence, with_saying(self.lexicon, word, saying))

    def __call__(self, sentence: str, word: str, saying: str) -> str:
        from pipeline.speech.asr import load_transcriber
        from pipeline.speech.voices import get_voice

        if self._voice is None:
            self._voice = get_voice(self.voice_settings.engine, self.voice_settings.name)
            self._transcriber, _ = load_transcriber(self.whisper_settings)
        text = self.spoken(sentence, word, saying)
        # seeded voice, greedy decoding: the same sentence is heard the same way every time
        key = (self._voice.version, repr(self.voice_settings), repr(self.whisper_settings), text)
        if key not in _HEARD:
            _HEARD[key] = self._listen(text)
        return _HEARD[key]

    def _listen(self, text: str) -> str:
        from pipeline.media.audio import write_wav
        from pipeline.speech.asr import transcribe

        audio = self._voice.synthesize(text, self.voice_settings)
        with tempfile.TemporaryDirectory(prefix="lexicon-") as tmp:
            wav = Path(tmp) / "carrier.wav"
            write_wav(wav, audio, self._voice.sample_rate)
            result = transcribe(wav, self.whisper_settings, transcriber=self._transcriber)
        return " ".join(w.text for w in result.words)


_HEARD: dict[tuple[str, str, str, str], str] = {}  # round trips already made in this process


@dataclass(frozen=True)
class Verdict:
    flagged: Flagged
    saying: str | None  # the first saying Whisper wrote back as the word; None: none did
    tried: tuple[tuple[str, str], ...]  # (saying, what Whisper wrote for it) in order

    @property
    def as_written(self) -> bool:
        return self.saying == self.flagged.word

    @property
    def entry(self) -> tuple[str, str] | None:
        """The lexicon entry to propose, if any."""
        if self.saying is None or self.as_written:
            return None
        return self.flagged.word, self.saying


def verify(flagged: Flagged, sentence: str, listen: Listen, lexicon: Lexicon,
           sayings: list[str] | None = None) -> Verdict:
    """Try the sayings in order; the first one heard as the word wins (the word as the
    captions stage would expect it with that saying in the lexicon: ROME = "word" is
    expected as Rome)."""
    tried: list[tuple[str, str]] = []
    for saying in sayings if sayings is not None else candidate_sayings(flagged.word):
        text = listen(sentence, flagged.word, saying)
        expecting = with_saying(lexicon, flagged.word, saying)
        tried.append((saying, heard_for(sentence, flagged.word, text, expecting)))
        wanted = word_tokens(flagged.word, expecting)
        if contains([t for w in text.split() for t in heard_tokens(w)], wanted):
            return Verdict(flagged, saying, tuple(tried))
    return Verdict(flagged, None, tuple(tried))


# --- the command ------------------------------------------------------------------------

def segment_texts(build: Path) -> dict[str, str]:
    """Segment id -> display text from script.json ({} when there is none to read)."""
    try:
        return {s.id: s.display for s in Script.read(build).segments}
    except PipelineError:
        return {}


def suggest(flags: list[Flagged], texts: dict[str, str], listen: Listen,
            lexicon: Lexicon) -> list[Verdict]:
    verdicts = []
    with task("lexicon: verifying", len(flags)) as bar:
        for flagged in flags:
            verdicts.append(verify(flagged, carrier(flagged.word, texts.get(flagged.segment)),
                                   listen, lexicon))
            bar.advance()
    return verdicts


def _heard_as(flagged: Flagged) -> str:
    return ", ".join(h or "(missed)" for h in flagged.heard)


def _row(v: Verdict) -> tuple[str, str, str, str, str]:
    f = v.flagged
    if v.as_written:
        return f.word, str(f.count), _heard_as(f), "(as written)", "yes: no entry needed"
    return (f.word, str(f.count), _heard_as(f), v.saying or "-",
            "yes" if v.saying else "no")


def table(verdicts: list[Verdict]) -> str:
    """The verdicts as an aligned text table, then the words no saying fixed."""
    rows = [("word", "flagged", "heard as", "proposed saying", "verified"),
            *(_row(v) for v in verdicts)]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    lost = [v for v in verdicts if v.saying is None]
    if lost:
        lines += ["", f"{BEYOND}:"]
        lines += [f"  {v.flagged.word} (heard as {_heard_as(v.flagged)}; tried "
                  + ", ".join(f"{s} -> {t or '(nothing)'}" for s, t in v.tried) + ")"
                  for v in lost]
    return "\n".join(lines)


@click.group("lexicon")
def command() -> None:
    """Pronunciation lexicon tools (assets/pronunciations.toml)."""


@command.command("suggest")
@click.argument("episode_dir", type=click.Path(path_type=Path))
@click.option("--write", is_flag=True,
              help="Append the verified entries to assets/pronunciations.toml.")
@click.option("--model", help="Whisper model name or path (overrides whisper.model).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]),
              help="Device (overrides whisper.device).")
def suggest_command(episode_dir: Path, write: bool, model: str | None,
                    device: str | None) -> None:
    """Propose entries for misheard words, checked by voice and Whisper.

    Reads build/qa.json (from `make captions`); without --write nothing is written."""
    from pipeline.episode import load_episode
    from pipeline.speech.lexicon import add_entries, load_lexicon

    episode = load_episode(episode_dir)
    qa = QA.read(episode.build)
    path = episode.assets / "pronunciations.toml"
    lexicon = load_lexicon(path)
    flags = flagged_words(qa, lexicon)
    if not flags:
        click.echo("lexicon: no flagged words outside the lexicon: nothing to suggest")
        return
    overrides = {k: v for k, v in (("model", model), ("device", device)) if v is not None}
    listen = RoundTrip(lexicon, episode.settings.voice,
                       episode.settings.whisper.model_copy(update=overrides))
    verdicts = suggest(flags, segment_texts(episode.build), listen, lexicon)
    click.echo(table(verdicts))
    entries = dict(e for v in verdicts if (e := v.entry))
    if not write:
        click.echo(f"\ndry run: nothing written ({len(entries)} verified entries; "
                   "--write appends them)")
        return
    added = add_entries(path, entries)
    click.echo(f"\nadded {len(added)} entries to {path}: {', '.join(added) or 'none'}")
