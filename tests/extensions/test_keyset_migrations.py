"""The keyset indexes lists sort by (SPEC section 8), as extensions/schema_migrations.py
writes them: with the table, when a field becomes sortable or stops being so, and once
for a component whose migrations predate them. The SQL runs on PostgreSQL in
tests/project/test_schema_migrations.py and the generated projects' own tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings

import schema_migrations
from fields import fields_error, parse_fields
from tests.component.field_lists import field_lists

COMPONENT = "orders"
ENTITY = "Order"
FOLDER = Path("components", COMPONENT, schema_migrations.MIGRATIONS)


def keyset_statements(sql: str) -> set[str]:
    return {line for line in sql.splitlines() if "__keyset" in line and not line.startswith("--")}


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=field_lists())
def test_a_new_table_has_a_keyset_index_for_each_sortable_field_and_no_other(
    fields: str,
) -> None:
    assume(fields_error(fields, ENTITY) == "")
    sql = schema_migrations.first_migration(COMPONENT, ENTITY, fields, adopt=False).sql

    expected = {
        f'CREATE INDEX "{f.keyset_index_name}" ON "{COMPONENT}" {f.keyset_index_columns};'
        for f in parse_fields(fields, ENTITY, COMPONENT)
        if f.index or f.unique
    }
    assert keyset_statements(sql) == expected
    assert schema_migrations.KEYSET_LINE in sql.splitlines()


def test_text_is_indexed_by_code_point_and_other_types_as_they_are() -> None:
    sql = schema_migrations.first_migration(
        COMPONENT, ENTITY, "sku:str:unique, state:enum[a|b]:index, rank:int?:index", adopt=False
    ).sql

    assert keyset_statements(sql) == {
        'CREATE INDEX "orders__sku__keyset" ON "orders" ("sku" COLLATE "C", "id");',
        'CREATE INDEX "orders__state__keyset" ON "orders" ("state" COLLATE "C", "id");',
        'CREATE INDEX "orders__rank__keyset" ON "orders" ("rank", "id");',
    }


@pytest.mark.parametrize(
    ("old", "new", "statement"),
    [
        (
            "customer:str",
            "customer:str:index",
            'CREATE INDEX CONCURRENTLY IF NOT EXISTS "orders__customer__keyset" '
            'ON "orders" ("customer" COLLATE "C", "id");',
        ),
        (
            "customer:str:unique",
            "customer:str",
            'DROP INDEX CONCURRENTLY IF EXISTS "orders__customer__keyset";',
        ),
        (
            "customer:str, total:int:index",
            "customer:str",
            'DROP INDEX CONCURRENTLY IF EXISTS "orders__total__keyset";',
        ),
    ],
)
def test_a_field_that_becomes_or_stops_being_sortable_gets_or_loses_its_index(
    old: str, new: str, statement: str
) -> None:
    steps = schema_migrations.next_migrations(COMPONENT, ENTITY, old, new, 2)

    concurrent = [step for step in steps if "-- hexforge: no-transaction" in step.sql]
    assert len(concurrent) == 1
    assert statement in concurrent[0].sql.splitlines()


def test_unique_becoming_index_keeps_the_keyset_index() -> None:
    steps = schema_migrations.next_migrations(
        COMPONENT, ENTITY, "customer:str:unique", "customer:str:index", 2
    )

    assert not any("__keyset" in step.sql for step in steps)


def test_a_component_from_before_keyset_indexes_gets_them_once(tmp_path: Path) -> None:
    folder = tmp_path / FOLDER
    folder.mkdir(parents=True)
    fields = "customer:str:unique, total:int:index, note:str?"
    # What the migrations wrote before lists sorted: no keyset line, no keyset index.
    old = schema_migrations.first_migration(COMPONENT, ENTITY, fields, adopt=False).sql
    old = "\n".join(
        line
        for line in old.splitlines()
        if line != schema_migrations.KEYSET_LINE and "__keyset" not in line
    )
    (folder / "0001_create_orders.sql").write_text(old + "\n")

    [written] = schema_migrations.write_pending(tmp_path, COMPONENT, ENTITY, fields, adopt=False)

    assert written.name == "0002_keyset_indexes.sql"
    sql = written.read_text()
    assert "-- hexforge: no-transaction" in sql.splitlines()
    assert keyset_statements(sql) == {
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS "orders__customer__keyset" '
        'ON "orders" ("customer" COLLATE "C", "id");',
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS "orders__total__keyset" '
        'ON "orders" ("total", "id");',
    }
    assert schema_migrations.established(folder) == fields
    # Built once: the same fields again write nothing, a change only its own steps.
    assert schema_migrations.write_pending(tmp_path, COMPONENT, ENTITY, fields, adopt=False) == []
    changed = schema_migrations.write_pending(
        tmp_path, COMPONENT, ENTITY, f"{fields}, extra:int?", adopt=False
    )
    assert [path.name for path in changed] == ["0003_add_extra.sql"]


def test_a_component_without_sortable_fields_needs_no_keyset_file(tmp_path: Path) -> None:
    folder = tmp_path / FOLDER
    folder.mkdir(parents=True)
    (folder / "0001_create_orders.sql").write_text(
        '-- fields: customer:str\nCREATE TABLE "orders" ("id" uuid PRIMARY KEY);\n'
    )

    assert (
        schema_migrations.write_pending(tmp_path, COMPONENT, ENTITY, "customer:str", adopt=False)
        == []
    )


def test_an_adopted_table_gets_its_keyset_indexes_built_concurrently_next(
    tmp_path: Path,
) -> None:
    written = schema_migrations.write_pending(
        tmp_path, COMPONENT, ENTITY, "customer:str:unique", adopt=True
    )

    assert [path.name for path in written] == ["0001_adopt_orders.sql", "0002_keyset_indexes.sql"]
    assert "__keyset" not in written[0].read_text()
    assert "CONCURRENTLY" in written[1].read_text()
