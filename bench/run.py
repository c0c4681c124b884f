"""`make bench`: every bench in bench/, one after another in one run, each printing its
side-by-side figures. The episode bench comes first: its table has each stage's seconds of
compute per second of episode audio, cold and after a one-paragraph edit.

    python bench/run.py [--quick]

--quick shortens the moviepy comparison and the ASR audio (the ratios hold; the absolute
times shrink).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def benches(quick: bool) -> list[tuple[str, list[str]]]:
    return [
        ("the sample episode, stage by stage", ["bench_episode.py"]),
        ("voices: hibari, piper, espeak; narrate + master cold and after an edit",
         ["bench_voices.py"]),
        ("Whisper: openai-whisper against faster-whisper, and word timestamps",
         ["bench_asr.py", "--seconds", "30" if quick else "60"]),
        ("video: pipeline video against moviepy",
         ["bench_video.py", "--duration", "60" if quick else "600"]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    failed = []
    for title, argv in benches(args.quick):
        print(f"\n=== {title} ({' '.join(argv)})", flush=True)
        start = time.perf_counter()
        code = subprocess.run([sys.executable, str(BENCH / argv[0]), *argv[1:]]).returncode
        print(f"--- {time.perf_counter() - start:.0f} s", flush=True)
        if code:
            failed.append(argv[0])
    if failed:
        sys.exit(f"bench: failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
