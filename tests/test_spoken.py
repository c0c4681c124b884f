"""Spoken text: sentences from newsletter prose with their exact readings, and the
guarantees (no digit, URL, Markdown marker, emoji or stray punctuation) checked over every
sentence of the show's first issue and over many mixtures of awkward fragments."""

from __future__ import annotations

import random
import re
from pathlib import Path

import emoji
import pytest

from pipeline.speech.lexicon import Lexicon, load_lexicon
from pipeline.speech.spoken import number_words, site_name, to_spoken

ROOT = Path(__file__).resolve().parents[1]
SEED = Path(__file__).with_name("data") / "seed_000_ai_improving_itself.txt"

# The show's choices for the terms the table uses, fixed here so that editing the show's
# lexicon does not change what this table tests.
LEXICON = Lexicon({
    "MLAISU": "spell", "ML": "spell", "AI": "spell", "AGI": "spell", "AGISF": "spell",
    "LLM": "spell", "GPU": "spell", "GPT": "spell", "MIT": "spell", "EUM": "spell",
    "EAGx": "spell", "UTC": "spell", "CET": "spell",
    "ROME": "word", "CLIP": "word", "ETHICS": "word",
    "LatAm": "Latt-Am", "Thibodeau": "Tibbodoh", "Jaime": "Hymeh", "Sevilla": "Sevee-ya",
    "lesswrong": "Less Wrong", "alignmentforum": "Alignment Forum", "arxiv": "archive",
})

