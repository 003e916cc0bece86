"""app/main.py, which hexforge writes once, and app/components.py, the registry it
owns whole: an older main.py's managed blocks move there once, keeping every other
byte; ruff accepts what is written for any set of components."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

import app_main
import naming
from hexforge import composition
from tests.extensions.support import PROJECT_CONFIG

IMPORTS_BEGIN = app_main.begin_marker(app_main.IMPORTS)
IMPORTS_END = app_main.end_marker(app_main.IMPORTS)
REGISTRY_BEGIN = app_main.begin_marker(app_main.REGISTRY)
REGISTRY_END = app_main.end_marker(app_main.REGISTRY)

# app/main.py as hexforge wrote it while it kept the registry in two managed blocks.
BLOCKS_ERA = '''\
"""Composition root: builds the FastAPI application from the components.

Adapters are chosen here and nowhere else: in memory by default, PostgreSQL when
DATABASE_URL is set. Serve it with `uvicorn app.main:app`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

# >>> hexforge: component imports (managed; edit outside these markers)
import components.orders.adapters.compose as orders_compose

# <<< hexforge: component imports
from tools import migrate

Pool = AsyncConnectionPool[AsyncConnection[TupleRow]]


# >>> hexforge: component registry (managed; edit outside these markers)
def component_routers(pool: Pool | None) -> list[APIRouter]:
    """Each component's service on its adapters (PostgreSQL with a pool, else in
    memory), built after the components it references, and its routes.
    """
    orders_service = orders_compose.build(pool)
    return [orders_compose.router(orders_service)]


# <<< hexforge: component registry


def check_schema(url: str) -> None:
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


def create_app(database_url: str | None = None) -> FastAPI:
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
        title="shop-api",
        lifespan=lifespan,
    )
    for router in component_routers(pool):
        app.include_router(router)
    return app


