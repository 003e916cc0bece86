"""bench/run.py works: it runs end to end and lays out its tables. No timing is asserted:
figures belong to the benchmark's report, not to the test suite."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
RUN = REPO / "bench" / "run.py"


def load_run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_audit_section_runs_and_prints_its_table(tmp_path: Path) -> None:
    command = [sys.executable, str(RUN), "--only", "audit", "--runs", "1"]
    command += ["--audit-sizes", "3", "6", "12", "--keep", str(tmp_path / "work")]

    result = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=600, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Machine: ")
    for size in (3, 6, 12):
        assert f"| audit: `tools/hex_audit.py` on {size} components |" in result.stdout
    assert "| audit: growth" in result.stdout


@pytest.mark.slow
def test_the_gates_section_runs_and_prints_its_table(tmp_path: Path, generated_venv: Path) -> None:
    command = [sys.executable, str(RUN), "--only", "gates", "--quick", "--gates-sizes", "1", "2"]
    command += ["--generated-venv", str(generated_venv), "--keep", str(tmp_path / "work")]

    result = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=1500, check=False
    )

    assert result.returncode == 0, result.stderr
    for label in ("1 component", "2 components"):
        assert f"| gates: `quality_gates.py`, {label} |" in result.stdout
        assert f"| gates: `quality_gates.py --changed`, one component edited, {label} |" in (
            result.stdout
        )
    assert "| the seven tools by hand, one after another |" in result.stdout
    assert "| gates: growth of --changed, s per added component |" in result.stdout
    # --changed's target is judged at the largest size only.
    larger = next(
        line for line in result.stdout.splitlines() if "--changed`" in line and "2 comp" in line
    )
    assert "≤ 0.25x" in larger


@pytest.mark.slow
def test_the_lists_section_runs_and_prints_its_tables(tmp_path: Path, generated_venv: Path) -> None:
    command = [sys.executable, str(RUN), "--only", "lists", "--quick"]
    command += ["--lists-sizes", "300", "1200", "--lists-rounds", "2"]
    command += ["--generated-venv", str(generated_venv), "--keep", str(tmp_path / "work")]

    result = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=900, check=False
    )

    assert result.returncode == 0, result.stderr
    for size in ("300", "1,200"):
        for page in ("first page", "deep page"):
            for order in ("default order", "sort=customer"):
                assert f"| lists: {page}, {order}, {size} rows | — | get by id, same run |" in (
                    result.stdout
                )
    assert "| lists: deep page, default order / first page, rows 300 → 1,200 |" in result.stdout
    assert "| lists, before: offset 0.99n / get by id, rows 300 → 1,200 |" in result.stdout
    # The before column: the offset list of the template at ca77fa1, measured too.
    table = result.stdout.split("**Lists on PostgreSQL")[1]
    assert "before: offset 0.99n" in table
    assert "| 1,200 |" in table


def test_a_process_tree_is_broken_down_by_command() -> None:
    run = load_run()
    records = [
        {"parent": 1, "pid": 2, "argv": ["git", "-C", "x", "clone", "a"], "start": 0, "end": 1},
        {
            "parent": 1,
            "pid": 3,
            "argv": ["python3", "extensions/wiring.py", "--kind=component"],
            "start": 1,
            "end": 4,
        },
        {
            "parent": 3,
            "pid": 4,
            "argv": ["python3", "-m", "copier", "copy", "-d", "kind=project"],
            "start": 1.5,
            "end": 3.5,
        },
        {"process": 1, "imports": 0.5, "phases": {"_render_file": [0.25, 27]}},
    ]

    table = run.breakdown(run.Trace(total=8.0, records=records), "a copy")

    assert "| whole command | 1 | 8.00 | 100% |" in table
    assert "git: clone 1.00 | 1 | 1.00 | 12% |" in table
    assert "task: wiring.py --kind=component | 1 | 3.00 | 38% |" in table
    assert "copier copy (kind=project) | 1 | 2.00 | 25% |" in table
    assert "*in-process: interpreter, imports, own work* |  | 4.00 | 50% |" in table
    assert "file contents rendered |  | 0.25 |" in table


def test_timings_show_median_and_range() -> None:
    run = load_run()

    assert run.Timing([3.0, 1.0, 2.0]).cell() == "2.00 (1.00-3.00)"
    assert run.Timing([]).cell() == "—"


SERVICE = REPO / "bench" / "service_bench.py"


@pytest.mark.slow
def test_the_service_bench_serves_both_apps_and_prints_its_table(generated_venv: Path) -> None:
    command = [sys.executable, str(SERVICE), "--duration", "1", "--rounds", "1"]
    command += ["--generated-venv", str(generated_venv)]

    result = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=900, check=False
    )

    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| scenario | generated req/s | minimal req/s | ratio |")
    assert [row.split(" | ")[0] for row in rows[1:]] == ["| get", "| create", "| list"]
    for row in rows[1:]:
        assert re.search(
            r"\| \d+\.\d\dx \((meets|misses) 0\.9x; rounds \d+\.\d\d to \d+\.\d\d\) \|", row
        ), row


RULES = REPO / "bench" / "rules_bench.py"


@pytest.mark.slow
def test_the_rules_bench_runs_its_three_scenarios_and_prints_its_table(
    generated_venv: Path,
) -> None:
    command = [sys.executable, str(RULES), "--calls", "40", "--workers", "4", "--rounds", "1"]
    command += ["--generated-venv", str(generated_venv)]

    result = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=900, check=False
    )

    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert rows[0] == "| scenario | calls/s | x baseline | runs per call |"
    assert [row.split(" | ")[0] for row in rows[1:]] == ["| baseline", "| spread", "| contended"]
    assert rows[1].endswith("| 1.00x | 1.00 |")
    # Without contention a unit runs once; every contended call runs at least once.
    assert rows[2].endswith("| 1.00 |")
    assert float(rows[3].split(" | ")[3].rstrip(" |")) >= 1.0


@pytest.mark.parametrize(
    ("script", "arguments"),
    [
        (SERVICE, ["--duration", "0"]),
        (SERVICE, ["--rounds", "x"]),
        (SERVICE, ["--connections", "-1"]),
        (SERVICE, ["--nope"]),
        (RULES, ["--calls", "0"]),
        (RULES, ["--workers", "x"]),
        (RULES, ["--calls", "2", "--workers", "3"]),
        (RULES, ["--no"]),
    ],
)
def test_a_bench_refuses_bad_arguments_with_exit_2(script: Path, arguments: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, str(script), *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"{script.name}: error: ")


def entries(repository: Path) -> set[str]:
    """What a checkout of the repository's HEAD creates: its files and their folders."""
    listed = subprocess.run(
        ["git", "-C", str(repository), "ls-files", "-z"], capture_output=True, text=True, check=True
    ).stdout.split("\0")
    paths = {Path(name) for name in listed if name}
    return {str(path) for path in paths} | {str(p) for path in paths for p in path.parents} - {"."}


