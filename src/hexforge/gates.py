"""Run every quality gate of this project and write the evidence files.

    python tools/quality_gates.py                  every gate
    python tools/quality_gates.py --changed        per-component gates on what changed
    python tools/quality_gates.py --only unit      one gate (repeat --only for more)
    python tools/quality_gates.py --list           the gates and what they run

Gates: ruff, format, mypy, imports, audit, migrations, unit, integration, regression,
stories.
They do not depend on each other, so several run at once (--jobs, default: the
number of CPUs, at least 2); the three test tiers are one pytest run, split by
marker into one gate each; when CPUs are idle the test modules are shared out
among that many pytest processes run side by side, each with its own throwaway
PostgreSQL (--test-workers N decides instead). Every gate runs even after
another failed, so a single run shows everything that is wrong; --fail-fast runs
one gate at a time, in order, and stops at the first failure. The tools come from
the interpreter running this script (python -m ruff, -m mypy, -m pytest), so run
it with the project's virtual environment. No gate changes a source file.

A test tier with no test: `regression` passes with 0 (a project has none until
its first fixed bug); `unit` and `integration` fail while there are components
(every component ships both tiers: none means they were lost) and are skipped
when there are none.

--changed limits ruff, format, mypy, audit and the tests to the components
changed since HEAD (git diff and untracked files) and the components whose code
names them (`components.<name>`); a change to a project-wide file (app/, tools/,
pyproject.toml, components/conftest.py...) checks everything. imports and
stories always cover the whole project.

Each gate has a time limit (--timeout, default 900 s). Each gate runs in a
process group of its own; a gate that runs out of time, and whatever a gate
leaves running, is ended with its whole group (SIGINT, then SIGTERM, then
SIGKILL), the test run's throwaway PostgreSQL server included. Temporary output
(junit XML, the test run's TMPDIR) lives in a temporary folder, removed at the
end: the evidence is all a run leaves in the project.

Evidence, written atomically into .claude/evidence/:
  quality_gates_run.json   every gate: command, status, exit code, duration, summary
  test_report.json         per test tier: tests, passed, failed, errors, skipped
  test_failures.json       each failing test; present only while some test fails

Exit status: 0 when no gate failed or errored (skipped gates are fine), 1 when one
did, 2 for a usage error. Standard library only. Maintained by hexforge.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hexforge.core import (
    ArgumentParser,
    GitError,
    UsageError,
    cli,
    git,
    interrupted_update,
    positive_seconds,
    project_root,
    write_json_atomic,
)

SCHEMA_VERSION = 1
EVIDENCE_DIR = Path(".claude") / "evidence"
RUN_FILE = "quality_gates_run.json"
REPORT_FILE = "test_report.json"
FAILURES_FILE = "test_failures.json"

PASSED = "passed"
FAILED = "failed"
SKIPPED = "skipped"
ERROR = "error"

TEST_TIERS = ("unit", "integration", "regression")
MESSAGE_LIMIT = 500
DETAILS_LIMIT = 4000
DEFAULT_TAIL = 40
DEFAULT_TIMEOUT_S = 900.0
# Ending a process group: ask as Ctrl-C does (pytest then runs its fixtures'
# cleanup, PostgreSQL shuts down fast), then insist, then force.
END_SIGNALS = ((signal.SIGINT, 5.0), (signal.SIGTERM, 3.0), (signal.SIGKILL, 2.0))
# Below this many test modules (about 6 generated components) a second pytest
# process costs more than it saves: its start-up, imports and PostgreSQL cluster
# (measured on 2 CPUs: at 5 components no sooner, 45% more CPU; at 10, 15-25% sooner).
SPLIT_MIN_MODULES = 48
# Where Linux counts each CPU's time, and how long it is watched to tell how many
# CPUs are idle.
PROC_STAT = Path("/proc/stat")
IDLE_SAMPLE_S = 0.1
# Files whose change can affect every component (--changed then checks everything).
PROJECT_WIDE = frozenset(
    {
        "pyproject.toml",
        "setup.cfg",
        "setup.py",
        ".importlinter",
        "ruff.toml",
        ".ruff.toml",
        "mypy.ini",
        ".mypy.ini",
        "pytest.ini",
        "tox.ini",
        "conftest.py",
    }
)

# Folders never searched for story logs: tool caches, environments, VCS data.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".import_linter_cache",
        "site-packages",
    }
)

PYTEST_EXIT_MEANINGS = {
    2: "interrupted",
    3: "internal error",
    4: "usage error",
}

# Loaded into the test run with -p (from the run's temporary folder): tags each
# test with its tier markers, so one pytest run can be split into one gate per tier.
TIER_PLUGIN = '''\
"""Written by tools/quality_gates.py for one run; removed with its temporary folder."""

import pytest

TIERS = {tiers!r}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    for item in items:
        tiers = [tier for tier in TIERS if item.get_closest_marker(tier) is not None]
        item.user_properties.append(("hexforge_tiers", " ".join(tiers)))
'''
TIER_PLUGIN_NAME = "hexforge_gate_tiers"


# --------------------------------------------------------------------------- results


@dataclass
class Outcome:
    """What one command did; error is set when it could not run to completion."""

    exit_code: int | None
    output: str
    duration_s: float
    error: str | None = None


@dataclass
class GateResult:
    name: str
    command: list[str]
    status: str
    exit_code: int | None = None
    duration_s: float = 0.0
    summary: str = ""
    findings: int | None = None
    output: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "command": self.command,
            "status": self.status,
            "exit_code": self.exit_code,
            "duration_s": round(self.duration_s, 3),
            "summary": self.summary,
            "findings": self.findings,
        }
        data.update(self.extra)
        return data


@dataclass
class TierCounts:
    tests: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0

    def add(self, other: TierCounts) -> None:
        self.tests += other.tests
        self.passed += other.passed
        self.failed += other.failed
        self.errors += other.errors
        self.skipped += other.skipped

    def to_json(self) -> dict[str, int]:
        return {
            "tests": self.tests,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "skipped": self.skipped,
        }


@dataclass
class Scope:
    """Which components the per-component gates cover: None is all of them."""

    components: tuple[str, ...] | None = None
    note: str = ""
    changed_files: tuple[str, ...] = ()

    def targets(self) -> list[str] | None:
        if self.components is None:
            return None
        return [f"components/{name}" for name in self.components]

    def to_json(self) -> dict[str, Any]:
        return {
            "since": "HEAD",
            "components": None if self.components is None else list(self.components),
            "note": self.note,
            "changed_files": list(self.changed_files[:100]),
        }


@dataclass
class Context:
    root: Path
    timeout: float
    scratch: Path
    jobs: int = 1
    test_workers: int | None = None  # None: one per idle CPU (idle_cpus)
    idle_cpus: float | None = None  # measured before any gate starts
    scope: Scope = field(default_factory=Scope)
    stop: threading.Event = field(default_factory=threading.Event)
    tiers: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    test_run: dict[str, Any] | None = None


# --------------------------------------------------------------------------- helpers


def utc_now() -> str:
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def last_match(pattern: str, text: str) -> re.Match[str] | None:
    matches = list(re.finditer(pattern, text, re.MULTILINE))
    return matches[-1] if matches else None


def truncate_head(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def truncate_tail(text: str, limit: int) -> str:
    """Keep the end of a traceback: that is where the error is."""
    text = text.strip()
    return text if len(text) <= limit else "[...]\n" + text[-limit:]


def has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


# ------------------------------------------------------------------ process groups


def group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs (zombies waiting to be reaped do not)."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def end_group(process: subprocess.Popen[bytes]) -> None:
    """End every process of the group this command leads, politely first."""
    if os.name != "posix":  # no process groups to signal: the command alone
        if process.poll() is None:
            process.kill()
            process.wait()
        return
    pgid = process.pid
    for signum, grace in END_SIGNALS:
        process.poll()  # reap the leader, so that it does not count as running
        if not group_alive(pgid):
            return
        try:
            os.killpg(pgid, signum)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            process.poll()
            if not group_alive(pgid):
                return
            time.sleep(0.05)


def execute(argv: Sequence[str], ctx: Context, env: dict[str, str] | None = None) -> Outcome:
    """Run one command in a process group of its own, output to a temporary file.

    The file, not a pipe: a process that escaped the group and kept the pipe open
    would otherwise hold the gate forever.
    """
    started = time.monotonic()
    # Wide lines, so pytest's one-line failure summaries are not cut at 80 columns.
    full_env = {**os.environ, "COLUMNS": os.environ.get("COLUMNS", "120"), **(env or {})}
    with tempfile.TemporaryFile(dir=ctx.scratch) as output:
        try:
            process = subprocess.Popen(
                list(argv),
                cwd=ctx.root,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=os.name == "posix",
            )
        except OSError as exc:
            reason = exc.strerror or str(exc)
            return Outcome(None, "", time.monotonic() - started, f"cannot run {argv[0]}: {reason}")
        error: str | None = None
        deadline = started + ctx.timeout
        try:
            while process.poll() is None:
                if ctx.stop.is_set():
                    error = "interrupted"
                    break
                if time.monotonic() >= deadline:
                    error = f"timed out after {ctx.timeout:g}s; every process it started was ended"
                    break
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=min(0.1, max(deadline - time.monotonic(), 0.01)))
        finally:
            end_group(process)  # on time-out, and whatever a finished command left behind
        duration = time.monotonic() - started
        output.seek(0)
        text = output.read().decode("utf-8", "replace")
    if error is not None:
        return Outcome(None, text, duration, error)
    return Outcome(process.returncode, text, duration)


def count_findings(exit_code: int, output: str) -> int | None:
    """Findings reported by a project tool (audit, story log) in its text output.

    A total such as "3 violations" wins; otherwise each line that starts with
    path:line counts as one finding. None when a failing run shows neither.
    """
    if exit_code == 0:
        return 0
    total = last_match(r"\b(\d+) (?:violation|finding|problem|issue|error)s?\b", output)
    if total:
        return int(total[1])
    located = re.findall(r"^\s*[\w./\\-]+\.\w+:\d+\b", output, re.MULTILINE)
    return len(located) or None


def findings_summary(findings: int | None, exit_code: int, tool: str) -> str:
    if findings is None:
        return f"{tool} exited {exit_code}"
    return "no findings" if findings == 0 else plural(findings, "finding")


def status_for(exit_code: int) -> str:
    """The convention of every gate tool here: 0 clean, 1 findings, anything else broken."""
    return {0: PASSED, 1: FAILED}.get(exit_code, ERROR)


def command_gate(
    ctx: Context,
    name: str,
    argv: list[str],
    summarize: Callable[[int, str], tuple[int | None, str]],
) -> GateResult:
    outcome = execute(argv, ctx)
    result = GateResult(name, argv, ERROR, outcome.exit_code, outcome.duration_s)
    result.output = outcome.output
    if outcome.error is not None or outcome.exit_code is None:
        result.summary = outcome.error or "did not finish"
        return result
    result.status = status_for(outcome.exit_code)
    result.findings, result.summary = summarize(outcome.exit_code, outcome.output)
    if result.status == ERROR:
        result.findings = None
    return result


def skipped(name: str, command: list[str], reason: str) -> GateResult:
    return GateResult(name, command, SKIPPED, summary=reason)


def missing_tool(name: str, command: list[str], package: str) -> GateResult:
    return GateResult(
        name,
        command,
        ERROR,
        summary=f"{package} is not installed for {sys.executable} (pip install -e '.[dev]')",
    )


# --------------------------------------------------------------------------- --changed


def component_names(root: Path) -> list[str]:
    folder = root / "components"
    if not folder.is_dir():
        return []
    return sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.is_dir() and not entry.name.startswith((".", "_"))
    )


def changed_paths(root: Path) -> list[str]:
    """Paths changed since HEAD, relative to root: the diff (staged or not) and new files."""
    diff = git(root, "diff", "--name-only", "--no-renames", "--relative", "-z", "HEAD", "--")
    new = git(root, "ls-files", "--others", "--exclude-standard", "-z")
    paths = {path for path in (diff.stdout + new.stdout).split("\0") if path}
    return sorted(paths)


def is_project_wide(path: str) -> bool:
    parts = Path(path).parts
    if parts[0] == "components":
        return len(parts) == 2 and path.endswith((".py", ".pyi"))
    return path in PROJECT_WIDE or path.endswith((".py", ".pyi"))


def referencing(root: Path, names: set[str], among: list[str]) -> set[str]:
    """The components whose code names one of ``names`` (components.<name>), transitively."""
    found = set(names)
    texts: dict[str, str] = {}
    for name in among:
        parts = []
        for source in sorted((root / "components" / name).rglob("*.py")):
            try:
                parts.append(source.read_text(encoding="utf-8", errors="replace"))
            except OSError:
                continue
        texts[name] = "\n".join(parts)
    while True:
        pattern = re.compile(
            r"\bcomponents\.(?:" + "|".join(re.escape(name) for name in sorted(found)) + r")\b"
        )
        more = {name for name in among if name not in found and pattern.search(texts[name])}
        if not more:
            return found
        found |= more


def changed_scope(root: Path) -> Scope:
    try:
        paths = changed_paths(root)
    except GitError as error:
        return Scope(None, f"--changed: {error}; every component checked")
    wide = [path for path in paths if is_project_wide(path)]
    if wide:
        shown = ", ".join(wide[:3]) + (" ..." if len(wide) > 3 else "")
        return Scope(
            None, f"--changed: project-wide {shown} changed: every component", tuple(paths)
        )
    existing = component_names(root)
    touched = {
        Path(path).parts[1]
        for path in paths
        if Path(path).parts[0] == "components" and len(Path(path).parts) > 2
    }
    touched &= set(existing)
    selected = referencing(root, touched, existing) if touched else set()
    if not selected:
        note = "--changed: no component changed since HEAD"
        return Scope((), note, tuple(paths))
    dependents = sorted(selected - touched)
    note = (
        f"--changed: {len(selected)} of {plural(len(existing), 'component')}: "
        f"{', '.join(sorted(touched))} changed since HEAD"
    )
    if dependents:
        note += f", {', '.join(dependents)} name{'s' if len(dependents) == 1 else ''} it"
    return Scope(tuple(sorted(selected)), note, tuple(paths))


def limited(ctx: Context, result: GateResult) -> GateResult:
    """Record in the evidence what a per-component gate was limited to."""
    if ctx.scope.components is not None:
        result.extra["limited_to"] = list(ctx.scope.components)
    return result


def nothing_changed(ctx: Context, name: str, argv: list[str]) -> GateResult | None:
    if ctx.scope.components == ():
        return limited(ctx, skipped(name, argv, "no component changed since HEAD (--changed)"))
    return None


# --------------------------------------------------------------------------- summaries


def summarize_ruff(exit_code: int, output: str) -> tuple[int | None, str]:
    if exit_code == 0:
        return 0, "no findings"
    total = last_match(r"Found (\d+) errors?", output)
    if not total:
        return None, f"ruff exited {exit_code}"
    count = int(total[1])
    summary = plural(count, "finding")
    fixable = last_match(r"(\d+) fixable with (?:the )?`--fix`", output)
    if fixable:
        summary += f" ({fixable[1]} fixable with ruff check --fix)"
    return count, summary


def summarize_format(exit_code: int, output: str) -> tuple[int | None, str]:
    if exit_code == 0:
        done = last_match(r"(\d+) files? (?:already formatted|left unchanged)", output)
        return 0, f"{plural(int(done[1]), 'file')} formatted" if done else "formatted"
    pending = last_match(r"(\d+) files? would be reformatted", output)
    count = int(pending[1]) if pending else len(re.findall(r"^Would reformat", output, re.M))
    if not count:
        return None, f"ruff format exited {exit_code}"
    return count, f"{plural(count, 'file')} to reformat (ruff format .)"


def summarize_mypy(exit_code: int, output: str) -> tuple[int | None, str]:
    if exit_code == 0:
        clean = last_match(r"no issues found in (\d+) source files?", output)
        return 0, f"no issues in {plural(int(clean[1]), 'file')}" if clean else "no issues"
    found = last_match(r"Found (\d+) errors? in (\d+) files?", output)
    if found:
        count = int(found[1])
        return count, f"{plural(count, 'error')} in {plural(int(found[2]), 'file')}"
    count = len(re.findall(r":\d+(?::\d+)?: error:", output))
    if count:
        return count, plural(count, "error")
    return None, f"mypy exited {exit_code}"


def summarize_imports(exit_code: int, output: str) -> tuple[int | None, str]:
    contracts = last_match(r"Contracts:\s*(\d+) kept,\s*(\d+) broken", output)
    if not contracts:
        if exit_code == 0:
            return 0, "contracts kept"
        return None, f"lint-imports exited {exit_code}"
    kept, broken = int(contracts[1]), int(contracts[2])
    if broken:
        return broken, f"{broken} broken, {kept} kept"
    return 0, f"{plural(kept, 'contract')} kept"


def summarize_tool(tool: str) -> Callable[[int, str], tuple[int | None, str]]:
    def summarize(exit_code: int, output: str) -> tuple[int | None, str]:
        findings = count_findings(exit_code, output)
        return findings, findings_summary(findings, exit_code, tool)

    return summarize


# --------------------------------------------------------------------------- gates


def ruff_base() -> list[str] | None:
    if has_module("ruff"):
        return [sys.executable, "-m", "ruff"]
    found = shutil.which("ruff")
    return [found] if found else None


def gate_ruff(ctx: Context) -> GateResult:
    base = ruff_base()
    tail = ["check", "--no-fix", *(ctx.scope.targets() or ["."])]
    if (result := nothing_changed(ctx, "ruff", ["ruff", *tail])) is not None:
        return result
    if base is None:
        return missing_tool("ruff", ["ruff", *tail], "ruff")
    return limited(ctx, command_gate(ctx, "ruff", [*base, *tail], summarize_ruff))


def gate_format(ctx: Context) -> GateResult:
    base = ruff_base()
    tail = ["format", "--check", *(ctx.scope.targets() or ["."])]
    if (result := nothing_changed(ctx, "format", ["ruff", *tail])) is not None:
        return result
    if base is None:
        return missing_tool("format", ["ruff", *tail], "ruff")
    return limited(ctx, command_gate(ctx, "format", [*base, *tail], summarize_format))


def gate_mypy(ctx: Context) -> GateResult:
    targets = ctx.scope.targets()
    if targets is None:
        targets = [name for name in ("components", "app") if (ctx.root / name).exists()]
        if not targets:
            argv = [sys.executable, "-m", "mypy", "--strict", "components", "app"]
            return skipped("mypy", argv, "no components/ or app/ to check")
    argv = [sys.executable, "-m", "mypy", "--strict", *targets]
    if (result := nothing_changed(ctx, "mypy", argv)) is not None:
        return result
    if not has_module("mypy"):
        return missing_tool("mypy", argv, "mypy")
    return limited(ctx, command_gate(ctx, "mypy", argv, summarize_mypy))


def lint_imports_command() -> list[str] | None:
    """import-linter's CLI from this interpreter's environment, wherever it lives."""
    bin_dir = Path(sys.executable).parent
    for script in ("lint-imports", "lint-imports.exe"):
        candidate = bin_dir / script
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate)]
    if has_module("importlinter"):
        entry = "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"
        return [sys.executable, "-c", entry]
    found = shutil.which("lint-imports")
    return [found] if found else None


def has_import_linter_config(root: Path) -> bool:
    if (root / ".importlinter").is_file():
        return True
    setup_cfg = root / "setup.cfg"
    if setup_cfg.is_file() and "[importlinter" in setup_cfg.read_text("utf-8", "replace"):
        return True
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return False
        tool = data.get("tool")
        return isinstance(tool, dict) and "importlinter" in tool
    return False


def gate_imports(ctx: Context) -> GateResult:
    argv = lint_imports_command()
    if not has_import_linter_config(ctx.root):
        return skipped("imports", argv or ["lint-imports"], "no import-linter config")
    if argv is None:
        return missing_tool("imports", ["lint-imports"], "import-linter")
    return command_gate(ctx, "imports", argv, summarize_imports)


def tool_command(root: Path, entry_point: str, command: str) -> list[str]:
    """The project's own entry point (``tools/<entry_point>``, which a project may
    wrap) when it has one, else the same command of the installed package."""
    if (root / "tools" / entry_point).is_file():
        return [sys.executable, f"tools/{entry_point}"]
    return [sys.executable, "-m", "hexforge", command]


def gate_audit(ctx: Context) -> GateResult:
    argv = [
        *tool_command(ctx.root, "hex_audit.py", "audit"),
        *(ctx.scope.targets() or ["components/"]),
    ]
    if not (ctx.root / "components").is_dir():
        return skipped("audit", argv, "no components/ directory")
    if (result := nothing_changed(ctx, "audit", argv)) is not None:
        return result
    return limited(ctx, command_gate(ctx, "audit", argv, summarize_tool("hex_audit")))


# --------------------------------------------------------------------------- tests


# squawk (PyPI squawk-cli) lints the migrations for DDL that locks a busy table.
# Rules left out, each because tools/migrate.py or the generator does its job:
SQUAWK_EXCLUDED = (
    # migrate.py runs a file in one transaction with its history row, and refuses a
    # no-transaction file unless each statement is safe to repeat.
    "prefer-robust-stmts",
    # migrate.py sets lock_timeout (--lock-timeout) before every migration.
    "require-lock-timeout",
    # Concurrent builds and validations may take long on purpose: they let writes through.
    "require-statement-timeout",
    # A rule is dropped only when fields stops declaring it, in the change whose
    # code stops relying on it: no lock to fear, no client to surprise.
    "ban-drop-constraint",
    "ban-drop-default",
    "ban-drop-not-null",
)
MIGRATION_FILES = "components/*/adapters/outbound/migrations/*.sql"


def squawk_command() -> str | None:
    """squawk beside this interpreter (the project's venv), else on PATH."""
    return shutil.which("squawk", path=str(Path(sys.executable).parent)) or shutil.which("squawk")


def gate_migrations(ctx: Context) -> GateResult:
    files = sorted(path.relative_to(ctx.root).as_posix() for path in ctx.root.glob(MIGRATION_FILES))
    squawk = squawk_command()
    argv = [
        squawk or "squawk",
        "--reporter=gcc",
        "--pg-version=15",
        f"--exclude={','.join(SQUAWK_EXCLUDED)}",
        *files,
    ]
    if not files:
        return skipped("migrations", argv, "no migration files")
    if squawk is None:
        return missing_tool("migrations", argv, "squawk-cli")
    return command_gate(ctx, "migrations", argv, summarize_tool("squawk"))


def case_test_id(case: ET.Element, root: Path) -> str:
    """A pytest-style node id (path::Class::name) for a junit <testcase>."""
    classname = case.get("classname", "")
    name = case.get("name", "")
    parts = [part for part in classname.split(".") if part]
    for cut in range(len(parts), 0, -1):
        candidate = Path(*parts[: cut - 1], parts[cut - 1] + ".py")
        if (root / candidate).is_file():
            return "::".join([candidate.as_posix(), *parts[cut:], name])
    if not parts and name and "[" not in name:
        # A collection error: the name is the dotted module that failed to import.
        module = Path(*name.split(".")).with_suffix(".py")
        if (root / module).is_file():
            return module.as_posix()
    return "::".join(part for part in (classname, name) if part)


@dataclass
class JunitReport:
    """One pytest run's junit XML, split by tier."""

    counts: dict[str, TierCounts]
    uncollected: dict[str, int]  # test modules that failed to import, per tier
    failures: list[dict[str, Any]]


def tier_of_path(test_id: str, tiers: Sequence[str]) -> str:
    """A module that failed to import carries no marker: its folder (tests/<tier>/) tells."""
    parts = Path(test_id.split("::", 1)[0]).parts
    return next((tier for tier in tiers if tier in parts), tiers[0])


def read_junit(path: Path, root: Path, tiers: Sequence[str]) -> JunitReport:
    report = JunitReport({tier: TierCounts() for tier in tiers}, dict.fromkeys(tiers, 0), [])
    for case in ET.parse(path).iter("testcase"):
        test_id = case_test_id(case, root)
        marked = next(
            (
                prop.get("value", "").split()
                for prop in case.iter("property")
                if prop.get("name") == "hexforge_tiers"
            ),
            None,
        )
        in_tiers = [tier for tier in tiers if tier in (marked or ())]
        collection_error = marked is None and case.get("classname", "") == ""
        if not in_tiers:
            in_tiers = [tier_of_path(test_id, tiers)]
        problem = case.find("failure")
        kind = "failed"
        if problem is None:
            problem = case.find("error")
            kind = "error"
        for tier in in_tiers:
            counts = report.counts[tier]
            counts.tests += 1
            if problem is None:
                if case.find("skipped") is not None:
                    counts.skipped += 1
                else:
                    counts.passed += 1
            elif kind == "failed":
                counts.failed += 1
            else:
                counts.errors += 1
                if collection_error:
                    report.uncollected[tier] += 1
        if problem is not None:
            report.failures.append(
                {
                    # A regression test is one first, whatever else it is marked.
                    "tier": "regression" if "regression" in in_tiers else in_tiers[0],
                    "tiers": in_tiers,
                    "test_id": test_id,
                    "kind": kind,
                    "message": truncate_head(problem.get("message", ""), MESSAGE_LIMIT),
                    "details": truncate_tail(problem.text or "", DETAILS_LIMIT),
                }
            )
    return report


def counts_summary(counts: TierCounts) -> str:
    parts = [f"{counts.passed} passed"]
    if counts.failed:
        parts.append(f"{counts.failed} failed")
    if counts.errors:
        parts.append(plural(counts.errors, "error"))
    if counts.skipped:
        parts.append(f"{counts.skipped} skipped")
    return ", ".join(parts)


def idle_cpus(sample_s: float = IDLE_SAMPLE_S) -> float:
    """How many CPUs nothing is using right now.

    From /proc/stat over ``sample_s`` seconds: the load average lags a minute behind,
    so it still counts work that just ended (the previous gate run, say) and would
    keep the tests in one process on a machine that is idle. Elsewhere: the CPUs
    less the load average.
    """
    cpus = os.cpu_count() or 1

    def times() -> tuple[int, int]:
        with PROC_STAT.open(encoding="ascii") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
        return sum(fields[3:5]), sum(fields)  # idle + iowait, all

    try:
        idle_before, total_before = times()
        time.sleep(sample_s)
        idle_after, total_after = times()
    except (OSError, ValueError):
        try:
            return max(0.0, cpus - os.getloadavg()[0])
        except OSError:  # no load average either: count every CPU as idle
            return float(cpus)
    elapsed = total_after - total_before
    return cpus * (idle_after - idle_before) / elapsed if elapsed > 0 else float(cpus)


def test_modules(root: Path, targets: list[str] | None) -> list[Path]:
    """The test modules the run covers that live in components (relative to root)."""
    folders = (
        [root / target for target in targets] if targets is not None else [root / "components"]
    )
    found = {
        path.relative_to(root)
        for folder in folders
        for path in folder.rglob("test_*.py")
        if "tests" in path.relative_to(root).parts
    }
    return sorted(found)


def test_workers(ctx: Context, modules: int) -> int:
    """How many pytest processes share the test run: one per idle CPU, none beyond
    the CPUs, and one only below SPLIT_MIN_MODULES test modules."""
    if ctx.test_workers is not None:
        return max(1, min(ctx.test_workers, modules))
    if modules < SPLIT_MIN_MODULES:
        return 1
    idle = idle_cpus() if ctx.idle_cpus is None else ctx.idle_cpus
    return max(1, min(int(idle + 0.5), os.cpu_count() or 1))


def share_out(root: Path, modules: list[Path], workers: int) -> list[list[Path]]:
    """The modules in ``workers`` shares of about equal size: bytes of test code, the
    largest module first, each to the share with the least so far."""
    sizes = {module: (root / module).stat().st_size for module in modules}
    shares: list[list[Path]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for module in sorted(modules, key=lambda module: (-sizes[module], module)):
        lightest = loads.index(min(loads))
        shares[lightest].append(module)
        loads[lightest] += sizes[module]
    return [sorted(share) for share in shares if share]


def test_scratch(ctx: Context, tiers: Sequence[str], processes: int) -> tuple[Path, list[Path]]:
    """The tier plugin's folder, and a TMPDIR per pytest process (pytest's tmp_path and
    the throwaway PostgreSQL cluster live there)."""
    plugins = ctx.scratch / "plugins"
    plugins.mkdir(exist_ok=True)
    (plugins / f"{TIER_PLUGIN_NAME}.py").write_text(
        TIER_PLUGIN.format(tiers=tuple(tiers)), encoding="utf-8"
    )
    # Like /tmp: as root the test cluster runs as the postgres user, who must get through.
    ctx.scratch.chmod(0o711)
    tmps = []
    for index in range(processes):
        tmp = ctx.scratch / f"tmp{index}"
        tmp.mkdir(exist_ok=True)
        tmp.chmod(0o1777)
        tmps.append(tmp)
    return plugins, tmps


def test_shares(ctx: Context, targets: list[str] | None) -> list[list[str]]:
    """The paths each pytest process of the run is given: one process for everything
    (``targets``, or pytest's own choice without them), or one per share of the
    component test modules, the first also running what else the whole run would
    (tests outside components) by ignoring the other shares' modules."""
    modules = test_modules(ctx.root, targets)
    workers = test_workers(ctx, len(modules))
    if workers < 2:
        return [list(targets or [])]
    shares = share_out(ctx.root, modules, workers)
    others = [f"--ignore={module.as_posix()}" for share in shares[1:] for module in share]
    return [[*(targets or []), *others], *([m.as_posix() for m in share] for share in shares[1:])]


def run_shares(
    ctx: Context, argv: list[str], shares: list[list[str]], tiers: Sequence[str]
) -> tuple[Outcome, JunitReport | None]:
    """Every share in a pytest process of its own, side by side; one outcome and one
    report for them all, as if they were one run."""
    plugins, tmps = test_scratch(ctx, tiers, len(shares))
    path = os.pathsep.join(filter(None, [str(plugins), os.environ.get("PYTHONPATH")]))
    junits = [ctx.scratch / f"junit{index}.xml" for index in range(len(shares))]

    def run(index: int) -> Outcome:
        # The counts come from pytest's junit XML, never from its console text.
        command = [*argv, *shares[index], "-p", TIER_PLUGIN_NAME, f"--junitxml={junits[index]}"]
        env = {"PYTHONPATH": path, "TMPDIR": str(tmps[index])}
        if "integration" in tiers:  # the tier that uses PostgreSQL: start it while pytest collects
            env["HEXFORGE_POSTGRES_EARLY"] = "1"
        return execute(command, ctx, env)

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(shares)) as pool:
        outcomes = list(pool.map(run, range(len(shares))))
    outcome = merge_outcomes(outcomes, time.monotonic() - started)
    reports = []
    for junit in junits:
        try:
            reports.append(read_junit(junit, ctx.root, tiers))
        except (OSError, ET.ParseError):
            return outcome, None
    return outcome, merge_reports(reports, tiers)


def merge_outcomes(outcomes: list[Outcome], duration_s: float) -> Outcome:
    """The processes' outcome as one run's: the first error, else the worst exit
    status (5, no test collected, only when every process says so); output with a
    failing process's last, where a tail shows it."""
    ordered = sorted(outcomes, key=lambda outcome: outcome.exit_code not in (0, 5))
    # pytest names the junit file, which is gone by now: keep that line out of the tail.
    output = "".join(
        re.sub(r"(?m)^-* generated xml file: .*\n?", "", outcome.output) for outcome in ordered
    )
    error = next((outcome.error for outcome in outcomes if outcome.error is not None), None)
    codes = [outcome.exit_code for outcome in outcomes]
    if error is not None or None in codes:
        return Outcome(None, output, duration_s, error)
    counted = [code for code in codes if code is not None and code != 5] or [5]
    return Outcome(max(counted), output, duration_s)


def merge_reports(reports: list[JunitReport], tiers: Sequence[str]) -> JunitReport:
    merged = JunitReport({tier: TierCounts() for tier in tiers}, dict.fromkeys(tiers, 0), [])
    for report in reports:
        for tier in tiers:
            merged.counts[tier].add(report.counts[tier])
            merged.uncollected[tier] += report.uncollected[tier]
        merged.failures += report.failures
    return merged


def gate_tests(ctx: Context, tiers: Sequence[str]) -> list[GateResult]:
    """One pytest run for the selected tiers, reported as one gate per tier."""
    argv = [sys.executable, "-m", "pytest", "-m", " or ".join(tiers)]
    targets = ctx.scope.targets()
    if targets == []:
        reason = "no component changed since HEAD (--changed)"
        return [limited(ctx, skipped(tier, argv, reason)) for tier in tiers]
    if not has_module("pytest"):
        return [missing_tool(tier, argv, "pytest") for tier in tiers]
    argv.append("--continue-on-collection-errors")
    shares = test_shares(ctx, targets)
    outcome, report = run_shares(ctx, argv, shares, tiers)
    argv += targets or []  # the run as one process would make it; the shares say how it was
    ctx.test_run = {
        "command": argv,
        "exit_code": outcome.exit_code,
        "workers": len(shares),
        "duration_s": round(outcome.duration_s, 3),
        "shares": shares,
    }
    has_components = bool(targets) or bool(component_names(ctx.root))
    results = []
    for tier in tiers:
        result = tier_result(tier, argv, outcome, report, has_components)
        result.extra["shared_run"] = list(tiers)
        results.append(limited(ctx, result))
        counts = report.counts[tier] if report else TierCounts()
        ctx.tiers[tier] = {
            "status": result.status,
            "exit_code": result.exit_code,
            **counts.to_json(),
            "duration_s": round(result.duration_s, 3),
        }
    if report:
        ctx.failures.extend(report.failures)
    for later in [result for result in results if result.status in (FAILED, ERROR)][1:]:
        later.output = ""  # the run's output tail shows once, under the first failing tier
    return results


def tier_result(
    tier: str,
    argv: list[str],
    outcome: Outcome,
    report: JunitReport | None,
    has_components: bool,
) -> GateResult:
    result = GateResult(tier, argv, ERROR, outcome.exit_code, outcome.duration_s)
    result.output = outcome.output
    code = outcome.exit_code
    if outcome.error is not None or code is None:
        result.summary = outcome.error or "did not finish"
        return result
    if report is None or code not in (0, 1, 5):
        meaning = PYTEST_EXIT_MEANINGS.get(code, "no test report")
        result.summary = f"pytest exited {code} ({meaning})"
        return result
    counts = report.counts[tier]
    bad = counts.failed + counts.errors
    result.findings = bad
    result.summary = counts_summary(counts)
    if report.uncollected[tier]:
        modules = plural(report.uncollected[tier], "test module")
        result.summary = f"{modules} could not be imported; {result.summary}"
    elif bad:
        result.status = FAILED
    elif counts.tests:
        result.status = PASSED
    elif tier == "regression":
        result.status = PASSED  # none yet: each fixed bug adds one, and from then on it counts
        result.summary = "no regression tests yet"
    elif has_components:
        result.status = FAILED
        result.summary = f"no tests marked {tier}: every component ships some"
    else:
        result.status = SKIPPED
        result.summary = f"no tests marked {tier} (no components yet)"
    result.exit_code = {PASSED: 0, FAILED: 1}.get(result.status, code)
    return result


def find_story_dirs(root: Path) -> list[Path]:
    """Active story logs: <feature>/in-progress/<STORY>/_implementation/BACKEND-LOG.md."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            name for name in dirnames if name not in SKIP_DIRS and not name.endswith(".egg-info")
        )
        here = Path(dirpath)
        if (
            here.name == "_implementation"
            and "BACKEND-LOG.md" in filenames
            and here.parent.parent.name == "in-progress"
            and here.parent.parent != root
        ):
            found.append(here.relative_to(root))
    return found


def gate_stories(ctx: Context) -> GateResult:
    base = [*tool_command(ctx.root, "story_log.py", "story"), "check"]
    stories = find_story_dirs(ctx.root)
    if not stories:
        return skipped("stories", base, "no active story logs")
    result = GateResult("stories", base, PASSED)
    targets: list[dict[str, Any]] = []
    outputs: list[str] = []
    total: int | None = 0
    worst = PASSED
    for story in stories:
        outcome = execute([*base, story.as_posix()], ctx)
        result.duration_s += outcome.duration_s
        if outcome.error is not None or outcome.exit_code is None:
            status, findings = ERROR, None
            outputs.append(f"{story.as_posix()}: {outcome.error}\n{outcome.output}")
        else:
            status = status_for(outcome.exit_code)
            findings = count_findings(outcome.exit_code, outcome.output)
            if status == ERROR:
                findings = None
            if status != PASSED:
                outputs.append(f"== {story.as_posix()}\n{outcome.output}")
        targets.append(
            {
                "dir": story.as_posix(),
                "status": status,
                "exit_code": outcome.exit_code,
                "findings": findings,
            }
        )
        total = None if total is None or findings is None else total + findings
        if worst != ERROR and status != PASSED:
            worst = status
        if status != PASSED and result.exit_code in (None, 0):
            result.exit_code = outcome.exit_code
    if result.exit_code is None:
        result.exit_code = 0
    result.status = worst
    result.findings = total if worst != ERROR else None
    result.output = "\n".join(outputs)
    result.extra["targets"] = targets
    bad = sum(1 for target in targets if target["status"] != PASSED)
    logs = plural(len(targets), "story log")
    if bad == 0:
        result.summary = f"{logs} valid"
    elif total:
        result.summary = f"{plural(total, 'finding')} in {bad} of {logs}"
    else:
        result.summary = f"{bad} of {logs} not valid"
    return result


@dataclass(frozen=True)
class Gate:
    name: str
    runs: str
    run: Callable[[Context], GateResult] | None  # None: a test tier, run with the others


GATES: tuple[Gate, ...] = (
    Gate("ruff", "ruff check --no-fix .", gate_ruff),
    Gate("format", "ruff format --check .", gate_format),
    Gate("mypy", "mypy --strict components app", gate_mypy),
    Gate("imports", "lint-imports (the .importlinter contracts)", gate_imports),
    Gate("audit", "python tools/hex_audit.py components/", gate_audit),
    Gate("migrations", "squawk: lock-unsafe DDL in the migrations", gate_migrations),
    Gate("unit", "pytest -m unit", None),
    Gate("integration", "pytest -m integration", None),
    Gate("regression", "pytest -m regression", None),
    Gate("stories", "python tools/story_log.py check DIR, per active story log", gate_stories),
)
GATE_NAMES = tuple(gate.name for gate in GATES)
# Longest first, so that the slow ones never start last.
START_ORDER = ("tests", "mypy", "imports", "audit", "migrations", "ruff", "format", "stories")


@dataclass
class Job:
    """What one worker thread runs: a gate, or the one pytest run of every selected tier."""

    name: str
    gates: tuple[str, ...]
    run: Callable[[Context], list[GateResult]]


def single(run: Callable[[Context], GateResult]) -> Callable[[Context], list[GateResult]]:
    return lambda ctx: [run(ctx)]


def plan_jobs(chosen: Sequence[str]) -> list[Job]:
    """The selected gates as jobs, in gate order."""
    jobs: list[Job] = []
    tiers = tuple(name for name in chosen if name in TEST_TIERS)
    for gate in GATES:
        if gate.name not in chosen:
            continue
        if gate.run is None:
            if gate.name == tiers[0]:
                jobs.append(Job("tests", tiers, lambda ctx: gate_tests(ctx, tiers)))
            continue
        jobs.append(Job(gate.name, (gate.name,), single(gate.run)))
    return jobs


# --------------------------------------------------------------------------- report


class Progress:
    """One line per gate as it finishes (lines never interleave), its output tail on failure."""

    def __init__(self, total: int, tail: int) -> None:
        self.total = total
        self.tail = tail
        self.done = 0
        self.lock = threading.Lock()

    def report(self, result: GateResult) -> None:
        label = {PASSED: "PASS", FAILED: "FAIL", SKIPPED: "SKIP", ERROR: "ERROR"}[result.status]
        with self.lock:
            self.done += 1
            lines = [
                f"[{self.done}/{self.total}] {result.name:<12} {label:<5} "
                f"{result.duration_s:7.2f}s  {result.summary}"
            ]
            output = result.output.rstrip().splitlines()
            if result.status in (FAILED, ERROR) and self.tail > 0 and output:
                if len(output) > self.tail:
                    lines.append(f"      ... {len(output) - self.tail} earlier lines not shown")
                lines += [f"      | {line}" for line in output[-self.tail :]]
            print("\n".join(lines), flush=True)


def run_jobs(
    ctx: Context, jobs: list[Job], progress: Progress, fail_fast: bool
) -> list[GateResult]:
    results: list[GateResult] = []
    if fail_fast or ctx.jobs == 1:
        stopped_after: str | None = None
        for job in jobs:
            if stopped_after is not None:
                reason = f"not run: --fail-fast after {stopped_after}"
                results += [skipped(name, [], reason) for name in job.gates]
                continue
            for result in job.run(ctx):
                progress.report(result)
                results.append(result)
                if fail_fast and result.status in (FAILED, ERROR) and stopped_after is None:
                    stopped_after = result.name
        return results

    def run(job: Job) -> list[GateResult]:
        found = job.run(ctx)
        for result in found:
            progress.report(result)
        return found

    ordered = sorted(jobs, key=lambda job: START_ORDER.index(job.name))
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=ctx.jobs)
    try:
        futures = {job.name: pool.submit(run, job) for job in ordered}
        for job in jobs:  # evidence in gate order, whatever order they finished in
            results += futures[job.name].result()
    except BaseException:
        ctx.stop.set()  # every running gate ends its process group
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    return results


def write_evidence(
    ctx: Context, results: list[GateResult], started: str, only: list[str] | None
) -> Path:
    evidence = ctx.root / EVIDENCE_DIR
    passed = all(result.status in (PASSED, SKIPPED) for result in results)
    finished = utc_now()
    write_json_atomic(
        evidence / RUN_FILE,
        {
            "schema_version": SCHEMA_VERSION,
            "started_at": started,
            "finished_at": finished,
            "passed": passed,
            "only": only,
            "changed": ctx.scope.to_json() if ctx.scope.note else None,
            "jobs": ctx.jobs,
            "timeout_s": ctx.timeout,
            "gates": [result.to_json() for result in results],
        },
    )
    if not ctx.tiers:
        return evidence  # no test tier ran: the previous test evidence still stands
    totals = TierCounts()
    report: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "generated_at": finished}
    for tier in TEST_TIERS:
        entry = ctx.tiers.get(tier)
        report[tier] = entry
        if entry is not None:
            totals.add(TierCounts(**{key: entry[key] for key in TierCounts().to_json()}))
    run = ctx.test_run or {}
    report["totals"] = {**totals.to_json(), "duration_s": run.get("duration_s", 0.0)}
    report["run"] = run
    report["limited_to"] = None if ctx.scope.components is None else list(ctx.scope.components)
    write_json_atomic(evidence / REPORT_FILE, report)
    failures_path = evidence / FAILURES_FILE
    if ctx.failures:
        write_json_atomic(
            failures_path,
            {
                "schema_version": SCHEMA_VERSION,
                "generated_at": finished,
                "count": len(ctx.failures),
                "failures": ctx.failures,
            },
        )
    else:
        failures_path.unlink(missing_ok=True)
    return evidence


# --------------------------------------------------------------------------- CLI


def count_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number, ``minimum`` or more."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} must be at least {minimum}")
        return value

    return parse


def default_jobs() -> int:
    return max(2, os.cpu_count() or 1)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = ArgumentParser(
        prog="python tools/quality_gates.py",
        description=(
            "Run the quality gates (" + ", ".join(GATE_NAMES) + "), several at once, and "
            "write the evidence into .claude/evidence/. All selected gates run even after a "
            "failure, so one run reports every problem; use --fail-fast to stop early."
        ),
        epilog="Exit status: 0 all gates passed or skipped, 1 a gate failed, 2 usage error.",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="GATE",
        help="run only this gate; repeat it (or use commas) for several",
    )
    parser.add_argument(
        "--changed",
        action="store_true",
        help="limit ruff, format, mypy, audit and the tests to the components changed "
        "since HEAD and those whose code names them",
    )
    parser.add_argument(
        "--fail-fast",
        action="store_true",
        help="one gate at a time, in order; stop at the first that fails",
    )
    parser.add_argument("--list", action="store_true", help="list the gates and exit")
    parser.add_argument(
        "--tail",
        type=int,
        default=DEFAULT_TAIL,
        metavar="N",
        help=f"lines of a failing gate's output to show (default {DEFAULT_TAIL}; 0 for none)",
    )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"end a gate that runs longer than this, with every process it started "
        f"(default {DEFAULT_TIMEOUT_S:g})",
    )
    parser.add_argument(
        "--jobs",
        type=count_at_least(1),
        default=None,
        metavar="N",
        help=f"gates run at once (default: the number of CPUs, at least 2; here {default_jobs()})",
    )
    parser.add_argument(
        "--test-workers",
        type=count_at_least(0),
        default=None,
        metavar="N",
        help="pytest processes the test modules are shared among (0 or 1: one; default: "
        f"one per idle CPU, from {SPLIT_MIN_MODULES} test modules up)",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="the project root (default: the nearest folder up from here with components/)",
    )
    return parser.parse_args(argv)


def selected_gates(only: list[str] | None) -> list[str] | None:
    if not only:
        return None
    names = [name.strip() for entry in only for name in entry.split(",") if name.strip()]
    unknown = [name for name in names if name not in GATE_NAMES]
    if unknown or not names:
        bad = ", ".join(unknown) or "(empty)"
        raise UsageError(f"--only: unknown gate: {bad}; the gates are: {', '.join(GATE_NAMES)}")
    return [name for name in GATE_NAMES if name in names]


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM ends the run as Ctrl-C does: every gate's group too


def run(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for gate in GATES:
            print(f"{gate.name:<12} {gate.runs}")
        return 0
    only = selected_gates(args.only)
    root: Path = (args.root or project_root()).resolve()
    if not root.is_dir():
        raise UsageError(f"--root: project root not found: {root}")
    if (stopped := interrupted_update(root)) is not None:
        print(f"quality_gates: {stopped}", file=sys.stderr)
        return 1
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)

    started = utc_now()
    clock = time.monotonic()
    chosen = [name for name in GATE_NAMES if only is None or name in only]
    jobs = plan_jobs(chosen)
    with tempfile.TemporaryDirectory(prefix="quality-gates-", ignore_cleanup_errors=True) as tmp:
        ctx = Context(root, args.timeout, Path(tmp), jobs=args.jobs or default_jobs())
        ctx.test_workers = args.test_workers
        if args.changed:
            ctx.scope = changed_scope(root)
        if (
            args.test_workers is None
            and set(chosen) & set(TEST_TIERS)
            and len(test_modules(root, ctx.scope.targets())) >= SPLIT_MIN_MODULES
        ):
            ctx.idle_cpus = idle_cpus()  # before any gate adds its own load
        if args.fail_fast:
            ctx.jobs = 1
        if ctx.scope.note:
            print(ctx.scope.note, flush=True)
        progress = Progress(len(chosen), args.tail)
        try:
            ran = run_jobs(ctx, jobs, progress, args.fail_fast)
        except KeyboardInterrupt:
            print(
                "quality_gates: interrupted; every gate ended, no evidence written", file=sys.stderr
            )
            return 130
    by_name = {result.name: result for result in ran}
    results = [
        by_name.get(name) or skipped(name, [], "not selected (--only)") for name in GATE_NAMES
    ]

    try:
        evidence = write_evidence(ctx, results, started, only)
    except OSError as exc:
        print(f"quality_gates: cannot write the evidence files: {exc}", file=sys.stderr)
        return 1
    bad = [result.name for result in results if result.status in (FAILED, ERROR)]
    passed = sum(1 for result in results if result.status == PASSED)
    elapsed = time.monotonic() - clock
    shown = evidence.relative_to(root) if evidence.is_relative_to(root) else evidence
    if bad:
        print(f"FAILED: {', '.join(bad)} ({elapsed:.1f}s); evidence in {shown.as_posix()}/")
        return 1
    print(
        f"PASSED: {passed} passed, {len(chosen) - passed} skipped ({elapsed:.1f}s); "
        f"evidence in {shown.as_posix()}/"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return cli(run, argv, prog="quality_gates.py")
