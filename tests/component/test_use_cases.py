"""Use cases (SPEC section 9, `usecases`), as issue 15 asks them to be shown.

A component is copied with two use cases, the user writes both rules (one refusing
with the conflict exception) in the modules hexforge started in domain/use_cases/
and commits, then a third use case is added with `copier update -d usecases=...`.
The update must leave both modules as they are and start the third; the gates then
pass except the audit, which names exactly the third use case; once its rule is
written every gate passes, and the routes answer 404, 409 and 422 as the OpenAPI
document declares, in memory and on PostgreSQL.
"""

from __future__ import annotations

import re
import shutil
import time
import urllib.error
import urllib.request
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest

from tests.component.gates import GATES, gate_env, run_gates
from tests.component.test_openapi_fuzz import serving
from tests.component.test_update import postgres_server
from tests.helpers import (
    commit_all,
    copier_copy,
    copier_update,
    git,
    http,
    init_repo,
    refusal_line,
    run,
    tree_bytes,
)

pytestmark = pytest.mark.slow

FIELDS = (
    "sku:str:unique:max_length=40, stock:int:ge=0:default=0, "
    "status:enum[active|discontinued]:default=active"
)
TWO = "reserve(quantity:int:gt=0), discontinue()"
THREE = f"{TWO}, restock(quantity:int:gt=0, note:str?:max_length=80)"
USE_CASES = Path("components/products/domain/use_cases")


def rule_module(
    name: str, command: str, body: str, *, imports: str = "", model: str = "Product"
) -> str:
    """A use case's module as a user writes it: the rule, its imports, nothing else."""
    return f"""\
\"\"\"{name}: the rule of the use case.\"\"\"

from __future__ import annotations

from dataclasses import replace

from hexforge.actor import Actor

from components.products.domain.commands import {command}
{imports}from components.products.domain.model import {model}


def {name}(product: Product, command: {command}, actor: Actor) -> Product:
{body}"""


# The rules a user writes; reserve refuses with the conflict exception.
RESERVE = rule_module(
    "reserve",
    "ReserveProduct",
    """\
    if product.status is ProductStatus.DISCONTINUED:
        raise ProductConflict(f"product {product.id} is discontinued")
    if product.stock < command.quantity:
        raise ProductConflict(f"only {product.stock} left, {command.quantity} asked")
    return replace(product, stock=product.stock - command.quantity)
""",
    imports="from components.products.domain.exceptions import ProductConflict\n",
    model="Product, ProductStatus",
)
DISCONTINUE = rule_module(
    "discontinue",
    "DiscontinueProduct",
    """\
    return replace(product, status=ProductStatus.DISCONTINUED)
""",
    model="Product, ProductStatus",
)
RESTOCK = rule_module(
    "restock",
    "RestockProduct",
    """\
    return replace(product, stock=product.stock + command.quantity)
""",
)


def write_rule(project: Path, name: str, module: str) -> None:
    """Write the rule of use case ``name`` over the module hexforge started it with."""
    path = project / USE_CASES / f"{name}.py"
    assert 'raise NotImplementedError("' in path.read_text(), path.read_text()
    path.write_text(module)


def failing_gates(project: Path, venv: Path) -> dict[str, str]:
    """Each gate that fails, with its output."""
    failed = {}
    for name, command in GATES:
        result = run(command, project, env=gate_env(venv, project), check=False)
        if result.returncode != 0:
            failed[name] = result.stdout + result.stderr
    return failed


@pytest.fixture(scope="module")
def inventory(
    tmp_path_factory: pytest.TempPathFactory, template_v1: Path, generated_venv: Path
) -> Path:
    """Two use cases copied, both bodies written and committed, a third added by update."""
    project = init_repo(tmp_path_factory.mktemp("usecases") / "inventory")
    copier_copy(
        template_v1,
        project,
        {
            "kind": "component",
            "component_name": "products",
            "entity_name": "Product",
            "fields": FIELDS,
            "usecases": TWO,
        },
    )
    commit_all(project, "products with two use cases")
    write_rule(project, "reserve", RESERVE)
    write_rule(project, "discontinue", DISCONTINUE)
    commit_all(project, "reserve and discontinue written")
    copier_update(project, "components/products/.copier-answers.yml", data={"usecases": THREE})
    return project


def test_the_update_keeps_the_written_rules_and_adds_the_third(inventory: Path) -> None:
    assert (inventory / USE_CASES / "reserve.py").read_text() == RESERVE
    assert (inventory / USE_CASES / "discontinue.py").read_text() == DISCONTINUE
    started = (inventory / USE_CASES / "restock.py").read_text()
    assert 'raise NotImplementedError("restock is not written yet")' in started
    assert "def restock(product: Product, command: RestockProduct, actor: Actor)" in started
    service = (inventory / "components/products/domain/service.py").read_text()
    for name in ("reserve", "discontinue", "restock"):
        assert f"use_cases.{name}(current, command, actor)" in service
    for path in inventory.rglob("*.py"):
        assert "<<<<<<<" not in path.read_text(), path
    assert not list(inventory.rglob("*.rej"))
    unmerged = [
        line for line in git(inventory, "status", "--porcelain").splitlines() if "U" in line[:2]
    ]
    assert not unmerged
    answers = (inventory / "components/products/.copier-answers.yml").read_text()
    assert f"usecases: {THREE}" in answers


