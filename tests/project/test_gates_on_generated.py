"""The project's own gate runner and architecture checks, on a generated project."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.component.gates import gate_env
from tests.helpers import copier_copy, init_repo, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, template_v1: Path) -> Path:
    project = init_repo(tmp_path_factory.mktemp("gates") / "shop")
    for name, fields in (("orders", "customer:str, total:decimal"), ("customers", "email:str")):
        copier_copy(
            template_v1, project, {"kind": "component", "component_name": name, "fields": fields}
        )
    return project


def test_quality_gates_pass_and_write_the_evidence(shop: Path, generated_venv: Path) -> None:
    result = run(["python", "tools/quality_gates.py"], shop, env=gate_env(generated_venv, shop))

    evidence = shop / ".claude" / "evidence"
    gates = json.loads((evidence / "quality_gates_run.json").read_text())
    assert gates["passed"] is True, result.stdout
    names = [gate["name"] for gate in gates["gates"]]
    assert names[:8] == [
        "ruff",
        "format",
        "mypy",
        "imports",
        "audit",
        "migrations",
        "unit",
        "integration",
    ]
    assert all(gate["status"] == "passed" for gate in gates["gates"][:8])
    report = json.loads((evidence / "test_report.json").read_text())
    assert report["unit"]["failed"] == 0
    assert report["unit"]["passed"] >= 40  # two components
    assert report["integration"]["passed"] >= 80
    assert report["integration"]["skipped"] == 0
    assert not (evidence / "test_failures.json").exists()


PLANTED = [
    # (file, line to add, audit rule, import-linter contract name fragment)
    (
        "orders/domain/service.py",
        "from components.orders.adapters.outbound import memory_repo",
        "HEX201",
        "Domain never imports adapters",
    ),
    (
        "orders/domain/model.py",
        "from ..adapters.outbound import postgres_repo",
        "HEX201",
        "Domain never imports adapters",
    ),
    (
        "orders/domain/rules.py",
        "import components.customers.adapters.inbound.api_handler as other",
        "HEX201",
        "Domain never imports adapters",
    ),
    (
        "orders/ports/outbound.py",
        "from components.orders.adapters.outbound.memory_repo import InMemoryOrderRepository",
        "HEX202",
        "Ports never import adapters",
    ),
    (
        "orders/adapters/inbound/api_handler.py",
        "from components.customers.adapters.outbound import postgres_repo",
        "HEX203",
        "Inbound adapters never import outbound adapters",
    ),
    (
        "orders/adapters/outbound/postgres_repo.py",
        "import components.customers.domain.model as other",
        "HEX207",
        "Components reach each other only from an outbound adapter",
    ),
    (
        "orders/adapters/compose.py",
        "import components.customers",
        "HEX207",
        "Components reach each other only from an outbound adapter",
    ),
]


@pytest.mark.parametrize(("relative", "line", "rule", "contract"), PLANTED)
def test_a_planted_import_violation_is_flagged_by_both_checks(
    shop: Path,
    generated_venv: Path,
    tmp_path: Path,
    relative: str,
    line: str,
    rule: str,
    contract: str,
) -> None:
    project = tmp_path / "shop"
    shutil.copytree(shop, project, ignore=shutil.ignore_patterns(".git", "__pycache__"))
    target = project / "components" / relative
    lines = target.read_text().splitlines()
    # After the module docstring and `from __future__`, where a person would add an import.
    insert_at = next(i for i, text in enumerate(lines) if text.startswith("from __future__")) + 1
    lines.insert(insert_at, line)
    target.write_text("\n".join(lines) + "\n")
    env = gate_env(generated_venv, project)

    audit = run(["python", "tools/hex_audit.py", "components/"], project, env=env, check=False)
    imports = run(["lint-imports"], project, env=env, check=False)

    assert audit.returncode == 1
    assert f"components/{relative}:{insert_at + 1}: {rule}" in audit.stdout
    assert imports.returncode != 0
    assert f"{contract}" in imports.stdout
    assert "BROKEN" in imports.stdout
