"""Technical text read so that it means what it says: sentences as a software project's
weekly, a language community's link digest and a research digest write them (a block's
inline Markdown as written, or text already flattened), each with its exact reading, one
group per kind of trouble; the producer's choices (the [spoken] settings and the
lexicon); the versions an issue names; and the guarantees of `to_spoken` over all of it."""

from __future__ import annotations

import random
import time

import pytest

from pipeline.config import SpokenSettings, validate_settings
from pipeline.errors import PipelineError
from pipeline.speech.lexicon import Lexicon
from pipeline.speech.spoken import to_spoken, versions_in
from tests.test_spoken import LEXICON, problems

CASES: dict[str, list[tuple[str, str]]] = {
    "signs": [
        ("Accuracy rose +7.3 pp.",
         "Accuracy rose plus seven point three percentage points."),
        ("A learning rate of 3.5e-4 works.",
         "A learning rate of three point five times ten to the minus four works."),
        ("Revenue fell -0.5% this quarter.",
         "Revenue fell minus zero point five percent this quarter."),
        ("Latency improved by +12% after the patch.",
         "Latency improved by plus twelve percent after the patch."),
        ("The index closed at −3 points.",
         "The index closed at minus three points."),
        ("Temperatures hit -12°C overnight.",
         "Temperatures hit minus twelve degrees Celsius overnight."),
        ("The loss went from -1.25 to -0.75.",
         "The loss went from minus one point two five to minus zero point seven five."),
        ("Margins were (-3.2%) last year.",
         "Margins were, minus three point two percent, last year."),
        ("A change of ±0.5 points is noise.",
         "A change of plus or minus zero point five points is noise."),
        ("Costs rose +$1.2M over plan.",
         "Costs rose plus one point two million dollars over plan."),
        ("It needs <5% overhead and >90% recall.",
         "It needs less than five percent overhead and more than ninety percent recall."),
        ("Keep the batch ≤32 and the rank ≥8.",
         "Keep the batch at most thirty-two and the rank at least eight."),
        ("Scores: -1, 0 and +1.",
         "Scores: minus one, zero and plus one."),
        ("Growth was −0.25% month on month.",
         "Growth was minus zero point two five percent month on month."),
    ],
    "number ranges": [
        ("Scaling from 1e21 to 1e24 FLOP.",
         "Scaling from ten to the twenty-one to ten to the twenty-four FLOP."),
        ("Joins on 1M+ rows.",
         "Joins on one million plus rows."),
        ("Teams of 10-20 people.",
         "Teams of ten to twenty people."),
        ("The score was 10–20 % higher.",
         "The score was ten to twenty percent higher."),
        ("Speedups of 1.2x-3x on GPUs.",
         "Speedups of one point two to three times on G P U's."),
        ("It took 5-10 minutes.",
         "It took five to ten minutes."),
        ("Budgets of 10k-20k dollars.",
         "Budgets of ten to twenty thousand dollars."),
        ("A 3-5B parameter model.",
         "A three to five billion parameter model."),
        ("Between 10 and 20, or between 30-40 each.",
         "Between ten and twenty, or between thirty and forty each."),
        ("The 2023-24 season.",
         "The twenty twenty-three to twenty-four season."),
        ("From 10%-20% of users.",
         "From ten to twenty percent of users."),
        ("Open 9am-5pm daily.",
         "Open nine a.m. to five p.m. daily."),
        ("The call runs 9:00-17:00 UTC.",
         "The call runs nine o'clock to seventeen hundred U T C."),
        ("It won 3-2 in the final.",
         "It won three to two in the final."),
        ("Pages 1,000–2,000 cover it.",
         "Pages one thousand to two thousand cover it."),
        ("Rated 4.5/5 by users.",
         "Rated four point five out of five by users."),
        ("Call 1-800-555-0199 now.",
         "Call one, eight zero zero, five five five, zero one nine nine now."),
    ],
    "date ranges": [
        ("Events between 2024-07-31 - 2024-08-28.",
         "Events between July thirty-first and August twenty-eighth, twenty twenty-four."),
        ("EuroPython: 2024-07-08 → 2024-07-14.",
         "EuroPython: July eighth to fourteenth, twenty twenty-four."),
        ("We meet Jan 5-7 in Berlin.",
         "We meet January fifth to seventh in Berlin."),
        ("The sprint is 2024-01-05 to 2024-01-07.",
         "The sprint is January fifth to seventh, twenty twenty-four."),
        ("The sprint is 2024-01-05–2024-01-07.",
         "The sprint is January fifth to seventh, twenty twenty-four."),
        ("The freeze runs 2024-12-30–2025-01-02.",
         "The freeze runs December thirtieth, twenty twenty-four to January second, twenty "
         "twenty-five."),
        ("Office hours Mon–Fri.",
         "Office hours Mon to Fri."),
        ("Closed Monday-Friday for the holidays.",
         "Closed Monday to Friday for the holidays."),
        ("The conference is 5–7 June 2024.",
         "The conference is the fifth to the seventh of June, twenty twenty-four."),
        ("From Jan 30 to Feb 2, 2024.",
         "From January thirtieth to February second, twenty twenty-four."),
        ("Results for Jan–Mar 2024 are in.",
         "Results for January to March twenty twenty-four are in."),
        ("Submissions Dec 1 – Jan 15.",
         "Submissions December first to January fifteenth."),
        ("Q1-Q3 revenue grew.",
         "Q one to Q three revenue grew."),
        ("Dec 31st–Jan 2nd.",
         "December thirty-first to January second."),
        ("Due 6.1.2024 in Berlin.",
         "Due the sixth of January, twenty twenty-four in Berlin."),
        ("Between 2024-01-28 and 2024-02-03.",
         "Between January twenty-eighth and February third, twenty twenty-four."),
    ],
    "hashes": [
        ("Fixed in a1b2c3d.",
         "Fixed in commit Eh one B two C three D."),
        ("See commit 1d52900 for the fix.",
         "See commit one D five two nine zero zero for the fix."),
        ("Changes in 1d52900..4f3e2a1 are small.",
         "Changes in commits one D five two nine zero zero to four F three E two Eh one are "
         "small."),
        ("The range 3f2a1b0...9e8d7c6 was reverted.",
         "The range commits three F two Eh one B zero to nine E eight D seven C six was reverted."),
        ("Reverted e3b0c44298fc1c149afbf4c8996fb92427ae41e4 yesterday.",
         "Reverted commit E three B zero C four four yesterday."),
        ("The commit deadbeef broke it.",
         "The commit D E Eh D B E E broke it."),
        ("Bisected to SHA 0a1b2c3d4.",
         "Bisected to SHA zero Eh one B two C three."),
        ("Commits 1d52900..4f3e2a1 landed.",
         "Commits one D five two nine zero zero to four F three E two Eh one landed."),
        ("Not a hash: 1234567 downloads.",
         "Not a hash: one million two hundred and thirty-four thousand five hundred and "
         "sixty-seven downloads."),
        ("Not a hash either: decade and facade.",
         "Not a hash either: decade and facade."),
    ],
    "versions": [
        ("Bevy 0.14 is out.",
         "Bevy zero point fourteen is out."),
        ("The 0.14 release adds this.",
         "The zero point fourteen release adds this."),
        ("Upgrade to 0.14.1 now.",
         "Upgrade to zero point fourteen point one now."),
        ("Try 0.14-rc.2 first.",
         "Try zero point fourteen R C two first."),
        ("We shipped v1.2.3-beta.1.",
         "We shipped version one point two point three beta one."),
        ("Rust 1.80.0 stabilises LazyCell.",
         "Rust one point eighty point zero stabilises LazyCell."),
        ("Rust 1.80 is here, and 1.80 brings LazyCell.",
         "Rust one point eighty is here, and one point eighty brings LazyCell."),
        ("Python 3.13.0rc1 and 3.13.0b2 are out.",
         "Python three point thirteen point zero R C one and three point thirteen point zero beta "
         "two are out."),
        ("Install `tokio` 1.38 today.",
         "Install tokio one point thirty-eight today."),
        ("Version 2.0-alpha is next.",
         "Version two point zero alpha is next."),
        ("The 1.x series ends.",
         "The one point x series ends."),
        ("Both v0.14 and 0.14.1 fix it; 0.14 was slow.",
         "Both version zero point fourteen and zero point fourteen point one fix it; zero point "
         "fourteen was slow."),
        ("Python 3.11/3.12 wheels.",
         "Python three point eleven or three point twelve wheels."),
        ("`1.80.0` is required.",
         "one point eighty point zero is required."),
        ("A p-value of 0.14 is weak.",
         "A p-value of zero point one four is weak."),
        ("Update to release 2.5.",
         "Update to release two point five."),
    ],
    "identifiers": [
        ("Latency fell from 250ms to 80ms.",
         "Latency fell from two hundred and fifty milliseconds to eighty milliseconds."),
        ("Benchmarks on RTX 4090 and H100 80GB.",
         "Benchmarks on RTX forty ninety and H one hundred eighty gigabytes."),
        ("Template strings are PEP 750.",
         "Template strings are PEP seven fifty."),
        ("See arXiv:2407.21783 for details.",
         "See arXiv twenty-four oh seven dot two one seven eight three for details."),
        ("It runs on i686 and aarch64.",
         "It runs on i six eighty-six and Eh arch sixty-four."),
        ("Targets x86_64 and x86-64 both work.",
         "Targets x eighty-six sixty-four and x eighty-six sixty-four both work."),
        ("A B2B and B2C platform.",
         "A B to B and B to C platform."),
        ("Fully P2P sync.",
         "Fully P to P sync."),
        ("E2E tests pass.",
         "E to E tests pass."),
        ("3D and 4K video.",
         "three D and four K video."),
        ("Trained on 8 H100s and an A100.",
         "Trained on eight H one hundreds and an Eh one hundred."),
        ("GPT-4o beats GPT-4.",
         "G P T four o beats G P T four."),
        ("Llama-3.1-8B and Qwen2.5-72B-Instruct.",
         "Llama three point one eight B and Qwen two point five seventy-two B Instruct."),
        ("COVID-19 slowed things.",
         "COVID nineteen slowed things."),
        ("Mixtral 8x7B runs at 1920x1080.",
         "Mixtral eight by seven B runs at nineteen twenty by ten eighty."),
        ("The RTX4090 is fast.",
         "The RTX forty ninety is fast."),
        ("Support for i18n and a11y.",
         "Support for i eighteen n and Eh eleven y."),
        ("A 16K context and an 8B model.",
         "A sixteen thousand context and an eight billion model."),
        ("The CVE-2024-3094 backdoor.",
         "The CVE twenty twenty-four thirty ninety-four backdoor."),
        ("Built for arm64 and wasm32.",
         "Built for arm sixty-four and wasm thirty-two."),
        ("Dates use ISO-8601.",
         "Dates use ISO eighty-six oh one."),
    ],
    "slashes": [
        ("We trained 7B/13B/70B models.",
         "We trained seven billion, thirteen billion or seventy billion models."),
        ("Ask on r/rust or r/MachineLearning.",
         "Ask on r slash rust or r slash MachineLearning."),
        ("Supports f16/f32/f64.",
         "Supports f sixteen, f thirty-two or f sixty-four."),
        ("Limits of 120 km/h here.",
         "Limits of one hundred and twenty kilometers per hour here."),
        ("Throughput is 50 tokens/s.",
         "Throughput is fifty tokens per second."),
        ("Reads at 10 MB/s.",
         "Reads at ten megabytes per second."),
        ("Only $20/month.",
         "Only twenty dollars per month."),
        ("Disk I/O is slow.",
         "Disk I O is slow."),
        ("The TCP/IP stack.",
         "The TCP IP stack."),
        ("AI/ML folks agree.",
         "Eh I or M L folks agree."),
        ("A CI/CD pipeline.",
         "A CI CD pipeline."),
        ("Run an A/B test.",
         "Run an Eh B test."),
        ("They live in Rheinland/Pfalz.",
         "They live in Rheinland or Pfalz."),
        ("Windows/macOS/Linux builds.",
         "Windows, macOS or Linux builds."),
        ("Rates are n/a for now.",
         "Rates are not applicable for now."),
        ("Open 24/7.",
         "Open twenty-four seven."),
        ("Use read/write access.",
         "Use read or write access."),
    ],
    "handles": [
        ("H/T @jack@sigmoid.social for the tip.",
         "Hat tip jack at sigmoid dot social for the tip."),
        ("Follow @rustlang for news.",
         "Follow rustlang for news."),
        ("Ping @user@mastodon.social.",
         "Ping user at mastodon dot social."),
        ("She posts as @someone.bsky.social now.",
         "She posts as someone dot bsky dot social now."),
        ("Thanks to @some_dev and @alice!",
         "Thanks to some underscore dev and alice!"),
        ("By @jane@fosstodon.org, via @bob.",
         "By jane at fosstodon dot org, via bob."),
        ("Email hello@example.org or ping @hello.",
         "Email hello at example dot org or ping hello."),
        ("Cc @rust-lang/compiler.",
         "Cc rust-lang slash compiler."),
    ],
    "code": [
        ("Use `std::sync::Arc` here.",
         "Use S T D sync Arc here."),
        ("Call `os.path.join` instead.",
         "Call os dot path dot join instead."),
        ("The `with_linkage` attribute.",
         "The with linkage attribute."),
        ("Edit `src/main.rs`.",
         "Edit S R C slash main dot R S."),
        ("Override `__init__` in the class.",
         "Override dunder init in the class."),
        ("Use `torch.nn.Module`.",
         "Use torch dot N N dot Module."),
        ("The `#[derive(Debug)]` attribute.",
         "The derive Debug attribute."),
        ("A `Vec<String>` is returned.",
         "A Vec String is returned."),
        ("Set `RUST_LOG=debug` first.",
         "Set RUST LOG equals debug first."),
        ("Call `foo()` then `bar.baz()`.",
         "Call foo then bar dot baz."),
        ("Use std::sync::Arc in prose.",
         "Use S T D sync Arc in prose."),
        ("See ./scripts/setup.sh for details.",
         "See dot slash scripts slash setup dot S H for details."),
        ("Logs go to /var/log/app.",
         "Logs go to slash var slash log slash app."),
        ("The `_private` helper.",
         "The underscore private helper."),
        ("Read `Cargo.toml` and `.env`.",
         "Read Cargo dot toml and dot env."),
    ],
    "flags": [
        ("Run `pip install -e .[dev]` first.",
         "Run pip install dash e dot dev first."),
        ("Run `cargo build --release`.",
         "Run cargo build dash dash release."),
        ("Pass `--dry-run` first.",
         "Pass dash dash dry-run first."),
        ("Use `-j2` to limit jobs.",
         "Use dash j two to limit jobs."),
        ("Run `$ npm install --save-dev eslint`.",
         "Run N P M install dash dash save-dev eslint."),
        ("The flag --verbose prints more.",
         "The flag dash dash verbose prints more."),
        ("Try `pip install -U pip`.",
         "Try pip install dash U pip."),
        ("Use `--jobs=4` on CI.",
         "Use dash dash jobs equals four on CI."),
        ("Pass -v for more.",
         "Pass dash v for more."),
    ],
    "issues": [
        ("Fixes #1234.",
         "Fixes number one thousand two hundred and thirty-four."),
        ("Merged PR #56.",
         "Merged PR fifty-six."),
        ("See rust-lang/rust#12345.",
         "See rust number twelve thousand three hundred and forty-five."),
        ("Tracked in GH-12.",
         "Tracked in GitHub issue twelve."),
        ("Issues #12 and #13 are closed.",
         "Issues twelve and number thirteen are closed."),
        ("Closes issue #2023.",
         "Closes issue two thousand and twenty-three."),
        ("Ranked #1 again.",
         "Ranked number one again."),
        ("See PR#7.",
         "See PR seven."),
    ],
    "emoji": [
        ("Great news 🎉!",
         "Great news!"),
        ("🚀 New release",
         "New release"),
        ("It works 👍🏽.",
         "It works."),
        ("Love it ❤️❤️❤️",
         "Love it"),
        ("Ferris 🦀 says hi.",
         "Ferris says hi."),
        ("Step 1️⃣ is easy.",
         "Step one is easy."),
    ],
    "entities": [
        ("Tom &amp; Jerry.",
         "Tom and Jerry."),
        ("a &lt; b and c &gt; d",
         "a less than b and c greater than d"),
        ("Price:&nbsp;$5.",
         "Price: five dollars."),
        ("Then&mdash;suddenly&mdash;nothing.",
         "Then, suddenly, nothing."),
        ("It&#8217;s done.",
         "It’s done."),
        ("&quot;Quoted&quot; text.",
         "\"Quoted\" text."),
        ("Wait&hellip; what?",
         "Wait, what?"),
        ("Q&amp;A at 5pm.",
         "Q and Eh at five p.m."),
        ("Up &rarr; down.",
         "Up to down."),
    ],
    "line breaks": [
        ("First line\nSecond line",
         "First line. Second line"),
        ("Trained by\nOpenAI and others.",
         "Trained by OpenAI and others."),
        ("This wraps\nacross two lines.",
         "This wraps across two lines."),
        ("Ends here:\nNext item",
         "Ends here: Next item"),
        ("Hard break  \nAfter spaces",
         "Hard break. After spaces"),
        ("Hard\\\nBackslash",
         "Hard. Backslash"),
        ("New crates\n🦀 Serde 2",
         "New crates. Serde two"),
        ("Trained on\n8 GPUs.",
         "Trained on eight G P U's."),
        ("It grew 12%\nSome other news",
         "It grew twelve percent. Some other news"),
        ("Windows line end\r\nNext line",
         "Windows line end. Next line"),
    ],
    "inline html": [
        ("Some <small>small print</small> here.",
         "Some small print here."),
        ("One<br>Two",
         "One. Two"),
        ("Line<br/>break",
         "Line. break"),
        ("A claim<sup>1</sup> with a note.",
         "A claim with a note."),
        ("A <kbd>Ctrl</kbd>+<kbd>C</kbd> copy.",
         "A Ctrl plus C copy."),
        ("<code>git push</code> it.",
         "git push it."),
        ("An <em>important</em> point.",
         "An important point."),
        ("Hidden <!-- todo --> comment.",
         "Hidden comment."),
        ("<span class=\"x\">Styled</span> text.",
         "Styled text."),
    ],
    "links": [
        ("Full report [here](https://example.com/report).",
         "Full report in the show notes."),
        ("Read [this](https://lesswrong.com/posts/x) for more.",
         "Read this in the show notes for more."),
        ("Details at [this link](https://example.org/a).",
         "Details at this link in the show notes."),
        ("[Here](https://example.com) is the paper.",
         "In the show notes is the paper."),
        ("See the [link](https://x.com/a/status/1).",
         "See the link in the show notes."),
        ("Read [the full paper](https://arxiv.org/abs/2301.01234).",
         "Read the full paper."),
        ("Slides <a href=\"https://example.com/s\">here</a>.",
         "Slides in the show notes."),
        ("Full report here.",
         "Full report here."),
        ("Sign up [here](https://forms.gle/abc \"Form\").",
         "Sign up in the show notes."),
        ("Thread [here][1] and notes.",
         "Thread in the show notes and notes."),
        ("A [link](https://example.com) and [another](https://example.org).",
         "A link in the show notes and another."),
    ],
}

