"""The agent's loop on a project rendered with the copier CLI: the audit's allowed
imports, pre-flight, the completion report, the skills and a story log filled from the
command line, each run as the project's own tools with its own interpreter."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.component.gates import gate_env
from tests.helpers import commit_all, copier_copy, init_repo, run

pytestmark = pytest.mark.slow

STORY_DIR = "plans/features/inventory/in-progress/INV-1/_implementation"
# The agent's tasks, in place of the empty list the wiring gives every manifest.
TASKS = """  tasks:
    - {id: T001, title: Stock levels, status: completed, notes: All gates pass}
    - {id: T002, title: Reorder rule, status: skipped, notes: Tier 3 drift - needs BA}
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, template_v1: Path) -> Path:
    project = init_repo(tmp_path_factory.mktemp("loop") / "shop")
    for name, fields in (("orders", "customer:str, total:decimal"), ("customers", "email:str")):
        copier_copy(
            template_v1, project, {"kind": "component", "component_name": name, "fields": fields}
        )
    copier_copy(
        template_v1,
        project,
        {"kind": "story", "story_id": "INV-1", "feature_dir": "plans/features/inventory"},
    )
    commit_all(project, "two components and a story")
    return project


@pytest.fixture
def project(shop: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "shop"
    shutil.copytree(shop, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


FRAMEWORK_IMPORTS = [
    "from fastapi import HTTPException",
    "from psycopg import AsyncConnection",
]
LAYER_FILES = [
    "domain/service.py",
    "domain/rules.py",
    "domain/exceptions.py",
    "ports/inbound.py",
    "ports/outbound.py",
]


def test_a_generated_project_is_clean_for_the_audit(shop: Path, generated_venv: Path) -> None:
    result = run(
        ["python", "tools/hex_audit.py", "components/"], shop, env=gate_env(generated_venv, shop)
    )
    assert result.stdout.strip() == "hex_audit: 2 component(s) checked, no findings"


def test_a_framework_import_in_any_domain_or_port_file_is_a_finding(
    project: Path, generated_venv: Path
) -> None:
    """Every planted line at once: each is its own finding, with its file and line."""
    expected = []
    for relative in LAYER_FILES:
        target = project / "components" / "orders" / relative
        lines = target.read_text().splitlines()
        at = next(i for i, text in enumerate(lines) if text.startswith("from __future__")) + 1
        lines[at:at] = FRAMEWORK_IMPORTS
        target.write_text("\n".join(lines) + "\n")
        expected += [
            (f"components/orders/{relative}", at + 1),
            (f"components/orders/{relative}", at + 2),
        ]
    env = gate_env(generated_venv, project)
    result = run(
        ["python", "tools/hex_audit.py", "--format", "json"], project, env=env, check=False
    )
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert sorted((f["path"], f["line"]) for f in findings) == sorted(expected)
    assert {f["rule"] for f in findings} == {"HEX204"}
    assert {f["message"].split(",")[0] for f in findings} == {
        "imports fastapi.HTTPException",
        "imports psycopg.AsyncConnection",
    }


def test_preflight_and_the_completion_report(project: Path, generated_venv: Path) -> None:
    env = gate_env(generated_venv, project)
    shutil.rmtree(project / "components" / "orders" / "tests" / "regression")
    first = run(["python", "tools/preflight.py", "--format", "json"], project, env=env, check=False)
    document = json.loads(first.stdout)
    by_number = {item["number"]: item for item in document["items"]}
    assert by_number[4]["fixed"] == ["components/orders/tests/regression/__init__.py"]
    assert [by_number[n]["status"] for n in (1, 2, 3, 5)] == ["ok"] * 4, first.stdout
    # The manifest the wiring wrote has no tasks yet: not ready until it does.
    assert first.returncode == 1 and by_number[6]["status"] == "failed"

    manifest = project / ".claude" / "manifest.yaml"
    wired = manifest.read_text()
    assert "phase: coding\noutstanding:\n  tasks: []\n" in wired
    manifest.write_text(wired.replace("  tasks: []\n", TASKS, 1))
    ready = run(["python", "tools/preflight.py"], project, env=env, check=False)
    assert ready.returncode == 0, ready.stdout
    assert ready.stdout.strip().endswith("ready")

    gates = run(
        ["python", "tools/quality_gates.py", "--only", "ruff", "--only", "audit"],
        project,
        env=env,
        check=False,
    )
    assert gates.returncode == 0, gates.stdout + gates.stderr
    report = run(["python", "tools/completion_report.py"], project, env=env)
    assert report.stdout.strip().endswith("1 / 2 tasks completed; next phase: ba")
    text = (project / ".claude" / "evidence" / "completion_report.md").read_text()
    assert "| Quality Gate Pass Rate | 100% (2 of 2 gates passed) (a partial run: --only) |" in text
    assert "| T002 | skipped | Tier 3 drift - needs BA |" in text


def test_the_skills_and_the_note_are_rendered(shop: Path) -> None:
    for name in ("hexagonal-pattern", "quality-gates"):
        skill = (shop / ".claude" / "skills" / name / "SKILL.md").read_text()
        assert skill.startswith(f"---\nname: {name}\ndescription: ")
    note = (shop / ".claude" / "HEXFORGE.md").read_text()
    assert "| `python -m importlinter` | `lint-imports`" in note
    assert "`python tools/hex_audit.py components/` |" in note
    assert 'pip install -e ".[dev]"' in note and "python -m venv .venv" in note
    assert "never\n  appended to the generated" in note


def test_a_story_log_filled_from_the_command_line_passes_while_in_progress(
    project: Path, generated_venv: Path
) -> None:
    env = gate_env(generated_venv, project)
    assert (project / "plans/features/inventory/in-progress/INV-1/INV-1.md").is_file()
    (project / "components" / "orders" / "domain" / "rules.py").write_text(
        (project / "components" / "orders" / "domain" / "rules.py").read_text() + "\nLIMIT = 5\n"
    )
    chunk = [
        "python", "tools/story_log.py", "chunk", STORY_DIR, "--name", "stock limit",
        "--objective", "AC-1: orders above the limit are refused", "--files-from-git",
        "--summary", "a limit constant in the rules", "--reused", "rules.py",
        "--new", "LIMIT", "--why-new", "n/a", "--core", "the limit",
        "--adapters", "none", "--commands", "python tools/quality_gates.py", "--notes", "none",
    ]  # fmt: skip
    done = run(chunk, project, env=env)
    assert "filled Chunk 1" in done.stdout
    log = (project / STORY_DIR / "BACKEND-LOG.md").read_text()
    assert "- Files changed:\n  - `components/orders/domain/rules.py`\n- Summary" in log
    stories = run(
        ["python", "tools/quality_gates.py", "--only", "stories"], project, env=env, check=False
    )
    assert stories.returncode == 0, stories.stdout
