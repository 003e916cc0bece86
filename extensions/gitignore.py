"""The project's .gitignore: what hexforge's tools and a Python setup leave behind.

Gates rewrite `.claude/evidence/` on every run and `pip install -e ".[dev]"` fills
`.venv/`; tracked or merely untracked, they keep `git status` dirty, and
`tools/sync.py` (like `copier update`) refuses a dirty tree. The wiring adds the
entries below that the file lacks, at its end, under one comment line: the user's
lines are never changed, removed or reordered, a CRLF file stays CRLF, and a
second run changes nothing. Stdlib only.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

ENTRIES = (
    ".venv/",
    "__pycache__/",
    "*.py[cod]",
    "*.egg-info/",
    ".pytest_cache/",
    ".mypy_cache/",
    ".ruff_cache/",
    ".hypothesis/",
    ".import_linter_cache/",
    ".claude/evidence/",
)
HEADER = "# Local files: virtualenv, caches, gate evidence (added by hexforge)"
EVIDENCE = ".claude/evidence"
# Tracked so that the folder exists in every clone; the gates write beside it.
EVIDENCE_KEPT = ".gitkeep"


def completed(data: bytes) -> bytes:
    """``data`` (a .gitignore's bytes, possibly empty) with the missing entries added."""
    present = {_normal(line) for line in data.decode("utf-8", "replace").splitlines()}
    missing = [entry for entry in ENTRIES if _normal(entry) not in present]
    if not missing:
        return data
    newline = b"\r\n" if b"\r\n" in data and data.count(b"\n") == data.count(b"\r\n") else b"\n"
    lines = ([] if HEADER in present else [HEADER]) + missing
    separator = newline if data and not data.endswith(b"\n") else b""
    if data.strip() and HEADER not in present:
        separator += newline  # a blank line before hexforge's group
    return data + separator + b"".join(line.encode() + newline for line in lines)


def _normal(line: str) -> str:
    """A pattern as compared: ``/.venv``, ``.venv`` and ``.venv/`` ignore the same, and
    the user's ``!.venv/`` (tracked on purpose) is their decision about that entry."""
    return line.strip().removeprefix("!").lstrip("/").rstrip("/")


def tracked_evidence(root: Path) -> list[str]:
    """Evidence files git tracks in the project at ``root`` (paths as git prints them)."""
    result = subprocess.run(
        ["git", "ls-files", "-z", "--", EVIDENCE],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:  # not a git repository: nothing is tracked
        return []
    return [name for name in result.stdout.split("\0") if name and Path(name).name != EVIDENCE_KEPT]


def untrack_evidence(root: Path) -> str:
    """Stop tracking the evidence files (kept on disk); one line saying so, or ''."""
    files = tracked_evidence(root)
    if not files:
        return ""
    subprocess.run(
        ["git", "rm", "--cached", "--quiet", "--", *files],
        cwd=root,
        check=True,
        capture_output=True,
    )
    return (
        f"untracked {len(files)} evidence file(s) in {EVIDENCE}/ (kept on disk: the gates "
        "rewrite them on every run; .gitignore ignores them now): commit the removal"
    )
