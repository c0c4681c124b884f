"""Cues by the style rules, and the VTT/SRT writers, on hand-made words (no model)."""

from __future__ import annotations

import io
import random

import pytest
import srt
import webvtt

from pipeline.formats import TimedSection
from pipeline.speech.align import CaptionWord
from pipeline.speech.cues import Cue, CueRules, break_score, make_cues, split_lines, violations
from pipeline.speech.subtitles import WriteSRT, WriteVTT
from pipeline.util.timecode import timestamp
from tests import builders as build

TEXT = ("Interpretability researchers have published a list of two hundred open problems, "
        "each small enough for a weekend. The list covers toy models, superposition and "
        "circuits in language models; it also says which ones are easy, which ones are hard, "
        "and where to start if you are new to the field.")


def span(start: float, end: float, index: int = 0) -> TimedSection:
    return TimedSection(id=f"s{index}", index=index, title="S", start=start, end=end)


def words(text: str, start: float = 0.0, rate: float = 0.35, section: int = 0,
          segment: str = "s/paragraph-1") -> list[CaptionWord]:
    """Words at a steady pace: `rate` seconds each, 0.05 s apart."""
    return [CaptionWord(w, start + i * rate, start + i * rate + rate - 0.05, segment, section,
                        "heard") for i, w in enumerate(text.split())]


def test_break_scores():
    assert break_score("problems.", "The") == 3
    assert break_score("problems,", "each") == 2
    assert break_score("models", "and") == 1
    assert break_score("open", "problems") == 0


SHORT = "a short line"
TWO_CLAUSES = "a list of two hundred open problems, each small enough for a weekend"


def test_lines_fit_and_break_at_punctuation():
    rules = CueRules()
    assert split_lines(SHORT.split(), rules) == [SHORT]
    assert split_lines(TWO_CLAUSES.split(), rules) == [
        "a list of two hundred open problems,", "each small enough for a weekend"]
    balanced = split_lines(("word " * 14).split(), rules)
    assert balanced is not None and [len(x) for x in balanced] == [34, 34]
    assert split_lines(("word " * 30).split(), rules) is None


def test_long_text_makes_cues_that_obey_every_rule():
    cues = make_cues(words(TEXT), [span(0.0, 100.0)])
    assert len(cues) >= 4
    assert violations(cues) == []
    assert " ".join(c.text for c in cues) == TEXT
    assert all(len(c.lines) <= 2 and all(len(x) <= 42 for x in c.lines) for c in cues)
    enders = [c.text[-1] for c in cues]
    assert enders.count(".") + enders.count(",") + enders.count(";") >= len(cues) // 2


def test_no_cue_spans_two_sections():
    first = words("The first section ends here without a full stop", 0.0, section=0,
                  segment="a/paragraph-1")
    second = words("and the second one starts at once.", first[-1].end + 0.3, section=1,
                   segment="b/paragraph-1")
    sections = [span(0.0, second[0].start), span(second[0].start, 20, 1)]
    cues = make_cues(first + second, sections)
    assert violations(cues) == []
    for cue in cues:
        assert cue.section_index in (0, 1)
        assert (cue.end <= second[0].start) == (cue.section_index == 0)
    assert any(c.start == pytest.approx(second[0].start) for c in cues)


def test_fast_speech_is_held_longer_where_the_pause_allows():
    quick = words("Extraordinarily complicated mechanisms.", 0.0, rate=0.2)
    later = words("Then silence.", 6.0)
    cues = make_cues(quick + later, [span(0.0, 20.0)])
    first = cues[0]
    assert first.text == "Extraordinarily complicated mechanisms."
    assert len(first.text) / (first.end - first.start) <= 20.0 + 1e-6
    assert first.end - first.start >= 1.0


def test_slow_speech_stays_within_seven_seconds_and_keeps_a_gap():
    slow = words("one two three four five six seven eight nine ten eleven twelve", rate=1.0)
    cues = make_cues(slow, [span(0.0, 20.0)])
    assert violations(cues) == []
    assert all(c.end - c.start <= 7.0 for c in cues) and len(cues) >= 2
    assert all(b.start - a.end >= 2 / 30 - 1e-6 for a, b in zip(cues, cues[1:], strict=False))


