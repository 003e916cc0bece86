#!/usr/bin/env python3
"""Run every quality gate of this project, in order, and write the evidence files.

    python tools/quality_gates.py                  every gate
    python tools/quality_gates.py --only unit      one gate (repeat --only for more)
    python tools/quality_gates.py --list           the gates and what they run

Gates, in this order: ruff, format, mypy, imports, audit, migrations, unit,
integration, stories.
Every gate runs even after an earlier one failed, so a single run shows everything
that is wrong; --fail-fast stops at the first failure instead. The tools come from
the interpreter running this script (python -m ruff, -m mypy, -m pytest), so run it
with the project's virtual environment. No gate changes a source file.

Evidence, written atomically into .claude/evidence/:
  quality_gates_run.json   every gate: command, status, exit code, duration, summary
  test_report.json         per test tier: tests, passed, failed, errors, skipped
  test_failures.json       each failing test; present only while some test fails

Exit status: 0 when no gate failed or errored (skipped gates are fine), 1 when one
did, 2 for a usage error. Standard library only. Maintained by hexforge.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
EVIDENCE_DIR = Path(".claude") / "evidence"
RUN_FILE = "quality_gates_run.json"
REPORT_FILE = "test_report.json"
FAILURES_FILE = "test_failures.json"

PASSED = "passed"
FAILED = "failed"
SKIPPED = "skipped"
ERROR = "error"

TEST_TIERS = ("unit", "integration")
MESSAGE_LIMIT = 500
DETAILS_LIMIT = 4000
DEFAULT_TAIL = 40

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
class Context:
    root: Path
    timeout: float | None
    tiers: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)


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


def execute(argv: Sequence[str], root: Path, timeout: float | None) -> Outcome:
    started = time.monotonic()
    # Wide lines, so pytest's one-line failure summaries are not cut at 80 columns.
    env = {**os.environ, "COLUMNS": os.environ.get("COLUMNS", "120")}
    try:
        proc = subprocess.run(
            list(argv),
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        partial = exc.output
        if isinstance(partial, bytes):
            partial = partial.decode("utf-8", "replace")
        return Outcome(
            None, partial or "", time.monotonic() - started, f"timed out after {timeout:g}s"
        )
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return Outcome(None, "", time.monotonic() - started, f"cannot run {argv[0]}: {reason}")
    return Outcome(proc.returncode, proc.stdout, time.monotonic() - started)


def write_json_atomic(path: Path, data: object) -> None:
    """Write to a temporary file beside the target, then rename it over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


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
    outcome = execute(argv, ctx.root, ctx.timeout)
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
    tail = ["check", "--no-fix", "."]
    if base is None:
        return missing_tool("ruff", ["ruff", *tail], "ruff")
    return command_gate(ctx, "ruff", [*base, *tail], summarize_ruff)


def gate_format(ctx: Context) -> GateResult:
    base = ruff_base()
    tail = ["format", "--check", "."]
    if base is None:
        return missing_tool("format", ["ruff", *tail], "ruff")
    return command_gate(ctx, "format", [*base, *tail], summarize_format)


def gate_mypy(ctx: Context) -> GateResult:
    targets = [name for name in ("components", "app") if (ctx.root / name).exists()]
    argv = [sys.executable, "-m", "mypy", "--strict", *(targets or ["components", "app"])]
    if not targets:
        return skipped("mypy", argv, "no components/ or app/ to check")
    if not has_module("mypy"):
        return missing_tool("mypy", argv, "mypy")
    return command_gate(ctx, "mypy", argv, summarize_mypy)


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


def gate_audit(ctx: Context) -> GateResult:
    argv = [sys.executable, "tools/hex_audit.py", "components/"]
    if not (ctx.root / "tools" / "hex_audit.py").is_file():
        return GateResult("audit", argv, ERROR, summary="tools/hex_audit.py is missing")
    if not (ctx.root / "components").is_dir():
        return skipped("audit", argv, "no components/ directory")
    return command_gate(ctx, "audit", argv, summarize_tool("hex_audit"))


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


def read_junit(path: Path, root: Path, tier: str) -> tuple[TierCounts, list[dict[str, Any]]]:
    counts = TierCounts()
    failures: list[dict[str, Any]] = []
    for case in ET.parse(path).iter("testcase"):
        counts.tests += 1
        problem = case.find("failure")
        kind = "failed"
        if problem is None:
            problem = case.find("error")
            kind = "error"
        if problem is None:
            if case.find("skipped") is not None:
                counts.skipped += 1
            else:
                counts.passed += 1
            continue
        if kind == "failed":
            counts.failed += 1
        else:
            counts.errors += 1
        failures.append(
            {
                "tier": tier,
                "test_id": case_test_id(case, root),
                "kind": kind,
                "message": truncate_head(problem.get("message", ""), MESSAGE_LIMIT),
                "details": truncate_tail(problem.text or "", DETAILS_LIMIT),
            }
        )
    return counts, failures


