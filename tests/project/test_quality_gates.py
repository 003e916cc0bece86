"""tools/quality_gates.py, the gate runner every generated project carries.

The fast tests load the script as a module and check its parsing and file handling.
The slow ones build a tiny project by hand (one component, a passing unit and
integration test, a stub audit) and run the script in it as a subprocess, the way
an agent does, then read the evidence files it wrote.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hexforge.core import UPDATE_MARKER
from tests.helpers import GIT_ENV

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "template" / "project" / "tools"
SCRIPT = TOOLS / "quality_gates.py"
PROJECT_PYPROJECT = REPO / "extensions" / "project_pyproject.toml"
BIN = Path(sys.executable).parent

GATE_ORDER = [
    "ruff",
    "format",
    "mypy",
    "imports",
    "audit",
    "migrations",
    "unit",
    "integration",
    "regression",
    "stories",
]
EVIDENCE = Path(".claude") / "evidence"


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def qg() -> ModuleType:
    return importlib.import_module("hexforge.gates")


def clean_env() -> dict[str, str]:
    """The outer pytest's variables must not steer the pytest the gates start."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}


def run_gates(project: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "tools/quality_gates.py", *args],
        cwd=project,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def evidence(project: Path, name: str) -> Any:
    return json.loads((project / EVIDENCE / name).read_text(encoding="utf-8"))


def gates_by_name(project: Path) -> dict[str, dict[str, Any]]:
    return {gate["name"]: gate for gate in evidence(project, "quality_gates_run.json")["gates"]}


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def install_script(root: Path) -> None:
    (root / "tools").mkdir(parents=True, exist_ok=True)
    shutil.copy2(SCRIPT, root / "tools" / "quality_gates.py")


def project_pyproject() -> str:
    text = PROJECT_PYPROJECT.read_text(encoding="utf-8").replace("{project_name}", "gates-demo")
    if importlib.util.find_spec("pytest_asyncio") is None:
        # Keep the demo project free of "unknown config option" noise.
        text = "\n".join(line for line in text.splitlines() if not line.startswith("asyncio_"))
    return text + "\n"


CLEAN_AUDIT = '''
"""Stand-in for the architecture audit: nothing to report."""

import sys

print("hex_audit: 1 component checked, clean")
sys.exit(0)
'''

FAILING_AUDIT = '''
"""Stand-in for the architecture audit: two violations."""

import sys

print("components/widgets/domain/model.py:1: HEX201 domain imports an adapter")
print("components/widgets/domain/model.py:2: HEX301 domain model calls the clock")
sys.exit(1)
'''

STORY_LOG_STUB = '''
"""Stand-in for the story log checker: a log is valid once it says it is complete."""

import sys
from pathlib import Path

log = Path(sys.argv[2]) / "BACKEND-LOG.md"
if "BACKEND COMPLETE" in log.read_text(encoding="utf-8"):
    sys.exit(0)
print(f"{log.as_posix()}:1: the completion signal is missing")
sys.exit(1)
'''

PASSING_UNIT_TEST = """
import pytest

from components.widgets.domain.model import double


@pytest.mark.unit
def test_double() -> None:
    assert double(2) == 4


@pytest.mark.unit
class TestDouble:
    def test_zero(self) -> None:
        assert double(0) == 0

    @pytest.mark.skip(reason="shows up as skipped in the report")
    def test_later(self) -> None:
        assert double(1) == 2
"""


def build_project(root: Path) -> Path:
    """A project with the shape hexforge gives one, reduced to the bare minimum."""
    write(root, "pyproject.toml", project_pyproject())
    write(
        root,
        ".importlinter",
        """
        [importlinter]
        root_package = components

        [importlinter:contract:domain-not-adapters]
        name = domain never imports adapters
        type = forbidden
        source_modules =
            components.widgets.domain
        forbidden_modules =
            components.widgets.adapters
        """,
    )
    write(root, "app/__init__.py", "")
    write(root, "components/__init__.py", "")
    write(root, "components/widgets/__init__.py", "")
    write(root, "components/widgets/domain/__init__.py", "")
    write(
        root,
        "components/widgets/adapters/outbound/migrations/0001_create_widgets.sql",
        """
        -- hexforge: owns table widgets
        CREATE TABLE widgets (id uuid PRIMARY KEY, label text NOT NULL);
        """,
    )
    write(
        root,
        "components/widgets/domain/model.py",
        """
        def double(value: int) -> int:
            return value * 2
        """,
    )
    write(root, "components/widgets/adapters/__init__.py", "")
    write(
        root,
        "components/widgets/adapters/memory_store.py",
        """
        from components.widgets.domain.model import double


        class MemoryStore:
            def __init__(self) -> None:
                self.items: list[int] = []

            def add(self, value: int) -> int:
                self.items.append(double(value))
                return self.items[-1]
        """,
    )
    for tier in ("", "unit/", "integration/", "regression/"):
        write(root, f"components/widgets/tests/{tier}__init__.py", "")
    write(root, "components/widgets/tests/unit/test_model.py", PASSING_UNIT_TEST)
    write(
        root,
        "components/widgets/tests/integration/test_store.py",
        """
        import pytest

        from components.widgets.adapters.memory_store import MemoryStore


        @pytest.mark.integration
        def test_add() -> None:
            assert MemoryStore().add(3) == 6
        """,
    )
    write(root, "tools/hex_audit.py", CLEAN_AUDIT)
    write(root, "tools/story_log.py", STORY_LOG_STUB)
    install_script(root)
    return root