def test_the_size_control_clones_like_hexforge_and_renders_like_the_baseline(
    tmp_path: Path,
) -> None:
    run = load_run()
    hexforge = run.snapshot(REPO, None, tmp_path / "hexforge")
    # Stand-ins for the rendered component: one file per template, in the same folders.
    component = hexforge / "template" / "component" / "components" / "{{ component_name }}"
    files = {
        "components/orders/"
        + re.sub(r"[^\w/.]", "_", path.relative_to(component).as_posix())[: -len(".jinja")]: b""
        for path in component.rglob("*.jinja")
    }
    answers = "{{ _copier_answers|to_nice_yaml -}}\n"
    plain = run.baseline_template(tmp_path / "plain", files, answers)
    sized = run.baseline_template(tmp_path / "sized", files, answers, padding=hexforge)

    # As many files and folders to check out as hexforge's snapshot (the component's
    # templates are replaced by the rendered files), within a tenth.
    assert abs(len(entries(sized)) - len(entries(hexforge))) <= len(entries(hexforge)) / 10
    assert len(entries(plain)) < len(entries(hexforge)) / 3
    # ... and Copier renders template/ alone: nothing of hexforge's reaches the project.
    project = run.init_repo(tmp_path / "project")
    run.copier_copy(sized, project, run.COMPONENT_DATA, vcs_ref="v1")
    written = {
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(project).parts
    }
    assert written == {*files, run.COMPONENT_ANSWERS}
