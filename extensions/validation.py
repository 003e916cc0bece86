"""Question validators: each returns '' for a good answer, else one line that
names the value and the rule it broke (Copier prefixes the question name).

The rules themselves live in :mod:`naming` and :mod:`fields`; this module only
adds the checks that need the destination (an existing component, a path that
would leave the project).
"""

from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath

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


def copier_operation() -> str:
    """'copy' or 'update': which Copier operation is running.

    Copier keeps this in a context variable that validators cannot see through
    Jinja, so read it directly; an unknown Copier layout counts as a copy, the
    safer choice for the checks below.
    """
    try:
        from copier._main import _operation
    except ImportError:
        return "copy"
    return str(_operation.get("copy"))


def kind_error(kind: object) -> str:
    if kind not in KINDS:
        return f"{kind!r} is not a scaffold kind: use one of {', '.join(KINDS)}"
    return ""


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
    if (problem := component_rule_error(name)) is not None:
        return problem
    if copier_operation() != "copy":
        return ""
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
            f"{story_id!r} is not a story id: use uppercase letters/digits, a dash and a "
            "number (for example WISH-001)"
        )
    return ""


def feature_dir_error(feature_dir: object) -> str:
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
