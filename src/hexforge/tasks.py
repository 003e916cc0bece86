"""The agent's bookkeeping as commands, not hand edits of ``.claude/manifest.yaml``.

    hexforge tasks list [--format text|json]    the backend tasks and their status
    hexforge tasks claim ID                     pending -> in_progress
    hexforge tasks complete ID [--notes TEXT]   -> completed
    hexforge tasks fail ID --notes TEXT         -> failed, with why
    hexforge tasks phase NAME                   set the manifest's phase

The manifest is read with a YAML library and written back whole (atomically, keys
in their order, comments not kept); only the task's ``status``/``notes`` or the
``phase`` change. Exit 0 done, 1 refused (no manifest, no such task, a task
already completed), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from pathlib import Path

import yaml

from hexforge.core import (
    MANIFEST,
    ArgumentParser,
    Refused,
    cli,
    manifest_tasks,
    project_root,
    read_manifest,
    write_text_atomic,
)


def phase_name(text: str) -> str:
    """A phase is a lower-case word (coding, fast_track, remediation, qa...)."""
    if not re.fullmatch(r"[a-z][a-z_]*", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a phase name (lower-case letters, _)")
    return text


def _entry(manifest: dict[str, object], task_id: str) -> dict[str, object]:
    section = manifest.get("outstanding")
    tasks = section.get("tasks") if isinstance(section, dict) else None
    if not isinstance(tasks, list):
        raise Refused(f"{MANIFEST} has no outstanding.tasks list")
    for entry in tasks:
        if isinstance(entry, dict) and str(entry.get("id")) == task_id:
            return entry
    known = ", ".join(str(e.get("id")) for e in tasks if isinstance(e, dict)) or "none"
    raise Refused(f"no task {task_id!r} in {MANIFEST} (its tasks: {known})")


def _save(root: Path, manifest: dict[str, object]) -> None:
    text = yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100)
    write_text_atomic(root / MANIFEST, text)


def run(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(prog="hexforge tasks", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    listing = sub.add_parser("list")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    for action in ("claim", "complete", "fail"):
        one = sub.add_parser(action)
        one.add_argument("id")
        one.add_argument("--notes", required=action == "fail")
    sub.add_parser("phase").add_argument("name", type=phase_name)
    args = parser.parse_args(argv)
    root = project_root()
    manifest = read_manifest(root)
    if manifest is None:
        raise Refused(f"no {MANIFEST} here ({root})")
    if args.action == "list":
        tasks, problems = manifest_tasks(manifest)
        if args.format == "json":
            rows = [{"id": t.id, "title": t.title, "status": t.status} for t in tasks]
            print(json.dumps({"tasks": rows, "problems": problems}, ensure_ascii=False))
        else:
            for task in tasks:
                print(f"{task.id:<10} {task.status:<12} {task.title}")
            for problem in problems:
                print(f"problem: {problem}")
        return 1 if problems else 0
    if args.action == "phase":
        manifest["phase"] = args.name
        _save(root, manifest)
        print(f"phase: {args.name}")
        return 0
    entry = _entry(manifest, args.id)
    status = str(entry.get("status") or "pending")
    if args.action == "claim" and status != "pending":
        raise Refused(f"task {args.id} is {status}, not pending: nothing claimed")
    if status == "completed":
        raise Refused(f"task {args.id} is already completed")
    entry["status"] = {"claim": "in_progress", "complete": "completed", "fail": "failed"}[
        args.action
    ]
    if args.notes:
        entry["notes"] = args.notes
    _save(root, manifest)
    print(f"{args.id}: {status} -> {entry['status']}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return cli(run, argv, prog="hexforge tasks")
