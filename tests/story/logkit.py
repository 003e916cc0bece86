"""Builders for story logs used by the story_log.py tests.

The tool ships inside the project template (template/project/tools/story_log.py), so it
is loaded from there by path, exactly the file a generated project receives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from tests.project import tooling

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "template" / "project" / "tools" / "story_log.py"
STORY_TEMPLATE = (
    REPO
    / "template"
    / "story"
    / "{{ feature_dir }}"
    / "in-progress"
    / "{{ story_id }}"
    / "_implementation"
)


def load_tool() -> ModuleType:
    return tooling.load_tool("story_log.py", "hexforge_story_log")


story_log = load_tool()

# Every field a chunk carries, as (top label, sub label or None), in skeleton order.
FIELD_SLOTS: tuple[tuple[str, str | None], ...] = tuple(
    (spec.label, sub)
    for spec in story_log.FIELDS
    for sub in ([s for s, _ in spec.subfields] if spec.subfields else [None])
)


@dataclass
class Built:
    """A log's text and where each interesting line ended up (1-based)."""

    text: str
    chunk_lines: list[int] = field(default_factory=list)
    # (chunk position, top label, sub label or None) -> line of that field's bullet
    field_lines: dict[tuple[int, str, str | None], int] = field(default_factory=dict)
    file_lines: dict[tuple[int, str], int] = field(default_factory=dict)
    summary_line: int = 0
    input_line: int = 0
    output_line: int = 0


HEADER = [
    "# Backend log \u2014 WISH-001",
    "",
    "Story `WISH-001`, feature folder `plans/features/wish`.",
    "",
    "## How to add a chunk",
    "",
    "```sh",
    "## Chunk 9 \u2014 inside a fence, not a chunk",
    "BACKEND COMPLETE",
    "```",
    "",
]


def build_log(
    chunks: int = 2,
    *,
    files: tuple[str, ...] = ("src/app.py",),
    numbers: list[int] | None = None,
    empty: frozenset[tuple[int, str, str | None]] = frozenset(),
    summary: bool = True,
    tokens: tuple[str, str] = ("1200", "340"),
    tail: tuple[str, ...] = (),
) -> Built:
    """A well-filled log; `empty` lists fields to leave as placeholders."""
    numbers = numbers or list(range(1, chunks + 1))
    lines = list(HEADER)
    built = Built("")

    def put(line: str) -> int:
        lines.append(line)
        return len(lines)

    for position, number in enumerate(numbers):
        built.chunk_lines.append(put(f"## Chunk {number} \u2014 step {number} of the plan"))
        for spec in story_log.FIELDS:
            if spec.paths:
                slot = (position, spec.label, None)
                built.field_lines[slot] = put(f"- {spec.label}:")
                for path in files:
                    value = "  - <path relative to the project root>" if slot in empty else None
                    built.file_lines[(position, path)] = put(value or f"  - `{path}` (edited)")
                    if value:
                        break
            elif spec.subfields:
                put(f"- {spec.label}:")
                built.field_lines[(position, spec.label, None)] = len(lines)
                for sub, hint in spec.subfields:
                    slot = (position, spec.label, sub)
                    value = hint if slot in empty else f"real text for {sub.lower()}"
                    built.field_lines[slot] = put(f"  - {sub}: {value}")
            else:
                slot = (position, spec.label, None)
                value = spec.hint if slot in empty else f"done for chunk {number}"
                built.field_lines[slot] = put(f"- {spec.label}: {value}")
        put("")
    if summary:
        built.summary_line = put("## Worker Token Summary")
        built.input_line = put(f"- Input: ~{tokens[0]} tokens (files read)")
        built.output_line = put(f"- Output: ~{tokens[1]} tokens (files written)")
    for line in tail:
        put(line)
    built.text = "\n".join(lines) + "\n"
    return built


def make_project(root: Path, files: tuple[str, ...] = ("src/app.py",)) -> Path:
    """A project with a pyproject.toml and the given files; returns the story folder."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n', encoding="utf-8")
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n", encoding="utf-8")
    story = root / "plans" / "features" / "wish" / "in-progress" / "WISH-001" / "_implementation"
    story.mkdir(parents=True, exist_ok=True)
    return story


def fill_placeholders(text: str, files: tuple[str, ...] = ("src/app.py",)) -> str:
    """Fill every hint the chunk command leaves, like an agent would."""
    out: list[str] = []
    for line in text.splitlines():
        if line.strip() == f"- {story_log.PATH_HINT}":
            out.extend(f"  - `{path}`" for path in files)
            continue
        if line.startswith("## Chunk") and story_log.NAME_HINT in line:
            line = line.replace(story_log.NAME_HINT, "filled chunk")
        elif line.startswith(("- ", "  - ")) and "<" in line and ">" in line:
            line = story_log.HINT_RE.sub("written by the test", line)
        out.append(line)
    return "\n".join(out) + "\n"
