"""Benchmark the architecture audit (tools/hex_audit.py) against lint-imports.

    .venv/bin/python bench/audit_bench.py [--sizes 50 200 500] [--runs 5]

For each size it builds, in a temporary directory, a project whose components/ holds
that many copies of the realistic component the audit's tests use
(tests/project/audit_cases/realistic.py, about 20 files each), then times:

- hex_audit.py as a subprocess, the way the quality gates run it (median of --runs);
- the audit in-process, with its text pre-checks and with every file parsed;
- lint-imports (import-linter) with wildcard contracts for the three direction rules
  hex_audit also checks, without its cache, the same number of runs.

It prints markdown tables. Seconds depend on the machine (and on what else runs on
it): the calibration line times a plain Python loop so results can be compared.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.project.audit_cases.realistic import write_component  # noqa: E402

AUDIT = REPO / "src" / "hexforge" / "audit.py"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

# The contracts every generated project ships, so lint-imports is timed on real work.
IMPORTLINTER = REPO / "template" / "project" / ".importlinter"


def build_project(root: Path, size: int) -> Path:
    components = root / "components"
    components.mkdir(parents=True)
    (components / "__init__.py").write_text("", encoding="utf-8")
    for index in range(size):
        write_component(components, f"c{index:04d}")
    shutil.copyfile(IMPORTLINTER, root / ".importlinter")
    return root


def median_seconds(runs: int, action: Callable[..., object], *args: object, **kw: object) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action(*args, **kw)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def run_checked(command: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        # The synthetic project is clean: a failure means the comparison is off.
        raise SystemExit(
            f"{' '.join(command)} exited {result.returncode}\n{result.stdout}{result.stderr}"
        )


def load_audit() -> ModuleType:
    return importlib.import_module("hexforge.audit")


def calibration() -> float:
    start = time.process_time()
    total = 0
    for number in range(3_000_000):
        total += number
    return time.process_time() - start


class Result(NamedTuple):
    size: int
    hex_cli: float
    lint_imports: float
    in_process: float
    in_process_parsed: float


def measure(audit: ModuleType, root: Path, size: int, runs: int, lint_imports: str) -> Result:
    env = {**os.environ, "PYTHONPATH": str(root)}
    hex_cli = [sys.executable, "-m", "hexforge", "audit", "components/"]
    lint = [lint_imports, "--no-cache", "--no-logo"]
    run_checked(hex_cli, root)  # warms the file cache for both tools alike
    run_checked(lint, root, env)
    hex_seconds = median_seconds(runs, run_checked, hex_cli, root)
    lint_seconds = median_seconds(runs, run_checked, lint, root, env)
    here = Path.cwd()
    os.chdir(root)  # the audit shows paths relative to the working directory
    try:
        components = audit.discover(["components"])
        fast = median_seconds(runs, audit.audit, components)
        full = median_seconds(runs, audit.audit, components, fast=False)
    finally:
        os.chdir(here)
    return Result(size, hex_seconds, lint_seconds, fast, full)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lint-imports", default=str(LINT_IMPORTS), help="lint-imports binary")
    args = parser.parse_args(argv)

    audit = load_audit()
    with tempfile.TemporaryDirectory(prefix="hex-audit-bench-") as temp:
        results = [
            measure(
                audit,
                build_project(Path(temp) / f"p{size}", size),
                size,
                args.runs,
                args.lint_imports,
            )
            for size in args.sizes
        ]

    print(f"Python {sys.version.split()[0]}; calibration: 3M-iteration loop {calibration():.3f} s")
    print()
    print(
        "| components | hex_audit median s | lint-imports median s | ratio (lint-imports"
        " / hex_audit) | hex_audit s/component | lint-imports s/component |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.size} | {r.hex_cli:.3f} | {r.lint_imports:.3f} | "
            f"{r.lint_imports / r.hex_cli:.1f}x | {r.hex_cli / r.size * 1000:.2f} ms"
            f" | {r.lint_imports / r.size * 1000:.2f} ms |"
        )
    print()
    print(
        "| components | in-process, text pre-checks s | in-process, every file parsed s"
        " | speed-up |"
    )
    print("|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.size} | {r.in_process:.3f} | {r.in_process_parsed:.3f}"
            f" | {r.in_process_parsed / r.in_process:.1f}x |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