# (setting, as written, as read): each producer's choice away from its default
SETTING_CASES: list[tuple[dict[str, object], str, str]] = [
    ({"emoji": "name"}, "Great news 🎉!",
     "Great news party popper!"),
    ({"emoji": "name"}, "🚀 New release",
     "rocket New release"),
    ({"emoji": "name"}, "It works 👍🏽.",
     "It works thumbs up."),
    ({"emoji": "name"}, "Love it ❤️❤️❤️",
     "Love it red heart"),
    ({"emoji": "name"}, "Ferris 🦀 says hi.",
     "Ferris crab says hi."),
    ({"emoji": "name"}, "Step 1️⃣ is easy.",
     "Step one is easy."),
    ({"slash": "and"}, "Supports f16/f32/f64.",
     "Supports f sixteen, f thirty-two and f sixty-four."),
    ({"slash": "and"}, "AI/ML folks agree.",
     "Eh I and M L folks agree."),
    ({"slash": "and"}, "Python 3.11/3.12 wheels.",
     "Python three point eleven and three point twelve wheels."),
    ({"slash": "slash"}, "Supports f16/f32/f64.",
     "Supports f sixteen slash f thirty-two slash f sixty-four."),
    ({"slash": "slash"}, "They live in Rheinland/Pfalz.",
     "They live in Rheinland slash Pfalz."),
    ({"slash": "slash"}, "Disk I/O is slow.",
     "Disk I O is slow."),
    ({"link_here": "on {site}"}, "Full report [here](https://www.lesswrong.com/posts/x).",
     "Full report on Less Wrong."),
    ({"link_here": "on {site}"}, "Read [this](https://example.org/a) for more.",
     "Read this on example for more."),
    ({"link_here": "on {site}"}, "Slides [here](/slides.pdf).",
     "Slides in the show notes."),
    ({"link_here": "in the description"}, "Full report [here](https://example.com/report).",
     "Full report in the description."),
    ({"hash_length": 4}, "Fixed in a1b2c3d.",
     "Fixed in commit Eh one B two."),
    ({"hash_length": 4}, "Changes in 1d52900..4f3e2a1 are small.",
     "Changes in commits one D five two to four F three E are small."),
    ({"hash_length": 12}, "Reverted e3b0c44298fc1c149afbf4c8996fb92427ae41e4 yesterday.",
     "Reverted commit E three B zero C four four two nine eight F C yesterday."),
]

