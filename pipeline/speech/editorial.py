"""What of an issue is narrated, without deleting anything from it.

A section or subsection (everything under a heading, down to the next heading of its level
or above) is narrated in one of four ways: `read` as written; `titles`, its lists read as
their links' titles (its other blocks stay in the show notes); `summary`, its heading read
and one line said for the rest; `skip`, not narrated at all (it stays in the show notes).
Any other text is a line said instead of the section's content. A single block can be
given a way, or a line, of its own.

Where the way comes from, first found wins:
1. the issue's marks: an HTML comment `<!-- narrate: skip -->` (or titles, summary, read,
   or a line) just before or just after a heading applies to that heading's section, and
   elsewhere to the block after it; `<!-- say: a line -->` says that line instead of the
   next block. Comments render as nothing anywhere else the issue is published.
2. the front matter, `narrate: {"Upcoming Events": skip}`, by heading text;
3. the show's `[editorial] rules` in show.toml, by heading text (case ignored, * and ?);
4. the section around it; and for a block: a list longer than `long_list` items is
   narrated as `long_list_mode`, a table as `tables`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field

from pipeline.config import EditorialSettings
from pipeline.errors import PipelineError
from pipeline.formats import Narration
from pipeline.markdown import Block, Link

MODES = ("read", "titles", "summary", "skip")
HEADINGS = ("section", "heading")


@dataclass(frozen=True)
class Planned:
    """A block and how it is narrated: `said` is the line said instead of it, as written."""

    block: Block
    narration: Narration = "read"
    said: str | None = None


@dataclass
class Way:
    """How a section or block is to be narrated: a mode, or a line said instead."""

    mode: str = "read"
    line: str | None = None

    @classmethod
    def of(cls, value: str) -> Way:
        word = value.strip().casefold()
        return cls(word) if word in MODES else cls("summary", value.strip())


@dataclass
class _Scope:
    level: int
    heading: str
    way: Way
    owner: int = -1  # a summarised section: where its heading is in the plan


@dataclass
class Editor:
    """The issue's and the show's choices, applied block by block."""

    settings: EditorialSettings
    front: Mapping[str, str] = field(default_factory=dict)

    def rule(self, heading: str) -> Way | None:
        for rules in (self.front, self.settings.rules):
            for pattern, value in rules.items():
                if fnmatch.fnmatchcase(heading.casefold(), pattern.casefold()):
                    return Way.of(value)
        return None


def attach_marks(blocks: list[Block]) -> tuple[list[Block], dict[int, Way]]:
    """The blocks without marks, and each mark's way by the index of the block it governs:
    a heading's section when the mark stands just before or just after the heading."""
    kept: list[Block] = []
    ways: dict[int, Way] = {}
    pending: Way | None = None
    for block in blocks:
        if block.kind == "mark":
            way = Way("summary", block.text) if block.verb == "say" else Way.of(block.text)
            if kept and kept[-1].kind in HEADINGS and len(kept) - 1 not in ways:
                ways[len(kept) - 1] = way
            else:
                pending = way
            continue
        if pending is not None:
            ways[len(kept)] = pending
            pending = None
        kept.append(block)
    return kept, ways


def titles(block: Block) -> str:
    """A list read as its items' titles: each item's first link's text, else the item."""
    said = [_title(item, block.links) for item in block.items]
    return " ".join(t if t.endswith((".", "!", "?")) else t + "." for t in said if t)


def _title(item: str, links: list[Link]) -> str:
    return next((link.text for link in links if link.text and link.text in item), item)


def count(block: Block) -> int:
    if block.kind == "list":
        return len(block.items)
    if block.kind == "table":
        return max(0, len(block.rows) - 1)
    return 1


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _line(template: str, key: str, number: int, heading: str) -> str:
    """A summary line: {count} the number, {items} and {rows} it with its noun."""
    try:
        return template.format(count=number, heading=heading, items=_plural(number, "item"),
                               rows=_plural(number, "row"))
    except (KeyError, IndexError, ValueError) as exc:
        raise PipelineError(f"setting 'editorial.{key}' is not a valid line: {exc}",
                            fix="use only {count}, {items}, {rows} and {heading} in it") from None


