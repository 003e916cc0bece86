"""pyproject.toml: create it, or add what hexforge needs to the project's own.

What hexforge needs is written once, in ``project_pyproject.toml`` beside this
module. A new project gets that file as is. An existing one gets only what it
lacks, through tomlkit so every byte the user wrote stays (comments, order,
quoting, layout); a value the project already has is never changed, even when
it differs from hexforge's. Missing items are copied from the reference with
their formatting, so an added table reads like the reference file.
"""

from __future__ import annotations

import copy
import itertools
import re
import tomllib
from collections.abc import Collection, Iterable, Mapping, MutableMapping, MutableSequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# tomlkit (about 13 ms to import) is imported by the functions that edit: a scaffold
# whose merge the wiring has recorded as a no-op (wiring.py) never needs it.

REFERENCE_PATH = Path(__file__).with_name("project_pyproject.toml")

# The [tool.*] tables whose missing keys are added to an existing project. Not
# [tool.setuptools...]: that, like [build-system], decides how the project's own
# package builds, which is theirs to say.
PYTEST = ("tool", "pytest", "ini_options")
SETTINGS_TABLES: tuple[tuple[str, ...], ...] = (
    PYTEST,
    ("tool", "ruff"),
    ("tool", "ruff", "lint"),
    ("tool", "mypy"),
)

# Ruff's older layout kept lint settings at the top of [tool.ruff]; a project that
# still does has them already, and a second `select` under [tool.ruff.lint] would
# silently override its own.
LEGACY_LOCATIONS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("tool", "ruff", "lint"): ("tool", "ruff"),
}

TABLE_HEADER = re.compile(r"\s*\[\[?[^\[\]]+\]\]?\s*(#.*)?")

# pytest reads the first of these that exists, whatever pyproject.toml says...
PYTEST_FILES = ("pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini")
# ...and these only when pyproject.toml has no [tool.pytest.ini_options] table.
PYTEST_SECTIONS = {"tox.ini": "[pytest]", "setup.cfg": "[tool:pytest]"}

NEW_PROJECT_KEYS = ("name", "version", "requires-python", "dependencies")


class PyprojectError(ValueError):
    """pyproject.toml cannot be merged safely; the message says what to do."""


@dataclass
class MergeResult:
    text: str
    changes: list[str] = field(default_factory=list)  # "3 dependencies", "[project] table"
    warnings: list[str] = field(default_factory=list)


def new_pyproject(project_name: str, pin: str | None = None) -> str:
    """The pyproject.toml of a new project: the reference without its own comment,
    depending on hexforge by ``pin`` (a PEP 508 requirement) when given."""
    lines = reference_text().splitlines(keepends=True)
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
    text = "".join(lines).replace("{project_name}", project_name)
    return merge_pyproject(text, project_name, pin=pin).text if pin else text


def reference_text() -> str:
    return REFERENCE_PATH.read_text(encoding="utf-8")


