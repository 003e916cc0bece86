"""The project's own settings that decide whether generated code passes its gates.

Two uses, both read-only:

- Layout. Rendered code is laid out by ruff with the configuration the project's
  own ``ruff format --check`` will use (:func:`ruff_config_option`), in the
  project and in the temporary copies an update renders alike: an update diffs
  those copies against the project, so they must be laid out identically.
- Refusals (:func:`settings_error`), checked before anything is written: a mypy
  ``python_version`` below the Python the generated code needs, or a requirement
  pinned where the generated code cannot run (``fastapi==0.95.2``, ``pydantic<2``).

Stdlib and ``packaging`` only (Copier depends on it): this runs in Copier's process.
"""

from __future__ import annotations

import configparser
import functools
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # packaging is imported where it is used: the task that lays out
    # a component needs only ruff_config_option, and the import costs it 20 ms.
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

import copier_internals

REFERENCE = Path(__file__).with_name("project_pyproject.toml")

# The oldest Python the generated code runs on (datetime.UTC, typing features).
MIN_PYTHON = "3.11"

# [tool.ruff] line-length of project_pyproject.toml, the settings hexforge adds.
DEFAULT_LINE_LENGTH = 100

# Where ruff looks for its settings, in the order it prefers them in one folder.
RUFF_FILES = (".ruff.toml", "ruff.toml", "pyproject.toml")
# mypy reads the first of these that exists (pyproject.toml only with [tool.mypy]).
MYPY_FILES = ("mypy.ini", ".mypy.ini", "pyproject.toml", "setup.cfg")


# --- layout ------------------------------------------------------------------


def ruff_config_option(dst_path: object) -> str:
    """The ruff option that selects the configuration of the project at ``dst_path``.

    ``--config=FILE`` with the file the project's own ruff would read for its
    components, or ``--isolated`` (ruff's defaults) when there is none. In an
    update's temporary copy, the real project's configuration.
    """
    project = project_root(Path(str(dst_path)))
    if project is None:
        # A temporary copy whose project cannot be found (Copier's internals
        # changed): hexforge's own line length, the layout before this module.
        return f"--line-length={DEFAULT_LINE_LENGTH}"
    config = ruff_config(project)
    return f"--config={config}" if config is not None else "--isolated"


def ruff_config(project: Path) -> Path | None:
    """The settings file ruff uses for ``project/components``, as ruff finds it:
    the nearest folder holding one, then the user's own configuration."""
    start = project / "components"
    for folder in [start, *start.parents]:
        for name in RUFF_FILES:
            candidate = folder / name
            if candidate.is_file() and (name != "pyproject.toml" or _has_tool(candidate, "ruff")):
                return candidate
    return _user_ruff_config()


def _user_ruff_config() -> Path | None:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    for name in RUFF_FILES:
        candidate = Path(base, "ruff", name)
        if candidate.is_file() and (name != "pyproject.toml" or _has_tool(candidate, "ruff")):
            return candidate
    return None


def project_root(dst_path: Path) -> Path | None:
    """The project a render belongs to: ``dst_path``, or for one of the temporary
    copies ``copier update`` renders, the project being updated (None when it
    cannot be found)."""
    if not copier_internals.in_temporary_copy(dst_path):
        return dst_path
    return copier_internals.updated_project()


# --- refusals ----------------------------------------------------------------


def settings_error(project: Path) -> str:
    """Why the project's own settings would make generated code fail, or ''."""
    return _python_version_error(project) or _requirement_error(project)


def _python_version_error(project: Path) -> str:
    found = _mypy_python_version(project)
    if found is None:
        return ""
    where, value = found
    from packaging.version import InvalidVersion, Version

    try:
        too_old = Version(value) < Version(MIN_PYTHON)
    except InvalidVersion:
        return ""  # mypy reports its own configuration errors
    if not too_old:
        return ""
    return (
        f"{where} sets mypy's python_version = {value!r}, but the generated code needs "
        f"Python {MIN_PYTHON} or newer (datetime.UTC, kw_only dataclasses), so mypy would "
        f"fail on it: raise python_version to {MIN_PYTHON}, then scaffold again"
    )


def _mypy_python_version(project: Path) -> tuple[str, str] | None:
    """(where, value) of the python_version mypy reads for this project, if set."""
    for name in MYPY_FILES:
        path = project / name
        if not path.is_file():
            continue
        if name == "pyproject.toml":
            data = _toml(path)
            mypy = _table(data, "tool", "mypy")
            if mypy is None:
                continue
            value = mypy.get("python_version")
            return None if value is None else (f"{name} [tool.mypy]", str(value))
        parser = configparser.ConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            return None
        if not parser.has_section("mypy"):
            if name == "setup.cfg":
                continue
            return None
        value = parser.get("mypy", "python_version", fallback=None)
        return None if value is None else (f"{name} [mypy]", value.strip())
    return None


