"""`copier update` of a component made before lists had filters, sorts and cursors
(SPEC section 8) brings the new list, keeps the user's edits, and builds the keyset
indexes its sortable fields need in a new migration, on a table that holds rows."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.component.gates import run_gates
from tests.component.test_migrations import template_at, to_this_version
from tests.component.test_update import (
    MARKERS,
    ORDERS,
    ORDERS_ANSWERS,
    USER_FUNCTION,
    append,
    migrate,
    postgres_server,
    run_script,
)
from tests.helpers import (
    commit_all,
    copier_copy,
    copier_update,
    init_repo,
    run,
)

pytestmark = pytest.mark.slow

# The last commit whose lists paged by offset and counted every page.
BEFORE_LISTS = "ca77fa1"
FIELDS = "customer:str:unique, total:int:index, note:str?"
MIGRATIONS = Path(ORDERS, "adapters/outbound/migrations")

SEED_V1 = """
import asyncio
import os

from psycopg_pool import AsyncConnectionPool

from components.orders.adapters.outbound.postgres_repo import PostgresOrderRepository
from components.orders.domain.model import Order, OrderDraft


async def main() -> None:
    async with AsyncConnectionPool(os.environ["TEST_DATABASE_URL"], min_size=1) as pool:
        repository = PostgresOrderRepository(pool)
        for n, customer in enumerate(["ann", "Bob", "émile", "Zoe", "al"]):
            draft = OrderDraft(customer=customer, total=n % 2)
            await repository.add(Order.create(await repository.next_id(), draft))


asyncio.run(main())
"""

WALK_V2 = """
import asyncio
import json
import sys
import os
from dataclasses import replace

from psycopg_pool import AsyncConnectionPool

from components.orders.adapters.outbound.postgres_repo import PostgresOrderRepository
from components.orders.domain.query import OrderFilter, OrderQuery, OrderSortKey


async def main() -> None:
    async with AsyncConnectionPool(os.environ["TEST_DATABASE_URL"], min_size=1) as pool:
        repository = PostgresOrderRepository(pool)
        query = OrderQuery(limit=2, sort=(OrderSortKey("customer", descending=True),))
        customers = []
        while True:
            page = await repository.list(query)
            customers += [order.customer for order in page.items]
            if page.after is None:
                break
            query = replace(query, after=page.after)
        odd = await repository.list(
            OrderQuery(limit=10, filters=(OrderFilter("total", (1,)),), count=True)
        )
        async with pool.connection() as connection:
            cursor = await connection.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'orders' ORDER BY 1"
            )
            indexes = [row[0] for row in await cursor.fetchall()]
    print(json.dumps({"customers": customers, "odd": odd.total, "indexes": indexes}))


asyncio.run(main())
"""


def test_an_offset_list_updates_to_keyset_pages_keeping_edits_and_rows(
    tmp_path: Path, generated_venv: Path
) -> None:
    template = template_at(BEFORE_LISTS, tmp_path / "hexforge")
    project = init_repo(tmp_path / "shop")
    data = {"kind": "component", "component_name": "orders", "fields": FIELDS}
    copier_copy(template, project, data, vcs_ref="v1")
    old_handler = (project / ORDERS / "adapters/inbound/api_handler.py").read_text()
    assert "offset" in old_handler and "next_cursor" not in old_handler
    append(project / ORDERS / "domain/service.py", USER_FUNCTION)
    commit_all(project, "scaffold with offset lists, and the user's own function")

    with postgres_server(project) as dsn:
        migrate(project, generated_venv, dsn, "up")
        run_script(project, generated_venv, SEED_V1, dsn)
        to_this_version(template, "v2")

        # From before the package, the documented way (docs/updates.md): the project's
        # own tools/sync.py moves the wiring onto the package, then the component.
        run([sys.executable, "tools/sync.py"], project)

        assert (project / ORDERS / "domain/service.py").read_text().endswith(USER_FUNCTION)
        handler = (project / ORDERS / "adapters/inbound/api_handler.py").read_text()
        assert "next_cursor" in handler and "offset" not in handler
        for path in (project / ORDERS).rglob("*.py"):
            assert not any(marker in path.read_text() for marker in MARKERS), path
        keyset = (project / MIGRATIONS / "0002_keyset_indexes.sql").read_text()
        assert "-- hexforge: no-transaction" in keyset
        assert (
            'CREATE INDEX CONCURRENTLY IF NOT EXISTS "orders__customer__keyset" '
            'ON "orders" ("customer" COLLATE "C", "id");'
        ) in keyset
        assert '"orders__total__keyset" ON "orders" ("total", "id");' in keyset
        applied = migrate(project, generated_venv, dsn, "up").stdout
        assert "applied orders/0002_keyset_indexes" in applied

        report = json.loads(run_script(project, generated_venv, WALK_V2, dsn))

    # The v1 rows, sorted by code point (not by the database's collation), descending.
    assert report["customers"] == ["émile", "ann", "al", "Zoe", "Bob"]
    assert report["odd"] == 2
    assert {"orders__customer__keyset", "orders__total__keyset"} <= set(report["indexes"])

    # A second update with the same answers has nothing more to build.
    commit_all(project, "onto keyset lists")
    copier_update(project, ORDERS_ANSWERS)
    assert sorted(p.name for p in (project / MIGRATIONS).iterdir()) == [
        "0001_create_orders.sql",
        "0002_keyset_indexes.sql",
    ]
    outputs = run_gates(project, generated_venv)
    assert "skipped" not in outputs["integration"]
