"""What ffmpeg's loudness filters print on stderr, parsed: ebur128's frame log and summary
(EBU R128 / ITU-R BS.1770), and the JSON block loudnorm prints with print_format=json."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from pipeline.errors import PipelineError

FRAME_RE = re.compile(r"\bt:\s*([\d.]+)\s+TARGET:\S+\s+LUFS\s+M:\s*(\S+)\s+S:\s*(\S+)")
SUMMARY_RE = {
    "integrated": re.compile(r"^\s*I:\s*(\S+)\s+LUFS", re.M),
    "range": re.compile(r"^\s*LRA:\s*(\S+)\s+LU\b", re.M),
    "true_peak": re.compile(r"^\s*Peak:\s*(\S+)\s+dBFS", re.M),
}


@dataclass(frozen=True)
class Loudness:
    """What ebur128 measured: per-100 ms momentary and short-term loudness and the summary
    (None where a figure is missing or not finite, as the true peak of silence)."""

    times: list[float]
    momentary: list[float]
    short_term: list[float]
    integrated: float | None
    range: float | None
    true_peak: float | None


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def ebur128_summary(stderr: str) -> dict[str, float]:
    """The figures of the last summary ebur128 printed, as printed (-inf stays -inf):
    `integrated` LUFS, `range` LU, `true_peak` dBFS; a figure not printed is left out."""
    summary = stderr.rsplit("Summary:", 1)[1] if "Summary:" in stderr else ""
    figures = {}
    for key, pattern in SUMMARY_RE.items():
        match = pattern.search(summary)
        if match and (value := _float(match.group(1))) is not None:
            figures[key] = value
    return figures


def parse_ebur128(stderr: str) -> Loudness:
    """ebur128's frame log and its summary (the last one printed)."""
    frames = [(float(t), float(m), float(s)) for t, m, s in FRAME_RE.findall(stderr)]
    summary = ebur128_summary(stderr)
    figures = {key: value if math.isfinite(value := summary.get(key, math.nan)) else None
               for key in SUMMARY_RE}
    times, momentary, short = (list(column) for column in zip(*frames, strict=True)) \
        if frames else ([], [], [])
    return Loudness(times, momentary, short, **figures)


def integrated_and_peak(stderr: str) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) from ebur128's last summary (with peak=true)."""
    summary = ebur128_summary(stderr)
    if "integrated" not in summary or "true_peak" not in summary:
        raise PipelineError("ffmpeg's ebur128 printed no summary")
    return summary["integrated"], summary["true_peak"]


@dataclass(frozen=True)
class LoudnormMeasurement:
    """What loudnorm printed with print_format=json: its measurement of the input, which
    pass one hands to pass two, and the mode it ran in. loudnorm prints figures as %.2f."""

    input_i: float  # integrated loudness, LUFS
    input_tp: float  # true peak, dBTP
    input_lra: float  # loudness range, LU
    input_thresh: float  # the gate's threshold, LUFS
    target_offset: float  # the target less pass one's output loudness, LU (pass two's offset)
    normalization_type: str  # "linear" or "dynamic"


LOUDNORM_FIGURES = ("input_i", "input_tp", "input_lra", "input_thresh", "target_offset")


def parse_loudnorm(stderr: str) -> LoudnormMeasurement:
    """The JSON block loudnorm prints at the end of ffmpeg's stderr."""
    blocks = re.findall(r"\{[^{}]*\}", stderr)
    if not blocks:
        raise PipelineError("ffmpeg's loudnorm printed no measurement")
    printed = json.loads(blocks[-1])
    try:
        figures = {name: float(printed[name]) for name in LOUDNORM_FIGURES}
        return LoudnormMeasurement(**figures, normalization_type=printed["normalization_type"])
    except (KeyError, TypeError, ValueError) as exc:
        problem = f"ffmpeg's loudnorm printed an incomplete measurement ({exc!r})"
        raise PipelineError(problem) from None
