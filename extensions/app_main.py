"""app/main.py, the composition root: its first version and its two managed blocks.

hexforge writes the file once; after that it belongs to the project. Only the
lines between the two pairs of ``# >>> hexforge:`` / ``# <<< hexforge:`` markers
are regenerated (the components' assembly modules imported, and
``component_routers``, which builds every component's service on its adapters,
referenced components first, and returns their routers); every other byte stays
as the user left it. The generated lines are laid out so that ``ruff check``
(isort included) and ``ruff format`` accept them unchanged.

Each component decides its own adapters in ``components/<name>/adapters/compose.py``
(PostgreSQL with a pool, else the in-memory twin): its tests build it there too, so
that choice is made in one place, and the component's public API (its
``__init__.py``) imports no framework.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence

IMPORTS = "component imports"
REGISTRY = "component registry"
LINE_LENGTH = 100  # [tool.ruff] line-length of project_pyproject.toml


def begin_marker(block: str) -> str:
    return f"{_begin_prefix(block)} (managed; edit outside these markers)"


def _begin_prefix(block: str) -> str:
    # What identifies a begin marker: the user may reword the note after it.
    return f"# >>> hexforge: {block}"


def end_marker(block: str) -> str:
    return f"# <<< hexforge: {block}"


class MarkersMissing(ValueError):
    """app/main.py lacks a managed block; the message says which lines to add back."""


class ReferenceCycle(ValueError):
    """The components reference each other in a cycle: no order builds them all.

    The ``fields`` validator refuses such an answer before anything is written; this
    is for answers edited by hand since."""


# Run before the app serves on PostgreSQL (SPEC §7): the schema is the migrations'.
CHECK_SCHEMA = '''def check_schema(url: str) -> None:
    """Refuse to serve on a database the migrations have not brought up to date:
    every request would fail. HEXFORGE_MIGRATE_ON_START=1 applies them instead
    (under hexforge migrate's lock: replicas starting together apply each once)."""
    if os.environ.get("HEXFORGE_MIGRATE_ON_START") == "1":
        migrate.apply(url)
        return
    pending = [migration.label for migration in migrate.pending(url)]
    if pending:
        raise migrate.MigrationError(
            f"migrations pending: {', '.join(pending)}; "
            "apply them with `hexforge migrate up` (the deploy step), "
            "or set HEXFORGE_MIGRATE_ON_START=1 to apply them at start"
        )


'''

TEMPLATE = '''"""Composition root: builds the FastAPI application from the components.

Adapters are chosen here and nowhere else: in memory by default, PostgreSQL when
DATABASE_URL is set. Serve it with `uvicorn app.main:app`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from hexforge import migrate
from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

{imports_begin}
{imports_end}

Pool = AsyncConnectionPool[AsyncConnection[TupleRow]]


{registry_begin}
{registry_end}


{check_schema}def create_app(database_url: str | None = None) -> FastAPI:
    """Build the application; ``database_url`` overrides the DATABASE_URL variable."""
    url = database_url if database_url is not None else os.environ.get("DATABASE_URL")
    pool: Pool | None = AsyncConnectionPool(url, open=False) if url else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if pool is None or url is None:
            yield
            return
        await asyncio.to_thread(check_schema, url)
        await pool.open()
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(
        title={title},
        lifespan=lifespan,
    )
    for router in component_routers(pool):
        app.include_router(router)
    return app


app = create_app()
'''


def new_app_main(
    title: str,
    components: Iterable[str],
    refs: Mapping[str, Sequence[str]] | None = None,
    legacy: Collection[str] = (),
) -> str:
    """The first app/main.py of a project, its managed blocks filled in."""
    skeleton = TEMPLATE.format(
        imports_begin=begin_marker(IMPORTS),
        imports_end=end_marker(IMPORTS),
        registry_begin=begin_marker(REGISTRY),
        registry_end=end_marker(REGISTRY),
        title=_python_string(title),
        check_schema=CHECK_SCHEMA,
    )
    return update_app_main(skeleton, components, refs, legacy)


def update_app_main(
    text: str,
    components: Iterable[str],
    refs: Mapping[str, Sequence[str]] | None = None,
    legacy: Collection[str] = (),
) -> str:
    """``text`` with both managed blocks regenerated for ``components``.

    ``refs`` maps a component to those it references (its ``ref[...]`` fields):
    their services are built first and handed to its ``build``. The components
    must form no cycle (the ``fields`` validator refuses one before anything is
    written; :class:`ReferenceCycle` otherwise). ``legacy`` names the components
    still at a version whose public API built its own router (no
    ``adapters/compose.py`` yet): they are mounted that way until their update.

    Raises :class:`MarkersMissing` when a block's markers are gone or out of
    order: then hexforge cannot tell its lines from the user's and leaves the
    file alone.
    """
    text = with_packaged_migrate(without_component_protocol(without_schema_at_start(text)))
    names = isort_order(components)
    # isort wants a blank line between the last import and the end marker comment.
    imports = [*(import_line(name, name in legacy) for name in names), *([""] if names else [])]
    text = _replace_block(text, IMPORTS, imports)
    order = dependency_order(names, refs or {})
    return _replace_block(text, REGISTRY, registry_lines(order, refs or {}, legacy))


def import_line(name: str, legacy: bool = False) -> str:
    """How app/main.py imports a component's assembly: never its public API, which
    carries no adapter (but a legacy component's does: its build_router)."""
    if legacy:
        return f"import components.{name}"
    return f"import components.{name}.adapters.compose as {name}_compose"


def dependency_order(names: Iterable[str], refs: Mapping[str, Sequence[str]]) -> list[str]:
    """``names`` with every component after those it references, else in isort order.

    Of the components whose references are all placed, the first in isort order goes
    next (Kahn's algorithm): removing a component nobody references leaves the
    others' order as it was, so tools/remove.py only has to drop its lines.
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


ROUTERS_SIGNATURE = "def component_routers(pool: Pool | None) -> list[APIRouter]:"
ROUTERS_DOC = (
    '    """Each component\'s service on its adapters (PostgreSQL with a pool, else in\n'
    "    memory), built after the components it references, and its routes.\n"
    '    """'
)


def registry_lines(
    order: Sequence[str], refs: Mapping[str, Sequence[str]], legacy: Collection[str] = ()
) -> list[str]:
    """The body of the registry block: ``component_routers`` for ``order``."""
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
    lines += _call("    return [", routers, "]")
    # ruff format wants two blank lines between a function and the comment after it.
    return [*lines, "", ""]


def _call(opening: str, items: list[str], closing: str) -> list[str]:
    # Laid out as ruff format would: on one line while it fits, else one item per
    # line with a trailing comma (which keeps them so). Several list items always
    # go one per line, as the registry always did.
    one_line = f"{opening}{', '.join(items)}{closing}"
    if len(one_line) <= LINE_LENGTH and (closing == ")" or len(items) <= 1):
        return [one_line]
    indent = opening[: len(opening) - len(opening.lstrip())]
    return [opening, *(f"{indent}    {item}," for item in items), f"{indent}{closing}"]


# app/main.py as hexforge wrote it before migrations ran each component's
# create_schema at start; each piece and what replaces it (SPEC §7: the schema is
# the migrations', checked or applied by hexforge migrate before the app serves).
_SCHEMA_AT_START = (
    ("import os\n", "import asyncio\nimport os\n"),
    (
        f"{end_marker(IMPORTS)}\n\nPool",
        f"{end_marker(IMPORTS)}\nfrom tools import migrate\n\nPool",  # then packaged
    ),
    ("    async def create_schema(self, pool: Pool) -> None: ...\n\n", ""),
    ("\n\ndef create_app(", f"\n\n{CHECK_SCHEMA}def create_app("),
    ("        if pool is None:\n", "        if pool is None or url is None:\n"),
    (
        """        await pool.open()
        try:
            for component in COMPONENTS:
                await component.create_schema(pool)
            yield
""",
        """        await asyncio.to_thread(check_schema, url)
        await pool.open()
        try:
            yield
""",
    ),
)


def without_schema_at_start(text: str) -> str:
    """``text`` with the create_schema calls of an app/main.py from before migrations
    replaced by the migration check; unchanged unless every old piece is there as
    hexforge wrote it (a file its owner rewrote is theirs to adapt)."""
    if not all(old in text for old, _ in _SCHEMA_AT_START):
        return text
    for old, new in _SCHEMA_AT_START:
        text = text.replace(old, new, 1)
    return text


# app/main.py as hexforge wrote it while each component's public API built its own
# router (build_router): a Protocol for the packages and a loop over them. The
# registry block now builds every service from its adapters; these lines go with it.
_COMPONENT_PROTOCOL = (
    ("from typing import Protocol\n", ""),
    (
        """class Component(Protocol):
    \"\"\"What the composition root needs from a component package.\"\"\"

    def build_router(self, pool: Pool | None) -> APIRouter: ...


""",
        "",
    ),
    (
        """    for component in COMPONENTS:
        app.include_router(component.build_router(pool))
""",
        """    for router in component_routers(pool):
        app.include_router(router)
""",
    ),
)


# app/main.py as hexforge wrote it while its tools were copied into the project:
# the migrations came from tools/migrate.py, which the package hexforge now holds
# (a wheel of the project ships no tools/, so the old import fails when installed).
_TOOLS_MIGRATE = (
    (
        "from fastapi import APIRouter, FastAPI\n",
        "from fastapi import APIRouter, FastAPI\nfrom hexforge import migrate\n",
    ),
    ("from tools import migrate\n", ""),
    ("`python tools/migrate.py up`", "`hexforge migrate up`"),
    ("(under tools/migrate.py's lock:", "(under hexforge migrate's lock:"),
)


def with_packaged_migrate(text: str) -> str:
    """``text`` importing the migrations from the package hexforge instead of the
    project's old ``tools/migrate.py``; unchanged unless both imports are there as
    hexforge wrote them (the explanatory strings follow where they are unchanged)."""
    if not all(old in text for old, _ in _TOOLS_MIGRATE[:2]):
        return text
    for old, new in _TOOLS_MIGRATE:
        text = text.replace(old, new, 1)
    return text


def without_component_protocol(text: str) -> str:
    """``text`` without the ``Component`` protocol and ``COMPONENTS`` loop of an
    app/main.py from before the composition root built services itself; unchanged
    unless every old piece is there as hexforge wrote it (a file its owner rewrote is
    theirs to adapt: the registry block no longer defines ``COMPONENTS``)."""
    if not all(old in text for old, _ in _COMPONENT_PROTOCOL):
        return text
    for old, new in _COMPONENT_PROTOCOL:
        text = text.replace(old, new, 1)
    return text


def _replace_block(text: str, block: str, body: list[str]) -> str:
    lines = text.splitlines(keepends=True)
    begins = [i for i, line in enumerate(lines) if line.strip().startswith(_begin_prefix(block))]
    ends = [i for i, line in enumerate(lines) if line.strip() == end_marker(block)]
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise MarkersMissing(missing_markers_message())
    begin, end = begins[0], ends[0]
    marker = lines[begin]
    indent = marker[: len(marker) - len(marker.lstrip())]
    newline = marker[len(marker.rstrip("\r\n")) :] or "\n"
    generated = [f"{indent}{line}{newline}" if line else newline for line in body]
    return "".join([*lines[: begin + 1], *generated, *lines[end:]])


def missing_markers_message() -> str:
    return (
        "app/main.py lost its hexforge markers, so components were not registered there; "
        f"put back, around the component imports: '{begin_marker(IMPORTS)}' ... "
        f"'{end_marker(IMPORTS)}', and around the COMPONENTS tuple: "
        f"'{begin_marker(REGISTRY)}' ... '{end_marker(REGISTRY)}'"
    )


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


def _python_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
