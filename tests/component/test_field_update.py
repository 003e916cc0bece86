"""`copier update -d fields=...` that adds modifiers, an enum and a default updates
every layer and appends the migrations that bring a table holding rows along."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.component.gates import run_gates
from tests.component.test_update import (
    ORDERS,
    ORDERS_ANSWERS,
    SEED_V1,
    migrate,
    new_project,
    postgres_server,
    run_script,
)
from tests.helpers import copier_update

pytestmark = pytest.mark.slow

WITH_MODIFIERS = (
    "customer:str:unique:max_length=40, total:int:ge=0, "
    "status:enum[open|closed]:default=open, extra:int?:index"
)

CHECK_TABLE = """
import asyncio
import json
import os
from uuid import UUID

from psycopg_pool import AsyncConnectionPool

from components.orders.adapters.outbound.postgres_repo import PostgresOrderRepository
from components.orders.domain.model import OrderId

ROW = OrderId(UUID("00000000-0000-4000-8000-000000000001"))
COLUMNS = '''
SELECT column_name, is_nullable, column_default FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = 'orders' ORDER BY ordinal_position
'''
INDEXES = "SELECT indexname FROM pg_indexes WHERE tablename = 'orders'"


async def main() -> None:
    async with AsyncConnectionPool(os.environ["TEST_DATABASE_URL"], min_size=1) as pool:
        async with pool.connection() as connection:
            columns = await (await connection.execute(COLUMNS)).fetchall()
            indexes = await (await connection.execute(INDEXES)).fetchall()
        old = await PostgresOrderRepository(pool).get(ROW)
    print(json.dumps({
        "columns": columns,
        "indexes": sorted(row[0] for row in indexes),
        "old": None if old is None else [old.customer, old.total, old.status.value, old.extra],
    }))


asyncio.run(main())
"""


def test_modifiers_added_through_update_reach_every_layer_and_keep_the_old_table(
    tmp_path: Path, generated_venv: Path
) -> None:
    _, project = new_project(tmp_path)
    orders = project / ORDERS

    migrations = orders / "adapters/outbound/migrations"
    first = (migrations / "0001_create_orders.sql").read_bytes()
    with postgres_server(project) as dsn:
        migrate(project, generated_venv, dsn, "up")
        run_script(project, generated_venv, SEED_V1, dsn)

        copier_update(project, ORDERS_ANSWERS, data={"fields": WITH_MODIFIERS})

        # The earlier file byte for byte; the step in files a reviewer reads.
        assert (migrations / "0001_create_orders.sql").read_bytes() == first
        names = sorted(p.name for p in migrations.iterdir())
        assert names == [
            "0001_create_orders.sql",
            "0002_add_status_add_extra.sql",
            "0003_add_status_add_extra_concurrently.sql",
            "0004_add_status_add_extra_constraints.sql",
        ]
        plan = migrate(project, generated_venv, dsn, "plan").stdout
        assert 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "orders__customer"' in plan
        assert 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "orders__extra"' in plan
        # Both became sortable: their keyset indexes (SPEC section 8) come along.
        assert (
            'CREATE INDEX CONCURRENTLY IF NOT EXISTS "orders__customer__keyset" '
            'ON "orders" ("customer" COLLATE "C", "id");'
        ) in plan
        assert '"orders__extra__keyset" ON "orders" ("extra", "id");' in plan
        assert "-- 3 migrations pending" in plan
        assert migrate(project, generated_venv, dsn, "plan").stdout == plan  # plan applies nothing
        applied = migrate(project, generated_venv, dsn, "up").stdout
        assert "3 migrations applied" in applied
        assert "nothing to apply" in migrate(project, generated_venv, dsn, "up").stdout

        model = (orders / "domain/model.py").read_text()
        assert "class OrderStatus(StrEnum):" in model
        assert "status: OrderStatus = OrderStatus.OPEN" in model
        rules = (orders / "domain/rules.py").read_text()
        assert 'raise InvalidOrder("customer must be at most 40 characters long")' in rules
        assert 'raise InvalidOrder("total must be at least 0")' in rules
        api = (orders / "adapters/inbound/api_handler.py").read_text()
        assert "max_length=40" in api and "ge=0" in api
        postgres = (orders / "adapters/outbound/postgres_repo.py").read_text()
        assert '"orders__customer": "customer"' in postgres
        assert "DuplicateOrder" in (orders / "domain/exceptions.py").read_text()
        assert "DuplicateOrder" in (orders / "adapters/outbound/memory_repo.py").read_text()

        report = json.loads(run_script(project, generated_venv, CHECK_TABLE, dsn))

    assert report["columns"] == [
        ["id", "NO", None],
        ["version", "NO", None],
        ["customer", "NO", None],
        ["total", "NO", None],
        ["status", "NO", "'open'::text"],  # NOT NULL: the default fills the old rows
        ["extra", "YES", None],
    ]
    assert {"orders__extra", "orders__customer__keyset", "orders__extra__keyset"} <= set(
        report["indexes"]
    )
    assert report["old"] == ["made by v1", 42, "open", None]
    # The regenerated component passes every gate, its new boundary tests included.
    outputs = run_gates(project, generated_venv)
    assert "skipped" not in outputs["integration"]
