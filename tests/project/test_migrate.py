"""tools/migrate.py, the migration runner rendered into every project, on real PostgreSQL.

Each test builds a small project tree (the rendered ``tools/`` folder and hand-written
migrations for the components ``alpha`` and ``beta``) and gets a database of its own
in one throwaway cluster per module, started with the code the generated projects'
``components/conftest.py`` uses. The tool runs as a user runs it: ``python
tools/migrate.py ...`` in a subprocess with the generated project's virtualenv (which
has psycopg). The database is inspected with ``psql``. The parts that need no
database are in test_migrate_sql.py.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import REPO, copier_copy, init_repo

pytestmark = pytest.mark.slow  # each test runs the tool against PostgreSQL

TOOLS = REPO / "template" / "project" / "tools"
MIGRATIONS = Path("adapters/outbound/migrations")

ALPHA_1 = """\
-- The alpha component's table.
-- hexforge: owns table alpha
CREATE TABLE alpha (
    id integer PRIMARY KEY,
    label text NOT NULL -- a comment; with a semicolon
);
COMMENT ON TABLE alpha IS 'alpha; with ''quotes'' and 100%';
"""
ALPHA_2 = "ALTER TABLE alpha ADD COLUMN note text;\n"
BETA_1 = """\
-- hexforge: owns table beta
-- hexforge: after alpha/0001
CREATE TABLE beta (
    id integer PRIMARY KEY,
    alpha_id integer REFERENCES alpha (id)
);
"""
FIRST = {
    "alpha": {"0001_create_alpha.sql": ALPHA_1, "0002_add_note.sql": ALPHA_2},
    "beta": {"0001_create_beta.sql": BETA_1},
}
LABELS = ["alpha/0001_create_alpha", "alpha/0002_add_note", "beta/0001_create_beta"]


def load_module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


migrate = importlib.import_module("hexforge.migrate")


# -- the database ---------------------------------------------------------------------


class Cluster:
    """One throwaway PostgreSQL cluster; every test gets a database of its own in it."""

    def __init__(self) -> None:
        conftest = importlib.import_module("hexforge.pytest_plugin")
        try:
            self.server = conftest._Cluster.start()
        except conftest.PostgresUnavailable as error:
            pytest.fail(f"PostgreSQL is required for the migration tests: {error}")
        self.psql = str(conftest._find_bin_dir() / "psql")

    def new_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.query(self.server.dsn, f"CREATE DATABASE {name}")
        return self.server.dsn.replace("@/postgres?", f"@/{name}?")

    def query(self, dsn: str, sql: str) -> list[list[str]]:
        result = subprocess.run(
            [self.psql, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", dsn],
            input=sql,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return [line.split("\t") for line in result.stdout.splitlines() if line]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    server = Cluster()
    try:
        yield server
    finally:
        server.server.stop()


@pytest.fixture
def dsn(cluster: Cluster) -> str:
    return cluster.new_database()


def tables(cluster: Cluster, dsn: str) -> set[str]:
    rows = cluster.query(dsn, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {row[0] for row in rows}


def history(cluster: Cluster, dsn: str) -> list[tuple[str, int, str, str, str]]:
    rows = cluster.query(
        dsn,
        "SELECT component, version, name, checksum, applied_at FROM hexforge_migrations "
        "ORDER BY applied_at, component, version",
    )
    return [(c, int(v), n, s, at) for c, v, n, s, at in rows]


# -- the project ----------------------------------------------------------------------


def write_migrations(project: Path, migrations: dict[str, dict[str, str]]) -> None:
    for component, files in migrations.items():
        folder = project / "components" / component / MIGRATIONS
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text)


def migration_file(project: Path, component: str, name: str) -> Path:
    return project / "components" / component / MIGRATIONS / name


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(TOOLS, root / "tools")
    write_migrations(root, FIRST)
    return root


def migrate_cli(
    project: Path,
    venv: Path,
    *args: str,
    dsn: str | None,
    python: str | None = None,
    pythonpath: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python tools/migrate.py ARGS`` in the project, DATABASE_URL set to ``dsn``."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    if dsn is not None:
        env["DATABASE_URL"] = dsn
    result = subprocess.run(
        [python or str(venv / "bin" / "python"), "tools/migrate.py", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result


class Session:
    """A psql session kept open, to hold locks while the tool runs."""

    def __init__(self, cluster: Cluster, dsn: str) -> None:
        self.process = subprocess.Popen(
            [cluster.psql, "-X", "-q", "-d", dsn],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, sql: str) -> None:
        """Run ``sql`` and wait until it is done."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{sql}\n\\echo done\n")
        self.process.stdin.flush()
        while (line := self.process.stdout.readline()) != "done\n":
            assert line, "psql ended"

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a refusal prints on stderr."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# -- up, status, plan -----------------------------------------------------------------


