"""The stages: each reads and writes build files (pipeline.formats), never imports another.

Every stage has one entry shape: `run(episode, ...)` does the work and returns a result
whose `summary()` says in one line what it did, and `command`, made by `stage_command`, is
the click command that takes the episode folder, loads it, runs and prints that line.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import click

from pipeline.episode import load_episode


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
            click.echo(func(load_episode(episode_dir), **options).summary())

        argument = click.argument("episode_dir", type=click.Path(file_okay=False,
                                                                 path_type=Path))
        return click.command(name)(argument(command))

    return make