def counts_summary(counts: TierCounts) -> str:
    parts = [f"{counts.passed} passed"]
    if counts.failed:
        parts.append(f"{counts.failed} failed")
    if counts.errors:
        parts.append(plural(counts.errors, "error"))
    if counts.skipped:
        parts.append(f"{counts.skipped} skipped")
    return ", ".join(parts)


def gate_tests(ctx: Context, tier: str) -> GateResult:
    argv = [sys.executable, "-m", "pytest", "-m", tier]
    counts: TierCounts | None = None
    failures: list[dict[str, Any]] = []
    if not has_module("pytest"):
        result = missing_tool(tier, argv, "pytest")
    else:
        # The counts come from pytest's junit XML, never from its console text.
        with tempfile.TemporaryDirectory(prefix="quality-gates-") as scratch:
            junit = Path(scratch) / "junit.xml"
            outcome = execute([*argv, f"--junitxml={junit}"], ctx.root, ctx.timeout)
            if junit.is_file():
                try:
                    counts, failures = read_junit(junit, ctx.root, tier)
                except ET.ParseError:
                    counts, failures = None, []
        # pytest names the junit file, which is gone by now: keep that line out of the tail.
        outcome.output = re.sub(r"(?m)^-* generated xml file: .*\n?", "", outcome.output)
        result = tier_result(tier, argv, outcome, counts)
    ctx.failures.extend(failures)
    ctx.tiers[tier] = {
        "status": result.status,
        "exit_code": result.exit_code,
        **(counts or TierCounts()).to_json(),
        "duration_s": round(result.duration_s, 3),
    }
    return result


def tier_result(
    tier: str, argv: list[str], outcome: Outcome, counts: TierCounts | None
) -> GateResult:
    result = GateResult(tier, argv, ERROR, outcome.exit_code, outcome.duration_s)
    result.output = outcome.output
    code = outcome.exit_code
    if outcome.error is not None or code is None:
        result.summary = outcome.error or "did not finish"
    elif code == 5:
        result.status = SKIPPED
        result.findings = 0
        result.summary = f"no tests marked {tier}"
    elif code in (0, 1) and counts is not None:
        result.status = PASSED if code == 0 else FAILED
        result.findings = counts.failed + counts.errors
        result.summary = counts_summary(counts)
    else:
        meaning = PYTEST_EXIT_MEANINGS.get(code, "no test report")
        result.summary = f"pytest exited {code} ({meaning})"
        if counts is not None and counts.failed + counts.errors:
            result.findings = counts.failed + counts.errors
            result.summary += f": {counts_summary(counts)}"
    return result


def gate_unit(ctx: Context) -> GateResult:
    return gate_tests(ctx, "unit")


def gate_integration(ctx: Context) -> GateResult:
    return gate_tests(ctx, "integration")


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
    base = [sys.executable, "tools/story_log.py", "check"]
    stories = find_story_dirs(ctx.root)
    if not stories:
        return skipped("stories", base, "no active story logs")
    if not (ctx.root / "tools" / "story_log.py").is_file():
        return GateResult("stories", base, ERROR, summary="tools/story_log.py is missing")
    result = GateResult("stories", base, PASSED)
    targets: list[dict[str, Any]] = []
    outputs: list[str] = []
    total: int | None = 0
    worst = PASSED
    for story in stories:
        outcome = execute([*base, story.as_posix()], ctx.root, ctx.timeout)
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
    run: Callable[[Context], GateResult]


GATES: tuple[Gate, ...] = (
    Gate("ruff", "ruff check --no-fix .", gate_ruff),
    Gate("format", "ruff format --check .", gate_format),
    Gate("mypy", "mypy --strict components app", gate_mypy),
    Gate("imports", "lint-imports (the .importlinter contracts)", gate_imports),
    Gate("audit", "python tools/hex_audit.py components/", gate_audit),
    Gate("migrations", "squawk: lock-unsafe DDL in the migrations", gate_migrations),
    Gate("unit", "pytest -m unit", gate_unit),
    Gate("integration", "pytest -m integration", gate_integration),
    Gate("stories", "python tools/story_log.py check DIR, per active story log", gate_stories),
)
GATE_NAMES = tuple(gate.name for gate in GATES)


# --------------------------------------------------------------------------- report


