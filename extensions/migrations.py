"""File moves between hexforge versions: Copier's `_migrations` step of `copier update`.

    python extensions/migrations.py --stage=before --from=OLD --to=NEW --answers=FILE

Copier runs it (copier.yml `_migrations`) in the real project, never in the
temporary copies it renders (copier_internals.py has the update's stage order):
in the "before" stage, after it has rendered the
old template version into a temporary folder (the *old copy*) and before it
computes the user's changes as the difference between that old copy and the
project's git index. The "after" stage comes once the update is applied: there it
only stops git tracking gate evidence an older version let the project commit
(gitignore.py; Copier runs it then only when such files are tracked).

When a newer template version moves or renames a generated file, Copier alone
would render the new file fresh and delete the old one, with every edit the
user made in it. So every move that a version between OLD (excluded) and NEW
(included) introduced is applied first, to both sides of that difference:

- in the project, with `git mv` (work tree and index: Copier reads the index),
  so the user's edited file is at its new path;
- in the old copy, so the merge base is the old version's file at the new path.

Copier then sees an ordinary edit of the moved file and merges it with the new
version's changes like any other: the user's lines are kept, and lines both
sides changed get inline conflict markers. Were only the project migrated, the
file would look added on both sides, and Copier merges that against an empty
base: every difference, even an edit in a line the new version left alone,
would become a conflict.

Copier does not tell a migration where its old copy is; it is the folder
`copier._main.old_copy.*` in the temporary directory whose answers file equals
the project's. When none is found the project is still migrated (nothing is
lost, the moved files get conflict markers) and a warning says so.

Moves that would overwrite an existing file stop the update before anything is
changed, with a message naming both paths.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from packaging.version import InvalidVersion, Version

import gitignore
from copier_internals import OLD_COPY_PREFIX
from moves import MOVES, TOOLS_IMPORTERS, Move, applicable, imports_project_tools
from registry import read_answers

KINDS = ("project", "component", "story")


class MigrationError(RuntimeError):
    """The migration cannot be applied; nothing was changed. The message says why."""


def plan(files: Iterable[str], moves: Sequence[Move]) -> list[tuple[str, str]]:
    """The renames, in order, that bring ``files`` (relative paths) through ``moves``.

    A file moved twice (a later release moving it again) is renamed once, to its
    final place. Raises MigrationError when a file would land on another one.
    """
    location = {path: path for path in files}  # original path -> where it is now
    for move in moves:
        present = set(location.values())
        for original, current in list(location.items()):
            target = move.target(current)
            if target is None or target == current:
                continue
            if not _is_relative_inside(target):
                raise MigrationError(
                    f"template {move.version} moves {current} to {target}, which is not a "
                    "relative path inside the folder of the answers file"
                )
            if target in present:
                raise MigrationError(
                    f"template {move.version} moves {current} to {target}, but a file "
                    "already exists there; move or merge it by hand, commit, and update again"
                )
            location[original] = target
            present.discard(current)
            present.add(target)
    return [(original, final) for original, final in location.items() if original != final]


# Components rendered before the hexforge package imported the migrations from the
# project's tools/ (``from tools import migrate``). In the project, ruff sorts that
# import as first-party (tools/ is there); in Copier's old copy of the component,
# which has no tools/, as third-party. The line sits elsewhere on each side, and the
# update, which now changes that very import, would end in conflict markers. So
# the old copy is laid out as the project laid it out: the merge base then equals
# the user's unedited file, and the update applies cleanly.
def align_tools_imports(old_component: Path, project: Path) -> None:
    """Sort the old copy's imports of tools/ as first-party, as in the project."""
    # Imported here: ruff is needed only for a component from before the package.
    from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

    from format_component import RUFF_OPTIONS
    from project_settings import ruff_config_option

    files = [
        str(old_component / relative)
        for relative in TOOLS_IMPORTERS
        if (old_component / relative).is_file()
    ]
    if files:
        subprocess.run(
            [
                find_ruff_bin(),
                "check",
                ruff_config_option(project),
                "--config",
                "lint.isort.known-first-party = ['tools']",
                *RUFF_OPTIONS,
                "--select=I",
                "--fix",
                "--exit-zero",
                *files,
            ],
            check=False,
            capture_output=True,
        )


