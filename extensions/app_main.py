"""app/main.py, the composition root: its first version and its two managed blocks.

hexforge writes the file once; after that it belongs to the project. Only the
lines between the two pairs of ``# >>> hexforge:`` / ``# <<< hexforge:`` markers
are regenerated (the component imports and the ``COMPONENTS`` tuple); every
other byte stays as the user left it. The generated lines are laid out so that
``ruff check`` (isort included) and ``ruff format`` accept them unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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


# Run before the app serves on PostgreSQL (SPEC §7): the schema is the migrations'.
CHECK_SCHEMA = '''def check_schema(url: str) -> None:
    """Refuse to serve on a database the migrations have not brought up to date:
    every request would fail. HEXFORGE_MIGRATE_ON_START=1 applies them instead
    (under tools/migrate.py's lock: replicas starting together apply each once)."""
    if os.environ.get("HEXFORGE_MIGRATE_ON_START") == "1":
        migrate.apply(url)
        return
    pending = [migration.label for migration in migrate.pending(url)]
    if pending:
        raise migrate.MigrationError(
            f"migrations pending: {', '.join(pending)}; "
            "apply them with `python tools/migrate.py up` (the deploy step), "
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
from typing import Protocol

from fastapi import APIRouter, FastAPI
from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

{imports_begin}
{imports_end}
from tools import migrate

Pool = AsyncConnectionPool[AsyncConnection[TupleRow]]


class Component(Protocol):
    """What the composition root needs from a component package."""

    def build_router(self, pool: Pool | None) -> APIRouter: ...


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
    for component in COMPONENTS:
        app.include_router(component.build_router(pool))
    return app


app = create_app()
'''


def new_app_main(title: str, components: Iterable[str]) -> str:
    """The first app/main.py of a project, its managed blocks filled in."""
    skeleton = TEMPLATE.format(
        imports_begin=begin_marker(IMPORTS),
        imports_end=end_marker(IMPORTS),
        registry_begin=begin_marker(REGISTRY),
        registry_end=end_marker(REGISTRY),
        title=_python_string(title),
        check_schema=CHECK_SCHEMA,
    )
    return update_app_main(skeleton, components)


def update_app_main(text: str, components: Iterable[str]) -> str:
    """``text`` with both managed blocks regenerated for ``components``.

    Raises :class:`MarkersMissing` when a block's markers are gone or out of
    order: then hexforge cannot tell its lines from the user's and leaves the
    file alone.
    """
    text = without_schema_at_start(text)
    names = isort_order(components)
    # isort wants a blank line between the last import and the end marker comment.
    imports = [*(f"import components.{name}" for name in names), *([""] if names else [])]
    text = _replace_block(text, IMPORTS, imports)
    return _replace_block(text, REGISTRY, _registry_lines(names))


# app/main.py as hexforge wrote it before migrations ran each component's
# create_schema at start; each piece and what replaces it (SPEC §7: the schema is
# the migrations', checked or applied by tools/migrate.py before the app serves).
_SCHEMA_AT_START = (
    ("import os\n", "import asyncio\nimport os\n"),
    (
        f"{end_marker(IMPORTS)}\n\nPool",
        f"{end_marker(IMPORTS)}\nfrom tools import migrate\n\nPool",
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


def _registry_lines(names: list[str]) -> list[str]:
    # Laid out as ruff format would: a one-element tuple stays on one line while it
    # fits, several elements keep one line each (the trailing comma holds them).
    opening = "COMPONENTS: tuple[Component, ...] = ("
    if not names:
        return [f"{opening})"]
    one_line = f"{opening}components.{names[0]},)"
    if len(names) == 1 and len(one_line) <= LINE_LENGTH:
        return [one_line]
    return [opening, *(f"    components.{name}," for name in names), ")"]


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
