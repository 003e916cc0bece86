"""Use cases (SPEC section 9, `usecases`), as issue 15 asks them to be shown.

A component is copied with two use cases, the user writes both bodies (one refusing
with the conflict exception) and commits, then a third use case is added with
`copier update -d usecases=...`. Copier's three-way merge must keep both bodies;
the gates then pass except the audit, which names exactly the third use case; once
its body is written every gate passes, and the routes answer 404, 409 and 422 as
the OpenAPI document declares, in memory and on PostgreSQL.
"""

from __future__ import annotations

import json
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
SERVICE = Path("components/products/domain/service.py")

# The bodies a user writes; reserve refuses with the conflict exception.
RESERVE = """\
        product = await self.get_product(product_id)
        if product.status is ProductStatus.DISCONTINUED:
            raise ProductConflict(f"product {product_id} is discontinued")
        if product.stock < command.quantity:
            raise ProductConflict(f"only {product.stock} left, {command.quantity} asked")
        reserved = replace(
            product, stock=product.stock - command.quantity, version=product.version + 1
        )
        await self._repository.update(reserved)
        return reserved
"""
DISCONTINUE = """\
        product = await self.get_product(product_id)
        discontinued = replace(
            product, status=ProductStatus.DISCONTINUED, version=product.version + 1
        )
        await self._repository.update(discontinued)
        return discontinued
"""
RESTOCK = """\
        product = await self.get_product(product_id)
        restocked = replace(
            product, stock=product.stock + command.quantity, version=product.version + 1
        )
        await self._repository.update(restocked)
        return restocked
"""


def write_body(project: Path, name: str, body: str) -> None:
    """Replace the generated body of use case ``name`` with ``body``, as a user does:
    from the comment above the lookup to the raise, the comment that says what to write
    included."""
    path = project / SERVICE
    text = path.read_text()
    generated = re.compile(
        r"        # ProductNotFound .*\n        await self\.get_product\(product_id\)\n"
        rf"(?:        #.*\n)*        raise NotImplementedError\(\"ProductService\.{name} .*\"\)\n"
    )
    assert len(generated.findall(text)) == 1, text
    path.write_text(generated.sub(lambda _match: body, text))


def import_what_the_bodies_use(project: Path) -> None:
    path = project / SERVICE
    text = path.read_text()
    text = text.replace(
        "from __future__ import annotations\n",
        "from __future__ import annotations\n\nfrom dataclasses import replace\n",
    )
    text = text.replace(
        "domain.exceptions import ProductNotFound",
        "domain.exceptions import ProductConflict, ProductNotFound",
    )
    text = text.replace(
        "domain.model import Product,", "domain.model import Product, ProductStatus,"
    )
    path.write_text(text)


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
    write_body(project, "reserve", RESERVE)
    write_body(project, "discontinue", DISCONTINUE)
    import_what_the_bodies_use(project)
    env = gate_env(generated_venv, project)
    run(["ruff", "check", "--fix", "--quiet", str(SERVICE)], project, env=env)
    run(["ruff", "format", "--quiet", str(SERVICE)], project, env=env)
    commit_all(project, "reserve and discontinue written")
    copier_update(project, "components/products/.copier-answers.yml", data={"usecases": THREE})
    return project


def test_the_update_keeps_the_written_bodies_and_adds_the_third(inventory: Path) -> None:
    service = (inventory / SERVICE).read_text()

    for body in (RESERVE, DISCONTINUE):
        assert body in service, service
    assert "<<<<<<<" not in service and ">>>>>>>" not in service
    assert 'raise NotImplementedError("ProductService.restock is not written yet")' in service
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
    assert findings[0].startswith(f"{SERVICE.as_posix()}:"), findings
    assert "HEX601 use case restock is not implemented" in findings[0]


def test_once_the_third_is_written_every_gate_passes_and_the_routes_answer(
    inventory: Path, generated_venv: Path, tmp_path: Path
) -> None:
    # Written in a copy, so the other tests of this module see the update's result.
    project = tmp_path / "inventory"
    shutil.copytree(inventory, project, symlinks=True)
    write_body(project, "restock", RESTOCK)

    run_gates(project, generated_venv)
    for database in (nullcontext(None), postgres_server(project)):
        with database as dsn, serving(project, generated_venv, dsn) as url:
            check_routes(url)


def request(url: str, method: str = "POST", body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if data else {}
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data=data, method=method, headers=headers), timeout=30
        ) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


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
    assert named == ["adjust", "reprice", "schedule", "tag", "archive"]
    http = (project / "__http__" / "order_items.http").read_text()
    for segment in ("adjust", "reprice", "schedule", "tag", "archive"):
        assert (
            f"POST {{{{baseUrl}}}}/order-items/{{{{create.response.body.$.id}}}}/{segment}\n"
            in http
        )
