"""The producer's own readings: `episodes/<slug>/recordings/`, one file per section, named
by the section's number (`1.wav`, `01.m4a`) or id (`mechanistic-interpretability.flac`),
in any format ffmpeg reads.

A recording is decoded once, at its own rate, channels and precision, into a pydub
AudioSegment; pydub trims its silent edges, the source samples are searched for clipping,
and what a producer needs to know comes back as a formats.Recording."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydub import AudioSegment
from pydub.silence import detect_leading_silence

from pipeline.errors import PipelineError
from pipeline.formats import Recording, Section
from pipeline.media.audio import decode_pcm, resample

RERECORD = "export it again as WAV or FLAC, or remove it to synthesise that section"
FULL_SCALE = 2**31  # decode_pcm's samples are 32-bit
# pydub measures edges by the RMS of 10 ms chunks: unlike a peak, RMS stays under the
# threshold on a room's noise floor (about -60 dBFS RMS, peaks near -45) and on a click.
TRIM_DB = -50.0
TRIM_CHUNK_MS = 10
# kept beyond the first and last loud chunk: a chunk of granularity and the soft attack or
# decay of a phoneme (the voice's last sample above -70 dBFS lies 47 ms past its last chunk)
TRIM_KEEP_MS = 50
CLIP_LEVEL = 1 - 2**-14  # within two 16-bit steps of full scale
CLIP_RUN = 3  # consecutive samples at full scale: a clip, not a peak that happens to touch it
FIRST_CLIPS = 5  # how many clip times a report lists


@dataclass(frozen=True)
class Clipping:
    samples: int
    runs: int
    longest: int
    first: tuple[float, ...]


def match_section(stem: str, sections: list[Section]) -> str | None:
    """The id of the section a file stem names, by number (ASCII digits: str.isdigit() also
    takes `²`, which int() refuses, and `١`, which it reads as 1) or id."""
    number = int(stem) if stem.isascii() and stem.isdigit() else None
    for section in sections:
        if stem == section.id or number == section.index:
            return section.id
    return None


def find_recordings(folder: Path, sections: list[Section]) -> dict[str, Path]:
    """section id -> recording; a file naming no section, or two for one, is an error."""
    if not folder.is_dir():
        return {}
    found: dict[str, Path] = {}
    names = ", ".join(f"{s.index} or {s.id}" for s in sections)
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if path.name.startswith("."):
            continue
        section = match_section(path.stem, sections)
        if section is None:
            raise PipelineError("this recording names no section", path,
                                f"name it by a section's number or id: {names}")
        if section in found:
            raise PipelineError(f"two recordings for section '{section}' (also {found[section]})",
                                path, "keep one")
        found[section] = path
    return found


def import_recording(path: Path, section: str,
                     rate: int) -> tuple[np.ndarray, Recording]:
    """A recording as mono float32 at `rate` with its silent edges trimmed, and its report.
    Clipping is reported, not refused; a silent recording is an error."""
    pcm, source_rate = decode_pcm(path, RERECORD)
    sound = AudioSegment(pcm.tobytes(), sample_width=4, frame_rate=source_rate,
                         channels=pcm.shape[1])
    start, end = speech_span(sound)
    if end <= start:
        raise PipelineError(f"the recording is silent: no {TRIM_CHUNK_MS} ms of it is louder "
                            f"than {TRIM_DB:.0f} dBFS", path,
                            "check the microphone level and record it again, or remove it")
    report = make_report(path.name, section, pcm, source_rate, (start, end), sound.max_dBFS)
    audio = mono(sound.get_sample_slice(start, end))
    return resample(audio, source_rate, rate), report


def mono(sound: AudioSegment) -> np.ndarray:
    """The channels' mean as float32: pydub's C mixdown for two channels (2.4x numpy's speed);
    numpy past two, where pydub loops in Python (30x slower)."""
    if sound.channels <= 2:
        pcm = np.frombuffer(sound.set_channels(1).raw_data, "<i4")
    else:
        pcm = np.frombuffer(sound.raw_data, "<i4").reshape(-1, sound.channels).mean(axis=1)
    return (pcm / FULL_SCALE).astype(np.float32)


def speech_span(sound: AudioSegment) -> tuple[int, int]:
    """The frames to keep: the edges quieter than TRIM_DB cut, TRIM_KEEP_MS left on each side;
    (0, 0) when nothing is louder."""
    lead = detect_leading_silence(sound, TRIM_DB, TRIM_CHUNK_MS)
    if lead >= len(sound):
        return 0, 0
    trail = detect_leading_silence(sound.reverse(), TRIM_DB, TRIM_CHUNK_MS)
    frames = int(sound.frame_count())

    def to_frames(ms: int) -> int:
        return min(frames, max(0, ms) * sound.frame_rate // 1000)

    return to_frames(lead - TRIM_KEEP_MS), frames - to_frames(trail - TRIM_KEEP_MS)


def find_clipping(pcm: np.ndarray, rate: int) -> Clipping:
    """Runs of at least CLIP_RUN consecutive samples at full scale, in every channel."""
    level = int(CLIP_LEVEL * FULL_SCALE)
    starts, lengths = [], []
    for channel in pcm.T:
        first, length = runs((channel >= level) | (channel <= -level))
        starts.append(first[length >= CLIP_RUN])
        lengths.append(length[length >= CLIP_RUN])
    first, length = np.concatenate(starts), np.concatenate(lengths)
    times = tuple(round(float(t) / rate, 3) for t in np.sort(first)[:FIRST_CLIPS])
    return Clipping(int(length.sum()), len(length), int(length.max(initial=0)), times)


def runs(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each run of True starts, and how long it is."""
    edges = np.diff(flags.astype(np.int8), prepend=0, append=0)
    first = np.flatnonzero(edges == 1)
    return first, np.flatnonzero(edges == -1) - first


def make_report(name: str, section: str, pcm: np.ndarray, rate: int, span: tuple[int, int],
                peak_dbfs: float) -> Recording:
    clean = 10 ** (peak_dbfs / 20) < CLIP_LEVEL
    clip = Clipping(0, 0, 0, ()) if clean else find_clipping(pcm, rate)
    start, end = span
    seconds, kept = len(pcm) / rate, (end - start) / rate
    return Recording(
        file=name, section=section, seconds=round(seconds, 3), kept_seconds=round(kept, 3),
        trimmed_start=round(start / rate, 3), trimmed_end=round((len(pcm) - end) / rate, 3),
        peak_dbfs=round(peak_dbfs, 2), clipped_samples=clip.samples, clipped_runs=clip.runs,
        longest_run=clip.longest, first_clips=list(clip.first),
        verdict=verdict(peak_dbfs, clip, seconds, kept))


def verdict(peak_dbfs: float, clip: Clipping, seconds: float, kept: float) -> str:
    if clip.runs:
        return (f"clipped: {clip.runs} runs, {clip.samples} samples (longest {clip.longest}), "
                f"the first at {clip.first[0]:.2f} s; record it again with less input gain, "
                "or accept it")
    return (f"ok: peak {peak_dbfs:.1f} dBFS, no clipping; {kept:.1f} s kept of {seconds:.1f} s")
