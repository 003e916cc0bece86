"""The seed's protocol around the task loop: tools/preflight.py, tools/completion_report.py,
the manifest reader they share (_hexforge.read_yaml) and the two Claude Code skills.

In-process tests load the tools from the template (tests/project/tooling.py) and always
pass --root, so nothing is written into the template itself.
"""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from tests.helpers import REPO
from tests.project.audit_cases.realistic import write_component
from tests.project.tooling import load_tool

hexforge = load_tool("_hexforge.py", "_hexforge")
preflight = load_tool("preflight.py", "hexforge_preflight")
completion = load_tool("completion_report.py", "hexforge_completion_report")

SKILLS = REPO / "template" / "project" / ".claude" / "skills"

MANIFEST = """\
# The coding agent's workspace manifest.
components:
  orders:
    entity: Order
    fields: 'customer:str, total:decimal'
    template_version: v1
phase: coding
outstanding:
  tasks:
    - id: T001
      title: "Orders: list by customer"
      status: completed
      notes: All gates pass
    - id: T002
      title: Totals are never negative
      status: completed
      notes: Fixed lint on 2nd attempt
    - {id: T003, title: Export orders, status: skipped, notes: Tier 3 drift - needs BA}
    - id: T004
      title: Order page
      scope: frontend
      status: pending
  remediation:
    - id: BUG-7
      severity: medium
      status: open
    - id: BUG-8
      severity: critical
      status: resolved
artifacts:
  spec: docs/002_spec.md
  rules: {path: docs/004_rules.md, version: 3}
"""