def _requirement_error(project: Path) -> str:
    data = _toml(project / "pyproject.toml")
    declared = [
        (where, text)
        for where, text in _declared_requirements(data)
        if text.strip() not in _reference_texts() and _name(text) in _needed_names()
    ]
    if not declared:
        # What a wired project declares: nothing but the reference's own requirements
        # and others' packages. packaging (12 ms to import) is for the rest.
        return ""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    needed = _needed_requirements()
    for where, text in declared:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue  # not ours to judge; pip reports it
        need = needed.get(canonicalize_name(requirement.name))
        if need is None or not _applies(requirement):
            continue
        if not overlaps(requirement.specifier, need.specifier):
            return (
                f"pyproject.toml {where} requires {text.strip()!r}, but the generated code "
                f"needs {need} (Pydantic 2 models, FastAPI's Annotated parameters, "
                "psycopg 3 pools, explicit pytest-asyncio markers), and no version satisfies "
                "both: relax that requirement, then scaffold again"
            )
    return ""


def _applies(requirement: Requirement) -> bool:
    if requirement.marker is None:
        return True
    try:
        return requirement.marker.evaluate({"extra": ""})
    except Exception:  # a marker packaging cannot evaluate here: judge the pin anyway
        return True


def _needed_requirements() -> dict[str, Requirement]:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    return {canonicalize_name(req.name): req for req in map(Requirement, _needed_texts())}


@functools.cache
def _reference_project() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads(REFERENCE.read_text(encoding="utf-8"))["project"]
    return project


@functools.cache
def _needed_texts() -> tuple[str, ...]:
    reference = _reference_project()
    return (*reference["dependencies"], *reference["optional-dependencies"]["dev"])


@functools.cache
def _reference_texts() -> frozenset[str]:
    """Every requirement the reference declares, as written."""
    reference = _reference_project()
    groups = [reference["dependencies"], *reference.get("optional-dependencies", {}).values()]
    return frozenset(text.strip() for texts in groups for text in texts)


@functools.cache
def _needed_names() -> frozenset[str]:
    return frozenset(_name(text) for text in _needed_texts())


# A requirement's distribution name (PEP 508), before its extras, version or marker.
_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


def _name(text: str) -> str:
    """``text``'s name as packaging canonicalizes it; '' when it starts with none."""
    match = _NAME.match(text)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""


def _declared_requirements(data: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    project = _table(data, "project") or {}
    for text in _strings(project.get("dependencies")):
        yield "[project] dependencies", text
    extras = project.get("optional-dependencies")
    for extra, texts in extras.items() if isinstance(extras, Mapping) else ():
        for text in _strings(texts):
            yield f"[project.optional-dependencies] {extra}", text
    groups = data.get("dependency-groups")
    for group, texts in groups.items() if isinstance(groups, Mapping) else ():
        for text in _strings(texts):
            yield f"[dependency-groups] {group}", text


def overlaps(first: SpecifierSet, second: SpecifierSet) -> bool:
    """Whether some release satisfies both specifier sets.

    Each bound of either set is tried, with the release just above it and a far
    future one: between two bounds the answer cannot change, so these points
    decide it for the usual operators (==, !=, <, <=, >, >=, ~=, wildcards).
    """
    from packaging.version import InvalidVersion, Version

    candidates = {Version("99999")}
    for specifier in [*first, *second]:
        try:
            bound = Version(specifier.version.removesuffix(".*"))
        except InvalidVersion:
            return True  # an arbitrary-equality (===) pin: let pip decide
        release = ".".join(map(str, bound.release))
        candidates |= {bound, Version(release + ".0.1"), Version(release + ".1")}
    return any(
        first.contains(version, prereleases=True) and second.contains(version, prereleases=True)
        for version in candidates
    )


# --- reading -----------------------------------------------------------------


def _toml(path: Path) -> Mapping[str, Any]:
    """A TOML file's data; {} when it is missing or unreadable (reported elsewhere)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _has_tool(path: Path, tool: str) -> bool:
    return _table(_toml(path), "tool", tool) is not None


def _table(data: Mapping[str, Any], *keys: str) -> Mapping[str, Any] | None:
    node: Any = data
    for key in keys:
        if not isinstance(node, Mapping) or not isinstance(node.get(key), Mapping):
            return None
        node = node[key]
    return node  # type: ignore[no-any-return]


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
