"""`pipeline lexicon suggest`: candidate sayings (pure), which flagged words count, and the
real round trip (hibari speaks, tiny.en transcribes) with --write into a throwaway project."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config import VoiceSettings, WhisperSettings
from pipeline.episode import load_episode
from pipeline.formats import HeardDifferently
from pipeline.speech.lexicon import Lexicon, load_lexicon
from pipeline.stages.script import run
from pipeline.tools.lexicon_suggest import (
    BEYOND,
    FALLBACK_CARRIER,
    RoundTrip,
    candidate_sayings,
    carrier,
    compound_split,
    contains,
    flagged_words,
    heard_for,
    respellings,
    syllables,
    word_tokens,
)
from tests import builders as build

PARAGRAPH = "interpretability/paragraph-1"


# --- candidate sayings -------------------------------------------------------------------

def test_compounds_split_at_a_prefix_or_a_capital() -> None:
    assert compound_split("superposition") == "super-position"
    assert compound_split("polysemanticity") == "poly-semanticity"
    assert compound_split("LatAm") == "Lat-Am"
    assert compound_split("supper") is None  # "per" is too short to be a word of its own
    assert compound_split("Neel") is None


def test_respellings_apply_each_rule_then_all_in_one_pass() -> None:
    assert respellings("Thibodeau") == ["Thibodoh", "Tibodeau", "Tibodoh"]
    assert respellings("Sevilla") == ["Seveeya"]  # not re-spelt again by "ee" -> "ea"
    assert respellings("Neel") == ["Neal"]
    assert respellings("theory") == []  # "th" -> "t" only for names


def test_syllables_are_hyphenated_by_the_consonant_rule() -> None:
    assert syllables("superposition") == "su-per-po-si-tion"
    assert syllables("Sevilla") == "Se-vil-la"
    assert syllables("Thibodeau") == "Thi-bo-deau"
    assert syllables("Neel") is None
    assert syllables("Millidge") == "Mil-lidge"  # a final silent e is no syllable
    assert syllables("trained") is None
    assert syllables("high-reward") == "high-re-ward"  # each part on its own


def test_candidates_start_with_the_word_as_written() -> None:
    assert candidate_sayings("superposition") == ["superposition", "super-position",
                                                  "su-per-po-si-tion"]
    assert candidate_sayings("Neel") == ["Neel", "Neal"]
    assert candidate_sayings("EUM") == ["EUM", "spell", "word"]
    assert candidate_sayings("trained") == ["trained"]
    assert candidate_sayings("Thibodeau") == ["Thibodeau", "Thibodoh", "Tibodeau", "Tibodoh",
                                              "Thi-bo-deau"]


def test_carrier_is_the_words_around_the_first_occurrence() -> None:
    display = ("Last week the interpretability researcher Neel Nanda has published a massive "
               "list of open problems in the field, and Neel answered questions.")
    assert carrier("Neel", display) == ("Last week the interpretability researcher Neel Nanda "
                                        "has published a massive list.")
    assert carrier("Neel", None) == FALLBACK_CARRIER.format(word="Neel")
    assert carrier("Thibodeau", display) == FALLBACK_CARRIER.format(word="Thibodeau")


def test_heard_for_picks_what_was_written_where_the_word_was_said() -> None:
    said = "The researcher Neel Nanda found features in superposition inside."
    heard = "The research or Neil Nanda found features in sewer position inside."
    assert heard_for(said, "Neel", heard) == "neil"
    assert heard_for(said, "superposition", heard) == "sewer position"
    assert heard_for(said, "superposition", "The researcher Neil Nanda found features.") == ""
    assert heard_for("Funding for LatAm groups.", "LatAm", "Funding for Lat A.M. groups.") == (
        "lat a m")


def test_heard_is_compared_with_the_captions_tokens() -> None:
    assert word_tokens("EUM") == ["e", "u", "m"]
    assert word_tokens("ROME") == ["r", "o", "m", "e"]
    assert word_tokens("ROME", Lexicon({"ROME": "word"})) == ["rome"]  # said and written Rome
    assert word_tokens("AI", Lexicon({"AI": "spell"})) == ["a", "i"]  # Whisper writes AI
    assert word_tokens("superposition") == ["superposition"]
    assert contains(["in", "superposition", "inside"], ["superposition"])
    assert not contains(["in", "sewer", "position"], ["superposition"])
    assert not contains(["a", "b"], [])


# --- which flagged words are candidates ------------------------------------------------

def _heard(display: str, heard: str, segment: str = PARAGRAPH) -> HeardDifferently:
    return build.heard(display, heard, segment)


def test_flagged_words_are_grouped_counted_and_filtered() -> None:
    qa = build.qa(heard_differently=[
        _heard("superposition,", "sewer position", "a/paragraph-1"),
        _heard("Neel", "Neil"),
        _heard("Neel's", "Neil's"),
        _heard("Neel", "Neal"),
        _heard("AI", "A.I."),  # in the lexicon
        _heard("GPUs", "GPUS"),  # in the lexicon as a plural
        _heard("$50,000", "50,000"),  # money
        _heard("2023", "2020"),  # a number
        _heard("January", "Janitory"),  # a date word
        _heard("e-mail", "email"),  # punctuation only
        _heard("superposition", "super position"),  # spacing only: the voice said it right
        _heard("Safety", "safety."),  # case only
        _heard("with", "within"),  # a short common word: Whisper's slip
    ], missed_words=[
        build.missed("the", PARAGRAPH),  # a short word missed
        build.missed("Vasquez", PARAGRAPH),
    ])
    lexicon = Lexicon({"AI": "spell", "GPU": "spell"})
    flags = flagged_words(qa, lexicon)
    assert [(f.word, f.count, f.heard, f.segment) for f in flags] == [
        ("Neel", 3, ("Neil", "Neal"), PARAGRAPH),
        ("superposition", 1, ("sewer position",), "a/paragraph-1"),
        ("Vasquez", 1, ("",), PARAGRAPH),
    ]


def test_no_qa_json_says_to_run_the_captions_stage(project, capsys) -> None:
    episode = project.episode("## Interpretability\n\nA paragraph.\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["lexicon", "suggest", str(episode)])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "qa.json" in err and "make captions EP=2024-05-17-test-issue" in err


@pytest.mark.parametrize(("text", "says"), [
    ("{not json", "not valid JSON"),
    ('{"heard_differently": [{"heard": "Neil"}]}', "model: field required"),
    (build.qa().model_dump_json().replace('"missed":[]', '"missed":"Neel"'),
     "missed: input should be a valid list"),
])
def test_broken_qa_json_is_one_line_too(project, capsys, text: str, says: str) -> None:
    episode = project.episode("## Interpretability\n\nA paragraph.\n")
    (episode / "build").mkdir()
    (episode / "build" / "qa.json").write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["lexicon", "suggest", str(episode)])
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert says in err and "make captions EP=2024-05-17-test-issue" in err


def test_nothing_to_suggest_when_every_flag_is_skipped(project, capsys) -> None:
    episode = project.episode("## Interpretability\n\nA paragraph.\n")
    (episode / "build").mkdir()
    build.qa([_heard("AI", "A.I."), _heard("2023", "2020")]).write(episode / "build")
    before = (project.assets / "pronunciations.toml").read_bytes()
    main(["lexicon", "suggest", str(episode), "--write"])
    assert "nothing to suggest" in capsys.readouterr().out
    assert (project.assets / "pronunciations.toml").read_bytes() == before


# --- the real round trip -----------------------------------------------------------------

BODY = """\
## Interpretability

