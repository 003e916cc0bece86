"""app/main.py, the composition root: its first version, and moving older ones on.

hexforge writes the file once; after that it is the project's. The list of
components it serves lives in app/components.py, which hexforge owns whole and
rewrites from the components on disk (hexforge.composition); app/main.py imports
``component_routers`` from it. A file from before that split held the list in two
managed blocks (``# >>> hexforge:`` ... ``# <<< hexforge:``): the wiring replaces
them once by that import, keeping every other byte, and never touches the file
again. The same goes for the older shapes below, each rewritten only while every
piece of it is there as hexforge wrote it.
"""

from __future__ import annotations

import re

# Where hexforge's documentation shows app/main.py on hexforge.service.
SERVICE_DOC = "hexforge's docs/operations.md"
IMPORTS = "component imports"
REGISTRY = "component registry"


def begin_marker(block: str) -> str:
    return f"{_begin_prefix(block)} (managed; edit outside these markers)"


def _begin_prefix(block: str) -> str:
    # What identifies a begin marker: the user may reword the note after it.
    return f"# >>> hexforge: {block}"


def end_marker(block: str) -> str:
    return f"# <<< hexforge: {block}"


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

Each component chooses its adapters in its adapters/compose.py: PostgreSQL when
DATABASE_URL is set, else in memory. The components served are app/components.py,
which hexforge keeps up to date, and the settings are app/settings.py. What every
service has (health and readiness, problem details, request ids, logs, the body
limit) comes from hexforge.service. This file is yours. Serve it with
`uvicorn app.main:app`.
"""

from __future__ import annotations

from fastapi import FastAPI
from hexforge.service import create_service, load

from app.components import component_routers
from app.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; ``settings`` default to the environment's."""
    return create_service(
        title={title},
        settings=settings if settings is not None else load(Settings),
        routers=component_routers,
    )


app = create_app()
'''


# app/main.py as hexforge 0.8 wrote it, before hexforge.service: moved onto
# TEMPLATE while unchanged (its own lifespan and schema check are the service's now).
_TEMPLATE_0_8 = '''"""Composition root: builds the FastAPI application from the components.

Each component chooses its adapters in its adapters/compose.py: in memory by default,
PostgreSQL when DATABASE_URL is set. The components served are app/components.py,
which hexforge keeps up to date; this file is yours. Serve it with
`uvicorn app.main:app`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from hexforge import migrate
from psycopg_pool import AsyncConnectionPool

from app.components import Pool, component_routers


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


def new_app_main(title: str) -> str:
    """The first app/main.py of a project."""
    return TEMPLATE.format(title=_python_string(title))


def onto_the_service(text: str) -> str:
    """``text`` as TEMPLATE when it is app/main.py exactly as hexforge 0.8 wrote it
    (any title); any other file is the user's and stays as it is."""
    found = _TITLE_0_8.search(text)
    if found is None:
        return text
    title = found.group(1)
    if text != _TEMPLATE_0_8.format(title=title, check_schema=CHECK_SCHEMA):
        return text
    return TEMPLATE.format(title=title)


_TITLE_0_8 = re.compile(r"\n    app = FastAPI\(\n        title=(.*),\n        lifespan=lifespan,\n")


def update_app_main(text: str) -> str:
    """``text`` moved onto the current shape where it is still in an older one that
    hexforge wrote; any other file is returned unchanged."""
    text = with_packaged_migrate(without_component_protocol(without_schema_at_start(text)))
    return onto_the_service(without_managed_blocks(text))


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


ROUTERS_IMPORT = "from app.components import component_routers"


def without_managed_blocks(text: str) -> str:
    """``text`` with its managed blocks (the component imports, and the registry
    defining ``component_routers``) replaced by the import of app/components.py;
    unchanged unless both are there, once each and in order."""
    lines = text.splitlines(keepends=True)
    imports, registry = _span(lines, IMPORTS), _span(lines, REGISTRY)
    if imports is None or registry is None or imports[1] > registry[0] or ROUTERS_IMPORT in text:
        return text
    newline = lines[imports[0]][len(lines[imports[0]].rstrip("\r\n")) :] or "\n"
    first, last = registry
    after = last + 1
    while after < len(lines) and not lines[after].strip():
        after += 1  # the blank lines before the next definition: those before stay
    del lines[first:after]
    lines[imports[0] : imports[1] + 1] = [f"{ROUTERS_IMPORT}{newline}"]
    moved = "".join(lines)
    fastapi = "from fastapi import APIRouter, FastAPI"
    if fastapi in moved and not re.search(r"\bAPIRouter\b", moved.replace(fastapi, "")):
        moved = moved.replace(fastapi, "from fastapi import FastAPI", 1)
    return moved


def has_markers(text: str) -> bool:
    """Whether a marker of the old managed blocks is left in ``text``."""
    return any(_begin_prefix(block) in text or end_marker(block) in text for block in BLOCKS)


BLOCKS = (IMPORTS, REGISTRY)


def _span(lines: list[str], block: str) -> tuple[int, int] | None:
    begins = [i for i, line in enumerate(lines) if line.strip().startswith(_begin_prefix(block))]
    ends = [i for i, line in enumerate(lines) if line.strip() == end_marker(block)]
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        return None
    return begins[0], ends[0]


def _python_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
