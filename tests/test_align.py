"""Aligning recognised words to the script, on hand-made word lists (no model)."""

from __future__ import annotations

import pytest

from pipeline.speech.align import (
    ADLIB_MIN_WORDS,
    align,
    align_tokens,
    assign_to_segments,
    edit_distance,
    heard_tokens,
    item_starts,
    kept_alignment,
    spoken_owners,
    tokens,
    wer,
)
from pipeline.speech.asr import Word, join_pieces
from tests import builders as build

DISPLAY = "Neel Nanda offers $50,000 for work on superposition in 2023."
SPOKEN = ("Neal Nanda offers fifty thousand dollars for work on superposition in "
          "twenty twenty-three.")


def heard(text: str, start: float = 1.0, step: float = 0.4) -> list[Word]:
    """Words spoken at a steady pace, 0.3 s each."""
    return [Word(w, start + i * step, start + i * step + 0.3, 0.9)
            for i, w in enumerate(text.split())]


def run(words: list[Word], display: str = DISPLAY, spoken: str = SPOKEN,
        normalise=lambda text: text):
    script = build.script([build.segment("s/paragraph-1", display, spoken)])
    timeline = build.timeline([build.timed("s/paragraph-1", 1.0, 7.0)], 8.0)
    return align(script, timeline, words, normalise)


def test_tokens_write_numbers_currency_and_years_in_words():
    assert tokens("$50,000") == ["fifty", "thousand", "dollars"]
    assert tokens("In 2023, 10% of 1,500 people (the 3rd time).") == [
        "in", "twenty", "twenty", "three", "ten", "percent", "of", "one", "thousand", "five",
        "hundred", "people", "the", "third", "time"]
    assert tokens("Nanda's re-run & the 1990s") == [
        "nandas", "re", "run", "and", "the", "nineteen", "nineties"]


def test_acronyms_heard_are_read_letter_by_letter():
    assert heard_tokens("ML") == ["m", "l"]
    assert heard_tokens("LLMs,") == ["l", "l", "m", "s"]
    assert heard_tokens("Nanda") == ["nanda"]


def _table_distance(ref: list[str], hyp: list[str]) -> int:
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j - 1] + (r != h), previous[j] + 1, current[j - 1] + 1))
        previous = current
    return previous[-1]


def _table_alignment(ref: list[str], hyp: list[str]) -> list[tuple[int | None, int | None]]:
    """align_tokens as it was: every substitution priced."""
    from pipeline.speech.align import _backtrace, _sub_cost

    cost = [[float(i + j) if i == 0 or j == 0 else 0.0 for j in range(len(hyp) + 1)]
            for i in range(len(ref) + 1)]
    for i in range(1, len(ref) + 1):
        for j in range(1, len(hyp) + 1):
            cost[i][j] = min(cost[i - 1][j - 1] + _sub_cost(ref[i - 1], hyp[j - 1]),
                             cost[i - 1][j] + 1.0, cost[i][j - 1] + 1.0)
    return _backtrace(cost, ref, hyp)


def test_the_fast_distance_and_alignment_are_the_tables():
    import random

    rng = random.Random(7)
    words = ["the", "then", "model", "models", "neel", "neil", "a", "superposition", "sewer",
             "position", "ai", "eh", "i", "of", "off"]
    for _ in range(300):
        ref = rng.choices(words, k=rng.randint(0, 40))
        hyp = rng.choices(words, k=rng.randint(0, 40))
        assert edit_distance(ref, hyp) == _table_distance(ref, hyp), (ref, hyp)
        assert align_tokens(ref, hyp) == _table_alignment(ref, hyp), (ref, hyp)
    long = rng.choices(words, k=500)
    assert edit_distance(long, long[3:] + ["x"]) == _table_distance(long, long[3:] + ["x"])


def test_edit_distance_and_wer():
    assert edit_distance(["a", "b", "c", "d"], ["a", "x", "c"]) == 2
    assert wer(["a", "b", "c", "d"], ["a", "b", "c", "d"]) == 0
    assert wer(["a", "b", "c", "d"], ["a", "b"]) == 0.5


def test_alignment_pairs_similar_words():
    pairs = align_tokens(["neel", "nanda", "offers"], ["neil", "nanda", "offers"])
    assert pairs == [(0, 0), (1, 1), (2, 2)]
    pairs = align_tokens(["a", "superposition", "b"], ["a", "sewer", "position", "b"])
    assert (1, 2) in pairs and (None, 1) in pairs