def _is_relative_inside(path: str) -> bool:
    parts = Path(path).parts
    return bool(parts) and not Path(path).is_absolute() and ".." not in parts


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    project = Path.cwd()
    if args.stage == "after":
        if untracked := gitignore.untrack_evidence(project):
            print(f"hexforge: {untracked}")
        return 0
    try:
        lines = migrate(project, Path(args.answers), args.version_from, args.version_to)
    except MigrationError as error:
        print(f"hexforge: migration failed: {error}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Apply hexforge's file moves (Copier migration).")
    parser.add_argument("--stage", choices=("before", "after"), required=True)
    parser.add_argument("--from", dest="version_from", required=True, help="PEP 440 version")
    parser.add_argument("--to", dest="version_to", required=True, help="PEP 440 version")
    parser.add_argument("--answers", required=True, help="the answers file, project-relative")
    return parser.parse_args(argv)


def migrate(
    project: Path,
    answers_file: Path,
    version_from: str,
    version_to: str,
    moves: Sequence[Move] = MOVES,
) -> list[str]:
    """Apply the moves between the two versions to ``project`` and to Copier's old copy.

    Returns what was done, as lines for the user.
    """
    if answers_file.is_absolute():
        answers_file = answers_file.relative_to(project)
    answers = read_answers(project / answers_file)
    if answers is None:
        raise MigrationError(f"{answers_file} is missing or is not a YAML mapping")
    kind = str(answers.get("kind", ""))
    if kind not in KINDS:
        raise MigrationError(f"{answers_file} has no hexforge kind ({kind!r})")
    try:
        chosen = applicable(moves, kind, Version(version_from), Version(version_to))
    except InvalidVersion as error:
        raise MigrationError(f"not a PEP 440 version: {error}") from None
    root = answers_file.parent
    if kind == "component" and imports_project_tools(project / root):
        for copy_root in find_old_copies(project, answers_file):
            align_tools_imports(copy_root / root, project)
    if not chosen:
        return []
    renames = plan(_tracked_files(project, root), chosen)
    old_copies = [
        (copy_root, plan(_files_under(copy_root / root), chosen))
        for copy_root in find_old_copies(project, answers_file)
    ]
    # The old copies first: they are Copier's throwaway folders, so a failure there
    # leaves the project untouched.
    for copy_root, copy_renames in old_copies:
        for old, new in copy_renames:
            _move(copy_root / root / old, copy_root / root / new, copy_root / root)
    lines = []
    for old, new in renames:
        _git_move(project, root / old, root / new)
        lines.append(f"hexforge: moved {(root / old).as_posix()} to {(root / new).as_posix()}")
    if renames and not old_copies:
        lines.append(
            "hexforge: warning: Copier's copy of the old version was not found, so the "
            "moved files are merged without a common base: expect conflict markers in them"
        )
    return lines


def find_old_copies(project: Path, answers_file: Path) -> list[Path]:
    """Copier's renderings of the old version for this very update (usually one).

    The old copy mirrors the project's place in its git repository, carries the
    same answers, and has no git repository yet during the "before" stage. Two
    matches mean two concurrent updates of identical projects from the same old
    version: their old copies are the same rendering, and migrating the other one
    too is what its own migration does (were it bound for a version without this
    move, it would merge that file with conflict markers, never lose it).
    """
    prefix = _git(project, "rev-parse", "--show-prefix").strip()
    answers = read_answers(project / answers_file)
    found = []
    for candidate in Path(tempfile.gettempdir()).iterdir():
        if not candidate.name.startswith(OLD_COPY_PREFIX) or (candidate / ".git").exists():
            continue
        copy_root = candidate / prefix
        if read_answers(copy_root / answers_file) == answers:
            found.append(copy_root)
    return found


def _tracked_files(project: Path, root: Path) -> list[str]:
    """Files git tracks under ``root``, relative to it. Copier updates need a clean
    tree, so these are all the files the update can touch."""
    output = _git(project, "ls-files", "-z", "--full-name", "--", root.as_posix() or ".")
    top_prefix = _git(project, "rev-parse", "--show-prefix").strip()
    base = Path(top_prefix) / root
    return [
        Path(name).relative_to(base).as_posix()
        for name in output.split("\0")
        if name and Path(name).is_relative_to(base)
    ]


def _files_under(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(root).parts
    )


def _git_move(project: Path, old: Path, new: Path) -> None:
    (project / new).parent.mkdir(parents=True, exist_ok=True)
    _git(project, "mv", "--", old.as_posix(), new.as_posix())
    _remove_empty_parents(project / old, project)


def _move(old: Path, new: Path, root: Path) -> None:
    try:
        new.parent.mkdir(parents=True, exist_ok=True)
        os.replace(old, new)
    except OSError as error:
        raise MigrationError(f"cannot move {old} in Copier's old copy: {error}") from None
    _remove_empty_parents(old, root)


def _remove_empty_parents(path: Path, root: Path) -> None:
    folder = path.parent
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _git(project: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise MigrationError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


if __name__ == "__main__":
    sys.exit(main())
