"""`make bench`: every bench in bench/, one after another in one run, each printing its
side-by-side figures. The episode bench comes first: its table has each stage's seconds of
compute per second of episode audio, cold and after a one-paragraph edit.

    python bench/run.py [--quick]

--quick shortens the ASR audio to the first 120 s of the sample's narration and the video
comparison to a 60 s slideshow. The video ratio then falls (fixed costs weigh more in a
short video): the figure to quote is the full run's, on a 600 s episode.
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
        ("a back catalogue: make all -j2 over 1, 2 and 4 episodes, cold",
         ["bench_catalogue.py", *(["--quick"] if quick else [])]),
        ("voices: hibari, piper, espeak; narrate + master cold and after an edit",
         ["bench_voices.py"]),
        ("Whisper: the backends on the sample's narration, s/s and raw WER",
         ["bench_asr.py", *(["--seconds", "120"] if quick else [])]),
        ("video: pipeline video against moviepy",
         ["bench_video.py", "--duration", "60" if quick else "600"]),
        ("recordings: pydub against numpy, scipy and ffmpeg",
         ["bench_recordings.py", "--seconds", "60" if quick else "300"]),
    ]


def run_bench(argv: list[str]) -> tuple[int, list[str]]:
    """Run one bench, echoing its output; its `summary:` lines are returned."""
    proc = subprocess.Popen([sys.executable, str(BENCH / argv[0]), *argv[1:]],
                            stdout=subprocess.PIPE, text=True)
    rows = []
    for line in proc.stdout or []:
        print(line, end="", flush=True)
        if line.startswith("summary: "):
            rows.append(line.removeprefix("summary: ").strip())
    return proc.wait(), rows


def summary_table(rows: list[str]) -> str:
    cells = [[c.strip() for c in row.split("|")] + ["", ""] for row in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(3)]
    return "\n".join("  ".join(c[i].ljust(widths[i]) for i in range(3)).rstrip()
                     for c in cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    failed, rows = [], []
    for title, argv in benches(args.quick):
        print(f"\n=== {title} ({' '.join(argv)})", flush=True)
        start = time.perf_counter()
        code, found = run_bench(argv)
        rows += found
        print(f"--- {time.perf_counter() - start:.0f} s", flush=True)
        if code:
            failed.append(argv[0])
    print("\n=== all figures (s/s: seconds of compute per second of audio)")
    print(summary_table(rows))
    if failed:
        sys.exit(f"bench: failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
