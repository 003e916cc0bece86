"""The OpenAPI document of a generated service tells the truth (SPEC section 11).

Schemathesis, a schema-driven API fuzzer, derives requests from the document of a
component whose fields carry every type and modifier, and sends them to the
service running under uvicorn, in memory and on PostgreSQL: no request may meet
a server error, a status the document does not declare, or a refusal although it
follows the schema. (A request that breaks the schema may still be accepted: the
API is lenient in what it takes, "5" for a decimal, so that check is left out.)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pytest

from tests.component.gates import gate_env
from tests.component.test_generated_component import SPEC_FIELDS, scaffold
from tests.component.test_update import postgres_server

pytestmark = pytest.mark.slow

EVERY_MODIFIER = (
    f"{SPEC_FIELDS}, when:datetime?:gt=2020-01-01T00:00:00Z, "
    "day:date:ge=1990-05-05:le=2030-01-01, ratio:float?:ge=0:lt=1, code:uuid?:unique, "
    "flag:bool:default=true, rank:int?:index:gt=-100"
)
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "positive_data_acceptance",
        "response_schema_conformance",
        "content_type_conformance",
    ]
)
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# A list's cursor is valid only as the API made it, for the sort and filters it was
# made with (anything else is 422, SPEC section 8), which no schema can describe:
# the fuzzer sends an empty one, the first page. The component's tests cover cursors.
CONFIG = '[parameters]\n"query.cursor" = ""\n'


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(project: Path, venv: Path, database_url: str | None) -> Iterator[str]:
    """The project's app under uvicorn; yields its base URL."""
    env = {**os.environ, **gate_env(venv, project)}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
        env["HEXFORGE_MIGRATE_ON_START"] = "1"  # a fresh database: the app migrates it
    port = free_port()
    server = subprocess.Popen(
        ["uvicorn", "app.main:app", "--port", str(port), "--log-level", "warning"],
        cwd=project,
        env=env,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory, template_v1: Path) -> Path:
    project = tmp_path_factory.mktemp("fuzz") / "inventory"
    scaffold(template_v1, project, "products", "Product", EVERY_MODIFIER)
    return project


def fuzz(
    url: str, folder: Path, *, max_examples: int, seed: int, headers: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """schemathesis on the service at ``url``, every check above, each header sent."""
    config = folder / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [str(SCHEMATHESIS), f"--config-file={config}", "run", f"{url}/openapi.json"]
    command += ["--wait-for-schema=60", f"--checks={CHECKS}", f"--max-examples={max_examples}"]
    command += [f"--seed={seed}", "--workers=1"]
    for header in headers:
        command += ["-H", header]
    return subprocess.run(
        command, cwd=folder, capture_output=True, text=True, check=False, timeout=900
    )


@pytest.mark.parametrize("adapter", ["memory", "postgres"])
def test_a_schema_driven_fuzzer_finds_nothing_the_document_does_not_say(
    inventory: Path, generated_venv: Path, tmp_path: Path, adapter: str
) -> None:
    database = postgres_server(inventory) if adapter == "postgres" else nullcontext(None)
    with database as dsn, serving(inventory, generated_venv, dsn) as url:
        result = fuzz(url, tmp_path, max_examples=40, seed=20261130)

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "7 selected / 7 total" in result.stdout  # 5 routes, /healthz, /readyz
