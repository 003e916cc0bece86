"""The coding agent's completion report, from the manifest's tasks and the evidence.

    python tools/completion_report.py [--output PATH] [--root PATH]

Run it when the task loop ends. It reads the backend and fullstack tasks of
``outstanding.tasks`` in ``.claude/manifest.yaml`` (their ``status`` and ``notes``),
the evidence the quality gates wrote (``.claude/evidence/quality_gates_run.json``,
``test_report.json``, ``test_failures.json``) and the entries of
``.claude/evolution/evolution.md``, and writes ``.claude/evidence/completion_report.md``
(or ``--output``):

- Summary: tasks completed N / M, tasks skipped (with their notes), the quality gate
  pass rate of the last gate run, the evolution entries;
- Task Results: one row per task, with its status and notes;
- Evidence Artifacts: each evidence file, what it says, or that it is absent;
- Next Step: the phase to hand over to. ``ba`` when a task was skipped or blocked for
  drift (its notes say "drift" or "tier 3"); ``qa`` when every task is completed or
  skipped and the last gate run passed; ``complete`` when there is no task at all;
  else ``coding`` (work is left), with the reason. Setting ``phase`` in the manifest
  stays the agent's step.

It never runs the gates itself: run ``python tools/quality_gates.py`` first. Exit
status: 0 written, 1 the manifest cannot be read or the report cannot be written, 2
usage error. Stdlib only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from hexforge.core import (
    EVIDENCE,
    MANIFEST,
    ArgumentParser,
    Refused,
    Task,
    UsageError,
    cli,
    manifest_tasks,
    outstanding,
    project_root,
    read_manifest,
    write_text_atomic,
)

REPORT = EVIDENCE / "completion_report.md"
RUN_FILE = EVIDENCE / "quality_gates_run.json"
TEST_REPORT = EVIDENCE / "test_report.json"
FAILURES = EVIDENCE / "test_failures.json"
EVOLUTION = Path(".claude") / "evolution" / "evolution.md"
ENTRIES_MARKER = "<!-- Entries below this line. -->"
DRIFT = re.compile(r"\bdrift\b|\btier\s*3\b", re.IGNORECASE)
DONE = ("completed", "skipped")
TIERS = ("unit", "integration", "regression")


def read_json(path: Path) -> tuple[dict[str, object] | None, str]:
    """The JSON object in path, or None and why not ("absent", "unreadable: ...")."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        return None, "absent"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, f"unreadable ({type(error).__name__})"
    if not isinstance(data, dict):
        return None, "unreadable (not a JSON object)"
    return data, ""


def evolution_entries(root: Path) -> int:
    """`## ` sections below the entries marker (anywhere when the marker is gone),
    outside code fences."""
    try:
        text = (root / EVOLUTION).read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return 0
    if ENTRIES_MARKER in text:
        text = text.split(ENTRIES_MARKER, 1)[1]
    count, fenced = 0, False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and line.startswith("## "):
            count += 1
    return count


def gate_rate(run: dict[str, object] | None) -> tuple[str, bool | None]:
    """The pass rate of the last gate run, as the report shows it, and whether it passed."""
    if run is None:
        return "no gate run recorded (run python tools/quality_gates.py)", None
    listed = run.get("gates")
    gates = [gate for gate in listed if isinstance(gate, dict)] if isinstance(listed, list) else []
    ran = [gate for gate in gates if gate.get("status") != "skipped"]
    passed = [gate for gate in ran if gate.get("status") == "passed"]
    if not ran:
        return "no gate ran in the last run", None
    rate = round(100 * len(passed) / len(ran))
    failed = [str(gate.get("name")) for gate in ran if gate.get("status") != "passed"]
    detail = f"{rate}% ({len(passed)} of {len(ran)} gates passed"
    detail += f"; failed: {', '.join(failed)})" if failed else ")"
    if run.get("only"):
        detail += " (a partial run: --only)"
    return detail, bool(run.get("passed")) and not failed


def test_counts(report: dict[str, object]) -> str:
    parts = []
    for tier in TIERS:
        entry = report.get(tier)
        if isinstance(entry, dict):
            numbers = ", ".join(
                f"{entry.get(key, 0)} {key}" for key in ("passed", "failed", "errors", "skipped")
            )
            parts.append(f"{tier}: {numbers}")
    return "; ".join(parts) or "no test tier recorded"


def next_phase(tasks: Sequence[Task], gates_passed: bool | None) -> tuple[str, str]:
    drift = [t.id for t in tasks if t.status in ("skipped", "blocked") and DRIFT.search(t.notes)]
    if drift:
        return "ba", f"drift needs the analyst: {', '.join(drift)}"
    if not tasks:
        return "complete", "no backend or fullstack task in outstanding.tasks"
    open_tasks = [t.id for t in tasks if t.status not in DONE]
    if open_tasks:
        return "coding", f"tasks not done: {', '.join(open_tasks)}"
    if not gates_passed:
        return "coding", "every task is done but the last gate run did not pass"
    return "qa", "every task is completed or skipped and the gates pass"


