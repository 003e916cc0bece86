"""A generated project installed the way production installs it: its wheel into a
fresh virtualenv, hexforge resolved from the pin in its pyproject.toml (the
template's git repository at the version rendered), then run from a folder that is
not the project: `hexforge migrate up` on PostgreSQL, then `uvicorn app.main:app`.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.helpers import commit_all, copier_copy, init_repo, run, write_use_case_rules
from tests.project.test_serve import call, uvicorn_serving

pytestmark = pytest.mark.slow

WAREHOUSES = {"kind": "component", "component_name": "warehouses", "fields": "name:str"}
PRODUCTS = {
    "kind": "component",
    "component_name": "products",
    "fields": "sku:str:unique:max_length=20, warehouse:ref[warehouses]",
    "usecases": "discontinue()",
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, template_v1: Path) -> Path:
    project = init_repo(tmp_path_factory.mktemp("installed") / "shop")
    copier_copy(template_v1, project, WAREHOUSES)
    copier_copy(template_v1, project, PRODUCTS)
    assert write_use_case_rules(project, "products", "product") == 1
    commit_all(project, "two components, a use case written")
    return project


def test_the_project_pins_hexforge_to_the_template_version_it_came_from(
    shop: Path, template_v1: Path
) -> None:
    dependencies = tomllib.loads((shop / "pyproject.toml").read_text("utf-8"))["project"][
        "dependencies"
    ]
    pins = [line for line in dependencies if line.startswith("hexforge")]
    assert pins == [f"hexforge @ git+file://localhost{template_v1.resolve().as_posix()}@v1"]
    # The render-only packages stay out of a service's install.
    assert not [line for line in dependencies if re.match(r"(copier|tomlkit|ruamel)", line)]


def test_the_wheel_installs_alone_and_serves_from_any_folder(
    shop: Path, tmp_path: Path, generated_venv: Path
) -> None:
    dist = tmp_path / "dist"
    run(
        [
            generated_venv / "bin" / "python",
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            dist,
            shop,
        ],
        tmp_path,
    )
    wheel = next(dist.glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for component in ("warehouses", "products"):
        assert (
            f"components/{component}/adapters/outbound/migrations/0001_create_{component}.sql"
            in names
        )
    assert not [name for name in names if name.startswith(("tools/", "src/"))]

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv], tmp_path)
    # Only the wheel is named: hexforge comes from the pin, from the template's git.
    run([venv / "bin" / "python", "-m", "pip", "install", "-q", wheel], tmp_path, timeout=900)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    cluster = importlib.import_module("hexforge.pytest_plugin")._Cluster.start()
    try:
        env = {"DATABASE_URL": cluster.dsn}
        done = run([venv / "bin" / "hexforge", "migrate", "up"], elsewhere, env=env)
        assert "products/0001" in done.stdout and "warehouses/0001" in done.stdout, done.stdout
        status = run(
            [venv / "bin" / "hexforge", "migrate", "status", "--format", "json"], elsewhere, env=env
        )
        assert "pending" not in {m["state"] for m in json.loads(status.stdout)["migrations"]}
        uvicorn = venv / "bin" / "uvicorn"
        with uvicorn_serving(uvicorn, elsewhere, {**env, "PATH": "/usr/bin:/bin"}) as base:
            # The container's steps: wheel, fresh venv, migrate, serve, probes.
            assert call("GET", f"{base}/healthz") == (200, {"status": "ok"})
            assert call("GET", f"{base}/readyz") == (200, {"status": "ready"})
            status_code, warehouse = call("POST", f"{base}/warehouses", {"name": "north"})
            assert status_code == 201, warehouse
            product = {"sku": "a-1", "warehouse": warehouse["id"]}
            status_code, created = call("POST", f"{base}/products", product)
            assert status_code == 201, created
            url = f"{base}/products/{created['id']}"
            assert call("GET", url) == (200, created)
            status_code, page = call("GET", f"{base}/products?limit=5")
            assert [item["id"] for item in page["items"]] == [created["id"]]
            assert call("POST", f"{url}/discontinue", {}) == (200, created)
            unknown = {"sku": "a-2", "warehouse": "00000000-0000-4000-8000-000000000000"}
            assert call("POST", f"{base}/products", unknown)[0] == 422
    finally:
        cluster.stop()