LEXICON_CASES: list[tuple[str, str]] = [
    ("They live in Rheinland/Pfalz.",
     "They live in Rheinland-Pfalz."),
    ("Supports f16/f32/f64.",
     "Supports float sixteen, f thirty-two or f sixty-four."),
    ("Office hours Mon–Fri.",
     "Office hours Monday to Friday."),
    ("Ask on r/rust.",
     "Ask on the Rust subreddit."),
    ("She posts as @someone.bsky.social now.",
     "She posts as someone dot Bluesky dot social now."),
    ("It runs on i686.",
     "It runs on i six eighty six."),
    ("Use `std::sync::Arc` here.",
     "Use standard sync Arc here."),
    ("The TCP/IP stack.",
     "The T C P over I P stack."),
    ("See commit 1d52900 for the fix.",
     "See commit one D five two for the fix."),
    ("A B2B platform.",
     "A business to business platform."),
]

TABLE = [(kind, n, text, spoken) for kind, rows in CASES.items()
         for n, (text, spoken) in enumerate(rows)]


@pytest.mark.parametrize("text, spoken", [(t, s) for _, _, t, s in TABLE],
                         ids=[f"{kind}-{n:02d}" for kind, n, _, _ in TABLE])
def test_reading(text: str, spoken: str) -> None:
    assert to_spoken(text, LEXICON) == spoken