def progress_start(name: str, index: int, total: int) -> None:
    sys.stdout.write(f"[{index}/{total}] {name:<12}")
    sys.stdout.flush()


def progress_end(result: GateResult, tail: int) -> None:
    label = {PASSED: "PASS", FAILED: "FAIL", SKIPPED: "SKIP", ERROR: "ERROR"}[result.status]
    print(f" {label:<5} {result.duration_s:7.2f}s  {result.summary}", flush=True)
    if result.status in (FAILED, ERROR) and tail > 0 and result.output.strip():
        lines = result.output.rstrip().splitlines()
        if len(lines) > tail:
            print(f"      ... {len(lines) - tail} earlier lines not shown")
        for line in lines[-tail:]:
            print(f"      | {line}")
        sys.stdout.flush()


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
            "gates": [result.to_json() for result in results],
        },
    )
    if not ctx.tiers:
        return evidence  # no test tier ran: the previous test evidence still stands
    totals = TierCounts()
    duration = 0.0
    report: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "generated_at": finished}
    for tier in TEST_TIERS:
        entry = ctx.tiers.get(tier)
        report[tier] = entry
        if entry is not None:
            totals.add(TierCounts(**{key: entry[key] for key in TierCounts().to_json()}))
            duration += float(entry["duration_s"])
    report["totals"] = {**totals.to_json(), "duration_s": round(duration, 3)}
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


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python tools/quality_gates.py",
        description=(
            "Run the quality gates in order (" + ", ".join(GATE_NAMES) + ") and write "
            "the evidence into .claude/evidence/. All selected gates run even after a "
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
        "--fail-fast", action="store_true", help="stop at the first gate that fails"
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
        type=float,
        default=None,
        metavar="SECONDS",
        help="give up on a gate that runs longer than this (default: no limit)",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(__file__).resolve().parent.parent,
        help="the project root (default: the folder that holds tools/)",
    )
    return parser.parse_args(argv)


def selected_gates(only: list[str] | None) -> list[str] | None:
    if not only:
        return None
    names = [name.strip() for entry in only for name in entry.split(",") if name.strip()]
    unknown = [name for name in names if name not in GATE_NAMES]
    if unknown or not names:
        bad = ", ".join(unknown) or "(empty)"
        raise ValueError(f"unknown gate: {bad}; the gates are: {', '.join(GATE_NAMES)}")
    return [name for name in GATE_NAMES if name in names]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for gate in GATES:
            print(f"{gate.name:<12} {gate.runs}")
        return 0
    try:
        only = selected_gates(args.only)
    except ValueError as exc:
        print(f"quality_gates: {exc}", file=sys.stderr)
        return 2
    root: Path = args.root.resolve()
    if not root.is_dir():
        print(f"quality_gates: project root not found: {root}", file=sys.stderr)
        return 2
    if args.timeout is not None and args.timeout <= 0:
        print("quality_gates: --timeout must be positive", file=sys.stderr)
        return 2

    ctx = Context(root=root, timeout=args.timeout)
    started = utc_now()
    clock = time.monotonic()
    chosen = [gate for gate in GATES if only is None or gate.name in only]
    results: list[GateResult] = []
    ran: list[GateResult] = []
    stopped_after: str | None = None
    for gate in GATES:
        if gate not in chosen:
            results.append(skipped(gate.name, [], "not selected (--only)"))
            continue
        if stopped_after is not None:
            results.append(skipped(gate.name, [], f"not run: --fail-fast after {stopped_after}"))
            continue
        progress_start(gate.name, len(ran) + 1, len(chosen))
        try:
            result = gate.run(ctx)
        except KeyboardInterrupt:
            print("\nquality_gates: interrupted; no evidence written", file=sys.stderr)
            return 130
        progress_end(result, args.tail)
        results.append(result)
        ran.append(result)
        if args.fail_fast and result.status in (FAILED, ERROR):
            stopped_after = gate.name

    try:
        evidence = write_evidence(ctx, results, started, only)
    except OSError as exc:
        print(f"quality_gates: cannot write the evidence files: {exc}", file=sys.stderr)
        return 1
    bad = [result.name for result in ran if result.status in (FAILED, ERROR)]
    passed = sum(1 for result in ran if result.status == PASSED)
    elapsed = time.monotonic() - clock
    shown = evidence.relative_to(root) if evidence.is_relative_to(root) else evidence
    if bad:
        print(f"FAILED: {', '.join(bad)} ({elapsed:.1f}s); evidence in {shown.as_posix()}/")
        return 1
    print(
        f"PASSED: {passed} passed, {len(ran) - passed} skipped ({elapsed:.1f}s); "
        f"evidence in {shown.as_posix()}/"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
