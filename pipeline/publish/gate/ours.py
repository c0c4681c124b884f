"""Our own targets, read from the files that leave: the loudness of the MP3, its chapters,
the caption style rules and the chapters inside the MP4."""

from __future__ import annotations

from collections.abc import Iterator

from pipeline.formats import Chapters
from pipeline.publish.gate.core import Problem, error, rule, warning
from pipeline.publish.gate.package import Package
from pipeline.publish.placeholders import SHOW_FILE
from pipeline.speech.cues import violations

LOUDNESS_SLACK = 1.0  # LU either side of the target
PEAK_SLACK = 0.5  # dB over the ceiling an MP3 encode may add


@rule("Ours", "loudness", "podcast")
def loudness(pkg: Package) -> Iterator[Problem]:
    audio = pkg.episode.settings.audio
    where = pkg.rel(pkg.built("episode.mp3"))
    fix = f"rebuild it: make master EP={pkg.episode.slug} (targets: [audio] in {SHOW_FILE})"
    integrated, peak = pkg.loudness
    if abs(integrated - audio.loudness_lufs) > LOUDNESS_SLACK:
        yield error(f"the audio is {integrated:.1f} LUFS, the target {audio.loudness_lufs:g}",
                    fix, where)
    if peak > audio.true_peak_db + PEAK_SLACK:
        yield error(f"the true peak is {peak:.1f} dBTP, over the {audio.true_peak_db:g} ceiling",
                    fix, where)


@rule("Ours", "MP3 chapters", "podcast")
def mp3_chapters(pkg: Package) -> Iterator[Problem]:
    info = pkg.probe("episode.mp3")
    where, fix = pkg.rel(pkg.built("episode.mp3")), f"rebuild it: make master EP={pkg.episode.slug}"
    starts = [float(c["start_time"]) for c in info.get("chapters", [])]
    expected = Chapters.read(pkg.episode.build).chapters
    if len(starts) != len(expected):
        yield error(f"the MP3 has {len(starts)} chapters, chapters.json {len(expected)}",
                    fix, where)
    if starts != sorted(starts):
        yield error("the MP3's chapter frames are not in time order: apps that read them in "
                    "file order list them scrambled", fix, where)


@rule("Ours", "caption style", "youtube")
def caption_style(pkg: Package) -> Iterator[Problem]:
    path = pkg.built("captions.vtt")
    broken = violations(pkg.cues(path))  # a file that does not parse: the caption file rule
    if broken:
        more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
        yield warning(f"{broken[0]}{more}", f"rebuild them: make captions "
                      f"EP={pkg.episode.slug}", pkg.rel(path))


@rule("Ours", "MP4 chapters", "youtube")
def mp4_chapters(pkg: Package) -> Iterator[Problem]:
    info = pkg.probe("video.mp4")
    where = pkg.rel(pkg.built("video.mp4"))
    chapters = [(float(c["start_time"]), float(c["end_time"])) for c in info.get("chapters", [])]
    if [s for s, _ in chapters] != sorted(s for s, _ in chapters):
        yield error("the MP4's chapters are not in time order",
                    f"rebuild it: make video EP={pkg.episode.slug}", where)
    if any(end - start < 0.5 for start, end in chapters):
        yield error("the MP4 has a chapter shorter than half a second",
                    f"rebuild it: make video EP={pkg.episode.slug}", where)