def test_up_creates_the_tables_once_and_then_has_nothing_to_do(
    project: Path, generated_venv: Path, cluster: Cluster, dsn: str
) -> None:
    first = migrate_cli(project, generated_venv, "up", dsn=dsn)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        *(f"applied {label}" for label in LABELS),
        "3 migrations applied",
    ]
    assert tables(cluster, dsn) == {"alpha", "beta", "hexforge_migrations", "hexforge_owned"}
    columns = cluster.query(
        dsn, "SELECT column_name FROM information_schema.columns WHERE table_name = 'alpha'"
    )
    assert sorted(row[0] for row in columns) == ["id", "label", "note"]
    comment = cluster.query(dsn, "SELECT obj_description('alpha'::regclass)")
    assert comment == [["alpha; with 'quotes' and 100%"]]
    recorded = history(cluster, dsn)
    assert [(c, v, n, checksum) for c, v, n, checksum, _ in recorded] == [
        ("alpha", 1, "create_alpha", hashlib.sha256(ALPHA_1.encode()).hexdigest()),
        ("alpha", 2, "add_note", hashlib.sha256(ALPHA_2.encode()).hexdigest()),
        ("beta", 1, "create_beta", hashlib.sha256(BETA_1.encode()).hexdigest()),
    ]
    assert cluster.query(dsn, "SELECT component, kind, name FROM hexforge_owned ORDER BY 1") == [
        ["alpha", "table", "alpha"],
        ["beta", "table", "beta"],
    ]

    again = migrate_cli(project, generated_venv, "up", "--format", "json", dsn=dsn)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {"applied": []}
    assert history(cluster, dsn) == recorded


def test_status_lists_applied_and_pending_as_text_and_json(
    project: Path, generated_venv: Path, dsn: str
) -> None:
    before = migrate_cli(project, generated_venv, "status", dsn=dsn)
    assert before.returncode == 0, before.stderr
    assert before.stdout.splitlines()[-1] == "0 applied, 3 pending"
    assert migrate_cli(project, generated_venv, "up", dsn=dsn).returncode == 0
    write_migrations(project, {"beta": {"0002_add_size.sql": "ALTER TABLE beta ADD size int;\n"}})

    elsewhere = subprocess.run(  # the project is where the tool is, not the working folder
        [str(generated_venv / "bin" / "python"), str(project / "tools" / "migrate.py"), "status"],
        cwd=project.parent,
        env={**os.environ, "DATABASE_URL": dsn},
        capture_output=True,
        text=True,
        check=False,
    )
    text = migrate_cli(project, generated_venv, "status", dsn=dsn)
    assert text.returncode == 0, text.stderr
    assert elsewhere.stdout == text.stdout
    lines = text.stdout.splitlines()
    assert [line.split()[:3] for line in lines[:-1]] == [
        ["alpha", "0001_create_alpha", "applied"],
        ["alpha", "0002_add_note", "applied"],
        ["beta", "0001_create_beta", "applied"],
        ["beta", "0002_add_size", "pending"],
    ]
    assert lines[-1] == "3 applied, 1 pending"

    report = json.loads(
        migrate_cli(project, generated_venv, "status", "--format", "json", dsn=dsn).stdout
    )
    states = [(m["component"], m["version"], m["state"]) for m in report["migrations"]]
    assert states == [
        ("alpha", 1, "applied"),
        ("alpha", 2, "applied"),
        ("beta", 1, "applied"),
        ("beta", 2, "pending"),
    ]
    assert (
        report["migrations"][3]["file"]
        == "components/beta/adapters/outbound/migrations/0002_add_size.sql"
    )
    assert report["migrations"][3]["applied_at"] is None
    assert all(m["applied_at"] for m in report["migrations"][:3])
    assert report["removed"] == []


def test_plan_prints_the_sql_and_changes_nothing(
    project: Path, generated_venv: Path, cluster: Cluster, dsn: str
) -> None:
    plan = migrate_cli(project, generated_venv, "plan", dsn=dsn)
    assert plan.returncode == 0, plan.stderr
    for text in (ALPHA_1, ALPHA_2, BETA_1):
        assert text in plan.stdout
    assert plan.stdout.index("CREATE TABLE alpha") < plan.stdout.index("CREATE TABLE beta")
    assert plan.stdout.rstrip().endswith("-- 3 migrations pending")
    assert tables(cluster, dsn) == set()  # not even the history table

    as_json = json.loads(
        migrate_cli(project, generated_venv, "plan", "--format", "json", dsn=dsn).stdout
    )
    assert [(m["component"], m["version"], m["sql"]) for m in as_json["pending"]] == [
        ("alpha", 1, ALPHA_1),
        ("alpha", 2, ALPHA_2),
        ("beta", 1, BETA_1),
    ]
    assert migrate_cli(project, generated_venv, "up", dsn=dsn).returncode == 0
    done = migrate_cli(project, generated_venv, "plan", dsn=dsn)
    assert done.stdout == "-- nothing to apply\n"


