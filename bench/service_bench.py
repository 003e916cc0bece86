"""What the generated layers cost when served: a component on PostgreSQL against a
minimal hand-written FastAPI + psycopg app doing the same queries on the same table.

    .venv/bin/python bench/service_bench.py [--duration S] [--rounds N] [--connections C]

Both run under uvicorn (one worker) with the same pool size, in the same run, on one
throwaway cluster; wrk drives them with C connections: get by id, create, a list
page. The generated service runs with everything of hexforge.service switched on
(JSON logs with an access line per request, request ids, the body limit, problem
details, the statement timeout). Both are up through each round, and each scenario
is driven on one, then at once on the other (the order turning each round); the
ratio is the median of the rounds' pairs: the target is at least 0.9x the minimal
app's throughput. Needs wrk (Debian's package) and the generated project's venv
(.cache/generated-venv, which the test suite builds).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COPIER = Path(sys.executable).parent / "copier"
GENERATED_VENV = Path(os.environ.get("HEXFORGE_GENERATED_VENV", REPO / ".cache" / "generated-venv"))
FIELDS = "name:str:max_length=40, qty:int:ge=0"
SEEDED = 1000
SCENARIOS = ("get", "create", "list")
TARGET = 0.9

MINIMAL_APP = '''"""The baseline: the three routes as a careful engineer writes them by hand."""

import base64
import os
import uuid
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, HTTPException, Query
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field

pool = AsyncConnectionPool(os.environ["DATABASE_URL"], min_size=1, max_size=10, open=False)
COLUMNS = '"id", "version", "name", "qty"'


class ItemIn(BaseModel):
    name: Annotated[str, Field(max_length=40)]
    qty: Annotated[int, Field(ge=0)]


class ItemOut(BaseModel):
    id: uuid.UUID
    version: int
    name: str
    qty: int


class PageOut(BaseModel):
    items: list[ItemOut]
    next_cursor: str | None


@asynccontextmanager
async def lifespan(_: FastAPI):
    await pool.open()
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


def _item(row) -> ItemOut:
    return ItemOut(id=row[0], version=row[1], name=row[2], qty=row[3])


@app.get("/items/{item_id}")
async def get_item(item_id: uuid.UUID) -> ItemOut:
    async with pool.connection() as connection:
        cursor = await connection.execute(
            f'SELECT {COLUMNS} FROM "items" WHERE "id" = %s', (item_id,)
        )
        row = await cursor.fetchone()
    if row is None:
        raise HTTPException(404, f"no item has id {item_id}")
    return _item(row)


@app.post("/items", status_code=201)
async def create_item(body: ItemIn) -> ItemOut:
    item = ItemOut(id=uuid.uuid4(), version=1, name=body.name, qty=body.qty)
    async with pool.connection() as connection:
        await connection.execute(
            f'INSERT INTO "items" ({COLUMNS}) VALUES (%s, %s, %s, %s)',
            (item.id, item.version, item.name, item.qty),
        )
    return item


@app.get("/items")
async def list_items(limit: Annotated[int, Query(ge=1, le=100)] = 20) -> PageOut:
    async with pool.connection() as connection:
        cursor = await connection.execute(
            f'SELECT {COLUMNS} FROM "items" ORDER BY "id" LIMIT %s', (limit + 1,)
        )
        rows = await cursor.fetchall()
    items = [_item(row) for row in rows[:limit]]
    more = len(rows) > limit
    cursor_text = base64.urlsafe_b64encode(str(items[-1].id).encode()).decode() if more else None
    return PageOut(items=items, next_cursor=cursor_text)
'''


class Usage(Exception):
    """Bad arguments or a missing tool: exit 2 with the message."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=6, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=5, help="alternations of the two apps")
    parser.add_argument("--connections", type=int, default=8, help="wrk's open connections")
    parser.add_argument("--generated-venv", type=Path, default=GENERATED_VENV)
    args = parser.parse_args(argv)
    for name in ("duration", "rounds", "connections"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        wrk = shutil.which("wrk")
        if wrk is None:
            raise Usage("wrk is not installed (Debian: apt-get install wrk)")
        python = args.generated_venv / "bin" / "python"
        if not python.exists():
            raise Usage(
                f"no generated venv at {args.generated_venv}: run the test suite once "
                "(it builds .cache/generated-venv) or pass --generated-venv"
            )
    except Usage as error:
        print(f"service_bench: {error}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="service-bench-") as work:
        results = measure(Path(work), args, wrk)
    print(report(results, args))
    return 0


def measure(work: Path, args: argparse.Namespace, wrk: str) -> dict[str, dict[str, list[Run]]]:
    project = render(work / "shop")
    (project / "minimal_app.py").write_text(MINIMAL_APP, encoding="utf-8")
    cluster = importlib.import_module("hexforge.pytest_plugin")._Cluster.start()
    try:
        env = {
            **os.environ,
            "PATH": f"{args.generated_venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": str(project),
            "DATABASE_URL": cluster.dsn,
        }
        subprocess.run(
            ["hexforge", "migrate", "up"], cwd=project, env=env, check=True, capture_output=True
        )
        ids = seed(cluster.dsn)
        scripts = write_scripts(work, ids)
        apps = {
            "generated": ("app.main:app", {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}),
            "minimal": ("minimal_app:app", {}),
        }
        results: dict[str, dict[str, list[Run]]] = {
            name: {s: [] for s in SCENARIOS} for name in apps
        }
        for round_number in range(args.rounds):
            # Both apps up at once, each scenario driven on one then at once on the
            # other (the order turning each round): a pair is measured seconds apart,
            # so a shared machine's drift moves both of its runs alike.
            order = list(apps) if round_number % 2 == 0 else list(reversed(apps))
            with ExitStack() as stack:
                bases = {
                    name: stack.enter_context(
                        serving(
                            apps[name][0], project, {**env, **apps[name][1]}, work / f"{name}.log"
                        )
                    )
                    for name in order
                }
                for name in order:
                    drive(wrk, bases[name], scripts["get"], 1, args.connections)  # warm up
                for scenario in SCENARIOS:
                    for name in order:
                        run = drive(
                            wrk, bases[name], scripts[scenario], args.duration, args.connections
                        )
                        results[name][scenario].append(run)
            print(f"round {round_number + 1}/{args.rounds} done", file=sys.stderr)
        return results
    finally:
        cluster.stop()


def render(project: Path) -> Path:
    # Like the minimal app: no access control (a token check is its own cost).
    answers = {"kind": "component", "component_name": "items", "fields": FIELDS, "auth": "none"}
    return render_component(project, answers)


def render_component(project: Path, answers: dict[str, str], *copier_options: str) -> Path:
    """A new git project at ``project`` with one component copied from this checkout."""
    project.mkdir(parents=True)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@hexforge.invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "empty"], cwd=project, check=True)
    data = [item for key, value in answers.items() for item in ("-d", f"{key}={value}")]
    subprocess.run(
        [COPIER, "copy", "--trust", "--defaults", "--quiet", *copier_options, *data, REPO, project],
        cwd=project,
        check=True,
        capture_output=True,
    )
    return project


