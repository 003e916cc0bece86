"""A generated service as its operators meet it (SPEC §13), served by uvicorn over
real HTTP: probes that follow the database and the migrations, problem details for
every error, request ids in answers and log lines, the body limit, a bad setting
refused in one line, a graceful SIGTERM, spans exported; and the deploy files."""

from __future__ import annotations

import http.server
import importlib
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from tests.component.gates import gate_env
from tests.helpers import commit_all, copier_copy, init_repo, run
from tests.project.test_serve import free_port

pytestmark = pytest.mark.slow

ORDERS = {
    "kind": "component",
    "component_name": "orders",
    "fields": "customer:str:unique:max_length=40, total:decimal:ge=0",
}
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, template_v1: Path) -> Path:
    project = init_repo(tmp_path_factory.mktemp("operations") / "shop")
    copier_copy(template_v1, project, ORDERS)
    commit_all(project, "one component")
    return project


@pytest.fixture
def cluster(shop: Path, generated_venv: Path) -> Iterator[Any]:
    """A PostgreSQL cluster of its own, the project's migrations applied."""
    started = importlib.import_module("hexforge.pytest_plugin")._Cluster.start()
    try:
        env = {**os.environ, **gate_env(generated_venv, shop), "DATABASE_URL": started.dsn}
        run([generated_venv / "bin" / "hexforge", "migrate", "up"], shop, env=env)
        yield started
    finally:
        started.stop()


@dataclass
class Served:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def lines(self) -> list[str]:
        return self.log.read_text("utf-8", "replace").splitlines()


