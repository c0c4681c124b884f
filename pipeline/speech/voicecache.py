"""A content-addressed cache of synthesised speech: one .npy file per chunk of text,
keyed by everything that changes the sound. Entries are written atomically (write beside,
then rename), so two processes building at once never see a half entry; both write the
same bytes and the last rename wins."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from pipeline.config import VoiceSettings, cache_dir
from pipeline.util.fsutil import atomic_path

# the settings that change the sound (pauses do not: they are added later)
SOUND_SETTINGS = ("engine", "name", "speed", "seed")


def cache_key(text: str, voice_version: str, settings: VoiceSettings) -> str:
    """sha256 of the spoken text, the voice and its settings, and the engine's version."""
    fields = {k: getattr(settings, k) for k in SOUND_SETTINGS}
    blob = json.dumps({"text": text, "version": voice_version, **fields}, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class VoiceCache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_dir() / "voices"

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        """The cached samples, or None (a missing or unreadable entry is a miss)."""
        try:
            return np.load(self.path(key), allow_pickle=False)
        except (OSError, ValueError):
            return None

    def put(self, key: str, audio: np.ndarray) -> None:
        with atomic_path(self.path(key), suffix=".npy") as tmp:
            np.save(tmp, np.asarray(audio, dtype=np.float32), allow_pickle=False)