The researcher Neel Nanda found features in superposition inside small models.
"""


def _flag_words(episode: Path) -> None:
    """What the captions stage wrote for this paragraph with hibari and tiny.en."""
    build.qa([_heard("Neel", "Neil"), _heard("superposition", "sewer position"),
              _heard("superposition", "sewer position")]).write(episode / "build")


def _suggest(episode: Path, capsys, *extra: str) -> str:
    main(["lexicon", "suggest", str(episode), "--model", "tiny.en", "--device", "cpu", *extra])
    captured = capsys.readouterr()
    assert captured.err.splitlines()[-1] == "lexicon: verifying 2/2"  # Neel, superposition
    return captured.out


def _row(out: str, word: str) -> list[str]:
    line = next(line for line in out.splitlines() if line.startswith(word + " "))
    return line.split()


@pytest.mark.slow
def test_round_trip_proposes_verified_sayings_and_write_appends_them(project, capsys) -> None:
    episode = project.episode(BODY)
    run(load_episode(episode))
    _flag_words(episode)
    toml = project.assets / "pronunciations.toml"
    before = toml.read_text(encoding="utf-8")

    out = _suggest(episode, capsys)
    # tiny.en writes "sewer position" for the word as written, "superposition" for this
    assert _row(out, "superposition") == ["superposition", "2", "sewer", "position",
                                          "super-position", "yes"]
    assert _row(out, "Neel") == ["Neel", "1", "Neil", "-", "no"]
    beyond = out[out.index(BEYOND):]
    assert "Neel (heard as Neil; tried Neel -> neil, Neal -> neil)" in beyond
    assert "superposition" not in beyond
    assert "dry run: nothing written" in out
    assert toml.read_text(encoding="utf-8") == before
    # as written, in the same carrier, the word is what Whisper gets wrong (asked again:
    # the same sentence with the same voice and model is not transcribed twice)
    listen = RoundTrip(load_lexicon(toml), VoiceSettings(),
                       WhisperSettings(model="tiny.en", device="cpu"))
    sentence = carrier("superposition", BODY.splitlines()[2])
    assert "superposition" not in listen(sentence, "superposition", "superposition").lower()

    out = _suggest(episode, capsys, "--write")
    assert "added 1 entries" in out
    after = toml.read_text(encoding="utf-8")
    assert after.startswith(before)  # existing entries and comments untouched
    assert after[len(before):] == 'superposition = "super-position"\n'
    assert load_lexicon(toml).entries["superposition"] == "super-position"

    script = run(load_episode(episode)).script  # the next build's script stage reads the new entry
    spoken = next(s.spoken for s in script.segments if s.id == PARAGRAPH)
    assert "in super-position inside" in spoken and "Neel Nanda" in spoken


@pytest.mark.parametrize("word,heard", [("behaviour.", "behavior."), ("summarise", "summarize"),
                                        ("analysed", "analyzed"), ("centre", "center")])
def test_british_and_american_spellings_are_no_candidates(word: str, heard: str) -> None:
    from pipeline.tools.lexicon_suggest import skip_reason

    assert skip_reason(word, heard, Lexicon()) == "a spelling variant of the same word"
    assert skip_reason("Sauer", "sours", Lexicon()) is None