@pytest.fixture(scope="module")
def base_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One full run in a clean project; later tests copy the project (caches warm)."""
    project = build_project(tmp_path_factory.mktemp("gates") / "demo")
    return project, run_gates(project)


@pytest.fixture
def project(base_run: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> Path:
    copy = tmp_path / "demo"
    shutil.copytree(base_run[0], copy, symlinks=True)
    return copy


# --------------------------------------------------------------------------- fast


def test_script_is_clean_under_the_generated_projects_config(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(project_pyproject(), encoding="utf-8")
    shutil.copy2(SCRIPT, tmp_path / "quality_gates.py")
    commands: list[list[str | Path]] = [
        [BIN / "ruff", "check", "--no-cache", "quality_gates.py"],
        [BIN / "ruff", "format", "--no-cache", "--check", "quality_gates.py"],
        [BIN / "mypy", "--strict", "--no-incremental", "quality_gates.py"],
    ]
    for command in commands:
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"


@pytest.mark.parametrize("entry_point", sorted(p.name for p in TOOLS.glob("*.py")))
def test_each_tool_is_an_entry_point_of_at_most_ten_lines_into_the_package(
    entry_point: str,
) -> None:
    source = (TOOLS / entry_point).read_text(encoding="utf-8")
    assert len(source.splitlines()) <= 10
    tree = ast.parse(source)
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    assert roots == {"hexforge"}, roots


def test_list_shows_every_gate_in_order(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--list"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    names = [line.split()[0] for line in done.stdout.splitlines() if line.strip()]
    assert names == GATE_ORDER


def test_help_says_every_gate_runs_after_a_failure() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "even after a failure" in " ".join(done.stdout.split())
    assert "--fail-fast" in done.stdout


@pytest.mark.parametrize("only", [["--only", "nope"], ["--only", "unit,lint"], ["--only", ""]])
def test_unknown_gate_is_a_usage_error(tmp_path: Path, only: list[str]) -> None:
    install_script(tmp_path)
    done = run_gates(tmp_path, *only)
    assert done.returncode == 2
    assert ", ".join(GATE_ORDER) in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / EVIDENCE).exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--timeout", "nan"),
        ("--timeout", "inf"),
        ("--timeout", "-1"),
        ("--timeout", "0"),
        ("--timeout", "abc"),
        ("--jobs", "0"),
        ("--jobs", "two"),
        ("--test-workers", "-1"),
        ("--test-workers", "x"),
        ("--tail", "x"),
    ],
)
def test_a_bad_option_value_is_one_line_and_exit_2(tmp_path: Path, option: str, value: str) -> None:
    install_script(tmp_path)
    done = run_gates(tmp_path, option, value)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert option in lines[0] and value in lines[0]
    assert not (tmp_path / EVIDENCE).exists()


def tiers(value: str) -> str:
    return f'<properties><property name="hexforge_tiers" value="{value}"/></properties>'


def test_one_junit_report_is_split_by_tier_with_pytest_node_ids(
    qg: ModuleType, tmp_path: Path
) -> None:
    write(tmp_path, "components/shop/tests/unit/test_cart.py", "")
    write(tmp_path, "components/shop/tests/regression/test_bug_7.py", "")
    unit, both = tiers("unit"), tiers("integration regression")
    junit = tmp_path / "junit.xml"
    junit.write_text(
        f"""<?xml version="1.0" encoding="utf-8"?>
        <testsuites><testsuite name="pytest" tests="7">
        <testcase classname="components.shop.tests.unit.test_cart.TestCart" name="test_ok">
          {unit}</testcase>
        <testcase classname="components.shop.tests.unit.test_cart.TestCart" name="test_add[1.5]">
          {unit}<failure message="assert 1 == 2">long traceback\nE   assert 1 == 2</failure>
        </testcase>
        <testcase classname="components.shop.tests.unit.test_cart" name="test_db">
          {unit}<error message="failed on setup with &quot;OSError&quot;">setup broke</error>
        </testcase>
        <testcase classname="components.shop.tests.unit.test_cart" name="test_later">
          {unit}<skipped message="not yet"/>
        </testcase>
        <testcase classname="" name="components.shop.tests.unit.test_cart">
          <error message="collection failure">ImportError</error>
        </testcase>
        <testcase classname="components.shop.tests.regression.test_bug_7" name="test_bug_7">
          {both}<failure message="the bug is back">E   the bug is back</failure>
        </testcase>
        <testcase classname="components.shop.tests.regression.test_bug_7" name="test_ok">
          {tiers("regression")}</testcase>
        </testsuite></testsuites>
        """,
        encoding="utf-8",
    )
    report = qg.read_junit(junit, tmp_path, ("unit", "integration", "regression"))
    counts = {tier: report.counts[tier].to_json() for tier in report.counts}
    assert counts == {
        "unit": {"tests": 5, "passed": 1, "failed": 1, "errors": 2, "skipped": 1},
        "integration": {"tests": 1, "passed": 0, "failed": 1, "errors": 0, "skipped": 0},
        "regression": {"tests": 2, "passed": 1, "failed": 1, "errors": 0, "skipped": 0},
    }
    assert report.uncollected == {"unit": 1, "integration": 0, "regression": 0}
    module = "components/shop/tests/unit/test_cart.py"
    assert [(f["tier"], f["test_id"], f["kind"]) for f in report.failures] == [
        ("unit", f"{module}::TestCart::test_add[1.5]", "failed"),
        ("unit", f"{module}::test_db", "error"),
        ("unit", module, "error"),
        ("regression", "components/shop/tests/regression/test_bug_7.py::test_bug_7", "failed"),
    ]
    assert report.failures[-1]["tiers"] == ["integration", "regression"]
    assert report.failures[0]["message"] == "assert 1 == 2"
    assert report.failures[0]["details"].endswith("assert 1 == 2")


def test_long_failure_details_keep_their_end(qg: ModuleType) -> None:
    text = "x" * 10_000 + "E   the real error"
    kept = qg.truncate_tail(text, qg.DETAILS_LIMIT)
    assert len(kept) < qg.DETAILS_LIMIT + 20
    assert kept.endswith("E   the real error")


@pytest.mark.parametrize(
    ("summarize", "code", "output", "expected"),
    [
        ("summarize_ruff", 0, "All checks passed!\n", (0, "no findings")),
        (
            "summarize_ruff",
            1,
            "F401 unused\nFound 3 errors.\n[*] 2 fixable with the `--fix` option.\n",
            (3, "3 findings (2 fixable with ruff check --fix)"),
        ),
        (
            "summarize_ruff",
            1,
            "F401 unused\nFound 1 error.\n[*] 1 fixable with `--fix`.\n",
            (1, "1 finding (1 fixable with ruff check --fix)"),
        ),
        ("summarize_ruff", 2, "error: bad config\n", (None, "ruff exited 2")),
        ("summarize_format", 0, "12 files already formatted\n", (0, "12 files formatted")),
        (
            "summarize_format",
            1,
            "Would reformat: a.py\n1 file would be reformatted, 3 files already formatted\n",
            (1, "1 file to reformat (ruff format .)"),
        ),
        (
            "summarize_mypy",
            0,
            "Success: no issues found in 9 source files\n",
            (0, "no issues in 9 files"),
        ),
        (
            "summarize_mypy",
            1,
            "a.py:1: error: x\nFound 4 errors in 2 files (checked 9 source files)\n",
            (4, "4 errors in 2 files"),
        ),
        ("summarize_imports", 0, "Contracts: 3 kept, 0 broken.\n", (0, "3 contracts kept")),
        ("summarize_imports", 1, "Contracts: 2 kept, 1 broken.\n", (1, "1 broken, 2 kept")),
    ],
)
def test_tool_output_summaries(
    qg: ModuleType, summarize: str, code: int, output: str, expected: tuple[int | None, str]
) -> None:
    assert getattr(qg, summarize)(code, output) == expected


@pytest.mark.parametrize(
    ("code", "output", "expected"),
    [
        (0, "anything", 0),
        (1, "a/b.py:3: HEX101 x\nc.py:9:4: HEX202 y\n", 2),
        (1, "lots of words\n7 violations\n", 7),
        (1, "something went wrong\n", None),
    ],
)
def test_findings_in_project_tool_output(
    qg: ModuleType, code: int, output: str, expected: int | None
) -> None:
    assert qg.count_findings(code, output) == expected


def test_story_logs_are_found_outside_environments(qg: ModuleType, tmp_path: Path) -> None:
    log = "in-progress/WISH-1/_implementation/BACKEND-LOG.md"
    for place in ("plans/features/wish", "a/b", ".venv/lib", ".git/x", "node_modules/y"):
        write(tmp_path, f"{place}/{log}", "log")
    write(tmp_path, "plans/features/wish/done/WISH-0/_implementation/BACKEND-LOG.md", "old")
    write(tmp_path, "plans/features/wish/in-progress/WISH-2/_implementation/SCOPE.md", "no log")
    found = [path.as_posix() for path in qg.find_story_dirs(tmp_path)]
    assert found == [
        "a/b/in-progress/WISH-1/_implementation",
        "plans/features/wish/in-progress/WISH-1/_implementation",
    ]


def test_evidence_writes_leave_no_temporary_files(qg: ModuleType, tmp_path: Path) -> None:
    target = tmp_path / "evidence" / "report.json"
    qg.write_json_atomic(target, {"a": 1})
    qg.write_json_atomic(target, {"a": 2})
    assert json.loads(target.read_text(encoding="utf-8")) == {"a": 2}
    assert [path.name for path in target.parent.iterdir()] == ["report.json"]


# --------------------------------------------------------------------------- slow


@pytest.mark.slow
def test_all_gates_pass_and_the_evidence_says_so(
    base_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    project, done = base_run
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for name in GATE_ORDER:
        assert any(f" {name} " in f"{line} " for line in lines), (name, done.stdout)

    run = evidence(project, "quality_gates_run.json")
    assert run["schema_version"] == 1
    assert run["passed"] is True
    assert run["started_at"].endswith("Z") and run["finished_at"] >= run["started_at"]
    assert [gate["name"] for gate in run["gates"]] == GATE_ORDER
    statuses = {gate["name"]: gate["status"] for gate in run["gates"]}
    assert statuses == {**dict.fromkeys(GATE_ORDER, "passed"), "stories": "skipped"}
    for gate in run["gates"]:
        assert set(gate) >= {
            "name",
            "command",
            "status",
            "exit_code",
            "duration_s",
            "summary",
            "findings",
        }
        assert isinstance(gate["command"], list) and gate["command"]
        assert isinstance(gate["duration_s"], float) and gate["duration_s"] >= 0
        if gate["status"] == "passed":
            assert gate["exit_code"] == 0 and gate["findings"] == 0 and gate["duration_s"] > 0

    report = evidence(project, "test_report.json")
    assert {k: report["unit"][k] for k in ("tests", "passed", "failed", "errors", "skipped")} == {
        "tests": 3,
        "passed": 2,
        "failed": 0,
        "errors": 0,
        "skipped": 1,
    }
    assert report["integration"]["tests"] == report["integration"]["passed"] == 1
    assert report["totals"]["tests"] == 4 and report["totals"]["passed"] == 3
    assert not (project / EVIDENCE / "test_failures.json").exists()


@pytest.mark.slow
def test_a_failing_test_is_named_and_cleared_once_fixed(project: Path) -> None:
    test_file = "components/widgets/tests/unit/test_model.py"
    write(project, test_file, PASSING_UNIT_TEST.replace("double(0) == 0", "double(0) == 1"))
    done = run_gates(project)
    assert done.returncode == 1, done.stdout
    assert "FAIL" in done.stdout and "assert 0 == 1" in done.stdout  # the output tail

    gates = gates_by_name(project)
    assert gates["unit"]["status"] == "failed"
    assert gates["unit"]["findings"] == 1
    assert gates["unit"]["summary"] == "1 passed, 1 failed, 1 skipped"
    assert gates["integration"]["status"] == "passed"
    assert evidence(project, "quality_gates_run.json")["passed"] is False
    assert evidence(project, "test_report.json")["unit"]["failed"] == 1

    failures = evidence(project, "test_failures.json")["failures"]
    assert [(f["tier"], f["test_id"]) for f in failures] == [
        ("unit", "components/widgets/tests/unit/test_model.py::TestDouble::test_zero")
    ]
    assert "assert 0 == 1" in failures[0]["message"] + failures[0]["details"]

    write(project, test_file, PASSING_UNIT_TEST)
    again = run_gates(project)
    assert again.returncode == 0, again.stdout
    assert not (project / EVIDENCE / "test_failures.json").exists()


@pytest.mark.slow
def test_a_broken_test_module_is_an_error_with_its_path(project: Path) -> None:
    write(project, "components/widgets/tests/unit/test_broken.py", "import not_a_module\n")
    done = run_gates(project, "--only", "unit")
    assert done.returncode == 1, done.stdout
    unit = gates_by_name(project)["unit"]
    assert unit["status"] == "error"
    failures = evidence(project, "test_failures.json")["failures"]
    assert {f["test_id"] for f in failures} == {"components/widgets/tests/unit/test_broken.py"}


@pytest.mark.slow
def test_a_lint_error_fails_ruff_and_the_other_gates_still_run(project: Path) -> None:
    model = project / "components/widgets/domain/model.py"
    model.write_text("import os\n\n\n" + model.read_text(encoding="utf-8"), encoding="utf-8")
    done = run_gates(project)
    assert done.returncode == 1
    gates = gates_by_name(project)
    assert gates["ruff"]["status"] == "failed"
    assert gates["ruff"]["findings"] == 1
    assert "F401" in done.stdout
    for name in ("format", "mypy", "imports", "audit", "migrations", "unit", "integration"):
        assert gates[name]["status"] == "passed", gates[name]
    assert done.stdout.rstrip().splitlines()[-1].startswith("FAILED: ruff")


@pytest.mark.slow
def test_fail_fast_stops_after_the_first_failure(project: Path) -> None:
    model = project / "components/widgets/domain/model.py"
    model.write_text("import os\n\n\n" + model.read_text(encoding="utf-8"), encoding="utf-8")
    done = run_gates(project, "--fail-fast")
    assert done.returncode == 1
    gates = gates_by_name(project)
    assert gates["ruff"]["status"] == "failed"
    assert {gates[name]["status"] for name in GATE_ORDER[1:]} == {"skipped"}


@pytest.mark.slow
def test_only_unit_runs_just_that_gate(project: Path) -> None:
    shutil.rmtree(project / EVIDENCE)
    done = run_gates(project, "--only", "unit")
    assert done.returncode == 0, done.stdout
    ran = [line for line in done.stdout.splitlines() if line.startswith("[")]
    assert len(ran) == 1 and " unit " in ran[0]

    run = evidence(project, "quality_gates_run.json")
    assert run["only"] == ["unit"]
    statuses = {gate["name"]: gate["status"] for gate in run["gates"]}
    assert statuses == {**dict.fromkeys(GATE_ORDER, "skipped"), "unit": "passed"}
    report = evidence(project, "test_report.json")
    assert report["unit"]["passed"] == 2
    assert report["integration"] is None


@pytest.mark.slow
def test_audit_findings_fail_the_audit_gate(project: Path) -> None:
    write(project, "tools/hex_audit.py", FAILING_AUDIT)
    done = run_gates(project, "--only", "audit")
    assert done.returncode == 1
    audit = gates_by_name(project)["audit"]
    assert (audit["status"], audit["exit_code"], audit["findings"]) == ("failed", 1, 2)
    assert audit["summary"] == "2 findings"
    assert "HEX201" in done.stdout


@pytest.mark.slow
def test_every_active_story_log_is_checked(project: Path) -> None:
    good = "plans/features/wish/in-progress/WISH-1/_implementation"
    bad = "plans/features/wish/in-progress/WISH-2/_implementation"
    write(project, f"{good}/BACKEND-LOG.md", "## Chunk 1\nBACKEND COMPLETE\n")
    write(project, f"{bad}/BACKEND-LOG.md", "## Chunk 1\n")
    done = run_gates(project, "--only", "stories")
    assert done.returncode == 1
    stories = gates_by_name(project)["stories"]
    assert stories["status"] == "failed"
    assert [(t["dir"], t["status"]) for t in stories["targets"]] == [
        (good, "passed"),
        (bad, "failed"),
    ]
    assert stories["findings"] == 1
    assert "completion signal is missing" in done.stdout

    write(project, f"{bad}/BACKEND-LOG.md", "## Chunk 1\nBACKEND COMPLETE\n")
    assert run_gates(project, "--only", "stories").returncode == 0
    assert gates_by_name(project)["stories"]["summary"] == "2 story logs valid"


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def git_repo(root: Path) -> Path:
    env = {**clean_env(), **GIT_ENV}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "start"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)
    return root


@pytest.fixture
def linked_components(tmp_path: Path) -> Path:
    """a <- b <- c (each names the one before it), d alone, committed."""
    for name, uses in (("a", None), ("b", "a"), ("c", "b"), ("d", None)):
        body = f"from components.{uses}.domain import model\n" if uses else "VALUE = 1\n"
        write(tmp_path, f"components/{name}/domain/model.py", body)
    write(tmp_path, "components/conftest.py", "")
    write(tmp_path, "app/main.py", "")
    write(tmp_path, "README.md", "")
    return git_repo(tmp_path)


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        ({"components/a/domain/model.py": "VALUE = 2\n"}, ("a", "b", "c")),
        ({"components/c/domain/model.py": "VALUE = 2\n"}, ("c",)),
        ({"components/d/tests/unit/test_new.py": ""}, ("d",)),  # untracked counts
        ({"components/b/README.md": "more\n"}, ("b", "c")),
        ({"README.md": "docs\n", ".claude/notes.md": "x"}, ()),
        ({"app/main.py": "X = 1\n"}, None),
        ({"components/conftest.py": "X = 1\n"}, None),
        ({"pyproject.toml": "[tool.ruff]\n"}, None),
    ],
)
def test_changed_scope_follows_references(
    qg: ModuleType,
    linked_components: Path,
    edits: dict[str, str],
    expected: tuple[str, ...] | None,
) -> None:
    for relative, text in edits.items():
        write(linked_components, relative, text)
    scope = qg.changed_scope(linked_components)
    assert scope.components == expected, scope.note
    assert scope.note.startswith("--changed: ")
    assert set(edits) <= set(scope.changed_files)


@pytest.mark.parametrize(
    ("modules", "cpus", "idle", "chosen", "expected"),
    [
        (160, 2, 1.9, None, 2),
        (160, 8, 7.6, None, 8),
        (60, 8, 12.0, None, 8),  # never more than the CPUs
        (160, 2, 1.2, None, 1),  # one idle CPU: a second process would only add work
        (160, 8, 5.0, None, 5),
        (47, 8, 8.0, None, 1),  # too few modules to pay for a second process
        (2, 8, 0.0, 3, 2),  # --test-workers decides, one module per process at most
        (160, 8, 8.0, 0, 1),
        (160, 8, 8.0, 1, 1),
        (0, 8, 8.0, 4, 1),
    ],
)
def test_test_workers_use_idle_cpus(
    qg: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    modules: int,
    cpus: int,
    idle: float,
    chosen: int | None,
    expected: int,
) -> None:
    monkeypatch.setattr(qg.os, "cpu_count", lambda: cpus)
    ctx = qg.Context(tmp_path, 60.0, tmp_path, test_workers=chosen, idle_cpus=idle)
    assert qg.test_workers(ctx, modules) == expected


@pytest.mark.parametrize(
    ("before", "after", "cpus", "expected"),
    [
        # user nice system idle iowait irq softirq steal: idle and iowait count as idle
        ("100 0 100 800 0 0 0 0", "150 0 150 800 0 0 0 0", 2, 0.0),
        ("100 0 100 800 0 0 0 0", "100 0 100 900 0 0 0 0", 2, 2.0),
        ("100 0 100 800 0 0 0 0", "125 0 100 850 25 0 0 0", 2, 1.5),
        ("100 0 100 800 0 0 0 0", "150 0 100 850 0 0 0 0", 4, 2.0),
    ],
)
def test_idle_cpus_are_read_from_the_kernel_not_the_load_average(
    qg: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    before: str,
    after: str,
    cpus: int,
    expected: float,
) -> None:
    """/proc/stat's first line, read before and after a short wait: the share of CPU
    time spent idle then (the load average would still count work that just ended)."""
    stat = tmp_path / "stat"
    stat.write_text(f"cpu  {before}\ncpu0 0 0 0 0\n", encoding="ascii")
    monkeypatch.setattr(qg, "PROC_STAT", stat)
    monkeypatch.setattr(qg.os, "cpu_count", lambda: cpus)
    monkeypatch.setattr(qg.os, "getloadavg", lambda: (99.0, 99.0, 99.0))
    monkeypatch.setattr(
        qg.time, "sleep", lambda seconds: stat.write_text(f"cpu  {after}\n", encoding="ascii")
    )
    assert qg.idle_cpus() == pytest.approx(expected)


def test_idle_cpus_fall_back_to_the_load_average_without_proc_stat(
    qg: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(qg, "PROC_STAT", tmp_path / "absent")
    monkeypatch.setattr(qg.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(qg.os, "getloadavg", lambda: (2.5, 1.0, 1.0))
    assert qg.idle_cpus(0) == pytest.approx(1.5)


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=5000), min_size=1, max_size=40),
    workers=st.integers(min_value=2, max_value=6),
)
def test_shares_hold_every_module_once_and_are_even(
    qg: ModuleType, tmp_path_factory: pytest.TempPathFactory, sizes: list[int], workers: int
) -> None:
    root = tmp_path_factory.mktemp("shares")
    modules = []
    for index, size in enumerate(sizes):
        module = Path("components", f"c{index % 3}", "tests", "unit", f"test_{index}.py")
        (root / module).parent.mkdir(parents=True, exist_ok=True)
        (root / module).write_text("#" * size, encoding="utf-8")
        modules.append(module)
    shares = qg.share_out(root, modules, min(workers, len(modules)))
    assert len(shares) <= workers and all(shares)
    assert sorted(module for share in shares for module in share) == sorted(modules)
    loads = [sum(sizes[modules.index(module)] for module in share) for share in shares]
    # Each module went to the lightest share: no share exceeds another by more than one module.
    assert max(loads) - min(loads) <= max(sizes)


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ([0, 0], 0),
        ([0, 1], 1),
        ([5, 0], 0),  # a share whose tests the markers all deselected
        ([5, 5], 5),
        ([1, 3], 3),
        ([0, None], None),
    ],
)
def test_the_processes_outcomes_merge_into_one_run(
    qg: ModuleType, codes: list[int | None], expected: int | None
) -> None:
    outcomes = [
        qg.Outcome(code, f"process {index} said {code}\n", 1.0, None if code is not None else "x")
        for index, code in enumerate(codes)
    ]
    merged = qg.merge_outcomes(outcomes, 2.5)
    assert (merged.exit_code, merged.duration_s) == (expected, 2.5)
    assert (merged.error is None) == (expected is not None)
    lines = merged.output.splitlines()
    assert sorted(lines) == sorted(outcome.output.strip() for outcome in outcomes)
    if any(code not in (0, 5) for code in codes):  # a failing process's output is the tail
        assert not lines[-1].endswith((" 0", " 5")), lines


def test_changed_scope_outside_git_checks_everything(qg: ModuleType, tmp_path: Path) -> None:
    write(tmp_path, "components/a/domain/model.py", "")
    scope = qg.changed_scope(tmp_path)
    assert scope.components is None
    assert "every component" in scope.note


def test_a_deleted_file_counts_as_a_change(qg: ModuleType, linked_components: Path) -> None:
    (linked_components / "components/c/domain/model.py").unlink()
    assert qg.changed_scope(linked_components).components == ("c",)


@pytest.mark.slow
def test_a_failing_regression_test_fails_the_gates_and_is_named(project: Path) -> None:
    bug = "components/widgets/tests/regression/test_bug_1.py"
    write(
        project,
        bug,
        """
        import pytest

        from components.widgets.domain.model import double


        @pytest.mark.regression
        def test_double_of_a_negative_stays_negative() -> None:
            assert double(-2) == 4
        """,
    )
    done = run_gates(project)
    assert done.returncode == 1, done.stdout
    gates = gates_by_name(project)
    assert gates["regression"]["status"] == "failed"
    assert gates["regression"]["summary"] == "0 passed, 1 failed"
    assert gates["unit"]["status"] == gates["integration"]["status"] == "passed"
    report = evidence(project, "test_report.json")
    assert report["regression"]["tests"] == report["regression"]["failed"] == 1
    assert report["totals"]["failed"] == 1
    failures = evidence(project, "test_failures.json")["failures"]
    assert [(f["tier"], f["test_id"]) for f in failures] == [
        ("regression", f"{bug}::test_double_of_a_negative_stays_negative")
    ]
    assert done.stdout.rstrip().splitlines()[-1].startswith("FAILED: regression")


@pytest.mark.slow
def test_shared_out_tests_run_once_each_and_report_as_one_run(project: Path) -> None:
    """--test-workers 2 splits the component test modules between two pytest processes;
    tests outside components run in the first. Every test runs exactly once, and a
    failure in either process is reported as in one run."""
    for index in range(4):
        write(
            project,
            f"components/gadgets/tests/unit/test_gadget_{index}.py",
            f"""
            import pytest


            @pytest.mark.unit
            @pytest.mark.parametrize("n", range({index + 2}))
            def test_gadget_{index}(n: int) -> None:
                assert n >= 0
            """,
        )
    write(project, "components/gadgets/__init__.py", "")
    write(
        project,
        "tests/test_outside.py",
        """
        import pytest


        @pytest.mark.integration
        def test_outside_components() -> None:
            assert True
        """,
    )
    single = run_gates(project, "--only", "unit,integration,regression", "--test-workers", "1")
    assert single.returncode == 0, single.stdout
    one = evidence(project, "test_report.json")
    assert one["run"]["workers"] == 1
    assert one["totals"]["tests"] == 3 + 1 + (2 + 3 + 4 + 5) + 1

    split = run_gates(project, "--only", "unit,integration,regression", "--test-workers", "2")
    assert split.returncode == 0, split.stdout
    two = evidence(project, "test_report.json")
    assert two["run"]["workers"] == 2
    assert {tier: two[tier] for tier in ("unit", "integration")} == {
        tier: {**one[tier], "duration_s": two[tier]["duration_s"]}
        for tier in ("unit", "integration")
    }
    first, second = two["run"]["shares"]
    modules = sorted(str(path.relative_to(project)) for path in project.rglob("test_*.py"))
    component_modules = [module for module in modules if module.startswith("components/")]
    ignored = [arg.removeprefix("--ignore=") for arg in first if arg.startswith("--ignore=")]
    assert ignored == second and second and set(second) < set(component_modules)

    broken = next(module for module in second if "/gadgets/" in module)
    text = (project / broken).read_text(encoding="utf-8")
    (project / broken).write_text(text.replace(">= 0", "< 0"), encoding="utf-8")
    failed = run_gates(project, "--only", "unit,integration,regression", "--test-workers", "2")
    assert failed.returncode == 1, failed.stdout
    assert gates_by_name(project)["unit"]["status"] == "failed"
    failures = evidence(project, "test_failures.json")["failures"]
    assert failures and {f["test_id"].split("::")[0] for f in failures} == {broken}
    assert "assert" in failed.stdout  # the failing process's output is the tail shown


@pytest.mark.slow
def test_a_lost_unit_tier_fails_while_regression_may_be_empty(project: Path) -> None:
    shutil.rmtree(project / "components/widgets/tests/unit")
    done = run_gates(project, "--only", "unit,regression")
    assert done.returncode == 1, done.stdout
    gates = gates_by_name(project)
    assert gates["unit"]["status"] == "failed"
    assert gates["unit"]["summary"] == "no tests marked unit: every component ships some"
    assert gates["regression"]["status"] == "passed"
    assert gates["regression"]["summary"] == "no regression tests yet"


HANGING_TEST = """
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.unit
def test_hangs() -> None:
    if os.environ.get("HANG_STUBBORN"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    Path(os.environ["HANG_PIDS"]).write_text(f"{os.getpid()} {child.pid}")
    time.sleep(600)
"""


@pytest.mark.slow
@pytest.mark.parametrize("stubborn", [False, True], ids=["polite", "ignores-sigint-sigterm"])
def test_a_hanging_test_is_ended_with_everything_it_started(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stubborn: bool
) -> None:
    write(project, "components/widgets/tests/unit/test_hang.py", HANGING_TEST)
    pids = tmp_path / "pids"
    monkeypatch.setenv("HANG_PIDS", str(pids))
    if stubborn:
        monkeypatch.setenv("HANG_STUBBORN", "1")
    done = run_gates(project, "--only", "unit", "--timeout", "8", timeout=120)
    assert done.returncode == 1, done.stdout
    unit = gates_by_name(project)["unit"]
    assert unit["status"] == "error"
    assert unit["summary"] == "timed out after 8s; every process it started was ended"
    started = [int(pid) for pid in pids.read_text().split()]
    assert len(started) == 2
    assert not [pid for pid in started if alive(pid)]


@pytest.mark.slow
def test_sigterm_to_the_gates_ends_every_gate_it_started(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project, "components/widgets/tests/unit/test_hang.py", HANGING_TEST)
    pids = tmp_path / "pids"
    monkeypatch.setenv("HANG_PIDS", str(pids))
    before = (project / EVIDENCE / "quality_gates_run.json").read_bytes()
    gates = subprocess.Popen(
        [sys.executable, "tools/quality_gates.py"],
        cwd=project,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not pids.exists() or len(pids.read_text().split()) < 2:
            assert time.monotonic() < deadline, "the hanging test never started"
            assert gates.poll() is None, gates.communicate()
            time.sleep(0.1)
        gates.send_signal(signal.SIGTERM)
        out, err = gates.communicate(timeout=60)
    finally:
        if gates.poll() is None:
            gates.kill()
    assert gates.returncode == 130, out + err
    assert "interrupted" in err and "Traceback" not in err
    assert not [pid for pid in map(int, pids.read_text().split()) if alive(pid)]
    assert (project / EVIDENCE / "quality_gates_run.json").read_bytes() == before


def test_the_early_cluster_starts_once_the_conftest_is_all_defined() -> None:
    """components/conftest.py starts the gates' cluster in a thread as it loads: the
    thread calls functions of the module, so the start must be its last statement (a
    start above them failed now and then with a NameError)."""
    conftest = REPO / "src" / "hexforge" / "pytest_plugin.py"
    last = ast.parse(conftest.read_text(encoding="utf-8")).body[-1]
    assert ast.unparse(last) == "_EARLY = _start_early()"


def test_an_update_stopped_half_way_fails_the_gates_in_one_line(tmp_path: Path) -> None:
    (tmp_path / UPDATE_MARKER).write_text("")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "an update was stopped half-way" in done.stderr
    assert not (tmp_path / ".claude").exists()  # no gate ran, no evidence written


def test_the_update_marker_is_written_and_removed_by_the_name_the_tools_read() -> None:
    extensions = REPO / "extensions"
    assert f'UPDATE_MARKER = "{UPDATE_MARKER}"' in (extensions / "project_state.py").read_text()
    assert "project_state.UPDATE_MARKER).touch()" in (extensions / "copier_hooks.py").read_text()
    removal = "Path(project_state.UPDATE_MARKER).unlink(missing_ok=True)"
    assert removal in (extensions / "after_render.py").read_text()
