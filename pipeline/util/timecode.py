"""Times as people and caption files write them."""

from __future__ import annotations


def clock(seconds: float) -> str:
    """0:07, 12:34, 1:02:03 (whole seconds, as chapter lists and players show them)."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def timestamp(seconds: float, decimal_marker: str = ".") -> str:
    """HH:MM:SS.mmm, as WebVTT writes it (with a comma for SRT)."""
    millis = max(0, int(seconds * 1000 + 0.5))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_marker}{millis:03d}"