@dataclass
class _Plan:
    editor: Editor
    planned: list[Planned] = field(default_factory=list)
    covered: dict[int, list[int]] = field(default_factory=dict)  # summarised heading -> blocks
    lines: dict[int, str | None] = field(default_factory=dict)  # its own line, if given

    def block_way(self, block: Block, way: Way, heading: str) -> Planned:
        """A block narrated in `way` (from a mark, its section, or the defaults)."""
        if way.mode == "skip":
            return Planned(block, "skip")
        if way.mode == "titles" and block.kind == "list":
            return Planned(block, "titles", titles(block))
        if way.mode == "summary" and way.line is not None:
            return Planned(block, "replaced", way.line)
        if way.mode == "summary":
            key = "table_summary" if block.kind == "table" else "summary"
            template = getattr(self.editor.settings, key)
            return Planned(block, "summary", _line(template, key, count(block), heading))
        return Planned(block, "read")

    def default_way(self, block: Block) -> Way:
        """A long list and a table are narrated as the show's settings say."""
        settings = self.editor.settings
        if block.kind == "list" and len(block.items) > settings.long_list:
            return Way(settings.long_list_mode)
        if block.kind == "table":
            return Way(settings.tables)
        return Way()

    def open(self, stack: list[_Scope], block: Block, mark: Way | None) -> None:
        """A heading: its section's way, from its mark, the rules, or its parent's."""
        while stack and stack[-1].level >= block.level:
            stack.pop()
        parent = stack[-1] if stack else None
        if parent is not None and parent.way.mode == "summary":
            stack.append(_Scope(block.level, parent.heading, parent.way, parent.owner))
            self.planned.append(Planned(block, "skip"))  # the summary says it
            return
        way = mark or self.editor.rule(block.text) or (parent.way if parent else Way())
        stack.append(_Scope(block.level, block.text, way, len(self.planned)))
        if way.mode == "summary":
            self.covered[len(self.planned)] = []
            self.lines[len(self.planned)] = way.line
        self.planned.append(Planned(block, "skip" if way.mode == "skip" else "read"))

    def content(self, stack: list[_Scope], block: Block, mark: Way | None) -> None:
        scope = stack[-1] if stack else _Scope(0, "", Way())
        if mark is not None:
            self.planned.append(self.block_way(block, mark, scope.heading))
        elif scope.way.mode == "summary":
            self.covered[scope.owner].append(len(self.planned))
            self.planned.append(Planned(block, "skip"))
        else:
            way = _scope_way(scope, block) or self.default_way(block)
            self.planned.append(self.block_way(block, way, scope.heading))

    def say_summaries(self) -> None:
        """Each summarised section's line, on its first block (its others stay silent)."""
        for owner, indices in self.covered.items():
            if not indices:
                continue
            heading = self.planned[owner].block.text
            number = sum(count(self.planned[i].block) for i in indices)
            first = self.planned[indices[0]]
            said = self.lines[owner] or _line(self.editor.settings.summary, "summary", number,
                                              heading)
            self.planned[indices[0]] = Planned(first.block, "summary", said)


def _scope_way(scope: _Scope, block: Block) -> Way | None:
    """How a block in a section narrated as `scope.way` is narrated (None: as a block)."""
    if scope.way.mode == "skip":
        return Way("skip")
    if scope.way.mode == "titles":
        return Way("titles") if block.kind == "list" else Way("skip")
    return None


def plan(blocks: list[Block], editor: Editor) -> list[Planned]:
    """Every block of the issue (marks left out) with how it is narrated."""
    kept, marks = attach_marks(blocks)
    work = _Plan(editor)
    stack: list[_Scope] = []
    for index, block in enumerate(kept):
        if block.kind in HEADINGS:
            work.open(stack, block, marks.get(index))
        else:
            work.content(stack, block, marks.get(index))
    work.say_summaries()
    return work.planned