def test_the_table_has_every_kind_and_120_cases() -> None:
    assert len(TABLE) >= 120
    assert {kind: len(rows) for kind, rows in CASES.items() if len(rows) < 5} == {}
    assert len(CASES) == 16


@pytest.mark.parametrize("choice, text, spoken", SETTING_CASES,
                         ids=[f"{next(iter(c))}-{n:02d}" for n, (c, _, _) in
                              enumerate(SETTING_CASES)])
def test_a_producers_setting(choice: dict[str, object], text: str, spoken: str) -> None:
    assert to_spoken(text, LEXICON, SpokenSettings(**choice)) == spoken


def test_the_defaults_are_the_table() -> None:
    text, spoken = CASES["links"][0]
    assert to_spoken(text, LEXICON, SpokenSettings()) == spoken == to_spoken(text, LEXICON)


# The producer's lexicon beats every technical reading: whole terms with a slash, a digit
# or a hash in them, and names inside code.
TECH_LEXICON = Lexicon(dict(LEXICON.entries) | {
    "Rheinland/Pfalz": "Rheinland-Pfalz", "f16": "float sixteen", "Mon": "Monday",
    "Fri": "Friday", "r/rust": "the Rust subreddit", "bsky": "Bluesky",
    "i686": "i six eighty six", "std": "standard", "TCP/IP": "T C P over I P",
    "1d52900": "one D five two", "B2B": "business to business",
})


