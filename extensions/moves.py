"""The moves table: which template version moved or renamed which generated file.

Read by migrations.py, which applies the moves during `copier update`, and by the
Jinja glue, so that copier.yml runs that migration only when a move lies between
the two versions (most updates have none, and a task costs a Python start).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from packaging.version import InvalidVersion, Version


@dataclass(frozen=True)
class Move:
    """A generated file that template version ``version`` moved or renamed.

    ``old`` and ``new`` are relative to the folder that holds the kind's answers
    file: the project root (kind=project), ``components/<name>/`` (component),
    or the story's ``_implementation/`` folder (story). In ``old``, ``*`` matches
    within one path segment and ``**`` across segments; ``new`` receives what they
    matched as ``{0}``, ``{1}``... in order.
    """

    version: str  # the PEP 440 release that introduced the move
    kind: str
    old: str
    new: str

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        parts = re.split(r"(\*\*|\*)", self.old)
        regex = "".join(
            "(.*)" if part == "**" else "([^/]*)" if part == "*" else re.escape(part)
            for part in parts
        )
        return re.compile(regex)

    @cached_property
    def introduced(self) -> Version:
        return Version(self.version)

    def target(self, path: str) -> str | None:
        """Where ``path`` goes, or None when this move does not concern it."""
        match = self.pattern.fullmatch(path)
        return None if match is None else self.new.format(*match.groups())


# The moves, oldest first. A release that moves or renames a generated file adds
# its entry here (and a line in CHANGELOG.md); entries are never removed, since a
# project may update from any older version.
MOVES: tuple[Move, ...] = (
    # Move("0.2.0", "component", "tests/unit/test_service.py", "tests/unit/test_use_cases.py"),
)


def applicable(
    moves: Iterable[Move], kind: str, version_from: Version, version_to: Version
) -> list[Move]:
    """The moves of ``kind`` introduced after ``version_from``, up to ``version_to``."""
    chosen = [
        move for move in moves if move.kind == kind and version_from < move.introduced <= version_to
    ]
    return sorted(chosen, key=lambda move: move.introduced)  # stable: table order kept


def any_between(version_from: object, version_to: object) -> bool:
    """Whether a move of any kind lies between the two versions (Copier's Version
    objects or strings); True when either is not a PEP 440 version, so that the
    migration runs and reports the problem.

    Not by kind: when Copier decides whether to run a migration, the answers are
    not yet in the render context. The migration itself picks the kind's moves.
    """
    try:
        start, end = Version(str(version_from)), Version(str(version_to))
    except InvalidVersion:
        return True
    return any(start < move.introduced <= end for move in MOVES)


TOOLS_IMPORT = "from tools import migrate"
TOOLS_IMPORTERS = ("tests/conftest.py", "tests/integration/test_postgres_schema.py")


def imports_project_tools(component: Path) -> bool:
    """Whether the component's tests still import the project's tools/ (a component
    rendered before the hexforge package)."""
    for relative in TOOLS_IMPORTERS:
        try:
            if TOOLS_IMPORT in (component / relative).read_text(encoding="utf-8"):
                return True
        except (OSError, UnicodeDecodeError):
            continue
    return False
