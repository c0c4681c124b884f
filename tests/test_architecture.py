"""The house rules, read from the code: layers import only downwards, commands (stages and
tools) meet only through files, there is no import cycle, every stage has the same entry
shape, and the README's layout and import picture say what the tree holds."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import click
import pytest

from pipeline.cli import COMMANDS
from pipeline.episode import Episode
from pipeline.formats import MADE_BY

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "pipeline"
# The layers, lowest first; a module belongs to the first prefix it starts with. The
# modules `pipeline` runs as commands (cli.COMMANDS) form the commands layer wherever they
# live, so a library beside them in publish/ stays a library.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("pipeline.errors", "pipeline.util")),
    ("core", ("pipeline.config", "pipeline.markdown", "pipeline.episode", "pipeline.formats")),
    ("libraries", ("pipeline.speech", "pipeline.media", "pipeline.publish")),
    ("commands", ("pipeline.stages", "pipeline.tools")),
    ("cli", ("pipeline.cli", "pipeline.__main__", "pipeline.warm")),
]
RANK = {name: n for n, (name, _) in enumerate(LAYERS)}
COMMAND_MODULES = {module for module, _ in COMMANDS.values()}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> str:
    if module == "pipeline":
        return "base"  # the package's docstring
    if module in COMMAND_MODULES:
        return "commands"
    for name, prefixes in LAYERS:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return name
    raise AssertionError(f"{module} is in no layer")


def _resolve(module: str, node: ast.ImportFrom) -> list[str]:
    base = node.module or ""
    if node.level:
        package = module.split(".")
        if MODULES[module].name != "__init__.py":
            package = package[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    names = [f"{base}.{alias.name}" for alias in node.names]
    return [n for n in names if n in MODULES] or [base]


def imports(module: str) -> set[str]:
    """Every pipeline module `module` imports, at the top or inside a function."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.update(_resolve(module, node))
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: imports(module) for module in MODULES}


def test_every_module_is_in_a_layer() -> None:
    assert {module: layer(module) for module in MODULES}  # raises for a stray module


def test_no_import_goes_up_a_layer() -> None:
    upward = [f"{a} ({layer(a)}) imports {b} ({layer(b)})" for a, targets in GRAPH.items()
              for b in targets if RANK[layer(b)] > RANK[layer(a)]]
    assert upward == []


def test_commands_meet_only_through_files() -> None:
    """No stage or tool imports another command: what one makes, another reads from disk."""
    sideways = [f"{a} imports {b}" for a, targets in GRAPH.items() if a in COMMAND_MODULES
                for b in targets if b in COMMAND_MODULES]
    assert sideways == []


def _cycle_from(start: str) -> list[str] | None:
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for nxt in GRAPH[node]:
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_no_import_cycle() -> None:
    cycles = [" -> ".join(c) for m in MODULES if (c := _cycle_from(m))]
    assert cycles == []


STAGES = sorted(m for m in MODULES if m.startswith("pipeline.stages."))


def test_the_stages_are_the_seven_of_the_design() -> None:
    assert [m.rsplit(".", 1)[1] for m in STAGES] == [
        "captions", "master", "narrate", "review", "script", "slides", "video"]


@pytest.mark.parametrize("name", STAGES)
def test_every_stage_has_the_same_entry_shape(name: str) -> None:
    """`run(episode, ...)` returns a result that can say what it did in one line, and
    `command` is a click command taking the episode folder first."""
    stage = importlib.import_module(name)
    signature = inspect.signature(stage.run)
    first = next(iter(signature.parameters.values()))
    assert (first.name, first.annotation) in (("episode", Episode), ("episode", "Episode"))
    result = inspect.get_annotations(stage.run, eval_str=True)["return"]
    assert callable(getattr(result, "summary", None)), f"{name}: {result} has no summary()"
    assert isinstance(stage.command, click.Command)
    assert stage.command.params[0].name == "episode_dir"
    assert COMMANDS[stage.command.name][0] == name


def test_at_most_25_bare_dict_any() -> None:
    count = sum(path.read_text(encoding="utf-8").count("dict[str, Any]")
                for path in MODULES.values())
    assert count <= 25


def readme_section(title: str) -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_layout_names_every_folder_of_the_package() -> None:
    layout = readme_section("Layout")
    folders = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name[0] != "_")
    named = [f for f in folders if re.search(rf"\b{f}/", layout)]
    assert named == folders


def test_the_readme_import_picture_is_the_layers() -> None:
    """The picture lists the layers top down, each with the folders or modules it holds."""
    picture = readme_section("Layout")
    rows = [line for line in picture.splitlines() if line.startswith("layer ")]
    shown = [row.split()[1] for row in rows]
    assert shown == [name for name, _ in reversed(LAYERS)]
    for row, (_, prefixes) in zip(rows, reversed(LAYERS), strict=True):
        for prefix in prefixes:
            assert prefix.removeprefix("pipeline.") in row, (prefix, row)


def test_the_design_cards_packages_are_the_ones_doing_the_work() -> None:
    """openai-whisper, pydub, ffmpeg-python, google-api-python-client and jinja2 are each
    imported by the pipeline itself, not only listed in pyproject.toml."""
    imported = set()
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    assert {"whisper", "pydub", "ffmpeg", "googleapiclient", "jinja2"} <= imported


def makefile_targets() -> set[str]:
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-z-]*):(?!=)", text, re.M))


def named_in_strings(pattern: str, prose: set[str]) -> dict[str, set[str]]:
    """Words after `make` or `pipeline` in the package's string literals (messages, help,
    docstrings), by word, with the modules naming them; English uses are left out."""
    found: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for word in re.findall(pattern, node.value):
                    if word not in prose:
                        found.setdefault(word, set()).add(module)
    return found


def test_every_make_target_a_message_names_exists() -> None:
    named = named_in_strings(r"\bmake ([a-z][a-z-]*)", {"it", "the", "a", "an", "would",
                                                        "target", "sure"})
    assert set(named) - makefile_targets() == set(), named


def test_every_make_target_the_stage_files_name_exists() -> None:
    assert set(MADE_BY.values()) <= makefile_targets()


def test_every_pipeline_command_a_message_names_exists() -> None:
    named = named_in_strings(r"\bpipeline ([a-z][a-z-]*)", {"runs", "never", "is", "and",
                                                            "the", "that", "itself"})
    assert set(named) - set(COMMANDS) == set(), named