def run_tool(
    module: Any, capsys: pytest.CaptureFixture[str], *args: str | Path
) -> tuple[int, str, str]:
    code = module.main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with one component, its manifest, spec files, and every dependency
    counted as installed (the test environment is not a generated project's venv)."""
    root = tmp_path / "shop"
    write_component(root / "components", "orders")
    (root / "components" / "__init__.py").write_text("", encoding="utf-8")
    # As generated: every tier a package (the audit's sample has only a .gitkeep there).
    (root / "components" / "orders" / "tests" / "regression" / "__init__.py").touch()
    (root / ".claude").mkdir()
    (root / ".claude" / "manifest.yaml").write_text(MANIFEST, encoding="utf-8")
    (root / "docs").mkdir()
    for name in ("002_spec.md", "004_rules.md"):
        (root / "docs" / name).write_text("# spec\n", encoding="utf-8")
    (root / ".claude" / "evidence").mkdir()
    monkeypatch.setattr(preflight, "not_installed", lambda names: [])
    monkeypatch.setattr(preflight.importlib.metadata, "version", lambda name: "1.0")
    return root


def statuses(root: Path, *extra: str) -> dict[int, str]:
    items, _ = preflight.preflight(root, fix="--no-fix" not in extra)
    return {item.number: item.status for item in items}


# --- preflight -------------------------------------------------------------------------


def test_a_ready_project(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_tool(preflight, capsys, "--root", project)
    assert (code, err) == (0, "")
    assert out.strip().splitlines()[-1] == "ready"
    assert statuses(project) == dict.fromkeys(range(1, 9), "ok")
    code, out, _ = run_tool(preflight, capsys, "--root", project, "--format", "json")
    document = json.loads(out)
    assert document["ready"] is True and document["phase"] == "coding"
    tasks = next(item for item in document["items"] if item["number"] == 6)
    assert tasks["detail"] == "3 backend/fullstack task(s): 2 completed, 1 skipped"


def test_items_1_4_5_are_fixed(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "components" / "__init__.py").unlink()
    shutil.rmtree(project / "components" / "orders" / "tests" / "regression")
    (project / "components" / "orders" / "tests" / "unit" / "__init__.py").unlink()
    shutil.rmtree(project / ".claude" / "evidence")
    assert statuses(project, "--no-fix") == {
        **dict.fromkeys(range(1, 9), "ok"),
        1: "failed",
        4: "failed",
        5: "failed",
    }
    assert not (project / ".claude" / "evidence").exists()  # --no-fix wrote nothing
    code, out, _ = run_tool(preflight, capsys, "--root", project, "--format", "json")
    assert code == 0
    fixed = {item["number"]: item["fixed"] for item in json.loads(out)["items"]}
    assert fixed[1] == ["components/__init__.py"]
    assert fixed[4] == [
        "components/orders/tests/unit/__init__.py",
        "components/orders/tests/regression/__init__.py",
    ]
    assert fixed[5] == [".claude/evidence/"]
    assert (project / "components/orders/tests/regression/__init__.py").is_file()
    assert statuses(project) == dict.fromkeys(range(1, 9), "ok")


def test_a_fresh_project_without_components(tmp_path: Path) -> None:
    """An empty folder: the structure is created; with no manifest, item 6 fails."""
    items, _ = preflight.preflight(tmp_path, fix=True)
    found = {item.number: item for item in items}
    assert found[1].status == "fixed" and (tmp_path / "components" / "__init__.py").is_file()
    assert found[6].status == "failed" and "no .claude/manifest.yaml" in found[6].detail
    assert found[8].status == "warning"


@pytest.mark.parametrize(
    ("old", "new", "item", "words"),
    [
        ("phase: coding", "phase: qa", 6, "phase is 'qa'"),
        ("  tasks:\n", "  old_tasks:\n", 6, "no outstanding.tasks"),
        (
            "status: completed\n      notes: All",
            "status: done\n      notes: All",
            6,
            "status 'done'",
        ),
        ("- id: T002", "- id: T001", 6, "T001 appears twice"),
        ("      severity: medium", "      severity: high", 7, "BUG-7 (high)"),
        ("  spec: docs/002_spec.md", "  spec: docs/missing.md", 8, "spec (docs/missing.md)"),
        ("outstanding:", "outstanding: [", 6, "cannot read .claude/manifest.yaml: line "),
    ],
    ids=["phase", "no-tasks", "status", "duplicate-id", "remediation", "spec", "bad-yaml"],
)
def test_items_6_7_8_report_what_blocks(
    project: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, item: int, words: str
) -> None:
    manifest = project / ".claude" / "manifest.yaml"
    text = manifest.read_text(encoding="utf-8")
    assert old in text
    manifest.write_text(text.replace(old, new, 1), encoding="utf-8")
    code, out, _ = run_tool(preflight, capsys, "--root", project)
    assert code == 1
    line = next(line for line in out.splitlines() if line.startswith(f"  {item}. "))
    assert "failed" in line and words in line, line
    assert out.strip().splitlines()[-1].startswith("not ready: item(s) ")


def test_only_backend_tasks_count(project: Path) -> None:
    manifest = project / ".claude" / "manifest.yaml"
    manifest.write_text(
        "outstanding:\n  tasks:\n    - {id: F1, scope: frontend, status: pending}\n",
        encoding="utf-8",
    )
    items, _ = preflight.preflight(project, fix=False)
    assert items[5].status == "failed" and "no backend or fullstack task" in items[5].detail


def test_missing_dependencies_are_named(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["surely-not-installed-pkg>=1", "pytest"]\n'
        '[project.optional-dependencies]\ndev = ["ruff", "another-missing_one[extra]"]\n',
        encoding="utf-8",
    )
    item = preflight.check_dependencies(tmp_path)
    assert item.status == "failed"
    assert "surely-not-installed-pkg, another-missing_one" in item.detail
    assert 'pip install -e ".[dev]"' in item.detail


# --- completion report ----------------------------------------------------------------


def write_evidence(root: Path, *, failing: list[str]) -> None:
    """Evidence in the format tools/quality_gates.py writes (see write_evidence there)."""
    names = [
        "ruff",
        "format",
        "mypy",
        "imports",
        "audit",
        "migrations",
        "unit",
        "integration",
        "stories",
    ]
    gates = [
        {
            "name": name,
            "status": "failed"
            if name in failing
            else ("skipped" if name == "stories" else "passed"),
            "command": [name],
            "summary": "",
        }
        for name in names
    ]
    evidence = root / ".claude" / "evidence"
    run = {"schema_version": 1, "passed": not failing, "only": None, "gates": gates}
    (evidence / "quality_gates_run.json").write_text(json.dumps(run), encoding="utf-8")
    tier = {"tests": 10, "passed": 10, "failed": 0, "errors": 0, "skipped": 0, "duration_s": 1}
    report = {"schema_version": 1, "unit": tier, "integration": tier, "regression": None}
    (evidence / "test_report.json").write_text(json.dumps(report), encoding="utf-8")


def test_the_report_follows_the_manifest_and_the_evidence(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_evidence(project, failing=[])
    evolution = project / ".claude" / "evolution" / "evolution.md"
    evolution.parent.mkdir()
    evolution.write_text(
        "# Evolution log\n\n```markdown\n## YYYY-MM-DD · TASK-ID · example\n```\n\n"
        "<!-- Entries below this line. -->\n\n## 2026-01-02 · T002 · lint twice\n- x\n",
        encoding="utf-8",
    )
    code, out, err = run_tool(completion, capsys, "--root", project)
    assert (code, err) == (0, ""), err
    report = (project / ".claude" / "evidence" / "completion_report.md").read_text()
    assert out.strip() == (
        f"wrote {project / '.claude/evidence/completion_report.md'}: "
        "2 / 3 tasks completed; next phase: ba"
    )
    assert "| Tasks Completed | 2 / 3 |" in report
    assert "| Tasks Skipped | 1 (T003: Tier 3 drift - needs BA) |" in report
    assert "| Quality Gate Pass Rate | 100% (8 of 8 gates passed) |" in report
    assert "| Evolution Entries Created | 1 |" in report
    assert "| T002 | completed | Fixed lint on 2nd attempt |" in report
    assert "T004" not in report  # a frontend task is not the backend agent's
    assert "- .claude/evidence/test_report.json: unit: 10 passed, 0 failed" in report
    assert "- .claude/evidence/test_failures.json: absent (no failing test)" in report
    assert report.rstrip().endswith("phase: ba\n\ndrift needs the analyst: T003.")


@pytest.mark.parametrize(
    ("skip_note", "failing", "phase"),
    [
        ("not needed after all", [], "qa"),
        ("not needed after all", ["unit"], "coding"),
        ("tier 3: a new feature", [], "ba"),
    ],
)
def test_next_phase(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    skip_note: str,
    failing: list[str],
    phase: str,
) -> None:
    manifest = project / ".claude" / "manifest.yaml"
    manifest.write_text(
        manifest.read_text().replace("Tier 3 drift - needs BA", json.dumps(skip_note)),
        encoding="utf-8",
    )
    write_evidence(project, failing=failing)
    assert run_tool(completion, capsys, "--root", project)[0] == 0
    report = (project / ".claude" / "evidence" / "completion_report.md").read_text()
    assert f"## Next Step\n\nphase: {phase}\n" in report
    if failing:
        assert "88% (7 of 8 gates passed; failed: unit)" in report


def test_work_left_keeps_the_phase_at_coding(project: Path) -> None:
    manifest = project / ".claude" / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("status: skipped", "status: in_progress"))
    text, summary = completion.build_report(project, hexforge.read_manifest(project), "now")
    assert summary == "2 / 3 tasks completed; next phase: coding"
    assert "tasks not done: T003." in text
    assert "no gate run recorded" in text


def test_no_manifest_and_broken_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".claude" / "evidence").mkdir(parents=True)
    (tmp_path / ".claude" / "evidence" / "test_report.json").write_text("{not json")
    (tmp_path / ".claude" / "evidence" / "quality_gates_run.json").write_text("[]")
    assert run_tool(completion, capsys, "--root", tmp_path)[0] == 0
    report = (tmp_path / ".claude" / "evidence" / "completion_report.md").read_text()
    assert "| Tasks Completed | 0 / 0 |" in report
    assert "> Manifest: no .claude/manifest.yaml" in report
    assert "test_report.json: unreadable (JSONDecodeError)" in report
    assert "quality_gates_run.json: unreadable (not a JSON object)" in report


def test_an_unreadable_manifest_is_refused_in_one_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / ".claude" / "manifest.yaml").write_text("outstanding:\n  tasks: [\n")
    code, out, err = run_tool(completion, capsys, "--root", project)
    assert (code, out) == (1, "")
    (line,) = err.strip().splitlines()
    assert line.startswith("completion_report.py: cannot read .claude/manifest.yaml: line 3: ")
    assert line.endswith("; the report needs the tasks")
    assert not (project / ".claude" / "evidence" / "completion_report.md").exists()


