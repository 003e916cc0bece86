"""Remove a component: its code, its request file and its registrations, as one change.

    python tools/remove.py NAME [--yes] [--format text|json]

Removes ``components/NAME/`` (code, tests, answers file), ``__http__/NAME.http``,
and its registrations: app/components.py (hexforge's, rewritten for the components
that remain) and the manifest's ``components:`` key (``.claude/manifest.yaml``):
afterwards both read exactly as in a project that never had the component, and
every other byte stays. app/main.py is the user's: an import of the component
there is a use, which refuses the removal. The
removal is staged (``git rm`` and ``git add``), so ``git diff --staged`` shows
exactly it; commit it, or undo it with ``git reset --hard``.

It refuses, changing nothing, while

- NAME is not a component of this project (the refusal lists those there are);
- ``git status`` is not clean: the removal must be a change of its own;
- another component, or any other module of the project, still uses it: an
  import of ``components.NAME`` (read from the parsed code, never run) or a
  ``ref[NAME]`` field in another component's ``fields`` answer.

It drops no data: the component's table stays in the database until
``hexforge migrate drop NAME --yes``, which it prints.

At a terminal it asks before removing; ``--yes`` skips the question.
Exit status: 0 removed; 1 refused; 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hexforge import composition
from hexforge.audit import import_targets, parse_source, tree_imports
from hexforge.composition import COMPONENTS_MODULE
from hexforge.core import (
    MANIFEST,
    ArgumentParser,
    Refused,
    YamlError,
    cli,
    dirty_summary,
    git,
    project_root,
    read_answers,
    read_text,
    read_yaml,
    write_text_atomic,
)

COMPONENTS = "components"
ANSWERS_FILE = ".copier-answers.yml"
HTTP_DIR = "__http__"
SHOWN = 5  # paths named in a refusal before "and N more"

NAME_RULE = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass
class Plan:
    """Everything the removal changes, worked out before anything is touched."""

    name: str
    files: list[str]  # tracked files under components/NAME/
    http_file: str | None
    edits: dict[Path, tuple[str, str]] = field(default_factory=dict)  # path -> (text, newline)


def component_name(text: str) -> str:
    """An argparse type: a component's package name (a folder under components/)."""
    if not NAME_RULE.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a component name (lower-case snake_case, a folder of components/)"
        )
    return text


def parse_args(argv: Sequence[str] | None) -> tuple[str, bool, str]:
    parser = ArgumentParser(
        prog="remove.py",
        description="Remove a component's code and registrations (its data stays).",
    )
    parser.add_argument("name", type=component_name, metavar="NAME", help="the component")
    parser.add_argument("--yes", action="store_true", help="do not ask at a terminal")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    return args.name, args.yes, args.format