def test_an_edited_applied_migration_is_refused_by_name(
    project: Path, generated_venv: Path, cluster: Cluster, dsn: str
) -> None:
    assert migrate_cli(project, generated_venv, "up", dsn=dsn).returncode == 0
    edited = migration_file(project, "alpha", "0002_add_note.sql")
    edited.write_text(ALPHA_2.replace("text", "varchar(10)"))
    write_migrations(project, {"beta": {"0002_add_size.sql": "ALTER TABLE beta ADD size int;\n"}})

    for command in ("up", "plan"):
        refused = migrate_cli(project, generated_venv, command, dsn=dsn)
        assert refused.returncode == 1
        line = one_line(refused)
        assert "components/alpha/adapters/outbound/migrations/0002_add_note.sql changed" in line
        assert "new migration" in line
    assert len(history(cluster, dsn)) == 3  # the pending beta/0002 was not applied either
    status = migrate_cli(project, generated_venv, "status", dsn=dsn)
    assert ["alpha", "0002_add_note", "changed"] in [
        line.split()[:3] for line in status.stdout.splitlines()
    ]

    # Line endings and a byte order mark are not a change: a Windows editor's copy applies.
    edited.write_bytes(b"\xef\xbb\xbf" + ALPHA_2.replace("\n", "\r\n").encode())
    assert migrate_cli(project, generated_venv, "up", dsn=dsn).returncode == 0
    assert len(history(cluster, dsn)) == 4


def test_an_applied_migration_whose_file_is_gone_is_refused(
    project: Path, generated_venv: Path, dsn: str
) -> None:
    assert migrate_cli(project, generated_venv, "up", dsn=dsn).returncode == 0
    migration_file(project, "alpha", "0002_add_note.sql").unlink()
    refused = migrate_cli(project, generated_venv, "up", dsn=dsn)
    assert refused.returncode == 1
    line = one_line(refused)
    assert "alpha/0002_add_note was applied" in line
    assert "0002_add_note.sql is missing" in line


def test_a_component_whose_migrations_folder_is_gone_is_not_taken_for_removed(
    project: Path, generated_venv: Path, dsn: str
) -> None:
    assert migrate_cli(project, generated_venv, "up", dsn=dsn).returncode == 0
    shutil.rmtree(project / "components" / "beta" / MIGRATIONS)
    status = migrate_cli(project, generated_venv, "status", dsn=dsn)
    lines = status.stdout.splitlines()
    assert [line.split()[:3] for line in lines[:-1]] == [
        ["alpha", "0001_create_alpha", "applied"],
        ["alpha", "0002_add_note", "applied"],
        ["beta", "0001_create_beta", "missing"],
    ]
    assert lines[-1] == "2 applied, 0 pending, 1 missing"
    refused = migrate_cli(project, generated_venv, "up", dsn=dsn)
    assert refused.returncode == 1
    assert "beta/0001_create_beta was applied" in one_line(refused)


def test_a_pending_migration_numbered_before_an_applied_one_is_refused(
    project: Path, generated_venv: Path, cluster: Cluster, dsn: str
) -> None:
    assert migrate_cli(project, generated_venv, "up", dsn=dsn).returncode == 0
    cluster.query(dsn, "DELETE FROM hexforge_migrations WHERE component = 'alpha' AND version = 1")
    refused = migrate_cli(project, generated_venv, "up", dsn=dsn)
    assert refused.returncode == 1
    assert "0001_create_alpha.sql is pending but alpha/0002 is already applied" in one_line(refused)