def requirement_name(requirement: object) -> str | None:
    """PEP 503 normalised distribution name of a PEP 508 requirement, if it has one."""
    if not isinstance(requirement, str):
        return None
    match = re.match(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else None


def marker_name(marker: object) -> str | None:
    """``"unit: pure domain tests"`` -> ``"unit"``, as pytest reads a markers line."""
    if not isinstance(marker, str):
        return None
    return re.split(r"[:(]", marker, maxsplit=1)[0].strip() or None


def pytest_config_files(root: Path) -> list[str]:
    """The files in ``root`` besides pyproject.toml that hold pytest settings."""
    found = [name for name in PYTEST_FILES if (root / name).is_file()]
    for name, section in PYTEST_SECTIONS.items():
        path = root / name
        if path.is_file() and section in _stripped_lines(path):
            found.append(name)
    return found


def _stripped_lines(path: Path) -> set[str]:
    return {line.strip() for line in path.read_text("utf-8", errors="replace").splitlines()}


def merge_pyproject(
    text: str, project_name: str, pytest_files: Collection[str] = (), pin: str | None = None
) -> MergeResult:
    """Add hexforge's missing requirements and settings to an existing pyproject.toml.

    ``pytest_files`` (see :func:`pytest_config_files`) decide where pytest's
    settings go: pytest reads one configuration file only, so hexforge never adds
    a [tool.pytest.ini_options] table that would shadow the project's own file.

    Raises :class:`PyprojectError` when the file is not valid TOML, or when the
    result would not keep the user's text and values intact (checked, not assumed).
    """
    import tomlkit

    # tomlkit writes new lines as "\n": work in "\n" and convert back, so a CRLF
    # file stays CRLF throughout. A file with mixed endings is kept as it is.
    crlf = "\r\n" in text and text.count("\r\n") == text.count("\n")
    source = text.replace("\r\n", "\n") if crlf else text
    original = _parse_checked(source)
    merger = _Merger(tomlkit.parse(source), tomlkit.parse(reference_text()), text)
    merger.merge_project(project_name)
    if pin:
        merger.pin_hexforge(pin)
    pytest_file = merger.pytest_file(pytest_files)
    for path in SETTINGS_TABLES:
        if path == PYTEST and pytest_file:
            merger.result.warnings.append(_pytest_warning(pytest_file))
        else:
            merger.merge_settings(path)
    merged = merger.render(source)
    if merger.moved_pin is not None:
        # The one value hexforge changes: the same check, against the text as it
        # reads with the old pin replaced by the new one.
        source = source.replace(*merger.moved_pin, 1)
        original = _parse_checked(source)
    _check_preserved(source, original, merged)
    merger.result.text = merged.replace("\n", "\r\n") if crlf else merged
    return merger.result


class _Merger:
    """One merge: the user's document, the reference, and what was added."""

    def __init__(self, document: Any, reference: Any, text: str) -> None:
        self.document: MutableMapping[str, Any] = document
        self.reference: Mapping[str, Any] = reference
        self.result = MergeResult(text)
        self.moved_pin: tuple[str, str] | None = None  # (old requirement, new)

    def merge_project(self, project_name: str) -> None:
        ref_project = self.reference["project"]
        if "project" not in self.document:
            if _lookup(self.document, ("tool", "poetry")) is not None:
                self.result.warnings.append(_poetry_warning(ref_project))
                return
            self.document["project"] = self._new_project_table(ref_project, project_name)
            self.result.changes.append("[project] table")
        project = self.document["project"]
        if not isinstance(project, MutableMapping):
            raise PyprojectError("pyproject.toml has a `project` key that is not a table")
        dynamic = project.get("dynamic", [])
        wanted = ref_project["dependencies"]
        if "dependencies" in dynamic:
            self.result.warnings.append(_dynamic_warning("dependencies", wanted))
        else:
            self._merge_requirements(project, "dependencies", wanted, "dependencies")
        wanted_extras = ref_project["optional-dependencies"]
        if "optional-dependencies" in dynamic:
            self.result.warnings.append(_dynamic_warning("optional-dependencies", wanted_extras))
            return
        extras = self._child_table(project, "optional-dependencies")
        for extra, wanted in wanted_extras.items():
            self._merge_requirements(extras, extra, wanted, f"{extra} dependencies")

    def pin_hexforge(self, pin: str) -> None:
        """Depend on hexforge by ``pin``: the one value hexforge changes in a project's
        file, since it names the template version the project was last rendered from
        (an update moves it). Other requirements stay as they are."""
        import tomlkit

        project = self.document.get("project")
        if not isinstance(project, MutableMapping) or "dependencies" in project.get("dynamic", []):
            self.result.warnings.append(_dynamic_warning("dependencies", [pin]))
            return
        present = project.setdefault("dependencies", tomlkit.array())
        if not isinstance(present, MutableSequence):
            raise PyprojectError("pyproject.toml: dependencies is not a list of requirements")
        names = [requirement_name(item) for item in present]
        if "hexforge" not in names:
            present.append(pin)
            self._count(1, "dependencies")
        elif (old := str(present[names.index("hexforge")])) != pin:
            present[names.index("hexforge")] = pin
            self.moved_pin = (old, pin)
            self.result.changes.append("the hexforge version")

    def pytest_file(self, pytest_files: Collection[str]) -> str | None:
        """The file pytest reads instead of pyproject.toml, if there is one."""
        winners = [name for name in pytest_files if name in PYTEST_FILES]
        if winners:
            return winners[0]
        if pytest_files and _lookup(self.document, PYTEST) is None:
            return next(iter(pytest_files))
        return None

    def merge_settings(self, path: tuple[str, ...]) -> None:
        """Add the keys of the reference table at ``path`` that the project lacks."""
        existing = _lookup(self.document, path)
        if existing is not None and not isinstance(existing, MutableMapping):
            raise PyprojectError(f"pyproject.toml: {'.'.join(path)} is not a table")
        have: Mapping[str, Any] = existing if existing is not None else {}
        legacy_path = LEGACY_LOCATIONS.get(path)
        legacy = _lookup(self.document, legacy_path) if legacy_path else None
        elsewhere: Mapping[str, Any] = legacy if isinstance(legacy, Mapping) else {}
        ref_table = _lookup(self.reference, path)
        missing = {
            key: value
            for key, value in ref_table.items()
            # Sub-tables are skipped: SETTINGS_TABLES lists the ones to merge.
            if not isinstance(value, Mapping) and key not in have and key not in elsewhere
        }
        if path == PYTEST and "markers" in have:
            # Merged by name, so the project's own description of a marker stays.
            self._count(_merge_markers(have["markers"], ref_table["markers"]), "pytest markers")
        if missing:
            table = self._table_at(path)
            for key, value in missing.items():
                table[key] = _copy_into(table, value)
            self._count(len(missing), f"[{'.'.join(path)}] settings")

    def render(self, source: str) -> str:
        import tomlkit

        return _separate_tables(source, tomlkit.dumps(self.document))

    def _new_project_table(self, ref_project: Mapping[str, Any], project_name: str) -> Any:
        import tomlkit

        table = tomlkit.table()
        for key in NEW_PROJECT_KEYS:
            table[key] = copy.deepcopy(ref_project[key])
        table["name"] = project_name
        return table

    def _merge_requirements(
        self, table: MutableMapping[str, Any], key: str, wanted: Any, label: str
    ) -> None:
        """Append each requirement of ``wanted`` whose distribution ``table[key]`` lacks."""
        if key not in table:
            table[key] = _copy_into(table, wanted)
            self._count(len(wanted), label)
            return
        present = table[key]
        if not isinstance(present, MutableSequence):
            raise PyprojectError(f"pyproject.toml: {key} is not a list of requirements")
        have = {requirement_name(item) for item in present}
        missing = [str(item) for item in wanted if requirement_name(item) not in have]
        for requirement in missing:
            present.append(requirement)
        self._count(len(missing), label)

    def _table_at(self, path: tuple[str, ...]) -> MutableMapping[str, Any]:
        node = self.document
        for depth, key in enumerate(path):
            node = self._child_table(node, key, super_table=depth < len(path) - 1)
        return node

    def _child_table(
        self, parent: MutableMapping[str, Any], key: str, *, super_table: bool = False
    ) -> MutableMapping[str, Any]:
        import tomlkit

        if key not in parent:
            # A super table ([tool]) gets no header of its own, only its children do.
            parent[key] = tomlkit.table(is_super_table=True if super_table else None)
        child = parent[key]
        if not isinstance(child, MutableMapping):
            raise PyprojectError(f"pyproject.toml has a `{key}` key that is not a table")
        return child

    def _count(self, number: int, label: str) -> None:
        if number:
            self.result.changes.append(f"{number} {label}")


def _merge_markers(present: object, wanted: Iterable[str]) -> int:
    if not isinstance(present, MutableSequence):
        raise PyprojectError("pyproject.toml: [tool.pytest.ini_options] markers is not a list")
    have = {marker_name(item) for item in present}
    missing = [str(marker) for marker in wanted if marker_name(marker) not in have]
    for marker in missing:
        present.append(marker)
    return len(missing)


def _copy_into(table: MutableMapping[str, Any], item: Any) -> Any:
    """A copy of a reference item, kept on one line when it goes into an inline table."""
    import tomlkit.items

    if isinstance(table, tomlkit.items.InlineTable) and isinstance(item, list):
        single_line = tomlkit.array()
        single_line.extend(str(value) for value in item)
        return single_line
    return copy.deepcopy(item)


def _dynamic_warning(key: str, wanted: Iterable[str] | Mapping[str, Iterable[str]]) -> str:
    if isinstance(wanted, Mapping):
        what = "; ".join(
            f"the {extra} extra includes {', '.join(items)}" for extra, items in wanted.items()
        )
    else:
        what = f"they include {', '.join(wanted)}"
    return f"pyproject.toml declares {key} dynamic, so hexforge left it alone: make sure {what}"


def _pytest_warning(pytest_file: str) -> str:
    markers = ", ".join(str(marker_name(marker)) for marker in _reference_pytest()["markers"])
    return (
        f"pytest reads its settings from {pytest_file}, so hexforge added none to "
        f"pyproject.toml: register the markers {markers} there, with asyncio_mode = auto "
        "and pythonpath = ."
    )


def _reference_pytest() -> Any:
    return _lookup(tomllib.loads(reference_text()), PYTEST)


def _poetry_warning(ref_project: Mapping[str, Any]) -> str:
    # A [project] table would make Poetry 2 read its dependencies from there and
    # ignore the project's own [tool.poetry.dependencies]: add them Poetry's way.
    runtime = " ".join(f"'{item}'" for item in ref_project["dependencies"])
    dev = " ".join(f"'{item}'" for item in ref_project["optional-dependencies"]["dev"])
    return (
        "pyproject.toml is a Poetry project without a [project] table, so hexforge did not "
        f"add dependencies: run poetry add {runtime} && poetry add --group dev {dev}"
    )


def _separate_tables(source: str, merged: str) -> str:
    """Put a blank line between an added line and a table header right after it.

    tomlkit inserts a table after the blank line that ended its parent, so the
    next header would follow the added lines directly. A header that already
    followed its previous line directly in the user's file is left as it was.
    """
    original = source.splitlines()
    adjacent = set(itertools.pairwise(original))
    lines = merged.splitlines(keepends=True)
    result: list[str] = []
    for line in lines:
        previous = result[-1].rstrip("\n") if result else ""
        header = TABLE_HEADER.match(line.rstrip("\n"))
        if header and previous.strip() and (previous, line.rstrip("\n")) not in adjacent:
            result.append("\n")
        result.append(line)
    return "".join(result)


def _lookup(root: Mapping[str, Any], path: Iterable[str]) -> Any:
    node: Any = root
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def _parse_checked(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PyprojectError(
            f"pyproject.toml is not valid TOML ({error}); fix it, then re-run the scaffold"
        ) from None


def _check_preserved(source: str, original: Mapping[str, Any], merged: str) -> None:
    """Refuse a merge that lost or changed anything the user wrote.

    tomlkit is trusted to keep bytes, but a pyproject.toml is too important to
    take that on faith: every original character must still be there, in order,
    and every original value must be unchanged (lists may only grow at the end).
    """
    try:
        merged_data = tomllib.loads(merged)
    except tomllib.TOMLDecodeError as error:
        reason = f"the merge produced invalid TOML: {error}"
        raise PyprojectError(_manual_merge_message(reason)) from None
    if not is_subsequence(source, merged):
        raise PyprojectError(_manual_merge_message("the merge would rewrite existing text"))
    if not extends(original, merged_data):
        raise PyprojectError(_manual_merge_message("the merge would change an existing value"))


def _manual_merge_message(reason: str) -> str:
    return (
        f"hexforge could not add its settings to pyproject.toml safely ({reason}); "
        f"copy what is missing by hand from {REFERENCE_PATH}"
    )


def is_subsequence(needle: str, haystack: str) -> bool:
    """Whether ``haystack`` is ``needle`` with characters only inserted."""
    remaining = iter(haystack)
    return all(char in remaining for char in needle)


def extends(old: object, new: object) -> bool:
    """Whether ``new`` holds every value of ``old`` unchanged; lists may grow at the end."""
    if isinstance(old, dict):
        return isinstance(new, dict) and all(
            key in new and extends(value, new[key]) for key, value in old.items()
        )
    if isinstance(old, list):
        return isinstance(new, list) and len(new) >= len(old) and new[: len(old)] == old
    return type(old) is type(new) and old == new
