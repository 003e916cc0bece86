"""The hexforge package itself: its command, the manifest read with a YAML library,
the tasks commands, the project root, and the pin a project depends on it by."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hexforge import cli, core, pin
from tests.helpers import git, init_repo

FLOW_MANIFEST = """\
phase: implementing
outstanding:
  tasks:
    - {id: T004, title: "list active products, by name", status: pending}
    - {id: T005,
       title: 'archive a product: it keeps its history',
       status: in_progress}
  remediation: []
"""


def hexforge(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hexforge", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def manifest_project(root: Path, text: str) -> Path:
    (root / "components").mkdir(parents=True)
    (root / ".claude").mkdir()
    (root / ".claude" / "manifest.yaml").write_text(text, encoding="utf-8")
    return root


def test_tasks_in_yaml_flow_style_are_read(tmp_path: Path) -> None:
    manifest = core.read_manifest(manifest_project(tmp_path, FLOW_MANIFEST))
    assert manifest is not None
    tasks, problems = core.manifest_tasks(manifest)
    assert problems == []
    assert [(t.id, t.title, t.status) for t in tasks] == [
        ("T004", "list active products, by name", "pending"),
        ("T005", "archive a product: it keeps its history", "in_progress"),
    ]


def test_preflight_and_report_read_a_flow_style_manifest(tmp_path: Path) -> None:
    project = manifest_project(tmp_path / "shop", FLOW_MANIFEST)
    done = hexforge(project, "preflight", "--format", "json", "--no-fix")
    assert done.returncode in (0, 1), done.stderr
    assert "a quoted string does not end" not in done.stdout + done.stderr
    report = hexforge(project, "report")
    assert report.returncode == 0, report.stderr
    written = (project / ".claude" / "evidence" / "completion_report.md").read_text("utf-8")
    assert "tasks not done: T004, T005." in written


def test_a_manifest_nested_too_deeply_is_one_line_not_a_crash(tmp_path: Path) -> None:
    project = manifest_project(tmp_path, "a: " + "[" * 5000 + "]" * 5000 + "\n")
    for command in ("preflight", "report"):
        done = hexforge(project, command)
        assert done.returncode == 1, (command, done.stdout, done.stderr)
        assert "Traceback" not in done.stdout + done.stderr
        assert "nesting depth" in done.stdout + done.stderr


def test_answers_keep_every_scalar_a_string(tmp_path: Path) -> None:
    answers = tmp_path / ".copier-answers.yml"
    answers.write_text("_commit: 5e72125\n_src_path: /x\nkind: component\nn: 1.10\n")
    assert core.read_answers(answers) == {
        "_commit": "5e72125",
        "_src_path": "/x",
        "kind": "component",
        "n": "1.10",
    }


def test_tasks_claim_complete_and_phase_edit_the_manifest(tmp_path: Path) -> None:
    project = manifest_project(tmp_path / "shop", FLOW_MANIFEST)
    assert hexforge(project, "tasks", "claim", "T004").returncode == 0
    again = hexforge(project, "tasks", "claim", "T004")
    assert again.returncode == 1
    assert "T004 is in_progress, not pending" in again.stderr
    assert hexforge(project, "tasks", "complete", "T004", "--notes", "done").returncode == 0
    assert hexforge(project, "tasks", "phase", "verifying").returncode == 0
    listing = json.loads(hexforge(project, "tasks", "list", "--format", "json").stdout)
    assert [(t["id"], t["status"]) for t in listing["tasks"]] == [
        ("T004", "completed"),
        ("T005", "in_progress"),
    ]
    manifest = core.read_manifest(project)
    assert manifest is not None and manifest["phase"] == "verifying"
    unknown = hexforge(project, "tasks", "complete", "T999")
    assert (unknown.returncode, unknown.stderr.count("\n")) == (1, 1)
    assert "no task 'T999'" in unknown.stderr


@pytest.mark.parametrize(
    "argv",
    [["nope"], [], ["tasks"], ["tasks", "phase", "Not A Phase"], ["audit", "--format", "xml"]],
)
def test_a_bad_command_line_exits_2_with_one_line(tmp_path: Path, argv: list[str]) -> None:
    done = hexforge(tmp_path, *argv)
    assert done.returncode == 2, (done.stdout, done.stderr)
    if argv:
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_every_subcommand_answers_help(tmp_path: Path) -> None:
    for command in cli.COMMANDS:
        done = hexforge(tmp_path, command, "--help")
        assert (done.returncode, done.stderr) == (0, ""), command
        assert "usage:" in done.stdout


def test_the_project_is_found_from_any_folder_inside_it(tmp_path: Path) -> None:
    project = manifest_project(tmp_path / "shop", "")
    deep = project / "components" / "orders" / "domain"
    deep.mkdir(parents=True)
    assert core.project_root(deep) == project.resolve()
    assert core.project_root(tmp_path) == tmp_path.resolve()


@given(
    owner=st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
    name=st.from_regex(r"[a-z][a-z0-9._-]{0,10}", fullmatch=True),
)
def test_hosted_templates_pin_an_https_git_url(owner: str, name: str) -> None:
    here = Path("/")
    url = f"git+https://github.com/{owner}/{name}"
    assert pin.source_url(f"gh:{owner}/{name}", here) == url
    assert pin.source_url(f"https://github.com/{owner}/{name}", here) == url
    assert (
        pin.source_url(f"git@github.com:{owner}/{name}", here)
        == f"git+ssh://git@github.com/{owner}/{name}"
    )


def test_a_local_template_pins_its_tag_then_its_commit(tmp_path: Path) -> None:
    template = init_repo(tmp_path / "tpl")
    git(template, "tag", "v3")
    head = git(template, "rev-parse", "HEAD").strip()
    url = f"git+file://localhost{template.resolve().as_posix()}"
    assert pin.requirement(str(template), "v3", template, tmp_path) == f"hexforge @ {url}@v3"
    assert pin.requirement(str(template), "v3-1-gabc", template, tmp_path) == (
        f"hexforge @ {url}@{head}"
    )
    assert pin.requirement(str(template), head[:7], template, tmp_path) == (
        f"hexforge @ {url}@{head}"
    )
    git(template, "tag", "-a", "v4", "-m", "an annotated tag names its commit too")
    assert pin.requirement(str(template), "v4", template, tmp_path) == f"hexforge @ {url}@v4"
    # A ref git would read as two names is no tag of the clone's commit.
    assert pin.requirement(str(template), "v3\nv4", template, tmp_path) == (
        f"hexforge @ {url}@{head}"
    )
    plain = tmp_path / "plain"
    plain.mkdir()
    assert pin.requirement(str(plain), "", plain, tmp_path) == (
        f"hexforge @ {plain.resolve().as_uri()}"
    )


@pytest.mark.parametrize("tasks", ["{T1: {title: x}}", "T1", "7"])
def test_a_task_list_that_is_not_a_list_is_refused_by_the_report(
    tmp_path: Path, tasks: str
) -> None:
    project = manifest_project(tmp_path / "shop", f"outstanding:\n  tasks: {tasks}\n")
    done = hexforge(project, "report")
    assert done.returncode == 1, done.stdout
    (line,) = done.stderr.strip().splitlines()
    assert "outstanding.tasks is a" in line and "not a list of tasks" in line
    assert not (project / ".claude" / "evidence" / "completion_report.md").exists()