@pytest.mark.parametrize("text, spoken", LEXICON_CASES)
def test_the_lexicon_wins(text: str, spoken: str) -> None:
    assert to_spoken(text, TECH_LEXICON) == spoken


# --- versions named elsewhere in the issue ----------------------------------------------

def test_versions_in_finds_what_the_text_marks_as_versions() -> None:
    text = ("Bevy 0.14 is out; v0.15 and the 0.16 release; `tokio` 1.38; Python 3.11/3.12; "
            "try 0.17-rc.1. About 2.5 hours, 0.05 of them idle; 1.80.0 has three parts.")
    assert versions_in(text) == {"0.14", "0.15", "0.16", "1.38", "3.11", "3.12", "0.17"}


def test_a_version_named_in_another_block_is_read_the_same_way() -> None:
    issue = ["Bevy 0.14 is out.", "0.14 brings a faster renderer."]
    known = set().union(*(versions_in(block) for block in issue))
    said = [to_spoken(block, LEXICON, versions=known) for block in issue]
    assert said == ["Bevy zero point fourteen is out.",
                    "zero point fourteen brings a faster renderer."]
    assert to_spoken(issue[1], LEXICON) == "zero point one four brings a faster renderer."


# --- settings -------------------------------------------------------------------------

def test_the_spoken_table_of_show_toml() -> None:
    data = {"show": {"title": "T", "author": "A", "owner_name": "O"},
            "spoken": {"emoji": "name", "slash": "and", "link_here": "on {site}",
                       "hash_length": 4}}
    spoken = validate_settings(data, "show.toml").spoken
    assert spoken == SpokenSettings(emoji="name", slash="and", link_here="on {site}",
                                    hash_length=4)
    defaults = validate_settings({"show": data["show"]}, "show.toml").spoken
    assert defaults == SpokenSettings()