def test_spoken_tokens_map_back_to_display_words():
    display = DISPLAY.split()
    spoken, owners = spoken_owners(display, SPOKEN, lambda text: text)
    said = {display[o]: [] for o in owners}
    for token, owner in zip(spoken, owners, strict=True):
        said[display[owner]].append(token)
    assert said["$50,000"] == ["fifty", "thousand", "dollars"]
    assert said["2023."] == ["twenty", "twenty", "three"]
    assert said["Neel"] == ["neal"]  # the respelling the voice was given


def test_captions_carry_display_spelling_with_heard_times():
    result = run(heard("Neil Nanda offers $50,000 for work on superposition in 2023."))
    assert [w.text for w in result.words] == DISPLAY.split()
    assert [w.source for w in result.words][:2] == ["corrected", "heard"]
    assert result.words[1].start == pytest.approx(1.4)
    assert result.words[3].end == pytest.approx(2.5)
    assert result.heard_differently[0].display == "Neel"
    assert result.heard_differently[0].heard == "Neil"
    assert not result.dropped and not result.stretches


def test_display_words_sharing_a_heard_word_keep_their_order_in_time():
    said = "the hackathon after EAGx LatAm in Mexico City"
    result = run(heard("the hackathon after EAG X-LAT AM in Mexico City"),
                 display=said, spoken=said)
    assert [w.text for w in result.words] == said.split()
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
    by_text = {w.text: w for w in result.words}
    assert by_text["EAGx"].start == pytest.approx(2.2)  # "EAG" goes with EAGx
    assert by_text["LatAm"].end == pytest.approx(3.3)  # "AM" goes with LatAm


def test_missed_words_are_interpolated_between_neighbours():
    result = run(heard("Neal Nanda offers $50,000 for superposition in 2023."))
    by_text = {w.text: w for w in result.words}
    work, on = by_text["work"], by_text["on"]
    assert work.source == on.source == "interpolated"
    assert by_text["for"].end <= work.start < work.end <= on.start < on.end
    assert on.end <= by_text["superposition"].start
    assert [m.display for m in result.missed] == ["work", "on"]
    assert [w.text for w in result.words] == DISPLAY.split()


def test_segment_with_nothing_heard_is_spread_over_its_time():
    result = run([], display="Just three words.", spoken="Just three words.")
    assert [w.source for w in result.words] == ["interpolated"] * 3
    assert result.words[0].start == 1.0 and result.words[-1].end == pytest.approx(7.0)
    assert result.raw_wer == 1.0


def test_extra_words_are_dropped_and_counted():
    result = run(heard("Neal Nanda um offers $50,000 for work on uh superposition in 2023."))
    assert [w.text for w in result.words] == DISPLAY.split()
    assert [d.word for d in result.dropped] == ["um", "uh"]
    assert not result.stretches


def test_ad_lib_stretch_is_kept_and_flagged():
    adlib = "which by the way is a lot of money"
    assert len(adlib.split()) >= ADLIB_MIN_WORDS
    result = run(heard(f"Neal Nanda offers $50,000 {adlib} for work on superposition in 2023."))
    texts = [w.text for w in result.words]
    assert texts == DISPLAY.split()[:4] + adlib.split() + DISPLAY.split()[4:]
    assert [w.source for w in result.words if w.source == "adlib"] == ["adlib"] * 9
    assert len(result.stretches) == 1 and result.stretches[0].text == adlib
    assert result.stretches[0].start == pytest.approx(2.6)
    assert not result.dropped
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)


def test_misheard_word_in_two_pieces_takes_both_pieces_times():
    result = run(heard("Neal Nanda offers $50,000 for work on sewer position in 2023."))
    word = next(w for w in result.words if w.text == "superposition")
    assert word.start == pytest.approx(3.8) and word.end == pytest.approx(4.5)
    assert result.heard_differently[-1].heard == "sewer position"
    assert not result.dropped


def test_the_reference_is_the_display_in_words_not_the_voice_respelling():
    # SPOKEN gave the voice "Neal"; Whisper writing the display's "Neel" is no error
    result = run(heard("Neel Nanda offers fifty thousand dollars for work on superposition "
                       "in twenty twenty-three."))
    assert result.heard_differently == [] and result.raw_wer == 0