def test_pipes_and_newlines_in_notes_keep_the_table(project: Path) -> None:
    manifest = project / ".claude" / "manifest.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "notes: All gates pass", "notes: |\n        a | b\n        second line"
        )
    )
    text, _ = completion.build_report(project, hexforge.read_manifest(project), "now")
    assert "| T001 | completed | a \\| b second line |" in text


# --- the manifest reader -------------------------------------------------------------

keys = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,7}", fullmatch=True)  # manifest keys
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**6), max_value=10**6)
    | st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=20)
)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.dictionaries(keys, documents, min_size=1, max_size=4),
    flow=st.sampled_from([False, None]),
)
def test_read_yaml_reads_what_ruamel_writes(data: dict[str, object], flow: bool | None) -> None:
    """Whatever ruamel (the wiring's YAML library) writes, block or mixed style, reads
    back as the same data, or is refused with a line: never read as something else."""
    from io import StringIO

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = flow
    yaml.width = 4096
    stream = StringIO()
    yaml.dump(data, stream)
    text = stream.getvalue()
    try:
        expected = yaml.load(text)
    except YAMLError:
        expected = None  # ruamel cannot read a few of its own writings ({a: ?0})
    assume(expected == data)  # and reads a few others as something else ([?0])
    try:
        assert hexforge.read_yaml(text) == expected, text
    except hexforge.YamlError as error:
        assert str(error).startswith("line "), text


