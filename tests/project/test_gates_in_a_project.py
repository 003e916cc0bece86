"""tools/quality_gates.py and components/conftest.py in a generated project, as an agent
runs them: real components, the real PostgreSQL fixture, a git repository.

Three components: the gates share their test modules out between two pytest
processes (each with its own throwaway cluster, started while pytest collects), and
plain ``pytest -n 2`` runs pytest-xdist workers on one cluster, a database each.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.component.gates import gate_env
from tests.helpers import (
    BIN,
    commit_all,
    copier_copy,
    git,
    init_repo,
    run,
    snapshot_template,
    tag_template,
)

pytestmark = pytest.mark.slow

EVIDENCE = Path(".claude") / "evidence"
COMPONENTS = (
    ("orders", "customer:str, total:decimal"),
    ("customers", "email:str"),
    ("invoices", "number:int"),
)
# What the wiring's .gitignore must hold for the gates to leave git status clean.
GITIGNORE = """\
.venv/
__pycache__/
*.py[cod]
*.egg-info/
.pytest_cache/
.mypy_cache/
.ruff_cache/
.hypothesis/
.import_linter_cache/
.claude/evidence/
"""


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory, template_v1: Path) -> Path:
    project = init_repo(tmp_path_factory.mktemp("gates") / "shop")
    for name, fields in COMPONENTS:
        data = {"kind": "component", "component_name": name, "fields": fields}
        copier_copy(template_v1, project, data)
    ignored = (project / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert set(GITIGNORE.splitlines()) <= set(ignored), ignored
    commit_all(project, "three components")
    return project


@pytest.fixture
def project(three: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "shop"
    shutil.copytree(three, copy, symlinks=True)
    return copy


@pytest.fixture
def own_tmp() -> Iterator[Path]:
    """A TMPDIR of the test's own, to see what the test run leaves in it (as /tmp is:
    the cluster runs as the postgres user when we are root)."""
    folder = Path(tempfile.mkdtemp(prefix="gates-tmp-", dir="/tmp"))
    folder.chmod(0o1777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def gates(project: Path, venv: Path, *args: str, timeout: float = 900) -> tuple[int, str]:
    result = run(
        ["python", "tools/quality_gates.py", *args],
        project,
        env=gate_env(venv, project),
        check=False,
        timeout=timeout,
    )
    return result.returncode, result.stdout + result.stderr


def evidence(project: Path, name: str) -> Any:
    return json.loads((project / EVIDENCE / name).read_text())


def processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(f"{entry.name}: {cmdline}")
    return found


def test_gates_then_changed_leave_git_status_clean(project: Path, generated_venv: Path) -> None:
    code, output = gates(project, generated_venv, "--test-workers", "2")
    assert code == 0, output
    run_file = evidence(project, "quality_gates_run.json")
    statuses = {gate["name"]: gate["status"] for gate in run_file["gates"]}
    assert statuses == {
        **dict.fromkeys(("ruff", "format", "mypy", "imports", "audit", "migrations"), "passed"),
        **dict.fromkeys(("unit", "integration", "regression"), "passed"),
        "stories": "skipped",
    }
    report = evidence(project, "test_report.json")
    assert report["run"]["workers"] == 2
    assert all(report["run"]["shares"])
    full_unit = report["unit"]["passed"]
    assert report["integration"]["skipped"] == 0
    assert report["regression"]["tests"] == 0
    assert git(project, "status", "--porcelain") == ""

    model = project / "components" / "orders" / "domain" / "model.py"
    model.write_text(model.read_text() + "\n\n# an edit\n")
    code, output = gates(project, generated_venv, "--changed")
    assert code == 0, output
    assert "--changed: 1 of 3 components: orders changed since HEAD" in output
    run_file = evidence(project, "quality_gates_run.json")
    assert run_file["changed"]["components"] == ["orders"]
    by_name = {gate["name"]: gate for gate in run_file["gates"]}
    for name in ("ruff", "format", "mypy", "audit", "unit", "integration"):
        assert by_name[name]["limited_to"] == ["orders"], name
        assert "components/orders" in by_name[name]["command"], name
    assert "limited_to" not in by_name["imports"]
    report = evidence(project, "test_report.json")
    assert report["limited_to"] == ["orders"]
    assert 0 < report["unit"]["passed"] < full_unit
    assert git(project, "status", "--porcelain") == " M components/orders/domain/model.py\n"


EARLY_PROBE = """
import os
from pathlib import Path

import pytest

from hexforge import pytest_plugin


@pytest.mark.integration
def test_where_the_cluster_came_from(postgres_dsn: str) -> None:
    early = pytest_plugin._EARLY
    came = "early" if early is not None and early.result().dsn == postgres_dsn else "late"
    Path(os.environ["SEEN"]).write_text(came)
