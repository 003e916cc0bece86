"""Whether hexforge has wired a project yet, and so which template folder a copy renders.

A project is wired once its root holds hexforge's project answers (``kind: project``
in ``.copier-answers.yml``). The first component copied into a repository that is not
wired renders ``template/component_with_project``: the project's files and the
component's in one Copier run, with the project's answers file among them, exactly as
a `copier copy` of kind=project followed by the component would leave them, for half
the time. Kept free of heavy imports: Copier's Jinja glue asks this on every render.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from atomic import hold_lock_for_process, private_folder, user_cache_root
from copier_internals import in_temporary_copy
from naming import answers_file

PROJECT_ANSWERS = answers_file("project", None, None, None)
BOOTSTRAP_SUBDIRECTORY = "template/component_with_project"
PROJECT_TEMPLATE = "template/project"
# The project files copier.yml's _skip_if_exists keeps when present: never a clash.
KEPT_IF_PRESENT = frozenset({".claude/evolution/evolution.md"})
_PROJECT_KIND = re.compile(r"^kind:\s*['\"]?project['\"]?\s*$", re.M)

# Template sources Copier fetches itself; anything else must be a local folder.
REMOTE_PREFIXES = (
    "gh:",
    "gl:",
    "git@",
    "git+",
    "git://",
    "ssh://",
    "https://",
    "http://",
    "file://",
)


# Written in the project as an update starts writing, removed by the after-render
# step that ends it: hexforge.core.UPDATE_MARKER, named here too because Copier's
# process does not load the package (it would cost every run 60 ms).
UPDATE_MARKER = ".hexforge-update"


def is_wired(root: Path) -> bool:
    """Whether ``root`` holds hexforge's project answers."""
    try:
        text = (root / PROJECT_ANSWERS).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return _PROJECT_KIND.search(text) is not None


def subdirectory(kind: object, operation: str, template_root: str, destination: str) -> str:
    """The template folder Copier renders for this run (copier.yml ``_subdirectory``).

    Copier renders ``_subdirectory`` once per run, just before it writes the first
    file, so the project is seen as it was before the run. A template checked out
    without symlinks (git on Windows without core.symlinks) has plain files where
    the bootstrap folder's links should be: then the component renders alone and
    the wiring's nested copy brings the project's files, as it does for a story.
    """
    if (
        kind == "component"
        and operation == "copy"
        and (Path(template_root) / BOOTSTRAP_SUBDIRECTORY / "tools").is_dir()
        and first_into(Path(destination))
    ):
        return BOOTSTRAP_SUBDIRECTORY
    return f"template/{kind}"


def first_into(destination: Path) -> bool:
    """Whether a component copied now into ``destination`` is its first (not wired).

    Several first components copied at once would each render the project's files,
    and one could read another's half-written file as the user's. So deciding "first"
    takes a lock on ``destination`` and keeps it until this process ends, past the
    render and the wiring; a concurrent copy waits there, then finds the project
    wired. (A story's nested project copy does not take it: a bootstrap's own task
    may reach that path while its parent holds the lock.) The lock lives outside the
    project: deciding must write nothing there, since a later answer may still be
    refused.
    """
    if in_temporary_copy(destination) or is_wired(destination):
        return False
    lock = bootstrap_lock(destination)
    if lock is not None:
        hold_lock_for_process(lock)
    return not is_wired(destination)


def needs_nested_copy(kind: object, chosen: str, destination: Path) -> bool:
    """Whether the wiring of this run will wire the project with a nested `copier copy`
    (a story, or a component without the bootstrap folder, in a project not wired)."""
    return kind != "project" and chosen != BOOTSTRAP_SUBDIRECTORY and not is_wired(destination)


def unreachable_template(root: Path, template: str) -> str:
    """'' unless a nested copy cannot reach ``template`` (as Copier recorded it) from
    ``root``. Copier records a local template path as the user typed it, relative to
    wherever they ran the command, which need not be the project root."""
    if template.startswith(REMOTE_PREFIXES):
        return ""
    folder = root / template
    if (folder / "copier.yml").is_file() or (folder / "copier.yaml").is_file():
        return ""
    return (
        f"cannot wire the project: the template {template!r} is not a folder with a "
        f"copier.yml when seen from {root}; run the command again with the template's "
        "absolute path"
    )


def bootstrap_lock(destination: Path) -> Path | None:
    """The lock file for bootstrapping ``destination``; None without a private folder
    to keep it in (the copy then goes on unserialized rather than trusting a folder
    another user could write to)."""
    folder = user_cache_root() / "locks"
    if not private_folder(folder):
        return None
    key = hashlib.sha256(str(destination.resolve()).encode()).hexdigest()[:32]
    return folder / f"bootstrap-{key}.lock"


def bootstrap_clashes(template_root: Path, destination: Path) -> list[str]:
    """The user's files that the project part of a first component's render would
    replace: present in ``destination`` with other bytes than hexforge's (a rendered
    one, ``*.jinja``, counts as other: the project is not wired, so it is not ours).
    An answers file there belongs to another Copier template: a clash too.
    """
    source = template_root / PROJECT_TEMPLATE
    clashes = [PROJECT_ANSWERS] if (destination / PROJECT_ANSWERS).exists() else []
    for folder, _, names in os.walk(source):
        for name in sorted(names):
            template_file = Path(folder, name)
            relative = template_file.relative_to(source).as_posix()
            if "{{" in relative or relative in KEPT_IF_PRESENT:
                continue  # the answers file (above); files kept when present
            target = destination / relative.removesuffix(".jinja")
            if not target.exists():
                continue
            if relative.endswith(".jinja") or not _same_bytes(target, template_file):
                clashes.append(relative.removesuffix(".jinja"))
    return sorted(clashes)


def _same_bytes(one: Path, other: Path) -> bool:
    try:
        return one.read_bytes() == other.read_bytes()
    except OSError:
        return False


def project_answers(copier_answers: object, project_name: object) -> dict[str, object]:
    """The answers a `copier copy` of kind=project records, for the bootstrap render.

    The template's own keys (``_commit``, ``_src_path``) are this run's; the answers
    are the project's: its name, and the first component's ``auth``, which becomes
    the project's. Copier sorts the keys when it writes them.
    """
    own = dict(copier_answers) if isinstance(copier_answers, dict) else {}
    recorded = {key: value for key, value in own.items() if key in {"_commit", "_src_path", "auth"}}
    return {**recorded, "kind": "project", "project_name": project_name}