def test_read_yaml_block_scalars_comments_and_quotes() -> None:
    text = (
        "# comment\n"
        "a: 'it''s # not a comment'  # a comment\n"
        'b: "tab\\there"\n'
        "c: |\n  one\n    two\n\n  three\nd: >-\n  folded\n  text\n"
        "e:\n- x\n- y: 1\n  z: [1, {k: v}]\n"
    )
    assert hexforge.read_yaml(text) == {
        "a": "it's # not a comment",
        "b": "tab\there",
        "c": "one\n  two\n\nthree\n",
        "d": "folded text",
        "e": ["x", {"y": 1, "z": [1, {"k": "v"}]}],
    }


# --- the skills ------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["hexagonal-pattern", "quality-gates"])
def test_skills_have_front_matter_naming_their_folder(folder: str) -> None:
    """Claude Code's skill format: YAML front matter with a name (lowercase letters,
    digits and hyphens, the folder's name) and a description of when to use it."""
    text = (SKILLS / folder / "SKILL.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    header, body = text[4:].split("\n---\n", 1)
    meta = YAML(typ="safe", pure=True).load(header)
    assert meta["name"] == folder
    assert isinstance(meta["description"], str) and 50 < len(meta["description"]) <= 1024
    assert body.strip().startswith("# ")
    assert hexforge.read_yaml(header) == meta


def test_skills_cover_every_audit_rule_and_gate() -> None:
    audit = load_tool("hex_audit.py", "hex_audit_for_skills")
    pattern = (SKILLS / "hexagonal-pattern" / "SKILL.md").read_text(encoding="utf-8")
    for rule in audit.RULES:
        assert f"| {rule} |" in pattern, rule
    gates = (SKILLS / "quality-gates" / "SKILL.md").read_text(encoding="utf-8")
    for gate in (
        "ruff",
        "format",
        "mypy",
        "imports",
        "audit",
        "migrations",
        "unit",
        "integration",
        "stories",
    ):
        assert f"| {gate} |" in gates, gate
    assert "regression" in gates and "lint-imports" in pattern


yaml_like = st.lists(
    st.sampled_from(
        ["a", "b: ", "- ", "  ", "'", '"', "[", "]", "{", "}", ",", ":", "#", "|", ">", "-",
         "?", "&x", "*x", "!t", "\t", "\n", "\r\n", "\\", "1", "~", "\u00a0", "\ufeff"]
    ),
    max_size=40,
).map("".join)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(text=yaml_like | st.text(max_size=60))
def test_read_yaml_reads_or_refuses_any_text(text: str) -> None:
    try:
        hexforge.read_yaml(text)
    except hexforge.YamlError as error:
        assert str(error).startswith("line ")


def test_what_cannot_be_written_is_one_line(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder or file the tools cannot write (permissions, a full disk): one line, exit 1.
    The tests run as root, where permissions are not enforced: the error is raised."""

    def refuse(path: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    (project / ".claude" / "evidence").rmdir()
    monkeypatch.setattr(Path, "mkdir", refuse)
    code, out, err = run_tool(preflight, capsys, "--root", project)
    assert (code, out) == (1, "")
    assert err == f"preflight.py: cannot fix {project / '.claude/evidence'}: Permission denied\n"
    monkeypatch.setattr(completion, "write_text_atomic", refuse)
    code, out, err = run_tool(completion, capsys, "--root", project)
    assert (code, out) == (1, "")
    assert err.startswith("completion_report.py: cannot write ")
    assert len(err.strip().splitlines()) == 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
evidence_like = st.fixed_dictionaries(
    {},
    optional={
        "gates": json_values
        | st.lists(st.fixed_dictionaries({"name": json_values, "status": json_values})),
        "passed": json_values,
        "only": json_values,
        "unit": json_values,
        "count": json_values,
    },
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(run=evidence_like, tests=evidence_like, failures=evidence_like, manifest=json_values)
def test_any_evidence_and_manifest_make_a_report(
    tmp_path: Path, run: object, tests: object, failures: object, manifest: object
) -> None:
    """Whatever the evidence files and the manifest hold, the report is written."""
    evidence = tmp_path / ".claude" / "evidence"
    evidence.mkdir(parents=True, exist_ok=True)
    for name, data in (
        ("quality_gates_run.json", run),
        ("test_report.json", tests),
        ("test_failures.json", failures),
    ):
        (evidence / name).write_text(json.dumps(data), encoding="utf-8")
    document = {"outstanding": {"tasks": manifest, "remediation": manifest}, "artifacts": manifest}
    text, summary = completion.build_report(tmp_path, document, "now")
    assert text.startswith("# Coding Completion Report\n") and "phase: " in summary
    items = [
        preflight.check_tasks(document, None),
        preflight.check_remediation(document),
        preflight.check_artifacts(tmp_path, document),
    ]
    assert all(item.status in ("ok", "warning", "failed") for item in items)


def test_odd_pyproject_values_are_not_dependencies(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = "fastapi"\n'
        "[project.optional-dependencies]\ndev = 3\n"
    )
    assert preflight.declared_dependencies(tmp_path) == ([], "pyproject.toml")


def test_preflight_checks_every_tool_the_gates_need() -> None:
    # Derived from the gates' own code: each `missing_tool(gate, argv, distribution)`
    # names a distribution a gate cannot run without; preflight's item 3 must check it.
    source = (REPO / "src" / "hexforge" / "gates.py").read_text("utf-8")
    needed = {
        node.args[2].value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "missing_tool"
        and len(node.args) == 3
        and isinstance(node.args[2], ast.Constant)
    }
    assert {"ruff", "mypy", "import-linter", "squawk-cli"} <= needed
    assert needed <= set(preflight.GATE_TOOLS)
