"""The coding agent's pre-flight check: is this project ready for the task loop?

    python tools/preflight.py [--format text|json] [--no-fix] [--root PATH]

Run it once, with the project's interpreter (the virtualenv's python), before the
first task. It goes through the eight items of the agent's checklist; it repairs
items 1, 4 and 5 itself (unless --no-fix) and reports the others:

1. project structure: ``components/`` exists, with ``__init__.py`` (created if missing)
2. dependencies: the project's dependencies (pyproject.toml ``[project]
   dependencies`` and the ``dev`` extra) are installed for this interpreter
3. gate tools: ruff, mypy, pytest, import-linter and squawk-cli (the migrations gate) are installed
4. test folders: every component has ``tests/`` with ``unit/``, ``integration/`` and
   ``regression/``, each with ``__init__.py`` (created if missing)
5. ``.claude/evidence/`` exists (created if missing)
6. tasks: ``.claude/manifest.yaml`` holds ``outstanding.tasks``, every task with an id
   and a known status, at least one for the backend; when the manifest says
   ``phase``, it is one the agent codes in (coding, fast_track, remediation)
7. remediation: no critical or high item of ``outstanding.remediation`` is still open
8. spec and rules: every file the manifest names under ``artifacts`` (``spec``,
   ``rules``, ``tasklist``...: a path, or ``{path: ..., version: ...}``) exists; a
   manifest that names none gets a warning

The task and remediation entries are described in ``.claude/HEXFORGE.md``.

Exit status: 0 ready (every item ok, fixed or a warning), 1 not ready (an item
failed: fix it, or report it and wait, as the checklist says; or a fix could not be
written), 2 usage error.
Stdlib only; Python 3.11+.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hexforge.core import (
    EVIDENCE,
    MANIFEST,
    ArgumentParser,
    Refused,
    UsageError,
    cli,
    manifest_tasks,
    outstanding,
    project_root,
    read_manifest,
)

OK, FIXED, WARNING, FAILED = "ok", "fixed", "warning", "failed"
CODING_PHASES = ("coding", "fast_track", "remediation")
BLOCKING_SEVERITIES = ("critical", "high")
CLOSED_STATES = ("resolved", "closed", "done", "fixed", "completed", "wontfix")
TEST_TIERS = ("unit", "integration", "regression")
# What the gates run (item 3); everything else the project declares is item 2.
GATE_TOOLS = ("ruff", "mypy", "pytest", "import-linter", "squawk-cli")
# When the project has no pyproject.toml to say: what a hexforge component runs on.
DEFAULT_DEPENDENCIES = ("fastapi", "pydantic", "psycopg", "uvicorn", "pytest-asyncio", "httpx")
INSTALL = 'pip install -e ".[dev]"'
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass
class Item:
    number: int
    title: str
    status: str = OK
    detail: str = ""
    fixed: list[str] = field(default_factory=list)


# -- items 1-5: the project on disk ---------------------------------------------------


def check_structure(root: Path, fix: bool) -> Item:
    item = Item(1, "project structure")
    components = root / "components"
    if components.exists() and not components.is_dir():
        return _failed(item, "components is a file: the components live in a components/ folder")
    init = components / "__init__.py"
    if not init.is_file():
        if not fix:
            return _failed(item, f"{_missing(root, init)} (run without --no-fix to create it)")
        init.parent.mkdir(parents=True, exist_ok=True)
        init.touch()
        item.fixed.append(_shown(root, init))
    names = [path.name for path in component_dirs(root)]
    item.detail = f"components/ with {len(names)} component(s)" + (
        f": {', '.join(names)}" if names else ""
    )
    item.status = FIXED if item.fixed else OK
    return item


def component_dirs(root: Path) -> list[Path]:
    """The component folders: components/<name>/ with domain/, ports/ or an answers file."""
    folder = root / "components"
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_dir()
        and not path.name.startswith((".", "_"))
        and any((path / marker).exists() for marker in ("domain", "ports", ".copier-answers.yml"))
    )


def declared_dependencies(root: Path) -> tuple[list[str], str]:
    """The distributions the project declares (runtime and dev extra), and where from."""
    pyproject = root / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return list(DEFAULT_DEPENDENCIES), "hexforge's defaults (no readable pyproject.toml)"
    project = data.get("project")
    project = project if isinstance(project, dict) else {}
    extras = project.get("optional-dependencies")
    lists = [project.get("dependencies"), extras.get("dev") if isinstance(extras, dict) else None]
    names: list[str] = []
    for requirements in lists:
        for requirement in requirements if isinstance(requirements, list) else []:
            match = _REQUIREMENT_NAME.match(str(requirement))
            if match:
                names.append(match[1])
    return list(dict.fromkeys(names)), "pyproject.toml"


def not_installed(names: Sequence[str]) -> list[str]:
    missing = []
    for name in names:
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    return missing


def check_dependencies(root: Path) -> Item:
    item = Item(2, "dependencies")
    names, source = declared_dependencies(root)
    names = [name for name in names if _normal(name) not in map(_normal, GATE_TOOLS)]
    missing = not_installed(names)
    venv = "a virtualenv" if sys.prefix != sys.base_prefix else "no virtualenv"
    where = f"{sys.executable} ({venv})"
    if missing:
        return _failed(
            item, f"not installed for {where}: {', '.join(missing)}; run {INSTALL} in the venv"
        )
    item.detail = f"{len(names)} from {source} installed for {where}"
    return item


def check_gate_tools() -> Item:
    item = Item(3, "quality gate tools")
    missing = not_installed(GATE_TOOLS)
    if missing:
        return _failed(item, f"not installed: {', '.join(missing)}; run {INSTALL}")
    item.detail = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in GATE_TOOLS)
    return item


def check_test_dirs(root: Path, fix: bool) -> Item:
    item = Item(4, "test folders")
    missing: list[Path] = []
    components = component_dirs(root)
    for component in components:
        tests = component / "tests"
        wanted = [tests / "__init__.py", *(tests / tier / "__init__.py" for tier in TEST_TIERS)]
        missing += [path for path in wanted if not path.is_file()]
    in_the_way = [path for path in missing if path.exists() or _file_in_the_way(path)]
    if in_the_way:
        return _failed(item, f"not a file or folder as expected: {_shown(root, in_the_way[0])}")
    if missing and not fix:
        shown = ", ".join(_shown(root, path) for path in missing)
        return _failed(item, f"missing: {shown} (run without --no-fix to create them)")
    for path in missing:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        item.fixed.append(_shown(root, path))
    item.status = FIXED if missing else OK
    item.detail = f"tests/{{{','.join(TEST_TIERS)}}} in {len(components)} component(s)"
    return item


def check_evidence(root: Path, fix: bool) -> Item:
    item = Item(5, "evidence folder")
    folder = root / EVIDENCE
    if folder.is_dir():
        item.detail = f"{EVIDENCE.as_posix()}/"
        return item
    if folder.exists() or _file_in_the_way(folder):
        return _failed(item, f"{EVIDENCE.as_posix()} is in the way: it must be a folder")
    if not fix:
        return _failed(item, f"{EVIDENCE.as_posix()}/ is missing (run without --no-fix)")
    folder.mkdir(parents=True)
    item.fixed.append(f"{EVIDENCE.as_posix()}/")
    item.status = FIXED
    item.detail = f"{EVIDENCE.as_posix()}/"
    return item


# -- items 6-8: what the manifest says -----------------------------------------------


def check_tasks(manifest: dict[str, object] | None, phase: object) -> Item:
    item = Item(6, "tasks")
    if manifest is None:
        return _failed(item, f"no {MANIFEST.as_posix()}: the tasks come from outstanding.tasks")
    if phase is not None and phase not in CODING_PHASES:
        return _failed(
            item,
            f"phase is {phase!r}: the coding agent starts in {', '.join(CODING_PHASES)}; "
            "report and wait",
        )
    if outstanding(manifest, "tasks") is None:
        return _failed(item, f"{MANIFEST.as_posix()} has no outstanding.tasks")
    tasks, problems = manifest_tasks(manifest)
    if problems:
        return _failed(item, "; ".join(problems))
    if not tasks:
        return _failed(item, "outstanding.tasks holds no backend or fullstack task")
    counts: dict[str, int] = {}
    for task in tasks:
        counts[task.status] = counts.get(task.status, 0) + 1
    shown = ", ".join(f"{count} {status}" for status, count in counts.items())
    item.detail = f"{len(tasks)} backend/fullstack task(s): {shown}"
    if phase is None:
        item.detail += "; the manifest sets no phase"
    return item


def check_remediation(manifest: dict[str, object] | None) -> Item:
    item = Item(7, "blocking remediation")
    raw = outstanding(manifest, "remediation") if manifest is not None else None
    if raw is None:
        item.detail = "no outstanding.remediation"
        return item
    if not isinstance(raw, list):
        return _failed(item, "outstanding.remediation must be a list")
    blocking = []
    for position, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            return _failed(item, f"remediation item {position} is not a mapping")
        severity = str(entry.get("severity") or "").lower()
        state = str(entry.get("status") or "open").lower()
        if severity in BLOCKING_SEVERITIES and state not in CLOSED_STATES:
            blocking.append(f"{entry.get('id') or f'item {position}'} ({severity})")
    if blocking:
        return _failed(
            item, f"open critical/high items: {', '.join(blocking)}; report them and wait"
        )
    item.detail = f"{len(raw)} item(s), none critical or high and open"
    return item


def check_artifacts(root: Path, manifest: dict[str, object] | None) -> Item:
    item = Item(8, "spec and rules")
    named = manifest.get("artifacts") if manifest is not None else None
    if not isinstance(named, dict) or not named:
        item.status = WARNING
        item.detail = (
            f"{MANIFEST.as_posix()} names no spec or rules to read "
            "(artifacts: {spec: PATH, rules: PATH})"
        )
        return item
    missing: list[str] = []
    present: list[str] = []
    for name, value in named.items():
        path = value.get("path") if isinstance(value, dict) else value
        if not isinstance(path, str) or not path:
            return _failed(item, f"artifacts.{name} names no path")
        target = root / path
        (present if target.is_file() else missing).append(f"{name} ({path})")
    if missing:
        return _failed(item, f"missing: {', '.join(missing)}")
    item.detail = f"read first: {', '.join(present)}"
    return item


# -- the whole check ----------------------------------------------------------------


def preflight(root: Path, *, fix: bool) -> tuple[list[Item], object]:
    try:
        manifest = read_manifest(root)
        manifest_problem = ""
    except Refused as error:
        manifest, manifest_problem = None, str(error)
    phase = manifest.get("phase") if manifest is not None else None
    items = [
        check_structure(root, fix),
        check_dependencies(root),
        check_gate_tools(),
        check_test_dirs(root, fix),
        check_evidence(root, fix),
    ]
    if manifest_problem:
        items += [_failed(Item(n, title), manifest_problem) for n, title in _MANIFEST_ITEMS]
    else:
        items += [
            check_tasks(manifest, phase),
            check_remediation(manifest),
            check_artifacts(root, manifest),
        ]
    return items, phase


_MANIFEST_ITEMS = ((6, "tasks"), (7, "blocking remediation"), (8, "spec and rules"))


def run(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(
        prog="preflight.py",
        description="The coding agent's pre-flight checklist: fixes the project structure, "
        "test folders and evidence folder; reports dependencies, gate tools, tasks, "
        "remediation and spec files.",
        epilog="Exit status: 0 ready, 1 not ready, 2 usage error.",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--no-fix", action="store_true", help="report only; create nothing")
    parser.add_argument(
        "--root",
        help="the project root (default: the nearest one up from here)",
    )
    args = parser.parse_args(argv)
    root = Path(args.root) if args.root else project_root()
    if not root.is_dir():
        raise UsageError(f"--root {args.root!r} is not a directory")
    try:
        items, phase = preflight(root.resolve(), fix=not args.no_fix)
    except OSError as error:  # a folder it may create cannot be made (permissions...)
        raise Refused(f"cannot fix {error.filename}: {error.strerror}") from None
    ready = all(item.status != FAILED for item in items)
    if args.format == "json":
        document = {
            "ready": ready,
            "root": str(root.resolve()),
            "python": sys.executable,
            "phase": phase,
            "items": [asdict(item) for item in items],
        }
        print(json.dumps(document, indent=2, default=str))
    else:
        print(f"pre-flight of {root.resolve()}:")
        for item in items:
            fixed = f" (created {', '.join(item.fixed)})" if item.fixed else ""
            print(f"  {item.number}. {item.status:<7} {item.title}: {item.detail}{fixed}")
        failed = [str(item.number) for item in items if item.status == FAILED]
        print("ready" if ready else f"not ready: item(s) {', '.join(failed)} failed")
    return 0 if ready else 1


def main(argv: Sequence[str] | None = None) -> int:
    return cli(run, argv, prog="preflight.py")


# -- helpers ------------------------------------------------------------------------


def _failed(item: Item, detail: str) -> Item:
    item.status = FAILED
    item.detail = detail
    return item


def _shown(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _missing(root: Path, path: Path) -> str:
    return f"{_shown(root, path)} is missing"


def _file_in_the_way(path: Path) -> bool:
    """Whether a parent of path is a file, so the folder cannot be made."""
    return any(parent.is_file() for parent in path.parents)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