CASES: list[tuple[str, str]] = [
    # the first issue of ML & AI Safety Updates
    ("Over 200 research ideas for mechanistic interpretability, ML improving ML and the "
     "dangers of aligned artificial intelligence.",
     "Over two hundred research ideas for mechanistic interpretability, M L improving M L and "
     "the dangers of aligned artificial intelligence."),
    ("Welcome to 2023 and a happy New Year from us at the ML & AI Safety Updates!",
     "Welcome to twenty twenty-three and a happy New Year from us at the M L and Eh I Safety "
     "Updates!"),
    ("Watch this week's MLAISU on YouTube or listen to it on Spotify.",
     "Watch this week's M L Eh I S U on YouTube or listen to it on Spotify."),
    ("These are way easier to analyze than large models and he has made 12 small models "
     "available.",
     "These are way easier to analyze than large models and he has made twelve small models "
     "available."),
    ("We're collaborating with Neel Nanda to run a mechanistic interpretability hackathon the "
     "20th of January!",
     "We're collaborating with Neel Nanda to run a mechanistic interpretability hackathon the "
     "twentieth of January!"),
    ("These include using ML to better optimize GPUs, optimizing compilers and helping humans "
     "spot flaws in a large language model using (LLM) another LLM.",
     "These include using M L to better optimize G P U's, optimizing compilers and helping "
     "humans spot flaws in a large language model using, L L M, another L L M."),
    ("A paper from Microsoft and MIT shows a LLM can be used to generate programming puzzles.",
     "A paper from Microsoft and M I T shows a L L M can be used to generate programming "
     "puzzles."),
    ("They try to identify the best intro texts by asking a bunch of ML researchers (28) which "
     "of eight texts they prefer.",
     "They try to identify the best intro texts by asking a bunch of M L researchers, "
     "twenty-eight, which of eight texts they prefer."),
    ("Aligned AGI vs. unaligned AGI", "Aligned Eh G I versus unaligned Eh G I"),
    ("In other news…", "In other news."),
    ("Jacques Thibodeau finds limitations in the recent ROME paper that claims to “modify "
     "factual associations”.",
     "Jacques Tibbodoh finds limitations in the recent Rome paper that claims to “modify "
     "factual associations”."),
    ("They used the method to understand models trained on the ETHICS dataset.",
     "They used the method to understand models trained on the Ethics dataset."),
    ("A new paper dives into what vision transformers (computer vision models) learn.",
     "A new paper dives into what vision transformers, computer vision models, learn."),
    ("Models trained with language supervision (like CLIP) learn more semantic features.",
     "Models trained with language supervision, like Clip, learn more semantic features."),
    ("E.g. reframing the world, audio and visuals into words will make the models capable.",
     "For example, reframing the world, audio and visuals into words will make the models "
     "capable."),
    ("Describing how 1) humans are not expected utility maximizers (EUM), 2) there are "
     "non-EUM systems and 3) we do not know how to train EUM systems.",
     "Describing how one, humans are not expected utility maximizers, E U M, two, there are "
     "non-E U M systems and three, we do not know how to train E U M systems."),
    ("Thanks goes to AGISF for once more sharing opportunities in ML & AI safety.",
     "Thanks goes to Eh G I S F for once more sharing opportunities in M L and Eh I safety."),
    ("You can also join the in-person AI trends hackathon on Tuesday after EAGx LatAm in "
     "Mexico City with Jaime Sevilla and the Epoch team.",
     "You can also join the in-person Eh I trends hackathon on Tuesday after E Eh G X Latt-Am "
     "in Mexico City with Hymeh Sevee-ya and the Epoch team."),
    ("Win up to $50,000 by doing theoretical research before the 1st of October.",
     "Win up to fifty thousand dollars by doing theoretical research before the first of "
     "October."),
    # money
    ("Anthropic raised $1.5M in seed funding, then $580 million a year later.",
     "Anthropic raised one point five million dollars in seed funding, then five hundred and "
     "eighty million dollars a year later."),
    ("The compute budget grew from €20 to £3bn, roughly 10k times more.",
     "The compute budget grew from twenty euros to three billion pounds, roughly ten thousand "
     "times more."),
    ("Tickets cost $1.50 each, or $0.99 online.",
     "Tickets cost one dollar and fifty cents each, or ninety-nine cents online."),
    ("Grants range from $10-20k per project.",
     "Grants range from ten to twenty thousand dollars per project."),
    ("The reward is ≈ $100 + a T-shirt.",
     "The reward is about one hundred dollars plus a T-shirt."),
    # ranges, percentages, decimals
    ("Between 2020-2023 the number of papers doubled.",
     "Between twenty twenty and twenty twenty-three the number of papers doubled."),
    ("Teams of 10–20 people worked on it.", "Teams of ten to twenty people worked on it."),
    ("Accuracy rose by 12.5% to 87%.",
     "Accuracy rose by twelve point five percent to eighty-seven percent."),
    ("Only 3.2% of papers, i.e. 1 in 30, report it.",
     "Only three point two percent of papers, that is, one in thirty, report it."),
    ("The model is ~50% smaller - and faster.",
     "The model is about fifty percent smaller, and faster."),
    ("It went from -5 to +3 points.", "It went from minus five to plus three points."),
    ("The model scored 1,234 points in 12.5 seconds [1].",
     "The model scored one thousand two hundred and thirty-four points in twelve point five "
     "seconds."),
    # years and decades
    ("In the 1990s and the '90s, neural networks were out of fashion.",
     "In the nineteen nineties and the nineties, neural networks were out of fashion."),
    ("Since 2019, LLMs' abilities and the GPU's memory grew.",
     "Since twenty nineteen, L L M's abilities and the G P U's memory grew."),
    ("A 2048 token context.", "A two thousand and forty-eight token context."),
    ("Q1 2024 results in the AI-2027 scenario.",
     "Q one twenty twenty-four results in the Eh I twenty twenty-seven scenario."),
    ("Around 2000 people came by 2030, around 2020.",
     "Around two thousand people came by twenty thirty, around twenty twenty."),
    ("The paper by Smith et al. (2023) was cited 1,000 times.",
     "The paper by Smith and colleagues, twenty twenty-three, was cited one thousand times."),
    ("In the 1900s and the 2000s, hundreds of 100s.",
     "In the nineteen hundreds and the two thousands, hundreds of hundreds."),
    # times and dates
    ("The talk starts at 3pm CET, or 14:30 UTC.",
     "The talk starts at three p.m. C E T, or fourteen thirty U T C."),
    ("Doors open at 9:30 a.m. on Saturday.", "Doors open at nine thirty a.m. on Saturday."),
    ("From 9am to 5pm, Mon–Fri.", "From nine a.m. to five p.m., Mon to Fri."),
    ("The deadline is 2023-01-06.", "The deadline is January sixth, twenty twenty-three."),
    ("Applications close Jan 6, 2023.", "Applications close January sixth, twenty twenty-three."),
    ("The retreat runs 6 January 2023 in Berlin.",
     "The retreat runs the sixth of January, twenty twenty-three in Berlin."),
    ("Send it by Dec. 1 at 11:59pm or on 15 March.",
     "Send it by December first at eleven fifty-nine p.m. or on the fifteenth of March."),
    ("It's 3:30 p.m. on Jan 6-8, 2024.",
     "It's three thirty p.m. on January sixth to eighth, twenty twenty-four."),
    ("About 2/3 of researchers work 24/7 on the 6/1 deadline.",
     "About two thirds of researchers work twenty-four seven on the six slash one deadline."),
    # versions, multipliers, rankings, units
    ("GPT-4 outperforms GPT-3.5 on 20 of 25 benchmarks.",
     "G P T four outperforms G P T three point five on twenty of twenty-five benchmarks."),
    ("We released v2.1 of the library, which needs Python 3.11.",
     "We released version two point one of the library, which needs Python three point "
     "eleven."),
    ("Llama 3.1 was trained on 15T tokens, about 2.5 times more.",
     "Llama three point one was trained on fifteen trillion tokens, about two point five times "
     "more."),
    ("The new method is 10x faster than the baseline.",
     "The new method is ten times faster than the baseline."),
    ("It is ranked #1 on the leaderboard.", "It is ranked number one on the leaderboard."),
    ("Scaling to 175B parameters took 1.3T tokens.",
     "Scaling to one hundred and seventy-five billion parameters took one point three trillion "
     "tokens."),
    ("COVID-19 hit in 2020, and the A100 became scarce.",
     "COVID nineteen hit in twenty twenty, and the Eh one hundred became scarce."),
    ("The temperature rose 1.5°C (approx.) since 1900.",
     "The temperature rose one point five degrees Celsius, approximately, since nineteen "
     "hundred."),
    ("We rented 8 H100s for the GPT-4o runs.",
     "We rented eight H one hundreds for the G P T four o runs."),
    ("Claude 3.5 Sonnet scored 50+ points with n=100.",
     "Claude three point five Sonnet scored fifty plus points with n equals one hundred."),
    ("He's the #2 researcher on C# and C++ projects.",
     "He's the number two researcher on C sharp and C plus plus projects."),
    # abbreviations and symbols
    ("The field grew fast, e.g. in interpretability, vs. 2021 etc.",
     "The field grew fast, for example, in interpretability, versus twenty twenty-one et "
     "cetera."),
    ("He thinks AI/ML and/or R&D will grow 🎉.", "He thinks Eh I or M L and or R and D will grow."),
    # links and addresses
    ("Read the full post at https://www.lesswrong.com/posts/abc123/some_title for details.",
     "Read the full post at Less Wrong for details."),
    ("More on lesswrong.com and alignmentforum.org/posts/xyz.",
     "More on Less Wrong and Alignment Forum."),
    ("Read the paper at arxiv.org/abs/2301.01234.", "Read the paper at archive."),
    ("Visit http://localhost:8000/demo to try it.", "Visit localhost to try it."),
    ("Download setup.py or read README.md on github.com.",
     "Download setup dot py or read README dot md on github."),
    ("Contact john.doe@example.org for details.",
     "Contact john dot doe at example dot org for details."),
    # pauses, Markdown and emoji
    ("The answer — surprisingly — is no.", "The answer, surprisingly, is no."),
    ("Some **bold** claims and _italic_ ones with `code` 🚀.",
     "Some bold claims and italic ones with code."),
    ("See the links below 👇 and join us! 🎉🎉", "See the links below and join us!"),
    ("They’re split into the following categories:",
     "They’re split into the following categories."),
    ("Analyzing toy models\nLooking for circuits in the wild:\nInterpreting algorithms.",
     "Analyzing toy models. Looking for circuits in the wild: Interpreting algorithms."),
]


