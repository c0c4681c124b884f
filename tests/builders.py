"""Stage files for tests, built as the typed models the stages exchange (pipeline.formats),
so a fixture can never drift from what a stage really reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from pipeline.formats import (
    QA,
    EpisodeInfo,
    HeardDifferently,
    Link,
    Missed,
    Script,
    Section,
    Segment,
    ShowInfo,
    Stretch,
    TimedSection,
    TimedSegment,
    Timeline,
)

SHOW = ShowInfo(title="ML & AI Safety Updates", author="Apart Research", language="en")


def _section_of(segment_id: str) -> str:
    return segment_id.split("/")[0]


def _kind_of(segment_id: str) -> str:
    return segment_id.split("/")[-1].rsplit("-", 1)[0]


def _section_kind(section: str) -> str:
    return section if section in ("intro", "outro") else "body"


def segment(sid: str, display: str, spoken: str | None = None, section_index: int = 1,
            links: Iterable[tuple[str, str]] = (), items: Sequence[str] = ()) -> Segment:
    """A script segment; its kind and section come from its id (`robots/paragraph-2`)."""
    return Segment(id=sid, kind=_kind_of(sid), section=_section_of(sid),
                   section_index=section_index, display=display,
                   spoken=display if spoken is None else spoken,
                   links=[Link(text=t, url=u) for t, u in links], items=list(items))


def sections_of(segments: Sequence[Segment | TimedSegment],
                titles: dict[str, str] | None = None) -> list[Section]:
    """One section per section id, in order, titled from `titles` or the id."""
    ids = list(dict.fromkeys(s.section for s in segments))
    titles = titles or {}
    return [Section(index=n, id=sid, title=titles.get(sid, sid.replace("-", " ").capitalize()),
                    kind=_section_kind(sid)) for n, sid in enumerate(ids)]


def numbered(segments: Sequence[Segment]) -> list[Segment]:
    """The segments with `section_index` set from the order their sections appear in."""
    order = list(dict.fromkeys(s.section for s in segments))
    return [s.model_copy(update={"section_index": order.index(s.section)}) for s in segments]


def script(segments: Sequence[Segment], titles: dict[str, str] | None = None,
           title: str = "Test Issue", slug: str = "2024-05-17-test-issue", number: int = 3,
           summary: str = "A short test issue.", show: ShowInfo = SHOW) -> Script:
    info = EpisodeInfo(slug=slug, title=title, number=number,
                       date=dt.date.fromisoformat(slug[:10]), summary=summary)
    return Script(episode=info, show=show, sections=sections_of(segments, titles),
                  segments=list(segments))


def timed(sid: str, start: float, end: float, section_index: int = 1, cached: bool = True,
          source: str = "hibari") -> TimedSegment:
    return TimedSegment(id=sid, section=_section_of(sid), section_index=section_index,
                        kind=_kind_of(sid), start=start, end=end, cached=cached, source=source)


def section_times(segments: Sequence[TimedSegment], duration: float,
                  titles: dict[str, str] | None = None) -> list[TimedSection]:
    """Each section from its first segment's start (0 for the first) to the next one's."""
    firsts: dict[str, float] = {}
    for s in segments:
        firsts.setdefault(s.section, s.start)
    ids = list(firsts)
    starts = [0.0] + [firsts[i] for i in ids[1:]]
    ends = starts[1:] + [duration]
    titles = titles or {}
    return [TimedSection(id=i, index=n, title=titles.get(i, i.replace("-", " ").capitalize()),
                         start=a, end=b)
            for n, (i, a, b) in enumerate(zip(ids, starts, ends, strict=True))]


def timeline(segments: Sequence[TimedSegment], duration: float,
             sections: Sequence[TimedSection] | None = None, offset: float = 0.5,
             titles: dict[str, str] | None = None) -> Timeline:
    return Timeline(duration=duration, narration_offset=offset, segments=list(segments),
                    sections=list(sections or section_times(segments, duration, titles)))


def heard(display: str, said: str, segment_id: str, start: float = 1.0,
          expected: str | None = None) -> HeardDifferently:
    return HeardDifferently(segment=segment_id, display=display,
                            expected=display.lower() if expected is None else expected,
                            heard=said, start=start)


def missed(display: str, segment_id: str, expected: str | None = None) -> Missed:
    return Missed(segment=segment_id, display=display,
                  expected=display.lower() if expected is None else expected)


def qa(heard_differently: Sequence[HeardDifferently] = (), missed_words: Sequence[Missed] = (),
       stretches: Sequence[Stretch] = (), **fields: object) -> QA:
    """A qa.json with the given flags and plausible figures for the rest."""
    values: dict[str, object] = {
        "model": "tiny.en", "backend": "openai-whisper", "device": "cpu",
        "seconds_per_audio_second": 0.15, "raw_wer": 0.05, "corrected_wer": 0.0,
        "segments": [], "lexicon_candidates": [], "dropped_count": 0, "dropped": [],
        "non_speech": [], "cues": 0, "cue_rule_violations": [], "notes": []}
    values.update(fields)
    return QA(heard_differently=list(heard_differently), missed=list(missed_words),
              flagged_stretches=list(stretches), **values)