app = create_app()
'''

# app/main.py as hexforge wrote it while each component's public API built its router.
BUILD_ROUTER_ERA = '''\
"""Composition root: builds the FastAPI application from the components.

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

# >>> hexforge: component imports (managed; edit outside these markers)
import components.orders

# <<< hexforge: component imports
from tools import migrate

Pool = AsyncConnectionPool[AsyncConnection[TupleRow]]


class Component(Protocol):
    """What the composition root needs from a component package."""

    def build_router(self, pool: Pool | None) -> APIRouter: ...


# >>> hexforge: component registry (managed; edit outside these markers)
COMPONENTS: tuple[Component, ...] = (components.orders,)
# <<< hexforge: component registry


def check_schema(url: str) -> None:
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


def create_app(database_url: str | None = None) -> FastAPI:
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
        title="shop-api",
        lifespan=lifespan,
    )
    for component in COMPONENTS:
        app.include_router(component.build_router(pool))
    return app


app = create_app()
'''

USER_IMPORT = "import logging  # mine\n"
USER_LINE = "logging.info('ready')\n"


def edited(text: str) -> str:
    """``text`` with its owner's edits outside hexforge's lines."""
    text = text.replace("import os\n", f"{USER_IMPORT}import os\n", 1)
    return text.replace("app = create_app()\n", f"app = create_app()\n{USER_LINE}", 1)


# --- app/main.py ---------------------------------------------------------------------


def test_a_new_file_builds_the_service_from_the_registry_and_holds_no_block() -> None:
    text = app_main.new_app_main("shop-api")
    assert "from app.components import component_routers\n" in text
    assert "from app.settings import Settings\n" in text
    assert "from hexforge.service import create_service, load\n" in text
    assert "hexforge:" not in text
    assert 'title="shop-api",' in text
    assert app_main.update_app_main(text) == text


def release_0_8(title: str) -> str:
    """app/main.py as hexforge 0.8 wrote it: its own lifespan and schema check."""
    return app_main._TEMPLATE_0_8.format(
        title=app_main._python_string(title), check_schema=app_main.CHECK_SCHEMA
    )


@pytest.mark.parametrize("title", ["shop-api", 'a "quoted" \\ title'])
def test_a_file_as_0_8_wrote_it_moves_onto_the_service(title: str) -> None:
    assert app_main.update_app_main(release_0_8(title)) == app_main.new_app_main(title)


def test_a_0_8_file_its_owner_edited_stays_theirs() -> None:
    mine = release_0_8("shop-api").replace(
        "app = create_app()\n", "app = create_app()\napp.state.mine = True\n"
    )
    assert app_main.update_app_main(mine) == mine


def test_the_blocks_move_out_keeping_every_user_line() -> None:
    updated = app_main.update_app_main(edited(BLOCKS_ERA))
    assert IMPORTS_BEGIN not in updated and REGISTRY_BEGIN not in updated
    assert "def component_routers" not in updated
    assert "from app.components import component_routers\n\nPool = " in updated
    assert "from fastapi import FastAPI\n" in updated
    assert "from hexforge import migrate\n" in updated and "from tools" not in updated
    assert USER_IMPORT in updated and updated.endswith(f"app = create_app()\n{USER_LINE}")
    assert "Pool = AsyncConnectionPool[AsyncConnection[TupleRow]]\n\n\ndef check_schema(" in updated
    # Every line of the old file outside the blocks is still there, in order.
    kept = [line for line in edited(BLOCKS_ERA).splitlines() if line in updated.splitlines()]
    outside = BLOCKS_ERA.split(IMPORTS_BEGIN)[0] + BLOCKS_ERA.split(REGISTRY_END)[1]
    for line in outside.splitlines():
        if "APIRouter" not in line and "tools" not in line:
            assert line in kept, line
    assert app_main.update_app_main(updated) == updated


def test_the_build_router_era_file_moves_on_keeping_the_users_edits() -> None:
    updated = app_main.update_app_main(edited(BUILD_ROUTER_ERA))
    assert "class Component(Protocol):" not in updated
    assert "    for router in component_routers(pool):\n" in updated
    assert "from app.components import component_routers\n" in updated
    assert USER_IMPORT in updated and USER_LINE in updated
    assert app_main.update_app_main(updated) == updated


def test_a_build_router_era_file_its_owner_rewrote_keeps_their_lines() -> None:
    text = BUILD_ROUTER_ERA.replace(
        "        app.include_router(component.build_router(pool))\n",
        "        app.include_router(component.build_router(pool), prefix='/v1')\n",
    )
    updated = app_main.update_app_main(text)
    assert "component.build_router(pool), prefix='/v1')" in updated
    assert "class Component(Protocol):" in updated


def test_crlf_line_ends_are_kept() -> None:
    updated = app_main.update_app_main(BLOCKS_ERA.replace("\n", "\r\n"))
    assert "\n" not in updated.replace("\r\n", "")
    assert "from app.components import component_routers\r\n" in updated


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: t.replace(IMPORTS_BEGIN + "\n", ""),
        lambda t: t.replace(REGISTRY_END + "\n", ""),
        lambda t: t.replace(REGISTRY_BEGIN, "# registry"),
        lambda t: t + IMPORTS_END + "\n",  # a second end marker: which one is ours?
        lambda t: (
            t.replace(IMPORTS_BEGIN, "#x")
            .replace(IMPORTS_END, IMPORTS_BEGIN)
            .replace("#x", IMPORTS_END)
        ),
    ],
    ids=["no-import-begin", "no-registry-end", "renamed", "duplicate", "swapped"],
)
def test_broken_markers_leave_the_file_as_it_is(damage: Callable[[str], str]) -> None:
    text = damage(app_main.with_packaged_migrate(BLOCKS_ERA))
    assert app_main.update_app_main(text) == text


# --- app/components.py ---------------------------------------------------------------


def routers_body(text: str) -> str:
    return text[text.index("def component_routers") :]


def test_no_components_serve_no_routes() -> None:
    text = composition.render([])
    assert "import components" not in text
    assert routers_body(text).endswith('"""\n    return []\n')


def test_several_components_one_line_each_in_ruff_order() -> None:
    text = composition.render(["orders", "order_items", "v10", "v2"])
    imports = [line for line in text.splitlines() if line.startswith("import components.")]
    assert imports == [
        f"import components.{name}.adapters.compose as {name}_compose"
        for name in ("order_items", "orders", "v2", "v10")
    ]
    assert routers_body(text).endswith(
        "    order_items_service = order_items_compose.build(pool)\n"
        "    orders_service = orders_compose.build(pool)\n"
        "    v2_service = v2_compose.build(pool)\n"
        "    v10_service = v10_compose.build(pool)\n"
        "    return [\n"
        "        order_items_compose.router(order_items_service),\n"
        "        orders_compose.router(orders_service),\n"
        "        v2_compose.router(v2_service),\n"
        "        v10_compose.router(v10_service),\n"
        "    ]\n"
    )