@pytest.mark.parametrize("text, spoken", CASES, ids=[f"case{i:02d}" for i in range(len(CASES))])
def test_reading(text: str, spoken: str) -> None:
    assert to_spoken(text, LEXICON) == spoken


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 40


# --- the guarantees -------------------------------------------------------------------

_MARKERS = re.compile(r"[*_#\[\]`]")
_WEB = re.compile(r"https?:|www\.|\b[a-z0-9-]+\.(?:com|org|net|io|ai|uk|edu|dev)\b", re.I)


def problems(spoken: str) -> list[str]:
    """What breaks the promises of `to_spoken`, by name; empty when the text is clean."""
    checks = {
        "digit": re.search(r"\d", spoken),
        "web address": _WEB.search(spoken),
        "markdown marker": _MARKERS.search(spoken),
        "emoji": emoji.emoji_count(spoken) > 0,
        "doubled space": "  " in spoken,
        "space before punctuation": re.search(r"\s[,.;:!?]", spoken),
        "stray punctuation": re.search(r"(?<![ap]\.m)[,;:.] ?[,;:]|[,;:] ?[.!?]", spoken),
        "leading punctuation": re.match(r"[,.;:!?]", spoken),
        "edge space": spoken != spoken.strip(),
    }
    return [name for name, hit in checks.items() if hit]