def ups_released_together(
    project: Path, venv: Path, cluster: Cluster, dsn: str, count: int
) -> tuple[list[subprocess.Popen[str]], list[tuple[str, str]]]:
    """``count`` runs of ``up``, started while the test holds the migration lock and let
    go once every one waits for it; each run's process and (stdout, stderr)."""
    holder = Session(cluster, dsn)
    holder.run(f"SELECT pg_advisory_lock({migrate.LOCK_KEY});")
    env = {**os.environ, "DATABASE_URL": dsn}
    runs = [
        subprocess.Popen(
            [str(venv / "bin" / "python"), "tools/migrate.py", "up"],
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    # A run's last statement tried or took the lock (the holder's psql ends with ';').
    waiting = (
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_%advisory_lock(%' "
        "AND query NOT LIKE '%;' AND pid <> pg_backend_pid()"
    )
    for _ in range(600):
        if cluster.query(dsn, waiting) == [[str(count)]]:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the runs never waited for the lock")
    holder.run(f"SELECT pg_advisory_unlock({migrate.LOCK_KEY});")
    holder.close()
    return runs, [run.communicate(timeout=120) for run in runs]


def test_two_up_at_once_apply_each_migration_once(
    project: Path, generated_venv: Path, cluster: Cluster, dsn: str
) -> None:
    runs, outputs = ups_released_together(project, generated_venv, cluster, dsn, 2)

    assert [run.returncode for run in runs] == [0, 0], outputs
    for _, err in outputs:
        assert err == "migrate.py: waiting for another migrate run on this database to finish\n"
    applied = [
        line for out, _ in outputs for line in out.splitlines() if line.startswith("applied")
    ]
    assert sorted(applied) == [f"applied {label}" for label in LABELS]
    assert sorted((c, v) for c, v, *_ in history(cluster, dsn)) == [
        ("alpha", 1),
        ("alpha", 2),
        ("beta", 1),
    ]


def test_a_run_waiting_for_the_lock_never_deadlocks_a_concurrent_index_build(
    project: Path, generated_venv: Path, cluster: Cluster, dsn: str
) -> None:
    # A run waiting for the migration lock inside one statement held a snapshot that
    # the running one's CREATE INDEX CONCURRENTLY waited for: PostgreSQL failed one.
    write_migrations(project, {"alpha": {"0003_unique_label.sql": CONCURRENT_INDEX}})
    runs, outputs = ups_released_together(project, generated_venv, cluster, dsn, 3)

    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    assert len(history(cluster, dsn)) == len(LABELS) + 1


def test_a_migration_waiting_for_a_busy_table_gives_up_after_the_lock_timeout(
    project: Path, generated_venv: Path, cluster: Cluster, dsn: str
) -> None:
    assert migrate_cli(project, generated_venv, "up", dsn=dsn).returncode == 0
    write_migrations(project, {"alpha": {"0003_add_size.sql": "ALTER TABLE alpha ADD size int;\n"}})
    reader = Session(cluster, dsn)
    try:
        reader.run("BEGIN; SELECT count(*) FROM alpha;")  # a long transaction reading alpha
        failed = migrate_cli(project, generated_venv, "up", "--lock-timeout", "0.2", dsn=dsn)
    finally:
        reader.close()
    assert failed.returncode == 1
    line = one_line(failed)
    assert "0003_add_size.sql: canceling statement due to lock timeout" in line
    assert "waited lock_timeout 0.2s" in line
    assert "raise --lock-timeout" in line
    assert len(history(cluster, dsn)) == 3
    assert migrate_cli(project, generated_venv, "up", dsn=dsn).returncode == 0  # the table is free


def test_a_failing_migration_leaves_nothing_of_itself_and_keeps_the_earlier_ones(
    project: Path, generated_venv: Path, cluster: Cluster, dsn: str
) -> None:
    migration_file(project, "alpha", "0002_add_note.sql").write_text(
        "-- adds a column, then fails\n"
        "ALTER TABLE alpha ADD COLUMN note text;\n"
        "CREATE INDEX alpha_note ON alpha (note);\n"
        "INSERT INTO no_such_table VALUES (1);\n"
    )
    failed = migrate_cli(project, generated_venv, "up", dsn=dsn)
    assert failed.returncode == 1
    line = one_line(failed)
    assert line.startswith(
        "migrate.py: components/alpha/adapters/outbound/migrations/0002_add_note.sql line 4: "
        'relation "no_such_table" does not exist'
    )
    assert "nothing of it was applied" in line
    assert failed.stdout == "applied alpha/0001_create_alpha\n"
    assert tables(cluster, dsn) == {"alpha", "hexforge_migrations", "hexforge_owned"}
    columns = cluster.query(
        dsn, "SELECT column_name FROM information_schema.columns WHERE table_name = 'alpha'"
    )
    assert sorted(row[0] for row in columns) == ["id", "label"]
    assert cluster.query(dsn, "SELECT to_regclass('alpha_note') IS NULL") == [["t"]]
    assert [(c, v) for c, v, *_ in history(cluster, dsn)] == [("alpha", 1)]

    # The fixed file (it was never applied, so it may change) goes through.
    migration_file(project, "alpha", "0002_add_note.sql").write_text(ALPHA_2)
    assert migrate_cli(project, generated_venv, "up", dsn=dsn).returncode == 0
    assert len(history(cluster, dsn)) == 3


CONCURRENT_INDEX = """\
-- Built without blocking writes, so outside a transaction.
-- hexforge: no-transaction
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS alpha_label_key ON alpha (label);
"""


def test_a_concurrent_index_is_built_outside_a_transaction(
    project: Path, generated_venv: Path, cluster: Cluster, dsn: str
) -> None:
    write_migrations(project, {"alpha": {"0003_unique_label.sql": CONCURRENT_INDEX}})
    plan = migrate_cli(project, generated_venv, "plan", dsn=dsn)
    assert (
        "-- alpha/0003_unique_label (components/alpha/adapters/outbound/migrations/"
        "0003_unique_label.sql), outside a transaction" in plan.stdout
    )
    planned = migrate_cli(project, generated_venv, "plan", "--format", "json", dsn=dsn)
    assert [m["transaction"] for m in json.loads(planned.stdout)["pending"]] == [
        True,
        True,
        False,
        True,
    ]
    done = migrate_cli(project, generated_venv, "up", dsn=dsn)
    assert done.returncode == 0, done.stderr
    assert "applied alpha/0003_unique_label" in done.stdout
    valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = 'alpha_label_key'::regclass"
    assert cluster.query(dsn, valid) == [["t"]]


def test_a_concurrent_index_without_the_directive_is_refused_before_anything_runs(
    project: Path, generated_venv: Path, cluster: Cluster, dsn: str
) -> None:
    text = CONCURRENT_INDEX.replace("-- hexforge: no-transaction\n", "")
    write_migrations(project, {"alpha": {"0003_unique_label.sql": text}})
    refused = migrate_cli(project, generated_venv, "up", dsn=dsn)
    assert refused.returncode == 1
    line = one_line(refused)
    assert "0003_unique_label.sql line 2: 'CREATE UNIQUE INDEX CONCURRENTLY" in line
    assert "'-- hexforge: no-transaction'" in line
    assert tables(cluster, dsn) == set()


def test_a_failed_concurrent_build_is_resumed_after_its_invalid_index_is_named(
    project: Path, generated_venv: Path, cluster: Cluster, dsn: str
) -> None:
    assert migrate_cli(project, generated_venv, "up", dsn=dsn).returncode == 0
    cluster.query(dsn, "INSERT INTO alpha (id, label) VALUES (1, 'same'), (2, 'same')")
    two_indexes = CONCURRENT_INDEX.replace(
        "CREATE UNIQUE",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS alpha_note ON alpha (note);\nCREATE UNIQUE",
    )
    write_migrations(project, {"alpha": {"0003_unique_label.sql": two_indexes}})

    failed = migrate_cli(project, generated_venv, "up", dsn=dsn)
    assert failed.returncode == 1
    line = one_line(failed)
    assert "0003_unique_label.sql line 4: could not create unique index" in line
    # The first failure names the duplicated value and the index it left behind.
    assert "(Key (label)=(same) is duplicated.)" in line
    assert "it left index alpha_label_key INVALID" in line
    assert "run DROP INDEX CONCURRENTLY alpha_label_key; then run up again" in line
    valid = (
        "SELECT indexrelid::regclass, indisvalid FROM pg_index WHERE indrelid = 'alpha'::regclass"
    )
    # The first statement went through; PostgreSQL leaves the failed build INVALID.
    assert sorted(cluster.query(dsn, valid)) == [
        ["alpha_label_key", "f"],
        ["alpha_note", "t"],
        ["alpha_pkey", "t"],
    ]

    again = migrate_cli(project, generated_venv, "up", dsn=dsn)
    assert again.returncode == 1
    line = one_line(again)
    assert "index alpha_label_key is INVALID" in line
    assert "DROP INDEX CONCURRENTLY alpha_label_key" in line
    assert len(history(cluster, dsn)) == 3

    cluster.query(dsn, "DELETE FROM alpha WHERE id = 2")
    cluster.query(dsn, "DROP INDEX CONCURRENTLY alpha_label_key")
    resumed = migrate_cli(project, generated_venv, "up", dsn=dsn)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == "applied alpha/0003_unique_label\n1 migration applied\n"
    assert sorted(cluster.query(dsn, valid)) == [
        ["alpha_label_key", "t"],
        ["alpha_note", "t"],
        ["alpha_pkey", "t"],
    ]
    assert len(history(cluster, dsn)) == 4


# -- drop -----------------------------------------------------------------------------


def test_drop_refuses_while_the_code_is_there_and_previews_without_yes(
    project: Path, generated_venv: Path, cluster: Cluster, dsn: str
) -> None:
    assert migrate_cli(project, generated_venv, "up", dsn=dsn).returncode == 0
    present = migrate_cli(project, generated_venv, "drop", "beta", "--yes", dsn=dsn)
    assert present.returncode == 1
    assert "components/beta is still in the project" in one_line(present)
    assert "python tools/remove.py beta" in one_line(present)

    shutil.rmtree(project / "components" / "beta")  # what tools/remove.py does to the code
    status = migrate_cli(project, generated_venv, "status", dsn=dsn)
    assert "beta: its code is gone, its data remains (1 migration applied)" in status.stdout
    report = json.loads(
        migrate_cli(project, generated_venv, "status", "--format", "json", dsn=dsn).stdout
    )
    assert report["removed"] == [
        {"component": "beta", "migrations": 1, "owned": [{"kind": "table", "name": "beta"}]}
    ]
    assert migrate_cli(project, generated_venv, "up", dsn=dsn).returncode == 0  # not in the way

    preview = migrate_cli(project, generated_venv, "drop", "beta", dsn=dsn)
    assert preview.returncode == 1
    assert 'DROP TABLE IF EXISTS "beta";' in preview.stdout
    assert "DELETE FROM hexforge_migrations WHERE component = 'beta';" in preview.stdout
    assert "drop beta --yes drops table beta" in one_line(preview)
    assert "beta" in tables(cluster, dsn)

    dropped = migrate_cli(project, generated_venv, "drop", "beta", "--yes", dsn=dsn)
    assert dropped.returncode == 0, dropped.stderr
    assert dropped.stdout == "dropped table beta; forgot 1 migration of beta\n"
    assert tables(cluster, dsn) == {"alpha", "hexforge_migrations", "hexforge_owned"}
    assert [c for c, *_ in history(cluster, dsn)] == ["alpha", "alpha"]
    assert cluster.query(dsn, "SELECT component FROM hexforge_owned") == [["alpha"]]

    gone = migrate_cli(project, generated_venv, "drop", "beta", "--yes", dsn=dsn)
    assert gone.returncode == 1
    assert "no migrations of component 'beta'" in one_line(gone)


def test_drop_refused_by_a_foreign_key_drops_nothing(
    project: Path, generated_venv: Path, cluster: Cluster, dsn: str
) -> None:
    assert migrate_cli(project, generated_venv, "up", dsn=dsn).returncode == 0
    shutil.rmtree(project / "components" / "alpha")  # beta still references alpha
    refused = migrate_cli(
        project, generated_venv, "drop", "alpha", "--yes", "--format", "json", dsn=dsn
    )
    assert refused.returncode == 1
    assert "drop alpha failed, nothing was dropped: cannot drop table alpha" in one_line(refused)
    assert {"alpha", "beta"} <= tables(cluster, dsn)
    assert len(history(cluster, dsn)) == 3


# -- refusals: files, arguments, databases --------------------------------------------


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"alpha": {"12_x.sql": "SELECT 1;"}},
            "alpha/adapters/outbound/migrations/12_x.sql: a migration file is named NNNN_<slug>",
        ),
        (
            {"alpha": {"0003_Bad-Name.sql": "SELECT 1;"}},
            "0003_Bad-Name.sql: a migration file is named",
        ),
        (
            {"alpha": {"0002_other.sql": "SELECT 1;"}},
            "0002_add_note.sql and 0002_other.sql share version 0002",
        ),
        (
            {"alpha": {"0004_later.sql": "SELECT 1;"}},
            "version 0003 is missing before 0004_later.sql",
        ),
        (
            {"alpha": {"0003_x.sql": "-- hexforge: no-transactoin\nSELECT 1;"}},
            "0003_x.sql line 1: unknown directive '-- hexforge: no-transactoin'",
        ),
        (
            {"alpha": {"0003_x.sql": "--  HexForge: After beta/0001\nSELECT 1;"}},
            "0003_x.sql line 1: unknown directive '-- hexforge: After beta/0001'",
        ),
        (
            {"alpha": {"0003_x.sql": "SELECT 1;\n-- hexforge: no-transaction\n"}},
            "0003_x.sql line 2: '-- hexforge:' lines belong in the comment block at the top",
        ),
        (
            {"alpha": {"0003_x.sql": "-- hexforge: owns table Bad\n"}},
            "0003_x.sql line 1: 'owns table Bad' must be",
        ),
        (
            {"alpha": {"0003_x.sql": "CREATE TABLE gamma (id int);"}},
            "0003_x.sql line 1: creates table gamma, which no '-- hexforge: owns table gamma' line",
        ),
        (
            {"alpha": {"0003_x.sql": "DO $$ BEGIN CREATE TABLE gamma (id int); END $$;"}},
            "0003_x.sql line 1: creates table gamma, which no '-- hexforge: owns table gamma' line",
        ),
        (
            {
                "alpha": {
                    "0003_x.sql": "SELECT 1;\nDO $body$\nBEGIN\n  EXECUTE 'create table ' || "
                    "'gamma' || ' (id int)';\nEND\n$body$;"
                }
            },
            "0003_x.sql line 2: a DO block creates a table, view, sequence or type whose name is "
            "built at run time",
        ),
        (
            {
                "alpha": {
                    "0003_x.sql": "DO $$ BEGIN EXECUTE format('CREATE VIEW %I AS SELECT 1', 'v'); "
                    "END $$;"
                }
            },
            "0003_x.sql line 1: a DO block creates a table, view, sequence or type",
        ),
        (
            {"alpha": {"0003_x.sql": "BEGIN;\nSELECT 1;\nCOMMIT;"}},
            "0003_x.sql line 1: 'BEGIN': each migration runs in its own transaction",
        ),
        (
            {"alpha": {"0003_x.sql": "-- hexforge: no-transaction\nALTER TABLE alpha ADD x int;"}},
            "0003_x.sql line 2: 'ALTER TABLE alpha ADD x int' is not safe to run again",
        ),
        ({"alpha": {"0003_x.sql": "SELECT 'open;"}}, "0003_x.sql line 1: unterminated quoted text"),
        (
            {"alpha": {"0003_x.sql": "-- hexforge: after beta/0002\nSELECT 1;"}},
            "0003_x.sql: 'after beta/0002' names no migration",
        ),
        (
            {
                "alpha": {"0003_x.sql": "-- hexforge: after beta/0001\nSELECT 1;"},
                "beta": {"0001_create_beta.sql": BETA_1.replace("alpha/0001", "alpha/0003")},
            },
            "wait on each other through their 'after' lines: alpha/0003_x, beta/0001_create_beta",
        ),
    ],
)
def test_malformed_migrations_are_refused_in_one_line_before_connecting(
    project: Path, generated_venv: Path, files: dict[str, dict[str, str]], expected: str
) -> None:
    write_migrations(project, files)
    unreachable = "postgresql://postgres@/postgres?host=/nonexistent"  # never reached
    for command in ("up", "plan", "status"):
        refused = migrate_cli(project, generated_venv, command, dsn=unreachable)
        assert refused.returncode == 1
        assert expected in one_line(refused)


