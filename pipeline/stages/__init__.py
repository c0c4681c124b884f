"""The stages: each reads and writes build files (pipeline.formats), never imports another.

Every stage has one entry shape: `run(episode, ...)` does the work and returns a result
whose `summary()` says in one line what it did, and `command`, made by `stage_command`, is
the click command that takes the episode folder, loads it, runs and prints that line.

The command holds the episode's build lock (build/.build.lock) while the stage runs, so two
builds of one episode (two `make episode`, two `pipeline slides`) take turns instead of
writing over each other, and a stage may treat scratch files of its own kind in build/ as
leftovers of a run that died. Builds of different episodes do not wait for each other.
The stages that only read what narrate wrote and write files of their own (BESIDE: master,
captions and slides) hold that lock shared, and a lock of their own stage's
(build/.build-<stage>.lock) exclusively: `make -j2` runs them side by side, while a stage
that writes what they read waits for them, and they for it.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import click

from pipeline.episode import Episode, load_episode
from pipeline.util import lock

BUILD_LOCK = ".build.lock"
BESIDE = frozenset({"master", "captions", "slides"})  # run side by side: see above
LOCK_FILES = frozenset({BUILD_LOCK, *(f".build-{stage}.lock" for stage in BESIDE)})


class Result(Protocol):
    def summary(self) -> str:
        """What the stage did, in one line."""
        ...


def stage_command(name: str) -> Callable[[Callable[..., Result]], click.Command]:
    """A click command `name` around `func(episode, **options)`: it takes EPISODE_DIR
    first, then the options declared on `func`, and prints the result's summary."""

    def make(func: Callable[..., Result]) -> click.Command:
        @functools.wraps(func)
        def command(episode_dir: Path, **options: Any) -> None:
            episode = load_episode(episode_dir)
            with build_lock(episode, name):
                result = func(episode, **options)
            click.echo(result.summary())

        argument = click.argument("episode_dir", type=click.Path(file_okay=False,
                                                                 path_type=Path))
        return click.command(name)(argument(command))

    return make


@contextlib.contextmanager
def build_lock(episode: Episode, stage: str) -> Iterator[None]:
    """The episode's build lock, held by `pipeline <stage>`; waiting for it says so once."""

    def waiting(holder: str) -> None:
        click.echo(f"{stage}: waiting for {holder} to finish building {episode.slug}",
                   err=True)

    label, path = f"pipeline {stage}", episode.build / BUILD_LOCK
    if stage not in BESIDE:
        with lock.exclusive(path, label, on_wait=waiting):
            yield
        return
    with (lock.shared(path, label, on_wait=waiting),
          lock.exclusive(episode.build / f".build-{stage}.lock", label, on_wait=waiting)):
        yield