def test_heading_gets_its_own_cue():
    heading = words("Interpretability", 0.0, rate=0.9, segment="s/heading-1")
    body = words("The researchers published a list.", 1.5, segment="s/paragraph-1")
    cues = make_cues(heading + body, [span(0.0, 20.0)])
    assert [c.text for c in cues] == ["Interpretability", "The researchers published a list."]


def test_violations_are_reported():
    bad = [Cue(0.0, 0.5, ["x"], 0), Cue(0.52, 9.0, ["y" * 10 + " " + "z" * 40, "a", "b"], 0)]
    found = violations(bad)
    assert any("on screen 0.50 s" in f for f in found)
    assert any("gap to the next cue" in f for f in found)
    assert any("3 lines" in f for f in found) and any("51 characters" in f for f in found)
    assert any("on screen 8.48 s" in f for f in found)


CUES = [Cue(1.5, 3.25, ["ML & AI <news>,", "episode 1"], 0), Cue(3661.0, 3662.5, ["Bye."], 1)]


def test_timestamps():
    assert timestamp(3661.5) == "01:01:01.500"
    assert timestamp(0.0005, ",") == "00:00:00,001"


def test_vtt_stream_layer():
    out = io.StringIO()
    WriteVTT().write_result(CUES, out)
    assert out.getvalue() == (
        "WEBVTT\n\n"
        "00:00:01.500 --> 00:00:03.250\nML &amp; AI &lt;news&gt;,\nepisode 1\n\n"
        "01:01:01.000 --> 01:01:02.500\nBye.\n\n")


def test_srt_stream_layer():
    out = io.StringIO()
    WriteSRT().write_result(CUES, out)
    assert out.getvalue() == (
        "1\n00:00:01,500 --> 00:00:03,250\nML & AI <news>,\nepisode 1\n\n"
        "2\n01:01:01,000 --> 01:01:02,500\nBye.\n\n")


def test_path_layer_writes_files_the_parsers_read(tmp_path):
    WriteVTT()(CUES, tmp_path / "c.vtt")
    WriteSRT()(CUES, tmp_path / "c.srt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.srt", "c.vtt"]  # no temp files
    parsed = webvtt.read(str(tmp_path / "c.vtt"))
    assert [c.start for c in parsed] == ["00:00:01.500", "01:01:01.000"]
    subs = list(srt.parse((tmp_path / "c.srt").read_text(encoding="utf-8")))
    assert [s.content for s in subs] == ["ML & AI <news>,\nepisode 1", "Bye."]


VOCABULARY = ("the model has published a list of two hundred open problems and researchers at "
              "labs study circuits superposition features")