@pytest.mark.parametrize("spoken, message", [
    ({"emojis": "name"}, "unknown setting 'spoken.emojis'"),
    ({"emoji": "say"}, "setting 'spoken.emoji'"),
    ({"slash": "per"}, "setting 'spoken.slash'"),
    ({"hash_length": 0}, "setting 'spoken.hash_length'"),
])
def test_a_wrong_spoken_setting_is_named(spoken: dict[str, object], message: str) -> None:
    data = {"show": {"title": "T", "author": "A", "owner_name": "O"}, "spoken": spoken}
    with pytest.raises(PipelineError, match=message):
        validate_settings(data, "show.toml")


# --- the guarantees -------------------------------------------------------------------

_CHOICES = [SpokenSettings(), SpokenSettings(emoji="name", slash="slash", hash_length=40,
                                             link_here="on {site}")]


@pytest.mark.parametrize("settings", _CHOICES, ids=["defaults", "every-other-choice"])
def test_every_input_is_clean(settings: SpokenSettings) -> None:
    inputs = [t for _, _, t, _ in TABLE] + [t for _, t, _ in SETTING_CASES]
    found = {t: problems(to_spoken(t, LEXICON, settings)) for t in inputs}
    assert {t: p for t, p in found.items() if p} == {}


_FRAGMENTS = [
    "-0.5%", "+12%", "−3", "±0.5", "<5%", "≥8", "10-20", "10–20 %", "1.2x-3x", "3-5B",
    "9am-5pm", "9:00-17:00", "Jan 5-7", "2024-01-05 to 2024-01-07", "5–7 June", "Mon–Fri",
    "Jan–Mar", "a1b2c3d", "1d52900..4f3e2a1", "commit deadbeef", "0.14", "0.14.1",
    "0.14-rc.2", "v1.2.3-beta.1", "1.80.0", "3.13.0rc1", "1.x", "Bevy 0.14", "i686",
    "aarch64", "x86_64", "B2B", "P2P", "3D", "4K", "H100s", "GPT-4o", "Llama-3.1-8B",
    "COVID-19", "8x7B", "1920x1080", "r/rust", "f16/f32/f64", "km/h", "tokens/s", "I/O",
    "TCP/IP", "24/7", "Rheinland/Pfalz", "4.5/5", "@user", "@user@mastodon.social",
    "@someone.bsky.social", "@org/team", "`std::sync::Arc`", "`os.path.join`",
    "`with_linkage`", "`src/main.rs`", "`__init__`", "`--dry-run`", "`-j2`",
    "`cargo build --release`", "`Vec<T>`", "`#[derive(Debug)]`", "--verbose", "-v",
    "std::io", "./a/b.sh", "/usr/bin", "#1234", "PR #56", "rust-lang/rust#12345", "GH-12",
    "🎉", "👍🏽", "1️⃣", "🇺🇸", "&amp;", "&lt;", "&nbsp;", "&mdash;", "&#8217;", "&quot;",
    "\n", "  \n", "<small>", "</small>", "<br>", "<sup>1</sup>", "<code>x</code>",
    "[here](https://example.com)", "[this](https://example.org/a)", "[link](/x)",
    "[a](b)", "[here][1]", "[^1]", "1-800-555-0199", "6.1.2024", "`", "``", "<", ">", "&",
    "/", "@", "#", "-", "--", "_", "::", "..", "...", "the", "model", "GPU", "AI",
]


def test_mixtures_of_technical_fragments_are_clean() -> None:
    rng = random.Random(12)
    found = {}
    for n in range(1500):
        glue = rng.choice([" ", "", " ", "\n"])
        text = glue.join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(1, 8)))
        if bad := problems(to_spoken(text, LEXICON, _CHOICES[n % 2])):
            found[text] = bad
    assert found == {}


def test_the_same_text_always_reads_the_same() -> None:
    inputs = [t for _, _, t, _ in TABLE]
    assert [to_spoken(t, LEXICON) for t in inputs] == [to_spoken(t, LEXICON) for t in inputs]


def test_twenty_thousand_display_words_one_by_one_are_quick() -> None:
    """The captions stage reads each display word on its own, through a lexicon of
    "word" entries only."""
    words = " ".join(t for _, _, t, _ in TABLE).split()
    words = (words * (20_000 // len(words) + 1))[:20_000]
    captions_lexicon = Lexicon({"ROME": "word", "CLIP": "word"})
    start = time.perf_counter()
    said = [to_spoken(word, captions_lexicon) for word in words]
    assert time.perf_counter() - start < 10
    assert [w for w, s in zip(words, said, strict=True) if problems(s)] == []
