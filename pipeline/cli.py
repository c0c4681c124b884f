"""The `pipeline` command. Each stage module defines a click command named `command`;
this group loads it only when it is run, so one stage's heavy imports never slow another.
Domain errors become one clean line here, at the edge; tracebacks only with --debug."""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from pipeline.errors import PipelineError

# command name -> module defining `command`
COMMANDS: dict[str, str] = {
    "script": "pipeline.script",
    "narrate": "pipeline.narrate",
    "master": "pipeline.master",
    "captions": "pipeline.captions",
    "slides": "pipeline.slides",
    "video": "pipeline.video",
    "youtube-login": "pipeline.youtube.auth",
    "upload": "pipeline.youtube.upload",
    "feed": "pipeline.feed",
    "serve": "pipeline.serve",
    "publish": "pipeline.publish",
    "doctor": "pipeline.doctor",
    "lexicon": "pipeline.lexicon_cli",
    "new": "pipeline.new",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, mod in COMMANDS.items() if _available(mod))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = COMMANDS.get(name)
        if module is None or not _available(module):
            return None
        return importlib.import_module(module).command


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@click.group(cls=LazyGroup)
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Newsletter issue in, narrated episode out."""
    ctx.obj = {"debug": debug}


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the group, turning PipelineError into one line on stderr."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, standalone_mode=False)
    except PipelineError as exc:
        if debug:
            raise
        click.echo(f"error: {exc.line()}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