"""


def test_the_gates_start_postgres_while_pytest_collects(
    project: Path, generated_venv: Path, tmp_path: Path
) -> None:
    """The gates ask for the cluster at once (HEXFORGE_POSTGRES_EARLY=1: it starts as
    components/conftest.py loads hexforge's plugin); a plain pytest run starts it at
    the first test that needs it."""
    (project / "components/orders/tests/integration/test_probe.py").write_text(EARLY_PROBE)
    seen = tmp_path / "seen"
    env = {**gate_env(generated_venv, project), "SEEN": str(seen)}
    gates_run = run(
        ["python", "tools/quality_gates.py", "--only", "integration"], project, env=env, check=False
    )
    assert gates_run.returncode == 0, gates_run.stdout + gates_run.stderr
    assert seen.read_text() == "early"
    plain = ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "integration"]
    result = run(plain, project, env=env, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert seen.read_text() == "late"


HANGING = """
import os
import signal
import time
from pathlib import Path

import pytest


@pytest.mark.integration
def test_hangs_holding_the_database(postgres_dsn: str) -> None:
    if os.environ.get("HANG_STUBBORN"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    Path(os.environ["HANG_DSN"]).write_text(postgres_dsn)
    time.sleep(3600)
"""


@pytest.mark.parametrize("stubborn", [False, True], ids=["polite", "ignores-sigint-sigterm"])
def test_a_timed_out_test_run_leaves_no_postgres_behind(
    project: Path,
    generated_venv: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stubborn: bool,
) -> None:
    (project / "components/orders/tests/integration/test_hang.py").write_text(HANGING)
    marker = tmp_path / "dsn"
    monkeypatch.setenv("HANG_DSN", str(marker))
    if stubborn:
        monkeypatch.setenv("HANG_STUBBORN", "1")
    code, output = gates(project, generated_venv, "--only", "integration", "--timeout", "40")
    assert code == 1, output
    integration = {g["name"]: g for g in evidence(project, "quality_gates_run.json")["gates"]}
    assert integration["integration"]["summary"].startswith("timed out after 40s")
    host = re.search(r"host=([^ &]+)", marker.read_text())
    assert host is not None, marker.read_text()
    assert processes_mentioning(host[1]) == []
    assert not Path(host[1]).exists()


def test_xdist_workers_share_one_cluster_with_a_database_each(
    project: Path, generated_venv: Path, tmp_path: Path, own_tmp: Path
) -> None:
    seen = tmp_path / "databases"
    seen.mkdir()
    probe = """
    import os
    from pathlib import Path

    import psycopg
    import pytest


    @pytest.mark.integration
    @pytest.mark.parametrize("n", range(8))
    def test_database_of_this_worker(postgres_dsn: str, n: int) -> None:
        with psycopg.connect(postgres_dsn) as connection:
            row = connection.execute("SELECT current_database(), inet_server_port()").fetchone()
        assert row is not None
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        (Path(os.environ["SEEN"]) / f"{worker}-{n}").write_text(f"{row[0]} {postgres_dsn}")
    """
    target = project / "components/orders/tests/integration/test_worker_database.py"
    target.write_text("\n".join(line[4:] for line in probe.splitlines()).lstrip())
    env = {**gate_env(generated_venv, project), "TMPDIR": str(own_tmp), "SEEN": str(seen)}
    command = ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2"]
    # The probe alone: among the component's other tests, xdist may hand all eight of
    # its cases to one worker in a single chunk (the test then failed now and then).
    probe_only = [*command, "-m", "integration", str(target.relative_to(project))]
    result = run(probe_only, project, env=env, check=False)
    assert result.returncode == 0, result.stdout + result.stderr

    records = [path.read_text().split(" ", 1) for path in seen.iterdir()]
    by_worker = {path.name.split("-")[0] for path in seen.iterdir()}
    assert by_worker == {"gw0", "gw1"}  # both workers ran some
    databases = {database for database, _ in records}
    assert databases == {"test_gw0", "test_gw1"}
    hosts = {match[1] for _, dsn in records if (match := re.search(r"host=([^ &]+)", dsn))}
    assert len(hosts) == 1  # one cluster
    (host,) = hosts
    assert processes_mentioning(host) == []
    assert [p.name for p in own_tmp.iterdir() if p.name.startswith("pg-")] == []


def test_xdist_workers_get_databases_in_the_test_database_url_server(
    project: Path, generated_venv: Path, own_tmp: Path
) -> None:
    import importlib

    module = importlib.import_module("hexforge.pytest_plugin")  # components/conftest.py's
    cluster = module._Cluster.start(Path(tempfile.mkdtemp(prefix="pg-", dir=own_tmp)))
    try:
        env = {**gate_env(generated_venv, project), "TEST_DATABASE_URL": cluster.dsn}
        command = ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2"]
        result = run([*command, "-m", "integration"], project, env=env, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        psql = [
            str(module._find_bin_dir() / "psql"),
            "-h",
            str(cluster.root),
            "-p",
            str(module.PORT),
            "-U",
            "postgres",
            "-Atc",
            "SELECT datname FROM pg_database ORDER BY 1",
        ]
        listed = run(psql, project).stdout.split()
        assert "postgres" in listed
        assert [name for name in listed if name.startswith("postgres_gw")] == []  # dropped
    finally:
        cluster.stop()
    assert processes_mentioning(str(cluster.root)) == []


def test_gates_then_sync_then_gates_with_a_venv_leave_nothing_behind(
    tmp_path: Path, generated_venv: Path
) -> None:
    """The agent's loop: gates, a template release synced in, gates again, in a project
    with its own virtualenv: sync is never refused and git status stays empty."""
    template = snapshot_template(tmp_path / "template", tag="v1")
    project = init_repo(tmp_path / "shop")
    copier_copy(template, project, {"kind": "component", "component_name": "orders"})
    commit_all(project, "orders at v1")
    run(["python", "-m", "venv", "--without-pip", ".venv"], project)
    assert git(project, "status", "--porcelain") == ""

    code, output = gates(project, generated_venv)
    assert code == 0, output
    assert git(project, "status", "--porcelain") == ""

    note = template / "template" / "project" / ".claude" / "HEXFORGE.md.jinja"
    note.write_text(note.read_text() + "\nTemplate v2.\n")
    tag_template(template, "v2", "template v2")
    synced = run(
        ["python", "tools/sync.py"],
        project,
        env={"PATH": f"{BIN}:{os.environ.get('PATH', '')}"},
        check=False,
    )
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert "Template v2." in (project / ".claude" / "HEXFORGE.md").read_text()
    assert git(project, "status", "--porcelain") == ""

    code, output = gates(project, generated_venv)
    assert code == 0, output
    assert git(project, "status", "--porcelain") == ""