def cell(text: str) -> str:
    """Text for a Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|") or "-"


def build_report(root: Path, manifest: dict[str, object] | None, now: str) -> tuple[str, str]:
    """The report's Markdown, and its one-line summary for the terminal."""
    tasks, problems = manifest_tasks(manifest) if manifest is not None else ([], [])
    run, run_state = read_json(root / RUN_FILE)
    tests, tests_state = read_json(root / TEST_REPORT)
    failures, failures_state = read_json(root / FAILURES)
    rate, gates_passed = gate_rate(run)
    completed = [t for t in tasks if t.status == "completed"]
    skipped = [t for t in tasks if t.status == "skipped"]
    skipped_text = str(len(skipped))
    if skipped:
        reasons = "; ".join(f"{t.id}: {t.notes or 'no reason given'}" for t in skipped)
        skipped_text += f" ({reasons})"
    phase, reason = next_phase(tasks, gates_passed)
    lines = [
        "# Coding Completion Report",
        "",
        f"Written {now} by tools/completion_report.py from {MANIFEST.as_posix()} and "
        f"{EVIDENCE.as_posix()}/.",
        "",
        "## Summary",
        "",
        "| Metric | Value |",
        "|--------|-------|",
        f"| Tasks Completed | {len(completed)} / {len(tasks)} |",
        f"| Tasks Skipped | {cell(skipped_text)} |",
        f"| Quality Gate Pass Rate | {cell(rate)} |",
        f"| Evolution Entries Created | {evolution_entries(root)} |",
        "",
        "## Task Results",
        "",
        "| Task | Status | Notes |",
        "|------|--------|-------|",
    ]
    lines += [f"| {cell(t.id)} | {cell(t.status)} | {cell(t.notes)} |" for t in tasks]
    if not tasks:
        lines.append("| - | - | no backend or fullstack task in outstanding.tasks |")
    if manifest is None:
        problems = [f"no {MANIFEST.as_posix()}", *problems]
    if problems:
        lines += ["", *(f"> Manifest: {problem}" for problem in problems)]
    lines += ["", "## Evidence Artifacts", ""]
    run_note = run_state or ("passed" if run and run.get("passed") else "failed")
    lines.append(f"- {RUN_FILE.as_posix()}: {run_note}")
    lines.append(f"- {TEST_REPORT.as_posix()}: {tests_state or test_counts(tests or {})}")
    if failures is not None:
        lines.append(f"- {FAILURES.as_posix()}: {failures.get('count', '?')} failing test(s)")
    else:
        absent = "absent (no failing test)" if failures_state == "absent" else failures_state
        lines.append(f"- {FAILURES.as_posix()}: {absent}")
    lines += ["", "## Next Step", "", f"phase: {phase}", "", f"{reason}."]
    summary = f"{len(completed)} / {len(tasks)} tasks completed; next phase: {phase}"
    return "\n".join(lines) + "\n", summary


def run(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(
        prog="completion_report.py",
        description="Write the coding completion report from the manifest's tasks and the "
        f"evidence, to {REPORT.as_posix()}.",
        epilog="Exit status: 0 written, 1 the manifest or the report cannot be read or "
        "written, 2 usage error.",
    )
    parser.add_argument("--output", help=f"where to write it (default: {REPORT.as_posix()})")
    parser.add_argument(
        "--root",
        help="the project root (default: the nearest one up from here)",
    )
    args = parser.parse_args(argv)
    root = Path(args.root) if args.root else project_root()
    if not root.is_dir():
        raise UsageError(f"--root {args.root!r} is not a directory")
    output = Path(args.output) if args.output else root / REPORT
    if output.is_dir() or (output.parent.exists() and not output.parent.is_dir()):
        raise UsageError(f"--output {str(output)!r} cannot be written as a file")
    try:
        manifest = read_manifest(root)
    except Refused as error:
        raise Refused(f"{error}; the report needs the tasks") from None
    tasks = outstanding(manifest, "tasks") if manifest is not None else None
    if tasks is not None and not isinstance(tasks, list):
        # Not a list of tasks: a report counting none of them would read as done.
        raise Refused(
            f"{MANIFEST.as_posix()}: outstanding.tasks is a {type(tasks).__name__}, not a "
            "list of tasks (- id: T001 ...); the report needs the tasks"
        )
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    text, summary = build_report(root, manifest, now)
    try:
        write_text_atomic(output, text)
    except OSError as error:
        raise Refused(f"cannot write {output}: {error.strerror}") from None
    print(f"wrote {output}: {summary}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return cli(run, argv, prog="completion_report.py")