@contextmanager
def serve(shop: Path, venv: Path, log: Path, **settings: str) -> Iterator[Served]:
    """`uvicorn app.main:app` from the project on a free port, its output in ``log``."""
    port = free_port()
    env = {**os.environ, **gate_env(venv, shop), **settings}
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [venv / "bin" / "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=shop,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    served = Served(f"http://127.0.0.1:{port}", process, log)
    try:
        for _ in range(200):
            assert process.poll() is None, f"uvicorn exited:\n{log.read_text()}"
            try:
                urllib.request.urlopen(f"{served.base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("uvicorn did not answer within 20 s")
        yield served
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"content-type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            raw, status, found = response.read(), response.status, response.headers
    except urllib.error.HTTPError as error:
        raw, status, found = error.read(), error.code, error.headers
    headers = {k.lower(): v for k, v in found.items()}
    if "json" not in headers.get("content-type", "json"):
        return Answer(status, headers, raw.decode())
    return Answer(status, headers, json.loads(raw or b"null"))


def assert_problem(answer: Answer, status: int) -> dict[str, Any]:
    assert answer.status == status, answer
    assert answer.headers["content-type"] == PROBLEM, answer
    problem: dict[str, Any] = answer.body
    assert {"type", "title", "status", "detail"} <= problem.keys(), problem
    assert problem["status"] == status
    return problem


def wait_for(check: Any, seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_readiness_follows_the_migrations_and_the_database(
    shop: Path, generated_venv: Path, cluster: Any, tmp_path: Path
) -> None:
    env = {**os.environ, **gate_env(generated_venv, shop), "DATABASE_URL": cluster.dsn}
    migrations = shop / "components" / "orders" / "adapters" / "outbound" / "migrations"
    pending = migrations / "0002_touch_orders.sql"
    with serve(shop, generated_venv, tmp_path / "log", DATABASE_URL=cluster.dsn) as served:
        assert call("GET", f"{served.base}/healthz").status == 200
        assert call("GET", f"{served.base}/readyz").body == {"status": "ready"}

        # Left in place: the other tests' databases apply it as well.
        pending.write_text("COMMENT ON TABLE orders IS 'orders';\n", encoding="utf-8")
        problem = assert_problem(call("GET", f"{served.base}/readyz"), 503)
        assert problem["detail"] == "migrations pending: orders/0002_touch_orders"
        assert call("GET", f"{served.base}/healthz").status == 200  # alive all the same
        run([generated_venv / "bin" / "hexforge", "migrate", "up"], shop, env=env)
        assert call("GET", f"{served.base}/readyz").status == 200

        cluster.suspend()
        problem = assert_problem(call("GET", f"{served.base}/readyz"), 503)
        assert problem["detail"] == "the database does not answer"
        assert "postgres" not in json.dumps(problem)  # no host, user or URL
        cluster.resume()
        assert wait_for(lambda: call("GET", f"{served.base}/readyz").status == 200)
        assert wait_for(lambda: call("GET", f"{served.base}/orders").status == 200)


def test_every_error_is_a_problem_and_declared_so(
    shop: Path, generated_venv: Path, tmp_path: Path
) -> None:
    with serve(shop, generated_venv, tmp_path / "log") as served:
        orders = f"{served.base}/orders"
        created = call("POST", orders, {"customer": "ann", "total": "1.50"})
        assert created.status == 201, created

        unknown = "00000000-0000-4000-8000-000000000000"
        problem = assert_problem(call("GET", f"{orders}/{unknown}"), 404)
        assert problem["type"] == "urn:problem:OrderNotFound" and unknown in problem["detail"]
        problem = assert_problem(call("POST", orders, {"customer": "ann", "total": "2"}), 409)
        assert problem["type"] == "urn:problem:DuplicateOrder"
        problem = assert_problem(call("POST", orders, {"customer": "bob"}), 422)
        assert problem["errors"] == [
            {"loc": ["body", "total"], "msg": "Field required", "type": "missing"}
        ]
        assert_problem(call("GET", f"{served.base}/no-such-route"), 404)

        # Input JSON cannot carry back is refused, never echoed.
        for raw in (
            b'{"customer": "c", "total": NaN}',
            b'{"customer": "c", "total": Infinity}',
            b'{"customer": "c", "total": -Infinity}',
            b'{"customer": "\\ud800", "total": 1}',
            b'{"\\udfff": 1, "customer": "c", "total": 1}',
            # Past what PostgreSQL's numeric holds, or would serve back sensibly.
            b'{"customer": "c", "total": "1e200000"}',
            b'{"customer": "c", "total": "1e-20000"}',
        ):
            problem = assert_problem(call("POST", orders, raw), 422)
            assert [error["loc"][0] for error in problem["errors"]] == ["body"]
        too_large = b'{"customer": "' + b"x" * (2 * 1024 * 1024) + b'", "total": 1}'
        problem = assert_problem(call("POST", orders, too_large), 413)
        assert "MAX_BODY_BYTES" in problem["detail"]
        assert call("GET", f"{orders}?count=true").body["total"] == 1

        document = call("GET", f"{served.base}/openapi.json").body
    assert {"/healthz", "/readyz"} <= document["paths"].keys()
    statuses = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert set(response["content"]) == {PROBLEM}, (path, method, status)
                    statuses.setdefault((method, path), set()).add(status)
    assert {"404", "409", "413", "422", "500", "503"} <= statuses[("put", "/orders/{order_id}")]
    assert {"409", "413", "422"} <= statuses[("post", "/orders")]
    assert "503" in statuses[("get", "/readyz")]
    assert document["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
        "detail",
    ]


def test_the_request_id_is_answered_and_in_every_json_log_line(
    shop: Path, generated_venv: Path, tmp_path: Path
) -> None:
    with serve(shop, generated_venv, tmp_path / "log", LOG_FORMAT="json") as served:
        given = call("GET", f"{served.base}/orders/not-an-id", headers={"X-Request-ID": "abc-123"})
        assert given.status == 422 and given.headers["x-request-id"] == "abc-123"
        insane = call("GET", f"{served.base}/orders", headers={"X-Request-ID": "a b\tc"})
        made = insane.headers["x-request-id"]
        assert made != "a b\tc" and re.fullmatch(r"[0-9a-f]{32}", made)
        served.process.terminate()
        served.process.wait(timeout=20)
    records = [json.loads(line) for line in served.lines() if line.startswith("{")]
    assert len(records) == len(served.lines())  # every line is one JSON object
    access = [r for r in records if r.get("logger") == "hexforge.access"]
    mine = [r for r in access if r.get("request_id") == "abc-123"]
    assert len(mine) == 1
    assert mine[0]["method"] == "GET" and mine[0]["route"] == "/orders/{order_id}"
    assert mine[0]["status"] == 422 and isinstance(mine[0]["duration_ms"], float)
    assert [r["status"] for r in access if r.get("request_id") == made] == [200]


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("DATABASE_POOL_MAX", "zero", "valid integer"),
        ("DATABASE_POOL_MAX", "0", "greater than or equal to 1"),
        ("LOG_FORMAT", "xml", "'json' or 'console'"),
        ("MAX_BODY_BYTES", "-1", "greater than or equal to 1"),
    ],
)
def test_a_bad_setting_stops_the_start_in_one_line(
    shop: Path, generated_venv: Path, variable: str, value: str, rule: str
) -> None:
    env = {**os.environ, **gate_env(generated_venv, shop), variable: value}
    started = subprocess.run(
        [generated_venv / "bin" / "uvicorn", "app.main:app", "--port", str(free_port())],
        cwd=shop,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode != 0
    output = (started.stdout + started.stderr).strip().splitlines()
    assert "Traceback" not in started.stderr, started.stderr
    assert output[-1].startswith(f"invalid settings: {variable}={value!r}: "), output
    assert rule in output[-1]


def test_sigterm_lets_the_request_in_flight_finish_then_closes_the_pool(
    shop: Path, generated_venv: Path, cluster: Any, tmp_path: Path
) -> None:
    with serve(shop, generated_venv, tmp_path / "log", DATABASE_URL=cluster.dsn) as served:
        port = int(served.base.rsplit(":", 1)[1])
        body = json.dumps({"customer": "in flight", "total": "3"}).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
            head = (
                f"POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            sock.sendall(head + body[:10])
            time.sleep(0.3)
            served.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            assert served.process.poll() is None  # still serving the request in flight
            sock.sendall(body[10:])
            answer = sock.recv(65536).decode()
        assert answer.startswith("HTTP/1.1 201 "), answer
        served.process.wait(timeout=20)
    lines = served.lines()
    closed = [i for i, line in enumerate(lines) if "database pool closed" in line]
    assert closed and closed[0] > max(i for i, line in enumerate(lines) if "201" in line)


SPANS = """
import asyncio, json, sys
import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from hexforge.service import telemetry
from app.main import create_app
from app.settings import Settings

async def main() -> None:
    app = create_app(Settings(database_url=sys.argv[1]))
    exporter = InMemorySpanExporter()
    provider = telemetry.instrument(app, exporter)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            created = await client.post("/orders", json={"customer": "ann", "total": "1"})
            assert created.status_code == 201, created.text
            await client.get(f"/orders/{created.json()['id']}")
    provider.force_flush()
    spans = exporter.get_finished_spans()
    print(json.dumps([[s.name, dict(s.attributes or {}).get("db.system")] for s in spans]))

asyncio.run(main())
"""


def test_fastapi_and_psycopg_spans_are_exported(
    shop: Path, generated_venv: Path, cluster: Any
) -> None:
    env = {**os.environ, **gate_env(generated_venv, shop)}
    done = run([generated_venv / "bin" / "python", "-c", SPANS, cluster.dsn], shop, env=env)
    spans = json.loads(done.stdout.strip().splitlines()[-1])
    names = [name for name, _ in spans]
    assert "POST /orders" in names and "GET /orders/{order_id}" in names, names
    assert [name for name, system in spans if system == "postgresql"], spans


# --- the deploy files -------------------------------------------------------------------


def test_the_dockerfile_builds_in_stages_and_runs_unprivileged_with_a_health_check(
    shop: Path,
) -> None:
    lines = [
        line.strip()
        for line in (shop / "Dockerfile").read_text("utf-8").replace("\\\n", " ").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert len(stages) >= 2 and " AS " in stages[0]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    assert lines.index(next(line for line in lines if line.startswith("USER "))) > lines.index(
        stages[-1]
    )
    (health,) = [line for line in lines if line.startswith("HEALTHCHECK ")]
    assert "/healthz" in health
    (command,) = [line for line in lines if line.startswith("CMD ")]
    assert json.loads(command[4:])[:2] == ["uvicorn", "app.main:app"]
    assert "COPY --from=" in "\n".join(lines)
    assert "migrate" not in command  # migrations are their own command


def test_compose_runs_the_migrations_once_before_the_app(shop: Path) -> None:
    services = yaml.safe_load((shop / "compose.yaml").read_text("utf-8"))["services"]
    assert services.keys() == {"db", "migrate", "app"}
    assert services["db"]["image"].startswith("postgres:") and services["db"]["healthcheck"]
    assert services["migrate"]["command"] == ["hexforge", "migrate", "up"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["app"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert "/readyz" in " ".join(services["app"]["healthcheck"]["test"])
    urls = {services[name]["environment"]["DATABASE_URL"] for name in ("migrate", "app")}
    assert len(urls) == 1 and "@db:5432/" in urls.pop()
    # The token settings come from the operator's environment, never from the file.
    for name in ("AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_JWKS_URL", "AUTH_HS256_SECRET"):
        assert services["app"]["environment"][name] == f"${{{name}:-}}"


def test_the_workflow_runs_the_gates_on_every_push_with_postgresql(shop: Path) -> None:
    workflow = yaml.safe_load((shop / ".github" / "workflows" / "gates.yml").read_text("utf-8"))
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1: on is true
    assert "push" in triggers
    (job,) = workflow["jobs"].values()
    assert job["services"]["postgres"]["image"].startswith("postgres:")
    assert job["env"]["TEST_DATABASE_URL"].startswith("postgresql://")
    commands = [step.get("run", "") for step in job["steps"]]
    assert 'python -m pip install -e ".[dev]"' in commands
    assert "python tools/quality_gates.py" in commands


class _Collector(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def test_with_an_otlp_endpoint_the_served_app_exports_its_spans(
    shop: Path, generated_venv: Path, tmp_path: Path
) -> None:
    collector = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}"
    try:
        with serve(
            shop,
            generated_venv,
            tmp_path / "log",
            OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
            OTEL_BSP_SCHEDULE_DELAY="100",
        ) as served:
            assert call("GET", f"{served.base}/orders").status == 200
            assert wait_for(lambda: any(b"GET /orders" in body for _, body in _Collector.received))
        assert {path for path, _ in _Collector.received} == {"/v1/traces"}
    finally:
        collector.shutdown()


def test_without_an_endpoint_no_tracing_is_loaded(shop: Path, generated_venv: Path) -> None:
    # FastAPI itself may import OpenTelemetry's API; the SDK, exporter and
    # instrumentations are hexforge's to load, and only with an endpoint.
    probe = (
        "import sys\nfrom app.main import app\n"
        "print(sorted(m for m in sys.modules if m.startswith(("
        "'opentelemetry.sdk', 'opentelemetry.exporter', 'opentelemetry.instrumentation'))))"
    )
    env = {**os.environ, **gate_env(generated_venv, shop)}
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    done = run([generated_venv / "bin" / "python", "-c", probe], shop, env=env)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_cors_answers_only_the_configured_origins(
    shop: Path, generated_venv: Path, tmp_path: Path
) -> None:
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    with serve(
        shop,
        generated_venv,
        tmp_path / "log",
        CORS_ORIGINS="https://app.example, https://b.example",
    ) as served:
        allowed = call("OPTIONS", f"{served.base}/orders", headers=preflight)
        assert allowed.status == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        other = call("GET", f"{served.base}/orders", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    with serve(shop, generated_venv, tmp_path / "log2") as served:
        plain = call("GET", f"{served.base}/orders", headers={"Origin": "https://app.example"})
        assert "access-control-allow-origin" not in plain.headers


POOL = """
import asyncio, sys
from hexforge.service.app import new_pool
from app.settings import Settings

async def main() -> None:
    settings = Settings(
        database_url=sys.argv[1],
        database_pool_min=2,
        database_pool_max=3,
        database_statement_timeout_ms=250,
    )
    pool = new_pool(settings)
    await pool.open(wait=True)
    async with pool.connection() as connection:
        timeout = await (await connection.execute("SHOW statement_timeout")).fetchone()
        try:
            await connection.execute("SELECT pg_sleep(1)")
            outcome = "ran"
        except Exception as error:
            outcome = type(error).__name__
    print(timeout[0], pool.min_size, pool.max_size, outcome)
    await pool.close()

asyncio.run(main())
"""


def test_the_pool_is_sized_and_bounded_by_the_settings(
    shop: Path, generated_venv: Path, cluster: Any
) -> None:
    env = {**os.environ, **gate_env(generated_venv, shop)}
    done = run([generated_venv / "bin" / "python", "-c", POOL, cluster.dsn], shop, env=env)
    assert done.stdout.split() == ["250ms", "2", "3", "QueryCanceled"]
