"""Components that reference each other (`warehouse:ref[warehouses]`), as a user builds them.

Rendered with the copier CLI into a git repository, run through the project's own gates,
served over HTTP in memory and on PostgreSQL; then the boundaries between components are
tested: a planted import of another component's internals, and tools/remove.py.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.component.gates import gate_env, run_gates
from tests.component.test_update import migrate, postgres_server
from tests.helpers import (
    commit_all,
    copier_copy,
    copier_update,
    git,
    init_repo,
    refusal_line,
    run,
    tree_bytes,
)

pytestmark = pytest.mark.slow

WAREHOUSES = {"kind": "component", "component_name": "warehouses", "fields": "name:str"}
PRODUCTS = {
    "kind": "component",
    "component_name": "products",
    "fields": "sku:str:unique, warehouse:ref[warehouses], backup:ref[warehouses]?",
}
UNKNOWN = "00000000-0000-4000-8000-00000000beef"

# Served by app/main.py's create_app, its lifespan run as uvicorn runs it.
SERVE = """
import asyncio, json, sys
import httpx
from app.main import create_app
from app.settings import Settings

async def main() -> None:
    app = create_app(Settings(database_url=sys.argv[1] or None))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            warehouse = (await client.post("/warehouses", json={"name": "north"})).json()
            unknown = await client.post("/products", json={"sku": "a", "warehouse": "UNKNOWN"})
            known = await client.post("/products", json={"sku": "a", "warehouse": warehouse["id"]})
            replaced = await client.put(
                f"/products/{known.json()['id']}",
                json={"sku": "a", "warehouse": warehouse["id"], "backup": "UNKNOWN", "version": 1},
            )
    print(json.dumps([[r.status_code, r.json()] for r in (unknown, known, replaced)]))

