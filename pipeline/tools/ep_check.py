"""The Makefile's check of `EP=`, made before any rule runs: `ok`, or one line naming the
closest existing slugs. It runs as a file with any python3 (the standard library only), so
it works before `make setup` and costs no package imports.

    python3 pipeline/tools/ep_check.py <EP> [episodes folder]
"""

from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path

# pipeline.episode.SLUG_RE, repeated here to stay import-free (a test keeps them equal)
SLUG_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})-[a-z0-9]+(?:-[a-z0-9]+)*$")
SHOWN = 3


def slugs(episodes: Path) -> list[str]:
    """The episodes there are, newest first."""
    return sorted((p.parent.name for p in episodes.glob("*/issue.md")), reverse=True)


def _words(slug: str) -> str:
    return slug[11:] if SLUG_RE.match(slug) else slug


def _likeness(name: str, slug: str) -> float:
    """difflib's ratio of the words after the dates, so that a shared date does not make
    every episode of a month look alike, and a slug typed without its date still matches."""
    return difflib.SequenceMatcher(None, _words(name), _words(slug)).ratio()


def closest(name: str, known: list[str], cutoff: float = 0.6) -> list[str]:
    """The existing slugs most like `name`, best first."""
    scored = sorted(((_likeness(name, slug), slug) for slug in known), reverse=True)
    return [slug for score, slug in scored if score >= cutoff][:SHOWN]


def linked(ep: str, episodes: Path) -> str:
    """Empty when episodes/<ep> is that folder itself, as pipeline.episode.episode_folder
    requires; otherwise where the link leads, in one line."""
    real = (episodes / ep).resolve()
    here = episodes.absolute().parent.resolve() / episodes.name
    if real == here / ep:
        return ""
    if real.parent == here:
        return (f"EP={ep}: {episodes.as_posix()}/{ep} is another name for "
                f"{episodes.as_posix()}/{real.name}; use EP={real.name}")
    return (f"EP={ep}: {episodes.as_posix()}/{ep} resolves to {real}, outside "
            f"{episodes.as_posix()}/; move the folder there instead of linking to it")


def problem(ep: str, episodes: Path) -> str:
    """Empty when `ep` names an existing episode; otherwise what is wrong, in one line."""
    is_slug = SLUG_RE.match(ep) is not None
    if is_slug and (episodes / ep / "issue.md").is_file():
        return linked(ep, episodes)
    what = f"no {episodes.as_posix()}/{ep}/issue.md" if is_slug else \
        "not an episode slug (YYYY-MM-DD-words)"
    known = slugs(episodes)
    if not known:
        return f"EP={ep}: {what}, and no episode yet: make new EP=<words> starts one"
    near = closest(ep, known)
    hint = f"closest: {', '.join(near)}" if near else \
        f"none is close; the latest: {', '.join(known[:SHOWN])}"
    return f"EP={ep}: {what}; {hint}"


def main(argv: list[str]) -> int:
    episodes = Path(argv[2]) if len(argv) > 2 else Path("episodes")
    print(problem(argv[1] if len(argv) > 1 else "", episodes) or "ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
