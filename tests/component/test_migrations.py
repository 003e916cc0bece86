"""Schema migrations as a user meets them (SPEC §7): through the copier CLI, the
project's tools/migrate.py and its app, on real PostgreSQL."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from tests.component.gates import gate_env, run_gates
from tests.component.test_update import (
    FIELDS,
    ORDERS,
    ORDERS_ANSWERS,
    SEED_V1,
    migrate,
    new_project,
    postgres_server,
    run_script,
)
from tests.helpers import (
    REPO,
    TEMPLATE_PARTS,
    commit_all,
    copier_copy,
    copier_update,
    git,
    init_repo,
    run,
    tag_template,
    template_parts_at,
    tree_bytes,
)

pytestmark = pytest.mark.slow

MIGRATIONS = f"{ORDERS}/adapters/outbound/migrations"
# The last hexforge commit from before migrations: components ran create_schema at start.
BEFORE_MIGRATIONS = "b5e3b2726257892b58a5c78220df5bcf0ff168e7"

COUNT_ROWS = """
import os

import psycopg

with psycopg.connect(os.environ["TEST_DATABASE_URL"]) as connection:
    print(connection.execute('SELECT "customer", "total" FROM "orders" ORDER BY "id"').fetchall())
"""


def test_a_new_component_has_its_first_migration_and_its_tests_pass_on_it(
    tmp_path: Path, generated_venv: Path
) -> None:
    _, project = new_project(tmp_path)
    first = project / MIGRATIONS / "0001_create_orders.sql"
    text = first.read_text()
    assert "-- hexforge: owns table orders" in text
    assert f"-- fields: {FIELDS}" in text
    assert 'CREATE TABLE "orders" (' in text

    with postgres_server(project) as dsn:
        assert (
            "applied orders/0001_create_orders"
            in migrate(project, generated_venv, dsn, "up").stdout
        )
        again = migrate(project, generated_venv, dsn, "up").stdout
        assert "nothing to apply" in again
        status = json.loads(
            migrate(project, generated_venv, dsn, "status", "--format", "json").stdout
        )
        rows = [(m["component"], m["version"], m["state"]) for m in status["migrations"]]
        assert rows == [("orders", 1, "applied")]
        run_script(project, generated_venv, SEED_V1, dsn)  # the v1 code writes to the table
        tests = run(
            ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "integration", ORDERS],
            project,
            env={**gate_env(generated_venv, project), "TEST_DATABASE_URL": dsn},
        )
    assert " passed" in tests.stdout and "skipped" not in tests.stdout


def test_a_field_type_change_is_refused_before_anything_changes(tmp_path: Path) -> None:
    _, project = new_project(tmp_path)
    before = tree_bytes(project)

    result = copier_update(
        project, ORDERS_ANSWERS, data={"fields": "customer:str, total:decimal"}, check=False
    )

    assert result.returncode != 0
    assert "field 'total' changes type from int to decimal" in result.stdout + result.stderr
    assert tree_bytes(project) == before
    assert git(project, "status", "--porcelain") == ""


def serve(project: Path, venv: Path, dsn: str, path: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["uvicorn", "--uds", str(path), "app.main:app"],
        cwd=project,
        env={**os.environ, **gate_env(venv, project), "DATABASE_URL": dsn, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


class UnixConnection(http.client.HTTPConnection):
    """HTTP over a Unix socket: no port to pick, none to collide with."""

    def __init__(self, path: Path) -> None:
        super().__init__("app")
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(str(self.path))


def get_orders(path: Path, process: subprocess.Popen[str]) -> tuple[int, object]:
    """GET /orders once the server listens on ``path`` (it must not exit first)."""
    while True:
        assert process.poll() is None, process.communicate()[0]
        if path.exists():
            connection = UnixConnection(path)
            try:
                connection.request("GET", "/orders")
                response = connection.getresponse()
                return response.status, json.loads(response.read())
            except OSError:
                pass  # bound, not yet accepting
            finally:
                connection.close()
        time.sleep(0.1)


def test_the_app_refuses_pending_migrations_unless_asked_to_apply_them(
    tmp_path: Path, generated_venv: Path
) -> None:
    _, project = new_project(tmp_path)
    # A Unix socket path is limited to about 100 bytes: tmp_path may be longer.
    path = Path("/tmp") / f"hexforge-{os.getpid()}-{tmp_path.name}.sock"
    with postgres_server(project) as dsn:
        refused = serve(project, generated_venv, dsn, path)
        output, _ = refused.communicate(timeout=120)
        assert refused.returncode != 0
        assert "migrations pending: orders/0001_create_orders;" in output
        assert "HEXFORGE_MIGRATE_ON_START=1" in output
        assert "pending" in migrate(project, generated_venv, dsn, "status").stdout

        serving = serve(project, generated_venv, dsn, path, HEXFORGE_MIGRATE_ON_START="1")
        try:
            status, body = get_orders(path, serving)
        finally:
            serving.send_signal(signal.SIGINT)
            serving.communicate(timeout=60)
        assert status == 200
        assert body == {"items": [], "next_cursor": None}
        assert "nothing to apply" in migrate(project, generated_venv, dsn, "up").stdout


def template_before_migrations(dest: Path) -> Path:
    """The hexforge template as it was before migrations, in its own repo tagged v1."""
    return template_at(BEFORE_MIGRATIONS, dest)


def template_at(commit: str, dest: Path) -> Path:
    """The hexforge template as it was at ``commit``, in its own repo tagged v1."""
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", commit, *template_parts_at(REPO, commit)],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    git(dest, "init", "-q", "-b", "main")
    commit_all(dest, f"hexforge at {commit}")
    git(dest, "tag", "v1")
    return dest


def to_this_version(template: Path, tag: str) -> None:
    for part in TEMPLATE_PARTS:
        target = template / part
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        source = REPO / part
        if source.is_dir():
            shutil.copytree(
                source, target, symlinks=True, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(source, target)
    tag_template(template, tag)


SEED_BEFORE = textwrap.dedent(
    """
    import asyncio
    import os
    from uuid import UUID

    from psycopg_pool import AsyncConnectionPool

    from components.orders.adapters.outbound.postgres_repo import (
        PostgresOrderRepository,
        create_schema,
    )
    from components.orders.domain.model import Order, OrderDraft, OrderId


    async def main() -> None:
        async with AsyncConnectionPool(os.environ["TEST_DATABASE_URL"], min_size=1) as pool:
            await create_schema(pool)  # how the table was made before migrations
            repository = PostgresOrderRepository(pool)
            for n in (1, 2, 3):
                row = OrderId(UUID(f"00000000-0000-4000-8000-00000000000{n}"))
                await repository.add(Order.create(row, OrderDraft(customer=f"c{n}", total=n)))


    asyncio.run(main())
    """
)


def test_a_project_from_before_migrations_updates_onto_them_keeping_every_row(
    tmp_path: Path, generated_venv: Path
) -> None:
    template = template_before_migrations(tmp_path / "hexforge")
    project = init_repo(tmp_path / "shop")
    data = {"kind": "component", "component_name": "orders", "fields": FIELDS}
    copier_copy(template, project, data, vcs_ref="v1")
    commit_all(project, "scaffold before migrations")
    assert not (project / MIGRATIONS).exists()

    with postgres_server(project) as dsn:
        run_script(project, generated_venv, SEED_BEFORE, dsn)
        rows = run_script(project, generated_venv, COUNT_ROWS, dsn)
        to_this_version(template, "v2")

        copier_update(project, ORDERS_ANSWERS)

        baseline = (project / MIGRATIONS / "0001_adopt_orders.sql").read_text()
        assert 'CREATE TABLE IF NOT EXISTS "orders"' in baseline
        assert "create_schema" not in (project / "app/main.py").read_text()
        assert "asyncio.to_thread(check_schema, url)" in (project / "app/main.py").read_text()
        assert (
            "applied orders/0001_adopt_orders" in migrate(project, generated_venv, dsn, "up").stdout
        )
        status = json.loads(
            migrate(project, generated_venv, dsn, "status", "--format", "json").stdout
        )
        assert [m["state"] for m in status["migrations"]] == ["applied"]
        assert run_script(project, generated_venv, COUNT_ROWS, dsn) == rows
        assert "c1" in rows and "c3" in rows
        commit_all(project, "onto migrations")

        # From then on it evolves by migrations.
        copier_update(project, ORDERS_ANSWERS, data={"fields": f"{FIELDS}, note:str?"})
        assert (project / MIGRATIONS / "0002_add_note.sql").exists()
        assert "applied orders/0002_add_note" in migrate(project, generated_venv, dsn, "up").stdout
        assert run_script(project, generated_venv, COUNT_ROWS, dsn) == rows
        commit_all(project, "a note")

    # The project's tools (the migrations gate among them) come with the wiring's update.
    copier_update(project, ".copier-answers.yml")
    outputs = run_gates(project, generated_venv)
    assert "skipped" not in outputs["integration"]


def test_the_migrations_gate_passes_the_generated_files_and_fails_lock_unsafe_ddl(
    tmp_path: Path, generated_venv: Path
) -> None:
    _, project = new_project(tmp_path)
    copier_update(
        project, ORDERS_ANSWERS, data={"fields": f"{FIELDS}, sku:str?:unique, note:str?:index"}
    )
    gate = ["python", "tools/quality_gates.py", "--only", "migrations"]
    env = gate_env(generated_venv, project)
    clean = run(gate, project, env=env)
    assert "migrations   PASS" in clean.stdout, clean.stdout

    # An index built the plain way blocks every write to a busy table while it builds.
    unsafe = project / MIGRATIONS / "0005_index_total.sql"
    unsafe.write_text('CREATE INDEX "orders_total" ON "orders" ("total");\n')
    failed = run(gate, project, env=env, check=False)
    assert failed.returncode == 1, failed.stdout
    assert "migrations/0005_index_total.sql" in failed.stdout
    assert "require-concurrent-index-creation" in failed.stdout
