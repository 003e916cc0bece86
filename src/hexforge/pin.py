"""The requirement by which a generated project depends on hexforge.

A project depends on the hexforge of the template version it was rendered or last
updated from, installed straight from the template's git repository at that
version: no package index is involved, ``pip`` and ``uv`` both read it, and a
container build needs only git and the template's URL. The wiring writes it into
the project's ``pyproject.toml`` on every copy and update, so an update moves it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

# Copier's shortcuts for hosted repositories (copier.vcs: gh:, gl:).
_SHORTCUTS = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}
_SCP_LIKE = re.compile(r"^(?P<user>[\w.-]+)@(?P<host>[\w.-]+):(?P<path>[^/].*)$")


def _git(folder: Path, *args: str) -> str | None:
    result = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() if result.returncode == 0 else None


def _commits(folder: Path, *names: str) -> list[str | None]:
    """The commit each of ``names`` names in the repository at ``folder`` (None: none),
    read by one git process: each git started is a few milliseconds of every copy. A
    name holding a line break names nothing (git would read it as two)."""
    asked = [name for name in names if "\n" not in name]
    result = subprocess.run(
        ["git", "-C", str(folder), "cat-file", "--batch-check=%(objectname) %(objecttype)"],
        input="".join(f"{name}^{{commit}}\n" for name in asked),
        capture_output=True,
        text=True,
        check=False,
    )
    lines = result.stdout.splitlines() if result.returncode == 0 else []
    found: dict[str, str | None] = dict.fromkeys(names)
    if len(lines) == len(asked):
        for name, line in zip(asked, lines, strict=True):
            parts = line.split()
            found[name] = parts[0] if len(parts) == 2 and parts[1] == "commit" else None
    return [found[name] for name in names]


def source_url(template: str, project: Path) -> str:
    """The git URL pip takes for the template as Copier recorded it (``_src_path``)."""
    for short, prefix in _SHORTCUTS.items():
        if template.startswith(short):
            template = prefix + template[len(short) :]
    if template.startswith("git+"):
        return template
    if template.startswith(("https://", "http://", "ssh://", "file://")):
        return f"git+{template}"
    if match := _SCP_LIKE.match(template):
        return f"git+ssh://{match['user']}@{match['host']}/{match['path']}"
    # With a host: older pip (its packaging) refuses a git+file URL without one.
    return f"git+file://localhost{(project / template).resolve().as_posix()}"


def requirement(template: str, ref: str, clone: Path, project: Path) -> str:
    """``hexforge @ <git URL>@<version>`` for the template version in ``clone`` (the
    copy Copier rendered from, at that version).

    ``ref`` (Copier's ``_commit``) is used when it is a tag of the clone's commit
    (readable in the pin), else the full commit id (Copier records an untagged
    commit by its short id, which may one day be ambiguous). A local template rendered with
    uncommitted changes has no commit anyone else can fetch: the project then
    depends on that folder as it is (``hexforge @ file:///...``), for the template's
    own development.
    """
    head, tag = _commits(clone, "HEAD", f"refs/tags/{ref}")
    local = Path(project / template) if "://" not in template and ":" not in template[:3] else None
    if head is None or (
        local is not None
        and local.is_dir()
        and _git(local, "cat-file", "-e", f"{head}^{{commit}}") is None
    ):
        folder = local if local is not None and local.is_dir() else clone
        return f"hexforge @ {folder.resolve().as_uri()}"
    version = ref if ref and tag == head else head
    return f"hexforge @ {source_url(template, project)}@{version}"
