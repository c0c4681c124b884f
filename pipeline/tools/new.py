"""`pipeline new`: scaffold an episode folder from the template, dated today."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import click
import jinja2
import yaml

from pipeline.config import load_show, project_root, template_path
from pipeline.episode import SLUG_RE, check_slug
from pipeline.errors import PipelineError
from pipeline.publish.placeholders import SHOW_FILE, placeholders, still_the_samples
from pipeline.util import fsutil


def full_slug(name: str, today: dt.date) -> str:
    """'ai-news' or 'AI news' -> '2024-05-17-ai-news'; a name that already starts with a
    date is kept."""
    name = "-".join(name.lower().split())
    return name if re.match(r"^\d{4}-\d{2}-\d{2}-", name) else f"{today.isoformat()}-{name}"


def next_number(episodes: Path) -> int:
    """One more than the highest episode number found in the existing issues' front matter."""
    numbers = [0]
    for issue in episodes.glob("*/issue.md"):
        head = issue.read_text(encoding="utf-8", errors="replace").split("\n---", 1)[0]
        try:
            data = yaml.safe_load(head.removeprefix("---"))
        except yaml.YAMLError:
            continue
        if isinstance(data, dict) and isinstance(data.get("number"), int):
            numbers.append(data["number"])
    return max(numbers) + 1


def scaffold(root: Path, name: str, today: dt.date) -> Path:
    """Create `episodes/<slug>/issue.md`; refuse to touch an existing episode."""
    slug = full_slug(name, today)
    folder = root / "episodes" / slug
    if not SLUG_RE.match(slug):
        raise PipelineError(f"'{name}' makes the episode folder '{slug}', not YYYY-MM-DD-words",
                            folder.parent, "name it with letters, digits and hyphens: "
                            "make new EP=agents-everywhere")
    check_slug(slug, folder)
    if (folder / "issue.md").exists():
        raise PipelineError("episode already exists", folder / "issue.md", "pick another name")
    path = template_path(root, "issue.md.j2")
    try:
        template = jinja2.Template(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError("template not found", path, "restore it from git") from None
    words = SLUG_RE.match(slug) and slug[11:].replace("-", " ")
    text = template.render(title=str(words).capitalize(), number=next_number(root / "episodes"),
                           date=slug[:10])
    fsutil.write_text(folder / "issue.md", text)
    return folder


def show_note(root: Path) -> str:
    """One line when assets/show.toml is still the sample show's, naming the keys to set;
    empty when the show is the producer's own."""
    try:
        found = placeholders(load_show(root).show)
    except PipelineError as exc:
        return f"note: {exc.line()}"
    if not found:
        return ""
    intro = " (every intro says the title)" if "title" in [p.key for p in found] else ""
    return (f"note: {SHOW_FILE}: {still_the_samples(found)}{intro}: set your own under [show]"
            f" (make doctor shows each fix)")


@click.command("new")
@click.argument("name")
def command(name: str) -> None:
    """Scaffold episodes/<YYYY-MM-DD-name>/issue.md from assets/templates/issue.md.j2."""
    root = project_root()
    folder = scaffold(root, name, dt.date.today())
    click.echo(f"new episode: {folder / 'issue.md'}")
    if note := show_note(root):
        click.echo(note, err=True)
