"""`copier update -d fields=...` that adds modifiers, an enum and a default updates
every layer, and create_schema still starts on the table the old version made."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.component.gates import run_gates
from tests.component.test_update import (
    ORDERS,
    ORDERS_ANSWERS,
    SEED_V1,
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

from components.orders.adapters.outbound.postgres_repo import PostgresOrderRepository, create_schema
from components.orders.domain.model import OrderId

ROW = OrderId(UUID("00000000-0000-4000-8000-000000000001"))
COLUMNS = '''
SELECT column_name, is_nullable, column_default FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = 'orders' ORDER BY ordinal_position
'''
INDEXES = "SELECT indexname FROM pg_indexes WHERE tablename = 'orders'"


async def main() -> None:
    async with AsyncConnectionPool(os.environ["TEST_DATABASE_URL"], min_size=1) as pool:
        await create_schema(pool)
        await create_schema(pool)  # a second start changes nothing
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

    with postgres_server(project) as dsn:
        run_script(project, generated_venv, SEED_V1, dsn)

        copier_update(project, ORDERS_ANSWERS, data={"fields": WITH_MODIFIERS})

        model = (orders / "domain/model.py").read_text()
        assert "class OrderStatus(StrEnum):" in model
        assert "status: OrderStatus = OrderStatus.OPEN" in model
        rules = (orders / "domain/rules.py").read_text()
        assert 'raise InvalidOrder("customer must be at most 40 characters long")' in rules
        assert 'raise InvalidOrder("total must be at least 0")' in rules
        api = (orders / "adapters/inbound/api_handler.py").read_text()
        assert "max_length=40" in api and "ge=0" in api
        postgres = (orders / "adapters/outbound/postgres_repo.py").read_text()
        assert 'CONSTRAINT "orders__customer" UNIQUE ("customer")' in postgres
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
    assert "orders__extra" in report["indexes"]
    assert report["old"] == ["made by v1", 42, "open", None]
    # The regenerated component passes every gate, its new boundary tests included.
    outputs = run_gates(project, generated_venv)
    assert "skipped" not in outputs["integration"]
