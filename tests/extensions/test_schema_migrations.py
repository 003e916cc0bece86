"""extensions/schema_migrations.py without a database: what it writes, reads back and
refuses. The SQL itself runs on PostgreSQL in tests/project/test_schema_migrations.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings

import schema_migrations
from fields import fields_error, parse_fields
from tests.component.field_lists import field_lists

COMPONENT = "orders"
ENTITY = "Order"


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=field_lists())
def test_the_first_migration_records_the_fields_it_establishes(
    fields: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assume(fields_error(fields, ENTITY) == "")  # the strategy's names may be refused ones
    project = tmp_path_factory.mktemp("project")
    written = schema_migrations.write_pending(project, COMPONENT, ENTITY, fields, adopt=False)
    assert [path.name for path in written] == ["0001_create_orders.sql"]
    folder = project / "components" / COMPONENT / schema_migrations.MIGRATIONS
    established = schema_migrations.established(folder)
    assert established is not None
    assert [f.spec for f in parse_fields(established)] == [f.spec for f in parse_fields(fields)]
    # The same fields again: nothing to write.
    assert schema_migrations.write_pending(project, COMPONENT, ENTITY, fields, adopt=False) == []
    assert schema_migrations.next_migrations(COMPONENT, ENTITY, fields, fields, 2) == []


def test_a_new_step_never_rewrites_an_earlier_file(tmp_path: Path) -> None:
    folder = tmp_path / "components" / COMPONENT / schema_migrations.MIGRATIONS
    schema_migrations.write_pending(tmp_path, COMPONENT, ENTITY, "customer:str", adopt=False)
    first = (folder / "0001_create_orders.sql").read_bytes()
    written = schema_migrations.write_pending(
        tmp_path, COMPONENT, ENTITY, "customer:str:unique, note:str?", adopt=False
    )
    assert [p.name for p in written] == [
        "0002_add_note.sql",
        "0003_add_note_concurrently.sql",
        "0004_add_note_constraints.sql",
    ]
    assert (folder / "0001_create_orders.sql").read_bytes() == first
    assert "-- hexforge: no-transaction" in written[1].read_text()
    assert schema_migrations.established(folder) == "customer:str:unique, note:str?"


def test_a_removed_field_keeps_its_column_and_says_how_to_drop_it() -> None:
    [step] = schema_migrations.next_migrations(
        COMPONENT, ENTITY, "customer:str, total:int:ge=0", "customer:str", 2
    )
    assert step.name == "0002_retire_total.sql"
    assert 'ALTER TABLE "orders" ALTER COLUMN "total" DROP NOT NULL;' in step.sql
    assert 'DROP CONSTRAINT IF EXISTS "total_ge"' in step.sql
    assert 'ALTER TABLE "orders" DROP COLUMN "total";' in step.sql  # in the comment only
    code = [line for line in step.sql.splitlines() if not line.startswith("--")]
    assert not any("DROP COLUMN" in line for line in code)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "customer:str, total:int",
            "customer:str, total:decimal",
            "field 'total' changes type from int to decimal",
        ),
        ("customer:str", "customer:str, total:int", "field 'total' is new and required"),
        ("customer:str?", "customer:str", "field 'customer' becomes required without a default"),
    ],
)
def test_an_unsafe_change_is_refused_naming_the_field(old: str, new: str, message: str) -> None:
    assert message in schema_migrations.change_error(old, new, ENTITY, COMPONENT)
    with pytest.raises(schema_migrations.ChangeRefused, match=message):
        schema_migrations.next_migrations(COMPONENT, ENTITY, old, new, 2)


def test_the_validator_reads_the_project_and_is_silent_without_migrations(tmp_path: Path) -> None:
    assert schema_migrations.change_error_at("a:int", ENTITY, COMPONENT, tmp_path) == ""
    schema_migrations.write_pending(tmp_path, COMPONENT, ENTITY, "a:int", adopt=False)
    error = schema_migrations.change_error_at("a:str", ENTITY, COMPONENT, tmp_path)
    assert error.startswith("field 'a' changes type from int to str")


def test_a_field_comes_back_only_once_its_old_column_is_dropped(tmp_path: Path) -> None:
    folder = tmp_path / "components" / COMPONENT / schema_migrations.MIGRATIONS
    schema_migrations.write_pending(tmp_path, COMPONENT, ENTITY, "a:int, total:int", adopt=False)
    schema_migrations.write_pending(tmp_path, COMPONENT, ENTITY, "a:int", adopt=False)
    # The retiring file's comment shows the DROP COLUMN; a comment drops nothing.
    assert "DROP COLUMN" in (folder / "0002_retire_total.sql").read_text()
    assert schema_migrations.retired_columns(folder) == {"total": "0002_retire_total.sql"}
    error = schema_migrations.change_error_at("a:int, total:int?", ENTITY, COMPONENT, tmp_path)
    assert error == (
        "field 'total' was removed in 0002_retire_total.sql and its column still holds the "
        'old values: drop it first in a migration of your own (ALTER TABLE "orders" DROP '
        'COLUMN "total";) or give the field another name'
    )
    # Another name is fine, and so is the same one once a migration drops the column.
    assert schema_migrations.change_error_at("a:int, sum:int?", ENTITY, COMPONENT, tmp_path) == ""
    (folder / "0003_drop_total.sql").write_text(
        'ALTER TABLE "orders" DROP COLUMN IF EXISTS "total";\n', encoding="utf-8"
    )
    assert schema_migrations.retired_columns(folder) == {}
    assert schema_migrations.change_error_at("a:int, total:int?", ENTITY, COMPONENT, tmp_path) == ""
    written = schema_migrations.write_pending(
        tmp_path, COMPONENT, ENTITY, "a:int, total:int?", adopt=False
    )
    assert [p.name for p in written] == ["0004_add_total.sql"]
    assert schema_migrations.retired_columns(folder) == {}


def test_a_required_field_with_a_backfill_is_added_with_its_value_and_no_default_left() -> None:
    ref = "6f1c4d2e-8b1a-4c3e-9d5f-0a1b2c3d4e5f"
    new = f"sku:str, warehouse:ref[warehouses]:backfill={ref}, qty:int:ge=1:backfill=5"

    (migration,) = [
        m
        for m in schema_migrations.next_migrations("products", "Product", "sku:str", new, 2)
        if "concurrently" not in m.name
    ]

    assert (
        f'ALTER TABLE "products" ADD COLUMN "warehouse" uuid NOT NULL DEFAULT \'{ref}\';\n'
        'ALTER TABLE "products" ALTER COLUMN "warehouse" DROP DEFAULT;\n'
    ) in migration.sql
    assert 'ADD COLUMN "qty" bigint NOT NULL DEFAULT 5;' in migration.sql
    assert schema_migrations.change_error("sku:str", new, "Product", "products") == ""
    without = "sku:str, warehouse:ref[warehouses]"
    assert "give them one (warehouse:...:backfill=...)" in schema_migrations.change_error(
        "sku:str", without, "Product", "products"
    )


def test_a_field_made_required_is_filled_with_its_backfill() -> None:
    (first, *_) = schema_migrations.next_migrations(
        "products", "Product", "note:str?", "note:str:backfill=none yet", 2
    )

    assert 'UPDATE "products" SET "note" = \'none yet\' WHERE "note" IS NULL;' in first.sql
