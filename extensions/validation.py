"""Question validators: each returns '' for a good answer, else one line that
names the value and the rule it broke (Copier prefixes the question name).

The rules themselves live in :mod:`naming` and :mod:`fields`; this module only
adds the checks that need the destination (an existing component, a path that
would leave the project) or the running operation (an update keeps the answers
that decide where a scaffold lives: :data:`FIXED_ON_UPDATE`).
"""

from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath

import copier_internals
from fields import fields_error
from naming import (
    PROJECT_NAME_RE,
    STORY_ID_RE,
    component_rule_error,
    feature_dir_rule_error,
    pascal_rule_error,
)
from project_settings import settings_error
from project_state import bootstrap_clashes, first_into

KINDS = ("project", "component", "story")

# The answers that place a scaffold's files. An update that changed one would render
# the files at the new place and delete the old ones, with the user's edits.
FIXED_ON_UPDATE = ("kind", "component_name", "story_id", "feature_dir")

# A story id names a folder: far below any file system's 255-byte name limit.
MAX_STORY_ID_LENGTH = 40


def kind_error(kind: object) -> str:
    if kind not in KINDS:
        return f"{kind!r} is not a scaffold kind: use one of {', '.join(KINDS)}"
    return unchanged_on_update("kind", kind)


def unchanged_on_update(question: str, value: object) -> str:
    """'' unless this is an update that changes ``question``, one of FIXED_ON_UPDATE.

    Copier validates an answer given with ``-d`` (or typed at a prompt) before it
    renders anything, so a refusal here leaves the project as it was. The last
    answer is read from the answers file the update was given, as Copier read it.
    """
    path = copier_internals.last_answers_file()
    if path is None:
        return ""
    last = copier_internals.read_answers(path)
    if question not in last or last[question] == value:
        return ""
    where = _relative(path, copier_internals.destination())
    return (
        f"{question} is {last[question]!r} in {where} and an update cannot change it to "
        f"{value!r}: renaming is not an update (it would delete what was scaffolded there, "
        f"with your edits); keep {last[question]!r}, or scaffold anew with copier copy"
    )


def _relative(path: Path, root: Path | None) -> str:
    path = path.resolve()
    if root is not None and path.is_relative_to(root.resolve()):
        return path.relative_to(root.resolve()).as_posix()
    return str(path)


def project_name_error(name: object) -> str:
    if not isinstance(name, str) or not PROJECT_NAME_RE.fullmatch(name):
        return (
            f"{name!r} is not a valid distribution name: use letters, digits, '.', '_' "
            "and '-', starting and ending with a letter or digit"
        )
    return ""


def component_name_error(
    name: object,
    dst_path: object,
    src_path: object = None,
    overwrite: object = False,
    defaults: object = False,
) -> str:
    if not isinstance(name, str):
        return f"{name!r} is not text"
    if copier_internals.operation() != "copy":
        # A component scaffolded before a naming rule existed must stay updatable.
        return unchanged_on_update("component_name", name)
    if (problem := component_rule_error(name)) is not None:
        return problem
    if problem := settings_error(Path(str(dst_path))):
        return problem
    if Path(str(dst_path), "components", name).exists():
        return (
            f"{name!r} already exists in components/{name}: pick another name, or sync it "
            f"with: copier update --trust --defaults -a components/{name}/.copier-answers.yml"
        )
    if src_path is not None and not overwrite and (defaults or not sys.stdin.isatty()):
        return _bootstrap_clash_error(name, Path(str(src_path)), Path(str(dst_path)))
    return ""


def _bootstrap_clash_error(name: str, template_root: Path, destination: Path) -> str:
    # Run without a terminal, Copier would stop half-way at the first file it may not
    # overwrite; say so before anything is written. At a terminal it asks, file by file.
    if not first_into(destination):
        return ""
    clashes = bootstrap_clashes(template_root, destination)
    if not clashes:
        return ""
    return (
        f"copying {name!r} would wire this repository for hexforge, and the project files "
        f"would replace yours: {', '.join(clashes)}. Nothing was written: move them aside "
        "(merge them back afterwards), run copier at a terminal without --defaults to "
        "decide file by file, or pass --overwrite to take hexforge's"
    )


def entity_name_error(name: object) -> str:
    if not isinstance(name, str):
        return f"{name!r} is not text"
    problem = pascal_rule_error(name)
    return problem or ""


def story_id_error(story_id: object) -> str:
    if not isinstance(story_id, str) or not STORY_ID_RE.fullmatch(story_id):
        return (
            f"{_shown(story_id)} is not a story id: use uppercase letters/digits, a dash and "
            "a number (for example WISH-001)"
        )
    if len(story_id) > MAX_STORY_ID_LENGTH:
        return (
            f"{_shown(story_id)} is longer than {MAX_STORY_ID_LENGTH} characters: a story "
            "id names a folder (for example WISH-001)"
        )
    return unchanged_on_update("story_id", story_id)


def _shown(value: object, limit: int = 60) -> str:
    """``repr(value)``, shortened in the middle so that a refusal stays one line."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit // 2]}...{text[-limit // 2 :]}"


def feature_dir_error(feature_dir: object, dst_path: object = None, story_id: object = None) -> str:
    if (problem := _feature_dir_rule_error(feature_dir)) or not isinstance(feature_dir, str):
        return problem
    if dst_path is not None and (
        problem := _feature_dir_place_error(feature_dir, dst_path, story_id)
    ):
        return problem
    return unchanged_on_update("feature_dir", feature_dir)


def _feature_dir_place_error(feature_dir: str, dst_path: object, story_id: object) -> str:
    """The story's folder must stay in the project on disk too, and be a folder."""
    if copier_internals.in_temporary_copy(str(dst_path)):
        return ""
    root = Path(str(dst_path)).resolve()
    folder = root / feature_dir
    if not folder.resolve().is_relative_to(root):
        return (
            f"{feature_dir!r} leads out of the project through a symbolic link "
            f"({folder.resolve()}): give a folder inside the project"
        )
    current = root
    story = [story_id, "_implementation"] if isinstance(story_id, str) and story_id else []
    for part in [*PurePosixPath(feature_dir).parts, "in-progress", *story]:
        current = current / part
        if current.exists() and not current.is_dir():
            shown = current.relative_to(root).as_posix()
            return f"{feature_dir!r} needs a folder where the file {shown} is"
    return ""


def _feature_dir_rule_error(feature_dir: object) -> str:
    if not isinstance(feature_dir, str) or not feature_dir.strip():
        return f"{feature_dir!r} is empty: give a folder inside the project (plans/features/x)"
    if "\\" in feature_dir or feature_dir.startswith(("/", "~")) or ":" in feature_dir:
        return f"{feature_dir!r} is not a relative POSIX path inside the project"
    parts = PurePosixPath(feature_dir).parts
    if ".." in parts or any(part in {"", "."} for part in feature_dir.split("/")):
        return (
            f"{feature_dir!r} must stay inside the project: no '..', '.' or empty segments "
            "(for example plans/features/wishlist)"
        )
    if parts[0] == ".git":
        return f"{feature_dir!r} is inside .git"
    if any(not part.isprintable() or part != part.strip() for part in parts):
        return f"{feature_dir!r} has control characters or leading/trailing spaces in a segment"
    return feature_dir_rule_error(feature_dir) or ""


__all__ = [
    "KINDS",
    "component_name_error",
    "entity_name_error",
    "feature_dir_error",
    "fields_error",
    "kind_error",
    "project_name_error",
    "story_id_error",
]
