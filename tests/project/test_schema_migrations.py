"""The migrations extensions/schema_migrations.py writes, run by tools/migrate.py on
real PostgreSQL, build exactly the table the field list declares.

By construction: hypothesis draws a field list and its next version (fields added,
removed, modifiers and enum values changed, types kept), the generator writes
0001 for the first and the step to the second, the project's own runner applies
them to a table holding a row, and the catalog must then show the declared
columns, constraints and indexes, every constraint validated and every index
valid, the row still there.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import schema_migrations
from fields import parse_fields
from tests.component.field_lists import TYPES, enum_values, modifiers, snake
from tests.project import test_migrate
from tests.project.test_migrate import TOOLS, Cluster, migrate_cli

pytestmark = pytest.mark.slow

# test_migrate's "cluster" fixture: one throwaway cluster for the module.
shared_cluster = test_migrate.cluster

COMPONENT = "items"
ENTITY = "Item"
MIGRATIONS = Path("components", COMPONENT, "adapters", "outbound", "migrations")


@st.composite
def field_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """(old, new) field lists one update may go between: types kept, new required
    fields with a default, enum values only added."""
    names = draw(st.lists(snake, min_size=2, max_size=6, unique=True))
    old: list[str] = []
    new: list[str] = []
    for name in names:
        kind = draw(st.sampled_from(TYPES))
        values = draw(enum_values) if kind == "enum" else []
        place = draw(st.sampled_from(["both", "both", "old", "new"]))
        if place in ("both", "old"):
            optional = draw(st.booleans())
            spec = f"enum[{'|'.join(values)}]" if kind == "enum" else kind
            chosen = draw(modifiers(kind, optional, values))
            old.append(":".join([f"{name}:{spec}{'?' if optional else ''}", *chosen]))
        if place in ("both", "new"):
            more = draw(st.lists(st.sampled_from(["zz", "yy_1"]), unique=True))
            values2 = values + [v for v in more if v not in values]
            spec = f"enum[{'|'.join(values2)}]" if kind == "enum" else kind
            optional = draw(st.booleans())
            chosen = draw(modifiers(kind, optional, values2))
            new.append(":".join([f"{name}:{spec}{'?' if optional else ''}", *chosen]))
    if not old:
        old = [new.pop()] if len(new) > 1 else ["kept:str?"]
    if not new:
        new = ["kept:str?"] if "kept:str?" not in old else [old[0]]
    old_text, new_text = ", ".join(old), ", ".join(new)
    assume(schema_migrations.change_error(old_text, new_text, ENTITY, COMPONENT) == "")
    return old_text, new_text


def declared(fields_text: str) -> dict[str, dict[str, tuple[str, bool]] | set[tuple[object, ...]]]:
    fields = parse_fields(fields_text, ENTITY, COMPONENT)
    columns = {"id": ("uuid", True), "version": ("integer", True)}
    columns |= {f.name: (f.type.sql, not f.optional) for f in fields}
    constraints = {(f"{COMPONENT}_pkey", "p")}
    constraints |= {(f.index_name, "u") for f in fields if f.unique}
    constraints |= {(name, "c") for f in fields for name, _ in f.check_messages}
    indexes = {(f"{COMPONENT}_pkey", "id", True)}
    indexes |= {(f.index_name, f.name, f.unique) for f in fields if f.unique or f.index}
    indexes |= {
        (f.keyset_index_name, c, False) for f in fields if f.sortable for c in (f.name, "id")
    }
    return {"columns": columns, "constraints": constraints, "indexes": indexes}


CATALOG = f"""
SELECT 'column', attname, format_type(atttypid, atttypmod), attnotnull::text
FROM pg_attribute WHERE attrelid = '{COMPONENT}'::regclass AND attnum > 0 AND NOT attisdropped
UNION ALL
SELECT 'constraint', conname, contype::text, convalidated::text
FROM pg_constraint WHERE conrelid = '{COMPONENT}'::regclass
UNION ALL
SELECT 'index', i.relname, a.attname || ' ' || x.indisunique::text, x.indisvalid::text
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = ANY (x.indkey)
WHERE x.indrelid = '{COMPONENT}'::regclass
"""


def found(
    cluster: Cluster, dsn: str
) -> dict[str, dict[str, tuple[str, bool]] | set[tuple[object, ...]]]:
    rows = cluster.query(dsn, CATALOG)
    columns = {
        name: (sql_type, flag == "true") for kind, name, sql_type, flag in rows if kind == "column"
    }
    assert all(flag == "true" for kind, *_, flag in rows if kind != "column"), rows
    return {
        "columns": columns,
        "constraints": {(name, what) for kind, name, what, _ in rows if kind == "constraint"},
        "indexes": {
            (name, what.split()[0], what.split()[1] == "true")
            for kind, name, what, _ in rows
            if kind == "index"
        },
    }


def a_row(old: str, new: str) -> str | None:
    """An INSERT of one row that keeps the rules of both versions (None: none found)."""
    new_fields = {f.name: f for f in parse_fields(new, ENTITY, COMPONENT)}
    names, values = ["id", "version"], ["'00000000-0000-4000-8000-000000000001'", "1"]
    for f in parse_fields(old, ENTITY, COMPONENT):
        later = new_fields.get(f.name)
        samples = later.samples if later is not None else f.samples
        fitting = [v for v in samples if f.broken_rule(v) is None]
        if not fitting:
            return None
        names.append(f'"{f.name}"')
        values.append(f.type.sql_literal(fitting[0]))
    return f"INSERT INTO {COMPONENT} ({', '.join(names)}) VALUES ({', '.join(values)})"


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pair=field_pairs())
def test_the_migrations_of_a_field_change_build_the_declared_table_and_keep_the_row(
    pair: tuple[str, str],
    shared_cluster: Cluster,
    generated_venv: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    old, new = pair
    cluster = shared_cluster
    insert = a_row(old, new)
    assume(insert is not None)
    project = tmp_path_factory.mktemp("project")
    shutil.copytree(TOOLS, project / "tools")
    dsn = cluster.new_database()
    folder = project / MIGRATIONS

    written = schema_migrations.write_pending(project, COMPONENT, ENTITY, old, adopt=False)
    assert [p.name for p in written] == [f"0001_create_{COMPONENT}.sql"]
    assert migrate_cli(project, generated_venv, "up", dsn=dsn).returncode == 0
    assert found(cluster, dsn) == declared(old)
    cluster.query(dsn, str(insert))

    first = (folder / f"0001_create_{COMPONENT}.sql").read_bytes()
    written = schema_migrations.write_pending(project, COMPONENT, ENTITY, new, adopt=False)
    assert (folder / f"0001_create_{COMPONENT}.sql").read_bytes() == first
    assert schema_migrations.established(folder) == schema_migrations.established_spec(new)
    result = migrate_cli(project, generated_venv, "up", dsn=dsn)
    assert result.returncode == 0, result.stderr

    expected, actual = declared(new), found(cluster, dsn)
    columns = actual.pop("columns")
    declared_columns = expected.pop("columns")
    assert {n: c for n, c in columns.items() if n in declared_columns} == declared_columns
    # A field taken out keeps its column, NULL allowed: no data dropped.
    assert [
        n for n, (_, not_null) in columns.items() if n not in declared_columns and not_null
    ] == []
    assert actual == expected
    assert cluster.query(dsn, f"SELECT count(*) FROM {COMPONENT}") == [["1"]]
    # Nothing left to do, and a second generation finds no difference.
    assert schema_migrations.write_pending(project, COMPONENT, ENTITY, new, adopt=False) == []
