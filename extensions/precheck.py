"""Everything that would make a scaffold fail half-way, checked before Copier writes.

Copier renders ``_subdirectory`` (copier.yml) just before it writes the first file
of a run, after every question was answered; copier_hooks.subdirectory() calls
:func:`problems` there and refuses the whole run on the first one. The checks are
the ones the wiring (wiring.py, run as Copier's task once the files are written)
would otherwise trip over: a pyproject.toml or manifest it cannot edit, a file
where it needs a folder or a folder where it writes a file. For an update, the
answers file must also be where its own answers place it (a component folder moved
by hand would be re-created at its old place, beside the moved one).

The parsers here are the wiring's own (pyproject_merge, manifest), so what passes
here also passes there. They cost a tenth of a second (tomlkit, ruamel.yaml), so a
successful wiring records what it left (:func:`record_checked`: an empty file named by
the digest of both files and of these rules, in the user's cache folder); a scaffold
meeting the same bytes again (the next one, a clone of the project) skips the parsing.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import records
from copier_internals import read_answers
from naming import answers_file

HERE = Path(__file__).resolve().parent
PROJECT_TEMPLATE = "template/project"
BOM = b"\xef\xbb\xbf"

# Files the wiring writes or edits, besides the project template's own.
WIRING_FILES = (
    "pyproject.toml",
    ".gitignore",
    "app/main.py",
    "app/components.py",  # hexforge.composition.COMPONENTS_MODULE
    "app/__init__.py",
    "components/__init__.py",
    ".claude/manifest.yaml",
    ".claude/.gitignore",
    ".claude/evidence/.gitkeep",
)


def problems(
    kind: object, template_root: Path, root: Path, last_answers: Path | None = None
) -> list[str]:
    """Why scaffolding ``kind`` into ``root`` would fail; empty when nothing would.

    ``last_answers`` is the answers file an update read (None for a copy).
    """
    found = []
    if last_answers is not None and (moved := moved_scaffold(root, last_answers)):
        found.append(moved)
    found += paths_in_the_way(root, wiring_files(template_root))
    if not found and not already_checked(root, template_root / "extensions"):
        found += pyproject_problems(root) + manifest_problems(root)
    return found


# The files whose editing :func:`problems` checks, and the code that decides it.
CHECKED_FILES = ("pyproject.toml", ".claude/manifest.yaml")
RULES = ("precheck.py", "pyproject_merge.py", "project_pyproject.toml", "manifest.py")


def already_checked(root: Path, extensions: Path = HERE) -> bool:
    """Whether the wiring left both files with these very bytes, under the rules in
    ``extensions`` (this run's template: in an update this module may come from the
    old version's clone, which Copier has removed by then)."""
    return _CHECKED.has(_stamp(root, extensions))


def record_checked(root: Path, extensions: Path = HERE) -> None:
    """Remember that the wiring could edit both files as they are now."""
    _CHECKED.add(_stamp(root, extensions))


_CHECKED = records.Records("checked")


def _stamp(root: Path, extensions: Path) -> str:
    paths = [*(extensions / name for name in RULES), *(root / name for name in CHECKED_FILES)]
    return records.digest(*records.file_parts(paths))


def moved_scaffold(root: Path, answers_path: Path) -> str:
    """'' unless the answers file lies elsewhere than its own answers place it."""
    answers = read_answers(answers_path)
    if not answers or answers.get("kind") not in {"component", "story"}:
        return ""
    expected = answers_file(
        answers.get("kind"),
        answers.get("component_name"),
        answers.get("feature_dir"),
        answers.get("story_id"),
    )
    path, folder = answers_path.resolve(), root.resolve()
    actual = path.relative_to(folder).as_posix() if path.is_relative_to(folder) else str(path)
    if actual == expected:
        return ""
    here, there = PurePosixPath(actual).parent, PurePosixPath(expected).parent
    return (
        f"{actual} belongs to {there}/ (its answers say so), but it lies in {here}/: the "
        f"folder was moved or renamed, and an update would scaffold {there}/ again beside "
        f"it. Move it back (git mv {here} {there}), commit, and update again; renaming a "
        "scaffold is not an update"
    )


def wiring_files(template_root: Path) -> list[str]:
    """Every file the wiring and the project template may write, project-relative."""
    rendered = []
    source = template_root / PROJECT_TEMPLATE
    for folder, _, names in os.walk(source):
        for name in names:
            relative = Path(folder, name).relative_to(source).as_posix().removesuffix(".jinja")
            if "{{" not in relative:
                rendered.append(relative)
    return sorted({*WIRING_FILES, *rendered})


def paths_in_the_way(root: Path, files: list[str]) -> list[str]:
    """A file where one of ``files`` needs a folder, or a folder where it is a file."""
    found: list[str] = []
    checked: set[str] = set()
    for relative in files:
        parts = PurePosixPath(relative).parts
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in checked:
                continue
            checked.add(folder)
            path = root / folder
            if path.exists() and not path.is_dir():
                found.append(
                    f"{folder} is a file, but hexforge needs a folder there ({relative}): "
                    "move it aside, then run the command again"
                )
        if (root / relative).is_dir():
            found.append(
                f"{relative} is a folder, but hexforge writes a file there: move it aside, "
                "then run the command again"
            )
    return found


def pyproject_problems(root: Path) -> list[str]:
    path = root / "pyproject.toml"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as error:
        return [f"pyproject.toml cannot be read ({error.strerror})"]
    if data.startswith(BOM):
        return [
            "pyproject.toml starts with a UTF-8 byte order mark, which TOML readers (pip, "
            "pytest, mypy, tomllib) refuse: save it as UTF-8 without BOM, then run the "
            "command again"
        ]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return ["pyproject.toml is not UTF-8 text: save it as UTF-8, then run the command again"]
    import pyproject_merge  # tomlkit: only once there is a file to check

    try:
        pyproject_merge.merge_pyproject(text, "project", pyproject_merge.pytest_config_files(root))
    except pyproject_merge.PyprojectError as error:
        return [f"{' '.join(str(error).split())} (nothing was written)"]
    return []


def manifest_problems(root: Path) -> list[str]:
    path = root / ".claude" / "manifest.yaml"
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError):
        return [".claude/manifest.yaml is not readable UTF-8 text: fix it, then run again"]
    import manifest  # ruamel.yaml: only once there is a file to check

    try:
        manifest.check_editable(text)
    except manifest.ManifestError as error:
        return [
            f".claude/manifest.yaml cannot be edited because {error}; fix it so that it is "
            "a YAML mapping with `components:` as a block key, then run the command again"
        ]
    return []
