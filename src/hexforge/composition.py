"""``app/components.py``: the application's component registry, owned by hexforge.

The file is written whole from the components on disk, by the wiring on every copy,
update and sync, and by ``hexforge remove``; ``app/main.py`` imports
``component_routers`` from it and is otherwise the user's. Each component's service
is built on its adapters (``components/<name>/adapters/compose.py``: PostgreSQL with
a pool, else the in-memory twin) after the components it references, and its router
is returned. The text is laid out as ``ruff check`` (isort) and ``ruff format``
leave it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

COMPONENTS_MODULE = Path("app") / "components.py"
LINE_LENGTH = 100  # [tool.ruff] line-length of a generated project

HEADER = '''"""The components this application serves, each built on its adapters.

hexforge writes this file whole from the components in components/ (on every copy,
update, sync and removal): put your own code in app/main.py, which imports it.
"""

from __future__ import annotations

from fastapi import APIRouter
from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool
'''

ROUTERS_SIGNATURE = "def component_routers(pool: Pool | None) -> list[APIRouter]:"
ROUTERS_DOC = (
    '    """Each component\'s service on its adapters (PostgreSQL with a pool, else in\n'
    "    memory), built after the components it references, and its routes.\n"
    '    """'
)
REF = re.compile(r"ref\[\s*([A-Za-z_][A-Za-z0-9_]*)\s*\]")


class ReferenceCycle(ValueError):
    """The components reference each other in a cycle: no order builds them all.

    The ``fields`` validator refuses such an answer before anything is written; this
    is for answers edited by hand since."""


@dataclass(frozen=True)
class Registry:
    names: list[str]
    refs: dict[str, list[str]]  # component -> the components its ref fields name
    legacy: frozenset[str]  # components whose public API still builds its own router


def on_disk(root: Path, leaving_out: Collection[str] = ()) -> Registry:
    """The project's components: folders of components/ with a component's answers."""
    from hexforge.core import Refused, read_answers, read_manifest  # YAML: remove's only

    folder = root / "components"
    names: list[str] = []
    refs: dict[str, list[str]] = {}
    legacy: set[str] = set()
    try:
        manifest = read_manifest(root) or {}
    except Refused:
        manifest = {}
    registered = manifest.get("components")
    registered = registered if isinstance(registered, dict) else {}
    for component in sorted(folder.iterdir()) if folder.is_dir() else []:
        name = component.name
        answers_path = component / ".copier-answers.yml"
        if name in leaving_out or not component.is_dir():
            continue
        if answers_path.is_file():
            answers = read_answers(answers_path)
            if answers.get("kind") != "component":
                continue
            fields = answers.get("fields", "")
        elif isinstance(entry := registered.get(name), dict):
            # Its answers file is gone but the folder is there: the wiring keeps it
            # registered as the manifest has it, and so does this.
            fields = str(entry.get("fields") or "")
        else:
            continue
        names.append(name)
        refs[name] = REF.findall(fields)
        if builds_its_own_router(component):
            legacy.add(name)
    return Registry(names, refs, frozenset(legacy))


def builds_its_own_router(component: Path) -> bool:
    """Whether the component is still at a version whose public API built its router
    (before adapters/compose.py): it is mounted that way until its update."""
    try:
        data = (component / "__init__.py").read_bytes()
    except OSError:
        return False
    return b"\ndef build_router(" in data


def render(
    names: Iterable[str],
    refs: Mapping[str, Sequence[str]] | None = None,
    legacy: Collection[str] = (),
) -> str:
    """The text of ``app/components.py`` for these components."""
    ordered = isort_order(names)
    imports = [import_line(name, name in legacy) for name in ordered]
    body = registry_lines(dependency_order(ordered, refs or {}), refs or {}, legacy)
    parts = [HEADER, *(["\n", *(f"{line}\n" for line in imports)] if imports else [])]
    parts += ["\n", "Pool = AsyncConnectionPool[AsyncConnection[TupleRow]]\n", "\n\n"]
    parts += [f"{line}\n" if line else "\n" for line in body]
    return "".join(parts)


def render_for(root: Path, leaving_out: Collection[str] = ()) -> str:
    """``app/components.py`` for the components on disk at ``root``."""
    found = on_disk(root, leaving_out)
    return render(found.names, found.refs, found.legacy)


def import_line(name: str, legacy: bool = False) -> str:
    """How the registry imports a component's assembly: never its public API, which
    carries no adapter (but a legacy component's does: its build_router)."""
    if legacy:
        return f"import components.{name}"
    return f"import components.{name}.adapters.compose as {name}_compose"


def dependency_order(names: Iterable[str], refs: Mapping[str, Sequence[str]]) -> list[str]:
    """``names`` with every component after those it references, else in isort order.

    Of the components whose references are all placed, the first in isort order goes
    next (Kahn's algorithm), so removing a component leaves the others' order as it was.
    """
    pending = isort_order(names)
    placed: list[str] = []
    while pending:
        ready = next(
            (
                name
                for name in pending
                if all(other in placed or other not in pending for other in refs.get(name, ()))
            ),
            None,
        )
        if ready is None:
            raise ReferenceCycle(
                f"the components reference each other in a cycle: {', '.join(pending)}"
            )
        placed.append(ready)
        pending.remove(ready)
    return placed


def registry_lines(
    order: Sequence[str], refs: Mapping[str, Sequence[str]], legacy: Collection[str] = ()
) -> list[str]:
    """``component_routers`` for ``order``, line by line."""
    lines = [ROUTERS_SIGNATURE, *ROUTERS_DOC.split("\n")]
    routers: list[str] = []
    for name in order:
        if name in legacy:
            routers.append(f"components.{name}.build_router(pool)")
            continue
        # A reference to a component the project lacks gets no argument: mypy names
        # the missing one (the validator refuses such a reference at copy time).
        present = [other for other in refs.get(name, ()) if other in order]
        arguments = ["pool", *(f"{other}_use_cases={other}_service" for other in present)]
        lines += _call(f"    {name}_service = {name}_compose.build(", arguments, ")")
        routers.append(f"{name}_compose.router({name}_service)")
    return [*lines, *_call("    return [", routers, "]")]


def _call(opening: str, items: list[str], closing: str) -> list[str]:
    # Laid out as ruff format would: on one line while it fits, else one item per
    # line with a trailing comma (which keeps them so). Several list items always
    # go one per line.
    one_line = f"{opening}{', '.join(items)}{closing}"
    if len(one_line) <= LINE_LENGTH and (closing == ")" or len(items) <= 1):
        return [one_line]
    indent = opening[: len(opening) - len(opening.lstrip())]
    return [opening, *(f"{indent}    {item}," for item in items), f"{indent}{closing}"]


def isort_order(names: Iterable[str]) -> list[str]:
    """Component names in the order ruff's isort puts ``import components.<name>``.

    Ruff compares module names "naturally": digit runs by value (v2 before v10),
    and a run with a leading zero as a left-aligned string (a01 before a1).
    """
    return sorted(set(names), key=_natural_key)


def _natural_key(name: str) -> tuple[tuple[int, int, str], ...]:
    key = []
    for text, digits in re.findall(r"(\D+)|(\d+)", name):
        if text:
            key.append((0, 0, text))
        elif digits.startswith("0"):
            key.append((1, 0, digits))
        else:
            key.append((1, 1 + len(digits), digits))
    return tuple(key)