def random_episode(seed: int) -> tuple[list[CaptionWord], list[TimedSection]]:
    """Forty segments in eight sections at varied pace, some words missed or misheard."""
    from pipeline.speech.align import align
    from pipeline.speech.asr import Word

    rng = random.Random(seed)
    vocab = VOCABULARY.split()
    segments, timed, heard, t = [], [], [], 0.0
    for k in range(40):
        n = rng.randint(3, 110)
        ws = [rng.choice(vocab) for _ in range(n)]
        for i in range(rng.randint(1, 9), n, rng.randint(2, 12)):
            ws[i] += rng.choice([",", ".", ""])
        seg_id, pace = f"s{k // 5}/paragraph-{k}", rng.uniform(0.2, 0.5)
        segments.append(build.segment(seg_id, " ".join(ws) + ".", section_index=k // 5))
        timed.append(build.timed(seg_id, t, t + n * pace, section_index=k // 5))
        heard += [Word(w if rng.random() > 0.05 else "xyz", t + i * pace,
                       t + (i + 1) * pace - 0.02, 0.9)
                  for i, w in enumerate(ws) if rng.random() > 0.05]
        t += n * pace + rng.choice([0.6, 1.2])
    starts = [0.0] + [timed[5 * s].start for s in range(1, 8)] + [t]
    sections = [span(starts[s], starts[s + 1], s) for s in range(8)]
    aligned = align(build.script(segments), build.timeline(timed, t, sections), heard)
    return aligned.words, sections


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_long_random_episodes_obey_every_rule(seed):
    words_, sections = random_episode(seed)
    cues = make_cues(words_, sections)
    assert len(cues) > 150
    assert violations(cues) == []
    for cue in cues:
        section = sections[cue.section_index]
        assert section.start - 5e-4 <= cue.start and cue.end <= section.end  # ms


def test_a_heading_sharing_a_cue_gets_its_own_line() -> None:
    from pipeline.speech.cues import CueRules, split_lines

    rules = CueRules()
    words = ["First", "The", "first", "paragraph", "is", "short."]
    assert split_lines(words, rules) == ["First The first paragraph is short."]
    assert split_lines(words, rules, frozenset({1})) == ["First",
                                                          "The first paragraph is short."]


def spoken(texts: list[str], start: float, segment: str, kind: str, rate: float = 0.3,
           pause: float = 0.25) -> list[CaptionWord]:
    """A heading (one text) or a list's items read at `rate` s a word, `pause` s apart."""
    out: list[CaptionWord] = []
    t = start
    for item, text in enumerate(texts):
        for w in text.split():
            out.append(CaptionWord(w, t, t + rate - 0.05, segment, 0, "heard", kind,
                                   item if kind == "list" else None))
            t += rate
        t += pause
    return out


ITEMS = ["Analyzing toy models that are much smaller but trained the same way as large ones",
         "Looking for circuits in the wild",
         "Interpreting algorithmic problems",
         "Exploring polysemanticity and superposition in real networks with sparse "
         "autoencoders at scale"]


def test_a_heading_is_a_cue_of_its_own_and_items_never_share_a_cue() -> None:
    heading = spoken(["Mechanistic interpretability"], 0.0, "s/heading-2", "heading")
    items = spoken(ITEMS, heading[-1].end + 0.6, "s/list-1", "list")
    cues = make_cues(heading + items, [span(0.0, 60.0)])
    assert violations(cues) == []
    assert cues[0].text == "Mechanistic interpretability"
    texts = [c.text for c in cues[1:]]
    assert " ".join(texts) == " ".join(ITEMS)
    assert all(any(text in item for item in ITEMS) for text in texts)  # one item each


def test_a_short_heading_holds_the_screen_a_moment_into_the_first_item() -> None:
    heading = spoken(["News"], 0.0, "s/heading-2", "heading", rate=0.45)
    items = spoken(ITEMS[1:3], heading[-1].end + 0.6, "s/list-1", "list")
    cues = make_cues(heading + items, [span(0.0, 20.0)])
    assert violations(cues) == []
    assert [c.text for c in cues] == ["News", ITEMS[1], ITEMS[2]]
    assert cues[1].start - items[0].start <= CueRules().max_lead + 1e-9


def test_a_list_after_a_paragraph_starts_a_new_cue() -> None:
    para = words("They are split into the following categories", 0.0, segment="s/paragraph-1")
    items = spoken(ITEMS[1:3], para[-1].end + 0.6, "s/list-1", "list")
    cues = make_cues(para + items, [span(0.0, 20.0)])
    assert violations(cues) == []
    assert [c.text for c in cues] == ["They are split into the following categories",
                                      ITEMS[1], ITEMS[2]]


def test_an_item_whose_last_words_would_flash_gives_them_company() -> None:
    long_item = ("Superposition is when one feature is spread across many neurons, and it "
                 "gives problems in our interpretation of what neurons represent. Open problem")
    items = spoken([long_item, "Analyzing training dynamics"], 0.0, "s/list-1", "list",
                   pause=0.1)
    cues = make_cues(items, [span(0.0, 40.0)])
    assert violations(cues) == []
    assert cues[-1].text == "Analyzing training dynamics"
    assert " ".join(c.text for c in cues[:-1]) == long_item


def test_a_heading_said_too_quickly_to_stand_alone_opens_the_next_cue() -> None:
    """Whisper may place the next word so soon that even a late next cue would leave the
    heading less than a second: it then shares a cue, on a line of its own."""
    heading = spoken(["Who", "to", "follow"], 0.0, "s/heading-2", "heading", rate=0.2)
    items = spoken(ITEMS[1:3], heading[-1].end + 0.05, "s/list-1", "list")
    cues = make_cues(heading + items, [span(0.0, 20.0)])
    assert violations(cues) == []
    assert cues[0].lines[0] == "Who to follow"
    assert all("Who" not in c.text for c in cues[1:])
