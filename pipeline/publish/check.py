"""`pipeline check episodes/<slug>`: will Apple, Spotify, the podcast apps and YouTube take
this episode? The pre-flight gate's table (see publish/gate); it exits 1 on any error.
`pipeline upload` runs its YouTube half and `pipeline publish` its podcast half first."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.episode import load_episode
from pipeline.publish.gate import SCOPES, check, format_table


@click.command()
@click.argument("episode_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--only", type=click.Choice(SCOPES), default=None,
              help="Check only the podcast package or only the YouTube one.")
@click.pass_context
def command(ctx: click.Context, episode_dirs: tuple[Path, ...], only: str | None) -> None:
    """Read each episode's package as every platform would; errors exit 1."""
    failed = False
    for episode_dir in episode_dirs:
        report = check(load_episode(episode_dir), [only] if only else SCOPES)
        click.echo(format_table(report.table()))
        click.echo(report.summary())
        failed = failed or bool(report.errors)
    if failed:
        ctx.exit(1)