def test_a_referenced_component_is_built_first_and_handed_over() -> None:
    refs = {"products": ["warehouses"], "orders": ["products", "customers"]}
    body = routers_body(composition.render(["orders", "customers", "products", "warehouses"], refs))
    builds = [
        line.split(" = ")[0].strip() for line in body.splitlines() if "_compose.build(" in line
    ]
    assert builds == [
        "customers_service",
        "warehouses_service",
        "products_service",
        "orders_service",
    ]
    assert (
        "    products_service = products_compose.build("
        "pool, warehouses_use_cases=warehouses_service)\n" in body
    )
    assert (
        "    orders_service = orders_compose.build(\n"
        "        pool,\n"
        "        products_use_cases=products_service,\n"
        "        customers_use_cases=customers_service,\n"
        "    )\n"
    ) in body


def test_a_component_from_before_compose_mounts_its_own_router() -> None:
    text = composition.render(["billing", "orders"], legacy={"billing"})
    assert "import components.billing\n" in text
    assert "        components.billing.build_router(pool),\n" in text


def test_a_cycle_is_refused() -> None:
    with pytest.raises(composition.ReferenceCycle, match="a, b"):
        composition.dependency_order(["a", "b", "c"], {"a": ["b"], "b": ["a"]})


# --- ruff agrees with the layout -----------------------------------------------------


def ruff(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--no-cache", "app"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )


def ruff_project(
    root: Path, names: list[str], refs: dict[str, list[str]] | None = None, main: str = ""
) -> Path:
    """A project laid out for ruff: its config, and the components as first-party packages."""
    if root.exists():
        shutil.rmtree(root)
    (root / "app").mkdir(parents=True)
    shutil.copy(PROJECT_CONFIG, root / "pyproject.toml")
    (root / "app" / "__init__.py").write_text("")
    (root / "components").mkdir()
    (root / "components" / "__init__.py").write_text("")
    for name in names:
        # Ruff tells first-party modules by their files: the whole path must exist.
        (root / "components" / name / "adapters").mkdir(parents=True)
        for module in ("__init__.py", "adapters/__init__.py", "adapters/compose.py"):
            (root / "components" / name / module).write_text("")
    (root / "app" / "main.py").write_text(main or app_main.new_app_main("shop-api"))
    (root / "app" / "components.py").write_text(composition.render(names, refs))
    return root


def assert_ruff_clean(root: Path) -> None:
    for args in (("check",), ("format", "--check")):
        result = ruff(root, *args)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "names",
    [
        [],
        ["orders"],
        ["orders", "order_items", "billing", "a1", "a10", "a2", "x_1", "x1", "v01", "v001"],
        ["a" * naming.MAX_NAME_LENGTH],  # the longest name a component may have
    ],
    ids=["none", "one", "several", "long"],
)
def test_ruff_accepts_the_files(tmp_path: Path, names: list[str]) -> None:
    assert_ruff_clean(ruff_project(tmp_path / "p", names))


def test_ruff_accepts_a_main_moved_off_its_blocks(tmp_path: Path) -> None:
    main = app_main.update_app_main(BLOCKS_ERA)
    assert_ruff_clean(ruff_project(tmp_path / "p", ["orders"], main=main))


def test_ruff_accepts_long_names_referencing_each_other(tmp_path: Path) -> None:
    longest = naming.MAX_NAME_LENGTH
    names = [letter * longest for letter in "abcd"]
    refs = {names[3]: names[:3], names[2]: names[:1]}
    assert_ruff_clean(ruff_project(tmp_path / "p", names, refs))


component_names = st.from_regex(r"[a-z][a-z0-9]{0,3}(_[a-z0-9]{1,3}){0,2}", fullmatch=True).filter(
    lambda name: naming.snake_rule_error(name) is None
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(component_names, min_size=1, max_size=6, unique=True), st.data())
def test_ruff_accepts_any_set_of_names(
    tmp_path: Path, names: list[str], data: st.DataObject
) -> None:
    # Each component may reference those drawn before it (references form no cycle).
    refs = {
        name: data.draw(st.lists(st.sampled_from(names[:index]), unique=True)) if index else []
        for index, name in enumerate(names)
    }
    assert_ruff_clean(ruff_project(tmp_path / "p", names, refs))


@pytest.mark.parametrize("line_length", [88, 100])
def test_a_long_project_name_keeps_the_file_formatted(line_length: int) -> None:
    text = app_main.new_app_main("a-" + "very-" * 30 + "long-project-name")
    options = ["--check", "--isolated", f"--line-length={line_length}"]
    check = subprocess.run(
        [find_ruff_bin(), "format", *options, "--stdin-filename=app/main.py", "-"],
        input=text,
        text=True,
        capture_output=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