@pytest.mark.parametrize(
    ("args", "url", "code", "expected"),
    [
        ([], "x", 2, "the following arguments are required: COMMAND"),
        (["upp"], "x", 2, "invalid choice: 'upp'"),
        (["up", "--format", "xml"], "x", 2, "argument --format: invalid choice: 'xml'"),
        (["up", "--lock-timeout", "nan"], "x", 2, "'nan' must be a finite number of seconds"),
        (["drop"], "x", 2, "the following arguments are required: NAME"),
        (["drop", "../etc"], "x", 2, "'../etc' is not a component name"),
        (["status", "--yes"], "x", 2, "unrecognized arguments: --yes"),
        (["status", "x\ny\x85"], "x", 2, "unrecognized arguments: x\\ny\\x85 (see"),
        (["status"], None, 2, "no database: set DATABASE_URL or pass --database-url"),
        (["status"], "", 2, "no database: set DATABASE_URL"),
        (["status"], "not a url", 2, "the database URL 'not a url' cannot be parsed"),
        (["up", "--database-url", "postgresql://[::1"], None, 2, "cannot be parsed"),
        (["status"], "postgresql://u:s3cret@[::1", 2, "'postgresql://u:***@[::1' cannot be parsed"),
        (
            ["status"],
            "postgresql://u:s3cret@/db?host=/nonexistent",
            1,
            "cannot connect to postgresql://u:***@/db?host=/nonexistent: connection",
        ),
        (
            ["up"],
            "postgresql://postgres@127.0.0.1:1/x?connect_timeout=5",
            1,
            "cannot connect to postgresql://postgres@127.0.0.1:1/x",
        ),
    ],
)
def test_bad_arguments_and_databases_get_one_line_and_the_right_exit_code(
    project: Path,
    generated_venv: Path,
    args: list[str],
    url: str | None,
    code: int,
    expected: str,
) -> None:
    result = migrate_cli(project, generated_venv, *args, dsn=url)
    assert result.returncode == code
    line = one_line(result)
    assert expected in line
    assert "s3cret" not in line
    assert result.stdout == ""


