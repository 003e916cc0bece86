"""A required field added to a table that has rows (SPEC §15, `backfill=`), as issue 24
asks it shown: `warehouse:ref[warehouses]:backfill=<id>` is added by `copier update`
to products holding rows. The migration applies (and passes the migrations gate:
no rewrite, no scan); every row keeps its data and gets the warehouse; the column
has no default afterwards, so a create without a warehouse is 422. A backfill that
breaks the field's rules is refused in one line, with nothing written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.component.gates import run_gates
from tests.component.test_openapi_fuzz import serving
from tests.component.test_update import migrate, new_project, postgres_server, run_script
from tests.helpers import (
    commit_all,
    copier_update,
    http,
    refusal_line,
    tree_bytes,
    wait_until_up,
)

pytestmark = pytest.mark.slow

WAREHOUSE = "6f1c4d2e-8b1a-4c3e-9d5f-0a1b2c3d4e5f"
PRODUCTS_ANSWERS = "components/products/.copier-answers.yml"

SEED = f"""
import os
import psycopg

with psycopg.connect(os.environ["TEST_DATABASE_URL"], autocommit=True) as connection:
    connection.execute(
        "INSERT INTO warehouses (id, version, name) VALUES (%s, 1, 'north')", ("{WAREHOUSE}",)
    )
    for index, sku in enumerate(["a-1", "b-2", "c-3"]):
        connection.execute(
            "INSERT INTO products (id, version, sku) VALUES (%s, 1, %s)",
            (f"00000000-0000-4000-8000-00000000000{{index}}", sku),
        )
"""

CHECK = """
import json
import os
import psycopg

with psycopg.connect(os.environ["TEST_DATABASE_URL"]) as connection:
    rows = connection.execute(
        "SELECT sku, warehouse::text, version FROM products ORDER BY sku"
    ).fetchall()
    column = connection.execute(
        "SELECT is_nullable, column_default FROM information_schema.columns "
        "WHERE table_name = 'products' AND column_name = 'warehouse'"
    ).fetchone()
print(json.dumps({"rows": rows, "column": column}))
"""


def test_a_required_ref_is_added_to_a_table_with_rows_through_a_backfill(
    tmp_path: Path, generated_venv: Path
) -> None:
    _, project = new_project(tmp_path, ("warehouses", "name:str"), ("products", "sku:str"))

    with postgres_server(project) as dsn:
        migrate(project, generated_venv, dsn, "up")
        run_script(project, generated_venv, SEED, dsn)

        fields = f"sku:str, warehouse:ref[warehouses]:backfill={WAREHOUSE}"
        copier_update(project, PRODUCTS_ANSWERS, data={"fields": fields})
        commit_all(project, "products get their warehouse")

        added = next((project / "components/products/adapters/outbound/migrations").glob("0002_*"))
        assert f"ADD COLUMN \"warehouse\" uuid NOT NULL DEFAULT '{WAREHOUSE}';" in added.read_text()
        assert 'ALTER COLUMN "warehouse" DROP DEFAULT;' in added.read_text()
        assert (
            "applied products/0002_add_warehouse"
            in migrate(project, generated_venv, dsn, "up").stdout
        )
        report = json.loads(run_script(project, generated_venv, CHECK, dsn))
        assert report == {
            "rows": [["a-1", WAREHOUSE, 1], ["b-2", WAREHOUSE, 1], ["c-3", WAREHOUSE, 1]],
            "column": ["NO", None],
        }

        with serving(project, generated_venv, dsn) as url:
            wait_until_up(url)
            status, problem, _ = http(f"{url}/products", "POST", {"sku": "d-4"})
            assert status == 422, problem
            assert problem["errors"][0]["loc"] == ["body", "warehouse"]
            status, created, _ = http(
                f"{url}/products", "POST", {"sku": "d-4", "warehouse": WAREHOUSE}
            )
            assert status == 201, created

    run_gates(project, generated_venv)


def test_a_backfill_that_breaks_the_field_s_rules_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    _, project = new_project(tmp_path, ("products", "sku:str"))
    before = tree_bytes(project)

    result = copier_update(
        project, PRODUCTS_ANSWERS, data={"fields": "sku:str, qty:int:ge=1:backfill=0"}, check=False
    )

    assert refusal_line(result) == (
        "Validation error for question 'fields': field 'qty': backfill=0 breaks a rule: "
        "qty must be at least 1"
    )
    assert tree_bytes(project) == before