@pytest.mark.parametrize("bad, problem", [
    ("five 5 dollars", "digit"), ("see lesswrong.com", "web address"),
    ("a *bold* claim", "markdown marker"), ("rocket 🚀", "emoji"),
    ("two  spaces", "doubled space"), ("so , then", "space before punctuation"),
    ("so,, then", "stray punctuation"), (", so", "leading punctuation"),
])
def test_the_checker_catches_each_problem(bad: str, problem: str) -> None:
    assert problem in problems(bad)
    assert problems("A clean sentence, at nine a.m., with Eh I.") == []


def seed_sentences() -> list[str]:
    text = SEED.read_text(encoding="utf-8")
    return [s for line in text.splitlines() for s in re.split(r"(?<=[.!?…])\s+", line)
            if s.strip()]


def test_every_sentence_of_the_first_issue_is_clean() -> None:
    lexicon = load_lexicon(ROOT / "assets" / "pronunciations.toml")
    sentences = seed_sentences()
    assert len(sentences) >= 60
    found = {s: problems(to_spoken(s, lexicon)) for s in sentences}
    assert {s: p for s, p in found.items() if p} == {}


def test_every_table_input_is_clean() -> None:
    found = {text: problems(to_spoken(text, LEXICON)) for text, _ in CASES}
    assert {t: p for t, p in found.items() if p} == {}


_FRAGMENTS = [
    "$50,000", "$1.5M", "€20", "£3bn", "10k", "2023", "1990s", "'90s", "’90s", "1st", "22nd",
    "3.14", "50%", "10–20%", "2020-2023", "3pm", "14:30", "9:30 a.m.", "2023-01-06",
    "Jan 6, 2023", "6/1", "1/6/2023", "GPT-4", "v2.1", "Python 3.11", "10x", "#1", "e.g.",
    "i.e.", "vs.", "etc.", "approx.", "AI", "LLMs", "GPU's", "https://www.lesswrong.com/posts/a",
    "lesswrong.com", "x.com/a_b", "(see", "this)", "[1]", "[note]", "**bold**", "_it_",
    "`code`", "#tag", "🚀", "👨‍👩‍👧", "🇺🇸", "1️⃣", "—", "–", " - ", "...", "…", "&", "+", "/",
    "%", "~", "*", "_", "#", "[", "]", "(", ")", "{", "}", ",", ".", "!", "?", ";", ":", "-",
    "'", '"', "“", "”", "x²", "½", "٣", "0.5", ".5", "-5", "+3", "1,234.56", "007",
    "hello@example.org", "A100", "3D", "C++", "C#", "Q&A", "24/7", "a.m.", "No. 5", "2x–3x",
    "100s", "12:00", "25:99", "2023-13-45", "US$5", "¥100", "$0", "Node.js", "setup.py", "|",
    "•", "<", ">", "=", "->", "°C", "@user", "\u00a0", "\u200b", "\t", "word", "Word", "ETHICS",
    "MLAISU", "LatAm", "EAGx", "1)", "a)", "’", "'s", "the", "model", "and",
]


def test_mixtures_of_awkward_fragments_are_clean() -> None:
    rng = random.Random(2023)
    lexicon = load_lexicon(ROOT / "assets" / "pronunciations.toml")
    found = {}
    for _ in range(1500):
        glue = rng.choice([" ", "", " "])
        text = glue.join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(1, 8)))
        if bad := problems(to_spoken(text, lexicon)):
            found[text] = bad
    assert found == {}


def test_a_twenty_thousand_word_issue_is_quick() -> None:
    import time

    text = " ".join(seed_sentences() * 16)
    assert len(text.split()) > 20_000
    start = time.perf_counter()
    spoken = to_spoken(text, LEXICON)
    assert time.perf_counter() - start < 10
    assert problems(spoken) == []


# --- pieces ---------------------------------------------------------------------------

@pytest.mark.parametrize("host, name", [
    ("https://www.lesswrong.com/posts/abc", "lesswrong"),
    ("forum.effectivealtruism.org", "effectivealtruism"),
    ("bbc.co.uk", "bbc"),
    ("ai-alignment.com", "ai alignment"),
    ("Node.js", None),
])
def test_site_name(host: str, name: str | None) -> None:
    assert site_name(host) == name


@pytest.mark.parametrize("written, words", [
    ("1,000", "one thousand"), ("1.05", "one point zero five"), ("007", "zero zero seven"),
    ("2.50", "two point five zero"),
])
def test_number_words(written: str, words: str) -> None:
    assert number_words(written) == words


def test_no_lexicon_entries_leaves_acronyms_as_written() -> None:
    assert to_spoken("The AI has 2 GPUs.", Lexicon()) == "The AI has two GPUs."