def test_help_and_usage_errors_need_no_psycopg_and_a_database_command_says_it_is_missing(
    project: Path, generated_venv: Path
) -> None:
    # An environment where psycopg cannot be imported: a module of that name that fails.
    hidden = project.parent / "psycopg-hidden"
    hidden.mkdir(exist_ok=True)
    (hidden / "psycopg.py").write_text('raise ImportError("hidden for this test")\n')
    bare = {"python": sys.executable, "pythonpath": hidden}
    probe = subprocess.run(
        [sys.executable, "-c", "import psycopg"], env={**os.environ, "PYTHONPATH": str(hidden)}
    )
    assert probe.returncode != 0
    helped = migrate_cli(project, generated_venv, "--help", dsn=None, **bare)
    assert helped.returncode == 0
    assert "up" in helped.stdout and "drop" in helped.stdout
    usage = migrate_cli(project, generated_venv, "status", dsn=None, **bare)
    assert usage.returncode == 2
    missing = migrate_cli(project, generated_venv, "status", dsn="postgresql://x@/y", **bare)
    assert missing.returncode == 1
    assert "psycopg is not installed for" in one_line(missing)


# -- the API the composition root uses ------------------------------------------------

API_SCRIPT = """
import json, sys
from tools.migrate import MigrationError, apply, pending
url = sys.argv[1]
before = [m.label for m in pending(url)]
done = [m.label for m in apply(url)]
after = [m.label for m in pending(url)]
open("components/alpha/adapters/outbound/migrations/0001_create_alpha.sql", "a").write("-- x\\n")
try:
    pending(url)
    error = None
except MigrationError as exc:
    error = str(exc)
print(json.dumps({"before": before, "done": done, "after": after, "error": error}))
"""


