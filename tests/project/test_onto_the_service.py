"""A project rendered by hexforge 0.8 (its app/main.py with its own lifespan and
schema check, errors as FastAPI's {"detail": ...}) syncs onto hexforge.service: the
unedited app/main.py moves onto create_service, app/settings.py and the deploy files
appear, the team's edits stay, every gate passes, and the served app speaks problems
and answers its probes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.component.gates import gate_env, run_gates
from tests.component.test_migrations import template_at, to_this_version
from tests.helpers import commit_all, copier_copy, git, init_repo, run, write_use_case_rules
from tests.project.test_serve import call, uvicorn_serving

pytestmark = pytest.mark.slow

# hexforge 0.8.0: the package, before hexforge.service.
RELEASE_0_8 = "0397bd80b48cd49604959141d29a4dbad142609f"
ORDERS = Path("components/orders")
# The team's own helper at the end of domain/service.py. (A use-case body written in
# service.py, the layout before 0.10, meets the generated method there in a conflict
# to resolve by hand: docs/rules.md. Here the use case is written after the sync.)
USER_BODY = '''

def order_line(order: Order) -> str:
    """The team's helper: one line about an order."""
    return f"{order.customer}: {order.total}"
'''


def test_a_0_8_project_syncs_onto_the_service_keeping_its_edits(
    tmp_path: Path, generated_venv: Path
) -> None:
    template = template_at(RELEASE_0_8, tmp_path / "hexforge")
    project = init_repo(tmp_path / "shop")
    answers = {
        "kind": "component",
        "component_name": "orders",
        "fields": "customer:str:unique, total:decimal",
        "usecases": "pay()",
    }
    copier_copy(template, project, answers, vcs_ref="v1")
    main = project / "app" / "main.py"
    assert "def check_schema(" in main.read_text() and not (project / "Dockerfile").exists()
    service = project / ORDERS / "domain" / "service.py"
    service.write_text(service.read_text() + USER_BODY)
    commit_all(project, "0.8 and the team's rule")

    to_this_version(template, "v2")
    synced = run([sys.executable, "tools/sync.py"], project)

    assert "app/main.py is yours" not in synced.stdout + synced.stderr
    assert git(project, "status", "--porcelain") == ""
    assert "create_service(" in main.read_text() and "check_schema" not in main.read_text()
    assert "class Settings(ServiceSettings):" in (project / "app" / "settings.py").read_text()
    for deploy in ("Dockerfile", "compose.yaml", ".github/workflows/gates.yml", ".dockerignore"):
        assert (project / deploy).is_file(), deploy
    assert USER_BODY in service.read_text()
    assert "otel = [" in (project / "pyproject.toml").read_text()

    # The rule of the use case, where it now lives.
    assert write_use_case_rules(project, "orders", "order") == 1
    commit_all(project, "pay written")
    run_gates(project, generated_venv)
    env = {**gate_env(generated_venv, project), "PATH": f"{generated_venv / 'bin'}:/usr/bin:/bin"}
    with uvicorn_serving(generated_venv / "bin" / "uvicorn", project, env) as base:
        assert call("GET", f"{base}/readyz") == (200, {"status": "ready"})
        status, problem = call("GET", f"{base}/orders/00000000-0000-4000-8000-000000000000")
        assert (status, problem["type"]) == (404, "urn:problem:OrderNotFound")
