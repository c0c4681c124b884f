"""A content-addressed cache of transcribed pieces: one JSON file per piece of audio,
keyed by its samples and what transcribed it (`pieces.piece_key`), holding its words with
times from the piece's start. Entries are written atomically, as the voice cache's are."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.config import cache_dir
from pipeline.speech.asr import Word
from pipeline.util.fsutil import atomic_path


class TranscriptCache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_dir() / "transcripts"

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> list[Word] | None:
        """The cached words, or None (a missing or unreadable entry is a miss)."""
        try:
            rows = json.loads(self.path(key).read_text(encoding="utf-8"))
            return [Word(str(t), float(s), float(e), float(p)) for t, s, e, p in rows]
        except (OSError, ValueError, TypeError):
            return None

    def put(self, key: str, words: list[Word]) -> None:
        rows = [[w.text, w.start, w.end, w.probability] for w in words]
        with atomic_path(self.path(key), suffix=".json") as tmp:
            tmp.write_text(json.dumps(rows), encoding="utf-8")