def test_the_composition_root_can_import_pending_and_apply(
    project: Path, generated_venv: Path, dsn: str
) -> None:
    result = subprocess.run(
        [str(generated_venv / "bin" / "python"), "-c", API_SCRIPT, dsn],
        cwd=project,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["before"] == LABELS
    assert report["done"] == LABELS
    assert report["after"] == []
    assert report["error"].startswith(
        "components/alpha/adapters/outbound/migrations/0001_create_alpha.sql changed after it"
    )


# -- any command line -----------------------------------------------------------------

DRIVER = """
import contextlib, io, json, sys, traceback
from hexforge import migrate
for line in sys.stdin:
    out, err, escaped = io.StringIO(), io.StringIO(), None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = migrate.main(json.loads(line))
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else int(exit.code is not None)
        except BaseException:
            code, escaped = None, traceback.format_exc()
    print(json.dumps({"code": code, "err": err.getvalue(), "escaped": escaped}), flush=True)
"""


class Driver:
    """One process of the generated venv that runs the tool's ``main`` per argv line."""

    def __init__(self, project: Path, venv: Path, dsn: str) -> None:
        self.process = subprocess.Popen(
            [str(venv / "bin" / "python"), "-c", DRIVER],
            cwd=project,
            env={**os.environ, "DATABASE_URL": dsn},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, argv: list[str]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(argv) + "\n")
        self.process.stdin.flush()
        return dict(json.loads(self.process.stdout.readline()))

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def driver(
    tmp_path_factory: pytest.TempPathFactory, generated_venv: Path, cluster: Cluster
) -> Iterator[Driver]:
    root = tmp_path_factory.mktemp("any-argv") / "shop"
    shutil.copytree(TOOLS, root / "tools")
    write_migrations(root, FIRST)
    running = Driver(root, generated_venv, cluster.new_database())
    try:
        yield running
    finally:
        running.close()


TOKENS = st.sampled_from(
    [
        "up",
        "plan",
        "status",
        "drop",
        "alpha",
        "gone",
        "Alpha",
        "--yes",
        "--format",
        "json",
        "text",
        "--lock-timeout",
        "0",
        "2",
        "-1",
        "inf",
        "--database-url",
        "x",
        "",
        "--",
        "-h",
        "--help",
        "=",
    ]
)
ARGV = st.lists(st.one_of(TOKENS, st.text(max_size=12)), max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argv=ARGV)
def test_any_command_line_exits_0_1_or_2_with_at_most_one_line_of_complaint(
    driver: Driver, argv: list[str]
) -> None:
    result = driver.run(argv)
    assert result["escaped"] is None, result["escaped"]
    assert result["code"] in (0, 1, 2)
    if result["code"] != 0 and "-h" not in argv and "--help" not in argv:
        assert len(result["err"].strip().splitlines()) == 1, result["err"]


# -- rendered into projects -----------------------------------------------------------


@pytest.mark.parametrize(
    "answers",
    [{"kind": "project"}, {"kind": "component", "component_name": "orders"}],
    ids=["project", "first-component"],
)
def test_the_runner_is_rendered_into_every_project_and_reads_its_files(
    tmp_path: Path, template_v1: Path, answers: dict[str, str], generated_venv: Path, dsn: str
) -> None:
    project = init_repo(tmp_path / "wired")
    copier_copy(template_v1, project, answers)
    for name in ("migrate.py",):
        assert (project / "tools" / name).read_bytes() == (TOOLS / name).read_bytes()
    plan = migrate_cli(project, generated_venv, "plan", dsn=dsn)
    assert plan.returncode == 0, plan.stderr
    assert re.fullmatch(
        r"-- (\d+ migrations? pending|nothing to apply)", plan.stdout.splitlines()[-1]
    )