asyncio.run(main())
""".replace("UNKNOWN", UNKNOWN)


def serve(project: Path, venv: Path, dsn: str = "") -> list[list[object]]:
    env = gate_env(venv, project)
    result = run(["python", "-c", textwrap.dedent(SERVE), dsn], project, env=env)
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def shop(tmp_path: Path, template: Path) -> Path:
    project = init_repo(tmp_path / "shop")
    copier_copy(template, project, WAREHOUSES)
    copier_copy(template, project, PRODUCTS)
    commit_all(project, "warehouses and products")
    return project


def tool(project: Path, venv: Path, *command: str) -> tuple[int, str]:
    result = run(list(command), project, env=gate_env(venv, project), check=False)
    return result.returncode, result.stdout + result.stderr


def test_a_dangling_reference_is_422_and_a_real_one_201_in_memory_and_on_postgres(
    tmp_path: Path, template_v1: Path, generated_venv: Path
) -> None:
    project = shop(tmp_path, template_v1)
    outputs = run_gates(project, generated_venv)
    assert "skipped" not in outputs["integration"]
    assert (
        "test_create_with_an_unknown_id_is_422_naming_the_field"
        in run(
            [
                "python",
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "--collect-only",
                "-m",
                "integration",
            ],
            project,
            env=gate_env(generated_venv, project),
        ).stdout
    )
    registry = (project / "app" / "components.py").read_text()
    assert registry.index("warehouses_service = warehouses_compose.build(pool)") < registry.index(
        "products_service = products_compose.build("
    )

    with postgres_server(project) as dsn:
        migrate(project, generated_venv, dsn, "up")
        for answers in (serve(project, generated_venv), serve(project, generated_venv, dsn)):
            (unknown, unknown_body), (known, known_body), (replaced, replaced_body) = answers
            assert unknown == 422 and unknown_body["detail"].startswith("warehouse: ")
            assert UNKNOWN in unknown_body["detail"]
            assert known == 201, known_body
            assert replaced == 422 and replaced_body["detail"].startswith("backup: ")


def test_the_public_api_is_the_only_way_in_and_remove_respects_references(
    tmp_path: Path, template_v1: Path, generated_venv: Path
) -> None:
    project = shop(tmp_path, template_v1)
    venv = generated_venv
    assert tool(project, venv, "lint-imports")[0] == 0
    assert tool(project, venv, "python", "tools/hex_audit.py", "components/")[0] == 0

    # `import components.warehouses` (the public API) pulls in no framework.
    code, output = tool(
        project,
        venv,
        "python",
        "-c",
        "import sys, components.warehouses; "
        "print([m for m in ('fastapi', 'pydantic', 'psycopg') if m in sys.modules])",
    )
    assert (code, output.strip()) == (0, "[]")

    # A planted import of another component's internals, from the allowed adapter
    # and from an inbound adapter: both tools flag both.
    planted = {
        "components/products/adapters/outbound/refs_api.py": (
            "import components.warehouses.domain.model  # planted\n"
        ),
        "components/products/adapters/inbound/api_handler.py": (
            "import components.warehouses  # planted\n"
        ),
    }
    before = tree_bytes(project)
    for relative, line in planted.items():
        path = project / relative
        path.write_text(path.read_text() + line)
        code, output = tool(project, venv, "lint-imports")
        assert code == 1 and "BROKEN" in output, output
        code, output = tool(project, venv, "python", "tools/hex_audit.py", "components/")
        assert code == 1 and f"{relative}:" in output and "HEX207" in output, output
        path.write_bytes(before[relative])

    # A change to warehouses is checked with the components that reference it.
    rules = project / "components/warehouses/domain/rules.py"
    rules.write_text(rules.read_text() + "# a change\n")
    code, output = tool(
        project, venv, "python", "tools/quality_gates.py", "--changed", "--only", "ruff"
    )
    assert code == 0, output
    evidence = json.loads((project / ".claude/evidence/quality_gates_run.json").read_text())
    assert evidence["changed"]["components"] == ["products", "warehouses"]
    rules.write_bytes(before["components/warehouses/domain/rules.py"])

    # tools/remove.py refuses to remove a referenced component, changing nothing...
    code, output = tool(project, venv, "python", "tools/remove.py", "warehouses", "--yes")
    assert code == 1
    assert "products (its field warehouse:ref[warehouses])" in output
    assert git(project, "status", "--porcelain") == ""

    # ...and removes the referencing one, leaving a project whose gates pass.
    code, output = tool(project, venv, "python", "tools/remove.py", "products", "--yes")
    assert code == 0, output
    commit_all(project, "Remove the products component")
    assert "products" not in (project / "app" / "components.py").read_text()
    run_gates(project, venv)


def test_a_ref_to_a_missing_component_or_a_cycle_is_refused_before_anything_is_written(
    tmp_path: Path, template_v1: Path
) -> None:
    project = init_repo(tmp_path / "shop")
    result = copier_copy(template_v1, project, PRODUCTS, check=False)
    assert refusal_line(result).endswith(
        "field 'warehouse': ref[warehouses] names no component of this project "
        "(components/warehouses/.copier-answers.yml is missing; its components: none): "
        "scaffold warehouses first"
    )
    assert not (project / "components").exists()

    copier_copy(template_v1, project, WAREHOUSES)
    selfish = {
        **WAREHOUSES,
        "component_name": "sites",
        "entity_name": "Place",
        "fields": "parent:ref[sites]?",
    }
    assert "references the component itself" in refusal_line(
        copier_copy(template_v1, project, selfish, check=False)
    )
    copier_copy(template_v1, project, PRODUCTS)
    commit_all(project, "warehouses and products")
    before = tree_bytes(project)

    result = copier_update(
        project,
        "components/warehouses/.copier-answers.yml",
        data={"fields": "name:str, flagship:ref[products]?"},
        check=False,
    )

    assert "ref[products] would make the references a cycle" in refusal_line(result)
    assert "warehouses -> products -> warehouses" in refusal_line(result)
    assert tree_bytes(project) == before