def test_a_bad_use_case_list_is_refused_in_one_line_and_nothing_is_written(
    tmp_path: Path, template_v1: Path
) -> None:
    project = init_repo(tmp_path / "shop")
    before = tree_bytes(project)
    data = {"kind": "component", "component_name": "products", "fields": FIELDS}

    result = copier_copy(
        template_v1, project, {**data, "usecases": "reserve(), reserve()"}, check=False
    )

    line = refusal_line(result)
    assert line == (
        "Validation error for question 'usecases': use case 'reserve' appears twice: "
        "use case names must be unique"
    )
    assert tree_bytes(project) == before
    result = copier_copy(template_v1, project, {**data, "usecases": "delete()"}, check=False)
    assert "use case 'delete' collides with the generated create" in refusal_line(result)
    assert tree_bytes(project) == before


def test_the_gates_pass_but_the_audit_which_names_exactly_the_third(
    inventory: Path, generated_venv: Path
) -> None:
    failed = failing_gates(inventory, generated_venv)

    assert set(failed) == {"audit"}, failed
    findings = [line for line in failed["audit"].splitlines() if " HEX" in line]
    assert len(findings) == 1, failed["audit"]
    assert findings[0].startswith(f"{(USE_CASES / 'restock.py').as_posix()}:"), findings
    assert "HEX601 use case restock is not implemented" in findings[0]


def test_once_the_third_is_written_every_gate_passes_and_the_routes_answer(
    inventory: Path, generated_venv: Path, tmp_path: Path
) -> None:
    # Written in a copy, so the other tests of this module see the update's result.
    project = tmp_path / "inventory"
    shutil.copytree(inventory, project, symlinks=True)
    write_rule(project, "restock", RESTOCK)

    run_gates(project, generated_venv)
    for database in (nullcontext(None), postgres_server(project)):
        with database as dsn, serving(project, generated_venv, dsn) as url:
            check_routes(url)


def request(url: str, method: str = "POST", body: Any = None) -> tuple[int, Any]:
    status, answer, _ = http(url, method, body)
    return status, answer


def check_routes(url: str) -> None:
    for _ in range(600):  # uvicorn takes a moment to start
        try:
            status, document = request(f"{url}/openapi.json", "GET")
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    assert status == 200
    status, created = request(f"{url}/products", body={"sku": "A-1", "stock": 5})
    assert status == 201, created
    item = f"{url}/products/{created['id']}"
    unknown = f"{url}/products/00000000-0000-4000-8000-00000000dead"
    answers = [
        ("reserve", f"{unknown}/reserve", {"quantity": 1}, 404),
        ("reserve", f"{item}/reserve", {"quantity": 0}, 422),
        ("reserve", f"{item}/reserve", {"quantity": 9}, 409),
        ("reserve", f"{item}/reserve", {"quantity": 2}, 200),
        ("restock", f"{item}/restock", {"quantity": 4}, 200),
        ("restock", f"{unknown}/restock", {"quantity": 4}, 404),
        ("restock", f"{item}/restock", {"quantity": 4, "note": "x" * 81}, 422),
        ("discontinue", f"{unknown}/discontinue", None, 404),
        ("discontinue", f"{item}/discontinue", None, 200),
        ("reserve", f"{item}/reserve", {"quantity": 1}, 409),
    ]
    for name, target, body, expected in answers:
        status, answer = request(target, body=body)
        assert status == expected, (target, body, answer)
        declared = document["paths"][f"/products/{{product_id}}/{name}"]["post"]["responses"]
        assert str(status) in declared, (name, status, sorted(declared))
    status, product = request(item, "GET")
    assert (product["stock"], product["status"], product["version"]) == (7, "discontinued", 4)


# Every scalar type, optional and defaulted inputs, every modifier a command takes.
EVERY_INPUT = (
    "adjust(by:int:ge=-5:le=5, reason:str:min_length=2:max_length=9, ratio:float?:gt=0:lt=1), "
    "reprice(price:decimal:gt=0:le=1000, note:str?), "
    "schedule(day:date:ge=2024-01-01, at:datetime?:lt=2100-01-01T00:00:00Z), "
    "tag(code:uuid, urgent:bool:default=false, weight:float:default=1.5), "
    "archive()"
)


def test_use_cases_with_every_input_type_pass_every_gate_but_the_audit(
    tmp_path: Path, template_v1: Path, generated_venv: Path
) -> None:
    project = init_repo(tmp_path / "shop")
    data = {"kind": "component", "component_name": "order_items", "usecases": EVERY_INPUT}
    copier_copy(template_v1, project, {**data, "fields": FIELDS})

    failed = failing_gates(project, generated_venv)

    assert set(failed) == {"audit"}, failed
    named = re.findall(r"HEX601 use case (\w+) is not implemented", failed["audit"])
    assert named == ["adjust", "archive", "reprice", "schedule", "tag"]
    http = (project / "__http__" / "order_items.http").read_text()
    for segment in ("adjust", "reprice", "schedule", "tag", "archive"):
        assert (
            f"POST {{{{baseUrl}}}}/order-items/{{{{create.response.body.$.id}}}}/{segment}\n"
            in http
        )