def seed(dsn: str) -> list[str]:
    import psycopg

    ids = [str(uuid.uuid4()) for _ in range(SEEDED)]
    with psycopg.connect(dsn, autocommit=True) as connection, connection.cursor() as cursor:
        cursor.executemany(
            'INSERT INTO "items" ("id", "version", "name", "qty") VALUES (%s, 1, %s, %s)',
            [(item, f"item {n}", n) for n, item in enumerate(ids)],
        )
    return ids


def write_scripts(work: Path, ids: list[str]) -> dict[str, Path]:
    listed = ", ".join(json.dumps(item) for item in ids[:200])
    scripts = {
        "get": f"ids = {{{listed}}}\n"
        "request = function()\n"
        '  return wrk.format("GET", "/items/" .. ids[math.random(#ids)])\n'
        "end\n",
        "create": 'wrk.method = "POST"\n'
        'wrk.path = "/items"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        'wrk.body = \'{"name": "bench", "qty": 1}\'\n',
        "list": 'wrk.path = "/items?limit=20"\n',
    }
    paths = {}
    for name, text in scripts.items():
        paths[name] = work / f"{name}.lua"
        paths[name].write_text(text, encoding="utf-8")
    return paths


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(target: str, project: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    with open(log, "ab") as output:
        server = subprocess.Popen(
            ["uvicorn", target, "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
            cwd=project,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if server.poll() is not None:
                raise RuntimeError(f"{target} exited: {log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"{base}/items?limit=1", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


class Run:
    def __init__(self, rps: float, p99_ms: float, errors: int) -> None:
        self.rps, self.p99_ms, self.errors = rps, p99_ms, errors


def drive(wrk: str, base: str, script: Path, duration: int, connections: int) -> Run:
    done = subprocess.run(
        [
            wrk,
            "-t",
            "1",
            "-c",
            str(connections),
            "-d",
            f"{duration}s",
            "--latency",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return parse_wrk(done.stdout)


def parse_wrk(output: str) -> Run:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return Run(rps, p99, int(errors.group(1)) if errors else 0)


def report(results: dict[str, dict[str, list[Run]]], args: argparse.Namespace) -> str:
    lines = [
        f"wrk, 1 thread, {args.connections} connections, {args.duration} s per run, "
        f"{args.rounds} rounds (medians; the ratio is the median of each round's pair); "
        "uvicorn, one worker each; pool max 10",
        "",
        "| scenario | generated req/s | minimal req/s | ratio "
        "| generated p99 ms | minimal p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for scenario in SCENARIOS:
        gen, base = results["generated"][scenario], results["minimal"][scenario]
        bad = sum(run.errors for run in gen + base)
        if bad:
            raise RuntimeError(f"{scenario}: {bad} answers were not 2xx")
        # Each round's pair is compared with itself; the median of those ratios.
        ratios = [g.rps / b.rps for g, b in zip(gen, base, strict=True)]
        ratio = statistics.median(ratios)
        verdict = "meets" if ratio >= TARGET else "misses"
        lines.append(
            f"| {scenario} | {statistics.median(r.rps for r in gen):.0f} | "
            f"{statistics.median(r.rps for r in base):.0f} | {ratio:.2f}x ({verdict} "
            f"{TARGET}x; rounds {min(ratios):.2f} to {max(ratios):.2f}) | "
            f"{statistics.median(r.p99_ms for r in gen):.1f} | "
            f"{statistics.median(r.p99_ms for r in base):.1f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