def run(argv: Sequence[str] | None = None) -> int:
    name, yes, output = parse_args(argv)
    root = project_root()
    plan = make_plan(root, name)
    if not yes and sys.stdin.isatty() and sys.stdout.isatty() and output == "text":
        answer = input(
            f"Remove components/{name}/ ({len(plan.files)} files) and its registrations? [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            raise Refused(f"nothing removed: the answer was {answer!r}, not yes")
    changed = apply(root, plan)
    report(plan, changed, output)
    return 0


# -- what the removal changes --------------------------------------------------------


def components_of(root: Path) -> list[str]:
    """The project's components: folders under components/ with a component's answers."""
    folder = root / COMPONENTS
    if not folder.is_dir():
        return []
    return sorted(
        path.parent.name
        for path in folder.glob(f"*/{ANSWERS_FILE}")
        if read_answers(path).get("kind") == "component"
    )


def make_plan(root: Path, name: str) -> Plan:
    existing = components_of(root)
    if name not in existing:
        there = ", ".join(existing) if existing else "none"
        raise Refused(f"{name!r} is not a component of this project (its components: {there})")
    refuse_dirty(root)
    users = references(root, name, existing)
    if users:
        shown = "; ".join(users[:SHOWN]) + (
            f" and {len(users) - SHOWN} more" if len(users) > SHOWN else ""
        )
        raise Refused(
            f"components.{name} is still used by {shown}: remove those uses first, "
            "then run it again"
        )
    files = tracked(root, f"{COMPONENTS}/{name}")
    http = f"{HTTP_DIR}/{name}.http"
    plan = Plan(name, files, http if tracked(root, http) else None)
    registrations = (
        (COMPONENTS_MODULE, lambda _text, gone: composition.render_for(root, leaving_out={gone})),
        (MANIFEST, unregister_from_manifest),
    )
    for path, unregister in registrations:
        if (root / path).is_file():
            text, newline = read_text(root / path)
            updated = unregister(text, name)
            if updated != text:
                plan.edits[path] = (updated, newline)
    return plan


def refuse_dirty(root: Path) -> None:
    dirty = dirty_summary(root, SHOWN)
    if dirty is None:
        return
    raise Refused(
        f"the working tree is not clean ({dirty}); commit or stash that first, "
        "so that the removal is a change of its own"
    )


def tracked(root: Path, path: str) -> list[str]:
    listed = git(root, "ls-files", "-z", "--", path).stdout
    return [item for item in listed.split("\0") if item]


# -- who still uses the component ----------------------------------------------------


def references(root: Path, name: str, components: list[str]) -> list[str]:
    """Each use of the component outside its folder, as `who (where)`."""
    found: list[str] = []
    for other in components:
        if other == name:
            continue
        fields = read_answers(root / COMPONENTS / other / ANSWERS_FILE).get("fields", "")
        for item in fields.split(","):
            if re.fullmatch(rf"\s*\w+\s*:\s*ref\[\s*{name}\s*\].*", item):
                found.append(f"{other} (its field {item.strip()})")
    own = f"{COMPONENTS}/{name}/"
    for relative in tracked(root, "*.py"):
        if relative.startswith(own) or relative == COMPONENTS_MODULE.as_posix():
            continue  # its own code, and the registry this tool rewrites
        for line in import_lines(root / relative, relative, name):
            parts = relative.split("/")
            who = parts[1] if parts[0] == COMPONENTS and len(parts) > 2 else relative
            found.append(f"{who} ({relative}:{line})")
    return found


def import_lines(path: Path, relative: str, name: str) -> list[int]:
    """The lines of ``path`` that import components.<name> or a module inside it."""
    try:
        data = path.read_bytes()
    except OSError:
        return []
    if name.encode() not in data:
        return []  # every import of it spells its name: most files need no parse
    try:
        tree = parse_source(data, relative)
    except (SyntaxError, ValueError):
        # Code that does not parse cannot be read for imports: any mention counts.
        text = data.decode("utf-8", "replace")
        pattern = re.compile(rf"\b{COMPONENTS}\.{name}\b")
        return [n for n, line in enumerate(text.splitlines(), 1) if pattern.search(line)]
    package = tuple(Path(relative).parent.parts)
    lines: list[int] = []
    for imp in tree_imports(tree):
        for target in import_targets(imp, package):
            if target is not None and target[:2] == (COMPONENTS, name):
                lines.append(imp.line)
                break
    return lines


# -- the manifest --------------------------------------------------------------------


def unregister_from_manifest(text: str, name: str) -> str:
    """``text`` (``\\n`` line ends) without ``name`` under its ``components:`` key.

    Only the entry's lines go (and ``components:`` becomes ``components: {}`` when
    it was the last); every other byte stays. The result is read back and must be
    the same document without the entry.
    """
    try:
        before = read_yaml(text)
    except YamlError as error:
        raise Refused(f"cannot read {MANIFEST.as_posix()}: {error}") from None
    if not isinstance(before, dict):
        return text
    registry = before.get(COMPONENTS)
    if not isinstance(registry, dict) or name not in registry:
        return text
    lines = text.split("\n")
    key = next(i for i, line in enumerate(lines) if re.match(rf"{COMPONENTS}:(\s|$)", line))
    entries = []  # (index, indentation, key) of each entry line under components:
    end = key + 1
    while end < len(lines):
        content = lines[end]
        stripped = content.lstrip(" ")
        if stripped and not stripped.startswith("#"):
            depth = len(content) - len(stripped)
            if depth == 0:
                break
            entries.append((end, depth, stripped.split(":", 1)[0].strip("'\"")))
        end += 1
    top = min(depth for _, depth, _ in entries)
    starts = [(index, entry) for index, depth, entry in entries if depth == top]
    position = next(n for n, (_, entry) in enumerate(starts) if entry == name)
    first = starts[position][0]
    # The entry ends at its last line of content: comments and blank lines after it
    # belong to what follows as much as to it.
    following = starts[position + 1][0] if position + 1 < len(starts) else end
    last = max(index for index, _, _ in entries if first <= index < following)
    del lines[first : last + 1]
    if len(starts) == 1:
        lines[key] = f"{COMPONENTS}: {{}}"
    updated = "\n".join(lines)
    expected = {k: v for k, v in registry.items() if k != name}
    after = read_yaml(updated)
    if not (
        isinstance(after, dict)
        and list(after) == list(before)
        and after[COMPONENTS] == expected
        and {k: v for k, v in after.items() if k != COMPONENTS}
        == {k: v for k, v in before.items() if k != COMPONENTS}
    ):
        raise Refused(
            f"{MANIFEST.as_posix()}: the entry of {name} under `components:` could not be "
            "removed alone; remove it by hand, commit, and run this again"
        )
    return updated


# -- doing it ------------------------------------------------------------------------


def apply(root: Path, plan: Plan) -> list[str]:
    """Remove and stage; the paths of the files edited."""
    git(root, "rm", "-r", "-q", "--", f"{COMPONENTS}/{plan.name}")
    # What git does not track is left behind: byte-code and tool caches, ignored.
    # Without the folder gone, `tools/migrate.py drop` would take it for a component.
    shutil.rmtree(root / COMPONENTS / plan.name, ignore_errors=True)
    if plan.http_file:
        git(root, "rm", "-q", "--", plan.http_file)
    for path, (text, newline) in plan.edits.items():
        write_text_atomic(root / path, text, newline)
    if COMPONENTS_MODULE in plan.edits:
        lay_out(root, COMPONENTS_MODULE)
    edited = [path.as_posix() for path in plan.edits]
    if edited:
        git(root, "add", "--", *edited)
    return edited


def lay_out(root: Path, path: Path) -> None:
    """Lay ``path`` out with the project's own ruff settings, as the wiring does
    (composition writes hexforge's default line length); without ruff, as written."""
    if importlib.util.find_spec("ruff") is None:
        return
    for command in (["check", "--select=I", "--fix", "--exit-zero"], ["format"]):
        subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--quiet", "--no-cache", str(path)],
            cwd=root,
            capture_output=True,
            check=False,
        )


def report(plan: Plan, edited: list[str], output: str) -> None:
    name = plan.name
    drop = f"hexforge migrate drop {name} --yes"
    commit = f'git commit -m "Remove the {name} component"'
    removed = [f"{COMPONENTS}/{name}/", *([plan.http_file] if plan.http_file else [])]
    if output == "json":
        document = {
            "component": name,
            "removed": removed,
            "files_removed": len(plan.files) + (1 if plan.http_file else 0),
            "unregistered_from": edited,
            "staged": True,
            "commit": commit,
            "drop_data": drop,
        }
        print(json.dumps(document, indent=2))
        return
    print(f"removed {', '.join(removed)} ({len(plan.files)} files in the component)")
    if edited:
        print(f"unregistered {name} from {' and '.join(edited)}")
    print(f"staged: review it with `git diff --staged`, then `{commit}`")
    print(f"its data stays in the database; to drop its table: `{drop}`")


def main(argv: Sequence[str] | None = None) -> int:
    return cli(run, argv, prog="remove.py")
