"""The `pipeline` command. Each stage module defines a click command named `command`;
this group loads it only when it is run, so one stage's heavy imports never slow another.
Domain errors become one clean line here, at the edge; tracebacks only with --debug."""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from pipeline import warm
from pipeline.errors import PipelineError

# command name -> (module defining `command`, one line for `pipeline --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "script": ("pipeline.stages.script", "Write build/script.json: segments with spoken text."),
    "narrate": ("pipeline.stages.narrate", "Synthesise or take recordings: narration, timeline."),
    "master": ("pipeline.stages.master", "Music, loudness, MP3 with tags and chapters."),
    "captions": ("pipeline.stages.captions", "Whisper; captions in the issue's own words."),
    "slides": ("pipeline.stages.slides", "Render the slides and the thumbnail."),
    "video": ("pipeline.stages.video", "Assemble the video and the YouTube description."),
    "review": ("pipeline.stages.review", "Write build/review.html: everything to check first."),
    "youtube-login": ("pipeline.publish.youtube.login", "Sign in to YouTube (stored token)."),
    "upload": ("pipeline.publish.youtube.upload", "Upload to YouTube: resumable, never twice."),
    "feed": ("pipeline.publish.feed", "Build public/: the podcast feed and its files."),
    "serve": ("pipeline.publish.serve", "Preview public/ on localhost."),
    "publish": ("pipeline.publish.deliver", "Copy public/ to the destination, audio first."),
    "check": ("pipeline.publish.check", "Will Apple, Spotify and YouTube take it? Pre-flight."),
    "doctor": ("pipeline.tools.doctor", "What this machine has and lacks, with fixes."),
    "lexicon": ("pipeline.tools.lexicon_suggest", "Pronunciation lexicon tools."),
    "new": ("pipeline.tools.new", "Scaffold a new episode."),
    "artwork": ("pipeline.tools.artwork", "Draw the show artwork from the show title."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, (mod, _) in COMMANDS.items() if _available(mod))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module, _ = COMMANDS.get(name, ("", ""))
        if not module or not _available(module):
            return None
        return importlib.import_module(module).command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


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
    args = argv if argv is not None else sys.argv[1:]
    if warm.wanted(args) and (code := warm.run(args)) is not None:
        warm.finish(code)
    debug = "--debug" in args
    try:
        code = cli.main(args=argv, standalone_mode=False)
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
    # without standalone mode, click returns a command's ctx.exit(code) instead of exiting
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
