"""The `gates` section of bench/run.py: tools/quality_gates.py against the same seven
tools run by hand, one after another, on generated projects of growing size.

For each size (default 1, 10 and 20 components; --quick 1 and 3) one project is
scaffolded from the template snapshot, committed, and one component's domain model
then gets a one-line edit, so that the three cases below see the same tree:

- baseline  ruff check ., ruff format --check ., mypy --strict components app,
            lint-imports, python tools/hex_audit.py components/, pytest -m unit,
            pytest -m integration: one after another, as a person types them;
- full      python tools/quality_gates.py (every gate, regression and stories too);
- changed   python tools/quality_gates.py --changed (the edited component only).

The three take turns after one untimed round (it warms mypy's and ruff's caches for
all of them). Every command must pass: a failing gate would make a fast run that
proves nothing. Targets: full ≤ 0.7x the baseline; --changed ≤ 0.25x the full run at
the largest size. Both use the generated project's venv (bench/run.py's
generated_venv: .cache/generated-venv or --generated-venv), on PYTHONPATH as the
project's own tests run it.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.component.gates import gate_env
from tests.helpers import commit_all, copier_copy, run

FULL_TARGET = 0.7
CHANGED_TARGET = 0.25
FIELDS = "customer:str, total:decimal, placed_on:date, paid:bool, note:str?"
NAMES = [f"{a}{b}_ledger" for a, b in itertools.product("abcdefghij", "xyz")]  # 30 names

BASELINE: list[list[str]] = [
    ["ruff", "check", "."],
    ["ruff", "format", "--check", "."],
    ["mypy", "--strict", "components", "app"],
    ["lint-imports"],
    ["python", "tools/hex_audit.py", "components/"],
    ["python", "-m", "pytest", "-m", "unit"],
    ["python", "-m", "pytest", "-m", "integration"],
]
GATES = ["python", "tools/quality_gates.py"]


def build_projects(
    template: Path, wired: Path, workspace: Path, sizes: Sequence[int]
) -> dict[int, Path]:
    """One committed project per size, grown component by component from `wired`."""
    growing = workspace / "gates-growing"
    shutil.copytree(wired, growing, symlinks=True)
    projects: dict[int, Path] = {}
    made = 0
    for size in sorted(sizes):
        if size > len(NAMES):
            raise SystemExit(f"gates: at most {len(NAMES)} components, not {size}")
        for name in NAMES[made:size]:
            data = {"kind": "component", "component_name": name, "fields": FIELDS}
            copier_copy(template, growing, data, vcs_ref="v1")
        made = size
        commit_all(growing, f"{size} components")
        projects[size] = workspace / f"gates-project-{size}"
        shutil.copytree(growing, projects[size], symlinks=True)
        edit_one_component(projects[size])
    shutil.rmtree(growing, ignore_errors=True)
    return projects


def edit_one_component(project: Path) -> None:
    """The edit --changed sees: one line more in one component's domain model."""
    model = project / "components" / NAMES[0] / "domain" / "model.py"
    model.write_text(model.read_text(encoding="utf-8") + "\n\n# benchmark edit\n", "utf-8")


def nothing() -> None:
    """The cases need no preparation: they all run on the same edited tree."""


def checked(command: list[str], project: Path, env: dict[str, str]) -> str:
    result = run(command, project, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(
            f"gates: `{' '.join(command)}` failed in {project}:\n{result.stdout}{result.stderr}"
        )
    return result.stdout


def cases(
    project: Path, env: dict[str, str], seen: dict[str, str]
) -> tuple[Callable[[], None], Callable[[], None], Callable[[], None]]:
    """The baseline, the full gates and --changed; `seen` keeps the gates' output."""

    def baseline() -> None:
        for command in BASELINE:
            checked(command, project, env)

    def full() -> None:
        seen["full"] = checked(GATES, project, env)

    def changed() -> None:
        seen["changed"] = checked([*GATES, "--changed"], project, env)

    return baseline, full, changed


def bench_gates(
    project_for_size: dict[int, Path],
    venv: Path,
    runs: int,
    alternate: Callable[..., list[Any]],
    row: Callable[..., Any],
    progress: Callable[[str], None],
) -> tuple[list[Any], list[str]]:
    """Rows for bench/run.py's table, and notes; `alternate`, `row`, `progress` are its own."""
    rows: list[Any] = []
    notes: list[str] = []
    measured: list[tuple[int, Any, Any, Any]] = []
    for size, project in sorted(project_for_size.items()):
        progress(f"gates: {size} components, {runs} run(s) of each after a warm-up round")
        seen: dict[str, str] = {}
        baseline, full, changed = cases(project, gate_env(venv, project), seen)
        base, whole, limited = alternate(
            runs, [(nothing, baseline), (nothing, full), (nothing, changed)]
        )
        if f"--changed: 1 of {size} component" not in seen.get("changed", ""):
            raise SystemExit(f"gates: --changed did not limit itself:\n{seen.get('changed')}")
        measured.append((size, base, whole, limited))
        label = f"{size} component{'s' if size > 1 else ''}"
        full_ratio = whole.median / base.median
        rows.append(
            row(
                f"gates: `quality_gates.py`, {label}",
                whole,
                "the seven tools by hand, one after another",
                base,
                full_ratio,
                f"≤ {FULL_TARGET}x",
                full_ratio <= FULL_TARGET,
                f"{runs} run{'s' if runs > 1 else ''}",
            )
        )
        changed_ratio = limited.median / whole.median
        largest = size == max(project_for_size)
        rows.append(
            row(
                f"gates: `quality_gates.py --changed`, one component edited, {label}",
                limited,
                "`quality_gates.py` (above)",
                whole,
                changed_ratio,
                f"≤ {CHANGED_TARGET}x" if largest else "—",
                changed_ratio <= CHANGED_TARGET if largest else None,
                f"{runs} run{'s' if runs > 1 else ''}",
            )
        )
    if len(measured) >= 2:
        sizes = [size for size, *_ in measured]
        for index, name in ((1, "by hand"), (2, "quality_gates.py"), (3, "--changed")):
            marginals = [
                (b[index].median - a[index].median) / (b[0] - a[0])
                for a, b in itertools.pairwise(measured)
            ]
            rows.append(
                row(
                    f"gates: growth of {name}, s per added component",
                    None,
                    note=" → ".join(f"{m:.2f}" for m in marginals)
                    + f" (sizes {', '.join(map(str, sizes))})",
                )
            )
    notes.append(
        "gates: every run passes every gate; the project's edit (one line in one"
        " component's domain model) is in place for all three cases. The test runs"
        " start a throwaway PostgreSQL cluster each (its CPU is not in the CPU ratio)."
    )
    return rows, notes
