"""Helpers for the wiring tests: fake projects and the wiring script run as Copier runs it."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.helpers import REPO

WIRING = REPO / "extensions" / "wiring.py"
PROJECT_CONFIG = REPO / "extensions" / "project_pyproject.toml"


def run_wiring(
    project: Path,
    *,
    kind: str = "component",
    template: str = "/nonexistent/hexforge",
    ref: str = "v1",
    project_name: str = "demo",
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The wiring's command line, run in ``project`` (after_render.py calls the same
    main() in Copier's process)."""
    return subprocess.run(
        [
            sys.executable,
            str(WIRING),
            f"--kind={kind}",
            f"--template={template}",
            f"--ref={ref}",
            f"--project-name={project_name}",
        ],
        cwd=project,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def mark_wired(project: Path) -> Path:
    """Make ``project`` look wired (its kind=project answers exist): no nested copy."""
    project.mkdir(parents=True, exist_ok=True)
    (project / ".copier-answers.yml").write_text(
        "_commit: v1\n_src_path: /nonexistent/hexforge\nkind: project\nproject_name: demo\n"
    )
    return project


def add_component(
    project: Path,
    name: str,
    *,
    entity: str | None = None,
    fields: str = "name:str",
    commit: str = "v1",
) -> Path:
    """A component folder as Copier leaves it: its answers file (the code is irrelevant)."""
    folder = project / "components" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").write_text(f'"""{name}"""\n')
    entity = entity or "".join(part.title() for part in name.split("_"))
    (folder / ".copier-answers.yml").write_text(
        "# Managed by Copier for hexforge: do not edit by hand.\n"
        f"_commit: {commit}\n_src_path: /nonexistent/hexforge\ncomponent_name: {name}\n"
        f"entity_name: {entity}\nfields: '{fields}'\nkind: component\n"
    )
    return folder


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root`` with its bytes and mtime, to prove a run changed nothing."""
    return {
        path.relative_to(root).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.endswith(".lock")
    }


def is_subsequence(needle: str, haystack: str) -> bool:
    remaining = iter(haystack)
    return all(char in remaining for char in needle)


def assert_only_additions(old: str, new: str) -> None:
    """``new`` is ``old`` with lines added, or lines extended by inserted characters only.

    Stronger than a whole-text subsequence check: no original line may move, and
    a changed line (an inline list that grew) must still contain the old line's
    characters in order.
    """
    assert is_subsequence(old, new), "some original characters were removed or reordered"
    matcher = difflib.SequenceMatcher(a=old.splitlines(), b=new.splitlines(), autojunk=False)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        assert tag != "delete", f"lines removed: {old.splitlines()[a1:a2]}"
        if tag == "replace":
            before = "\n".join(old.splitlines()[a1:a2])
            after = "\n".join(new.splitlines()[b1:b2])
            assert is_subsequence(before, after), f"{before!r} was rewritten as {after!r}"
