"""`uvicorn app.main:app` serves a generated component over real HTTP on loopback:
in memory by default, on PostgreSQL when DATABASE_URL is set."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.component.gates import gate_env
from tests.helpers import copier_copy, init_repo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, template_v1: Path) -> Path:
    project = init_repo(tmp_path_factory.mktemp("serve") / "shop")
    copier_copy(
        template_v1,
        project,
        {"kind": "component", "component_name": "orders", "fields": "customer:str, total:decimal"},
    )
    return project


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(project: Path, venv: Path, extra_env: dict[str, str]) -> Iterator[str]:
    env = {**os.environ, **gate_env(venv, project), **extra_env}
    with uvicorn_serving(venv / "bin" / "uvicorn", project, env) as base:
        yield base


@contextmanager
def uvicorn_serving(uvicorn: Path, cwd: Path, env: dict[str, str]) -> Iterator[str]:
    """``uvicorn app.main:app`` on a free loopback port, from ``cwd``: its base URL."""
    port = free_port()
    server = subprocess.Popen(
        [str(uvicorn), "app.main:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            if server.poll() is not None:
                output = server.stdout.read() if server.stdout else ""
                raise AssertionError(f"uvicorn exited:\n{output}")
            try:
                urllib.request.urlopen(f"{base}/openapi.json", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("uvicorn did not answer within 20 s")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def call(method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def exercise_crud(base: str) -> str:
    """Create, read, list, replace, delete; returns the id of one order left in place."""
    status, created = call("POST", f"{base}/orders", {"customer": "ann", "total": "12.50"})
    assert status == 201
    assert (created["customer"], created["total"], created["version"]) == ("ann", "12.50", 1)
    url = f"{base}/orders/{created['id']}"
    assert call("GET", url) == (200, created)
    status, page = call("GET", f"{base}/orders?limit=10")
    assert status == 200
    assert [item["id"] for item in page["items"]] == [created["id"]]
    status, replaced = call("PUT", url, {"customer": "bob", "total": "3", "version": 1})
    assert (status, replaced["customer"], replaced["version"]) == (200, "bob", 2)
    assert call("PUT", url, {"customer": "eve", "total": "1", "version": 1})[0] == 409
    assert call("POST", f"{base}/orders", {"customer": "x"})[0] == 422
    assert call("DELETE", url) == (204, None)
    assert call("GET", url)[0] == 404
    status, kept = call("POST", f"{base}/orders", {"customer": "kept", "total": "1.00"})
    assert status == 201
    return str(kept["id"])


def test_serves_every_endpoint_in_memory(shop: Path, generated_venv: Path) -> None:
    with serving(shop, generated_venv, {}) as base:
        kept = exercise_crud(base)
    with serving(shop, generated_venv, {}) as base:
        # In memory: a new process starts empty.
        assert call("GET", f"{base}/orders/{kept}")[0] == 404


def _postgres_cluster(project: Path) -> Any:
    module = importlib.import_module("hexforge.pytest_plugin")  # components/conftest.py's
    return module._Cluster.start()


def test_serves_every_endpoint_on_postgres_with_database_url(
    shop: Path, generated_venv: Path
) -> None:
    cluster = _postgres_cluster(shop)
    try:
        env = {"DATABASE_URL": cluster.dsn}
        # The deploy step: the app refuses to start while migrations are pending.
        subprocess.run(
            [str(generated_venv / "bin" / "python"), "tools/migrate.py", "up"],
            cwd=shop,
            env={**os.environ, **env},
            check=True,
            capture_output=True,
        )
        with serving(shop, generated_venv, env) as base:
            kept = exercise_crud(base)
        with serving(shop, generated_venv, env) as base:
            # On PostgreSQL the order outlives the process.
            status, body = call("GET", f"{base}/orders/{kept}")
            assert (status, body["customer"]) == (200, "kept")
    finally:
        cluster.stop()
