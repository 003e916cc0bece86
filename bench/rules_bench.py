"""What a use case's unit costs (SPEC §15): throughput of one use case, with and
without contention, against the same use case with its unit switched off.

    .venv/bin/python bench/rules_bench.py [--calls N] [--workers W] [--rounds R]
        [--generated-venv DIR]

A products component with `reserve(quantity:int:gt=0)` is rendered and its rule
written (take from the stock, refuse below zero); on one throwaway PostgreSQL
cluster, W workers of one process call the service directly (no HTTP), N calls in
all, in three scenarios, alternating, R rounds:

- ``baseline``: each worker reserves its own product, the unit switched off (the
  repository's ``atomically`` just runs the work): what the use case cost before
  SPEC §15, and the figure the others are divided by;
- ``spread``: each worker its own product, in the SERIALIZABLE unit (no contention:
  what the unit itself costs);
- ``contended``: every worker the same product, in the unit (every call conflicts
  with the others; PostgreSQL aborts all but one and they run again).

No target is asserted: the table says what the guarantee costs. Needs the
generated project's venv (.cache/generated-venv, which the test suite builds).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from service_bench import render_component  # the same copy, another component

REPO = Path(__file__).resolve().parent.parent
GENERATED_VENV = Path(os.environ.get("HEXFORGE_GENERATED_VENV", REPO / ".cache" / "generated-venv"))
SCENARIOS = ("baseline", "spread", "contended")

RESERVE = '''"""Reserve: take from the stock, never below zero."""

from __future__ import annotations

from dataclasses import replace

from hexforge.actor import Actor

from components.products.domain.commands import ReserveProduct
from components.products.domain.exceptions import ProductConflict
from components.products.domain.model import Product


def reserve(product: Product, command: ReserveProduct, actor: Actor) -> Product:
    if product.stock < command.quantity:
        raise ProductConflict(f"only {product.stock} left")
    return replace(product, stock=product.stock - command.quantity)
'''

DRIVER = """
import asyncio, json, sys, time
from psycopg_pool import AsyncConnectionPool
from hexforge import migrate, transactions
from components.products.adapters import compose
from components.products.domain.commands import ReserveProduct
from components.products.domain.model import ProductDraft

dsn, scenario, calls, workers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
runs = 0
serializable = transactions.serializable


async def counted(pool, work, then=None):
    async def attempt():
        global runs
        runs += 1
        return await work()
    return await serializable(pool, attempt, then)


transactions.serializable = counted


async def main():
    async with AsyncConnectionPool(dsn, min_size=workers, max_size=workers) as pool:
        service = compose.build(pool)
        if scenario == "baseline":
            async def direct(work, then=None):
                global runs
                runs += 1
                result = await work()
                if then is not None:
                    await then(result)
                return result
            service._repository.atomically = direct
        drafts = [ProductDraft(sku=f"{scenario}-{time.time_ns()}-{i}", stock=10**9)
                  for i in range(workers)]
        products = [await service.create_product(draft) for draft in drafts]
        global runs
        runs = 0
        command = ReserveProduct(quantity=1)

        async def worker(index):
            product = products[0 if scenario == "contended" else index]
            for _ in range(calls // workers):
                await service.reserve(product.id, command)

        start = time.perf_counter()
        await asyncio.gather(*(worker(index) for index in range(workers)))
        elapsed = time.perf_counter() - start
        done = calls // workers * workers
        print(json.dumps({"per_s": done / elapsed, "runs_per_call": runs / done}))


asyncio.run(main())
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--generated-venv", type=Path, default=GENERATED_VENV)
    args = parser.parse_args(argv)
    if args.calls < args.workers or min(args.calls, args.workers, args.rounds) < 1:
        parser.error("--calls, --workers and --rounds must be positive, calls >= workers")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    python = args.generated_venv / "bin" / "python"
    if not python.exists():
        print(f"rules_bench.py: error: no generated venv at {args.generated_venv}", file=sys.stderr)
        return 2
    plugin = importlib.import_module("hexforge.pytest_plugin")
    with tempfile.TemporaryDirectory(prefix="rules-bench-") as work:
        project = render(Path(work) / "shop")
        cluster = plugin._Cluster.start()
        try:
            env = {**os.environ, "PYTHONPATH": str(project)}
            subprocess.run(
                [python, "-c", f"from hexforge import migrate; migrate.apply({cluster.dsn!r})"],
                cwd=project,
                env=env,
                check=True,
            )
            results: dict[str, list[dict[str, float]]] = {name: [] for name in SCENARIOS}
            for _ in range(args.rounds):
                for scenario in SCENARIOS:
                    command = [python, "-c", DRIVER, cluster.dsn, scenario]
                    command += [str(args.calls), str(args.workers)]
                    output = subprocess.run(
                        command, cwd=project, env=env, check=True, capture_output=True, text=True
                    ).stdout
                    results[scenario].append(json.loads(output))
        finally:
            cluster.stop()
    print(report(results, args))
    return 0


def render(project: Path) -> Path:
    answers = {
        "kind": "component",
        "component_name": "products",
        "fields": "sku:str:unique:max_length=60, stock:int:ge=0",
        "usecases": "reserve(quantity:int:gt=0)",
    }
    render_component(project, answers, "--vcs-ref=HEAD")
    (project / "components/products/domain/use_cases/reserve.py").write_text(RESERVE)
    return project


def report(results: dict[str, list[dict[str, float]]], args: argparse.Namespace) -> str:
    base = statistics.median(run["per_s"] for run in results["baseline"])
    lines = [
        f"{args.calls} reservations by {args.workers} workers, median of {args.rounds} rounds",
        "",
        "| scenario | calls/s | x baseline | runs per call |",
        "|---|---:|---:|---:|",
    ]
    for scenario in SCENARIOS:
        per_s = statistics.median(run["per_s"] for run in results[scenario])
        runs = statistics.median(run["runs_per_call"] for run in results[scenario])
        lines.append(f"| {scenario} | {per_s:.0f} | {per_s / base:.2f}x | {runs:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