def test_a_real_normaliser_is_used_for_display_words():
    expand = {"Dr.": "Doctor"}
    result = run(heard("Doctor Nanda offers $50,000 for work on superposition in 2023."),
                 display="Dr. Nanda offers $50,000 for work on superposition in 2023.",
                 normalise=lambda text: " ".join(expand.get(w, w) for w in text.split()))
    assert result.heard_differently == [] and result.raw_wer == 0


def test_words_go_to_the_segment_they_are_heard_in():
    segments = [build.timed("s/paragraph-1", 0.0, 2.0), build.timed("s/paragraph-2", 3.0, 5.0)]
    words = [Word("a", 0.1, 0.4, 1), Word("b", 2.1, 2.3, 1), Word("c", 2.6, 2.9, 1),
             Word("d", 4.0, 4.2, 1)]
    buckets = assign_to_segments(words, segments)
    assert [[w.text for w in b] for b in buckets] == [["a", "b"], ["c", "d"]]


def test_whisper_word_pieces_are_joined():
    words = join_pieces([(" The", 0.0, 0.2, 0.9), (" $50", 0.2, 0.5, 0.8),
                         (",000", 0.5, 0.9, 0.7), (" policy", 1.0, 1.2, 0.6),
                         ("-menticity.", 1.2, 1.6, 0.5)])
    assert [(w.text, w.start, w.end, w.probability) for w in words] == [
        ("The", 0.0, 0.2, 0.9), ("$50,000", 0.2, 0.9, 0.7),
        ("policy-menticity.", 1.0, 1.6, 0.5)]


def test_sounds_whisper_writes_are_left_out_not_flagged():
    words = heard("[Music] (upbeat music) ♪ Neal Nanda offers $50,000 for work on "
                  "superposition in 2023.")
    result = run(words)
    assert [w.text for w in result.words] == DISPLAY.split()
    assert [w.text for w in result.sounds] == ["[Music]", "(upbeat", "music)", "♪"]
    assert not result.stretches and not result.dropped


ITEMS = ["Toy models: small models trained the same way.",
         "Circuits in the wild",
         "Polysemanticity and superposition"]


def run_list(words: list[Word], items: list[str], display: str | None = None):
    segment = build.segment("s/list-1", display or " ".join(items), items=items)
    script = build.script([build.segment("s/heading-2", "Interpretability"), segment])
    timeline = build.timeline([build.timed("s/heading-2", 0.0, 0.8),
                               build.timed("s/list-1", 1.0, 7.0)], 8.0)
    return align(script, timeline, words)


def test_each_word_knows_its_segment_kind_and_list_item():
    said = "Interpretability " + " ".join(ITEMS)
    result = run_list(heard(said, start=0.0, step=0.35), ITEMS)
    by_item = [(w.kind, w.item) for w in result.words]
    assert by_item[0] == ("heading", None)
    counts = [len(item.split()) for item in ITEMS]
    assert by_item[1:] == [("list", k) for k, n in enumerate(counts) for _ in range(n)]


def test_an_ad_lib_in_a_list_stays_in_the_item_it_was_said_in():
    adlib = "which is where most people start"
    said = f"Interpretability {ITEMS[0]} {adlib} {ITEMS[1]} {ITEMS[2]}"
    result = run_list(heard(said, start=0.0, step=0.25), ITEMS)
    assert {w.item for w in result.words if w.source == "adlib"} == {0}
    assert [w.item for w in result.words if w.text == "Circuits"] == [1]


def test_items_not_found_in_the_display_give_no_item_boundaries():
    display = "• a b • c d"
    assert item_starts(display.split(), ["a b", "c d"]) == [1, 4]
    assert item_starts(display.split()[1:], ["a b", "c d"]) == [0, 3]
    assert item_starts(display.split(), ["a b", "x"]) is None
    result = run_list(heard("Interpretability a b c d"), ["a b", "x"], display="a b c d")
    assert {w.item for w in result.words} == {None}


def test_a_long_alignment_is_kept_and_read_back_as_it_was(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path))
    ref = tokens("the quick brown fox jumps over the lazy dog near the river bank") * 3
    hyp = tokens("the quick brown focks jumps over a lazy dog near the river bank now") * 3
    found = kept_alignment(ref, hyp)
    assert found == align_tokens(ref, hyp)
    assert list((tmp_path / "align").rglob("*.json"))
    monkeypatch.setattr("pipeline.speech.align.align_tokens", lambda *_: pytest.fail("aligned"))
    assert kept_alignment(ref, hyp) == found  # from the cache
