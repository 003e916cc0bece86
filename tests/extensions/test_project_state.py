"""extensions/project_state.py: is the project wired, and which folder a copy renders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from project_state import (
    BOOTSTRAP_SUBDIRECTORY,
    KEPT_IF_PRESENT,
    bootstrap_clashes,
    bootstrap_lock,
    first_into,
    is_wired,
    project_answers,
    subdirectory,
)
from tests.helpers import REPO

TEMPLATE = str(REPO)


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Bootstrap locks in this test's own folder, not the user's cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


HEADER = "# Managed by Copier for hexforge: do not edit by hand.\n"


@pytest.mark.parametrize(
    ("text", "wired"),
    [
        (HEADER + "_commit: v1\n_src_path: /t\nkind: project\nproject_name: shop\n", True),
        ("kind: 'project'\n", True),
        ("kind: component\ncomponent_name: orders\n", False),  # a component's answers
        ("  kind: project\n", False),  # nested, not the top-level key
        ("", False),
    ],
)
def test_is_wired_reads_the_kind_in_the_project_answers(
    tmp_path: Path, text: str, wired: bool
) -> None:
    (tmp_path / ".copier-answers.yml").write_text(text)
    assert is_wired(tmp_path) is wired


def test_a_repository_without_project_answers_is_not_wired(tmp_path: Path) -> None:
    assert not is_wired(tmp_path)
    (tmp_path / ".copier-answers.yml").mkdir()
    assert not is_wired(tmp_path)


def test_only_a_first_component_copy_renders_the_bootstrap_folder(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert subdirectory("component", "copy", TEMPLATE, str(empty)) == BOOTSTRAP_SUBDIRECTORY
    assert subdirectory("story", "copy", TEMPLATE, str(empty)) == "template/story"
    assert subdirectory("project", "copy", TEMPLATE, str(empty)) == "template/project"
    assert subdirectory("component", "update", TEMPLATE, str(empty)) == "template/component"
    # Only named like one of Copier's temporary update copies: a real project.
    look_alike = tmp_path / "copier._main.old_copy.x1y2"
    look_alike.mkdir()
    assert subdirectory("component", "copy", TEMPLATE, str(look_alike)) == BOOTSTRAP_SUBDIRECTORY
    wired = tmp_path / "wired"
    wired.mkdir()
    (wired / ".copier-answers.yml").write_text("kind: project\n")
    assert subdirectory("component", "copy", TEMPLATE, str(wired)) == "template/component"


def test_a_second_copy_in_the_same_process_sees_the_wired_project(
    tmp_path: Path,
) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    assert subdirectory("component", "copy", TEMPLATE, str(project)) == BOOTSTRAP_SUBDIRECTORY
    # Asked again in this process (its lock already held): no wait on itself.
    assert first_into(project)
    (project / ".copier-answers.yml").write_text("kind: project\n")
    assert subdirectory("component", "copy", TEMPLATE, str(project)) == "template/component"


def test_project_answers_are_what_a_project_copy_records() -> None:
    component_run = {"_commit": "v2", "_src_path": "gh:org/hexforge", "kind": "component"}
    assert project_answers(component_run, "shop") == {
        "_commit": "v2",
        "_src_path": "gh:org/hexforge",
        "kind": "project",
        "project_name": "shop",
    }
    # A template outside git has no _commit, and then neither do the answers.
    assert project_answers({"_src_path": "/t"}, "shop") == {
        "_src_path": "/t",
        "kind": "project",
        "project_name": "shop",
    }


def test_bootstrap_clashes_are_the_users_files_the_project_render_would_replace(
    tmp_path: Path,
) -> None:
    template_root = REPO  # template/project as shipped
    project = tmp_path / "existing"
    (project / "tools").mkdir(parents=True)
    (project / ".claude" / "evolution").mkdir(parents=True)
    (project / ".importlinter").write_text("[importlinter]\nroot_package = mine\n")
    (project / ".claude" / "HEXFORGE.md").write_text("the user's own note\n")
    # Already hexforge's bytes: nothing to replace.
    sync = REPO / "template" / "project" / "tools" / "sync.py"
    (project / "tools" / "sync.py").write_bytes(sync.read_bytes())
    # Kept when present (_skip_if_exists): never replaced.
    (project / ".claude" / "evolution" / "evolution.md").write_text("the agent's notes\n")
    assert bootstrap_clashes(template_root, project) == [".claude/HEXFORGE.md", ".importlinter"]
    # Another Copier template's answers: replacing them would orphan that template.
    (project / ".copier-answers.yml").write_text("_src_path: gh:other/template\n")
    assert ".copier-answers.yml" in bootstrap_clashes(template_root, project)
    assert bootstrap_clashes(template_root, tmp_path / "empty") == []


def test_the_kept_files_are_the_ones_copier_yml_skips() -> None:
    config = YAML(typ="safe").load((REPO / "copier.yml").read_text())
    project_files = {
        str(path.relative_to(REPO / "template" / "project"))
        for path in (REPO / "template" / "project").rglob("*")
        if path.is_file()
    }
    assert set(config["_skip_if_exists"]) & project_files == KEPT_IF_PRESENT


BOOTSTRAP = """
import sys, time
from pathlib import Path
from project_state import first_into
project = Path(sys.argv[1])
print("deciding", flush=True)
print(first_into(project), flush=True)
if sys.argv[2] == "first":
    sys.stdin.readline()  # hold the bootstrap until the test says so
    (project / ".copier-answers.yml").write_text("kind: project\\n")
"""


def test_a_concurrent_first_component_waits_and_then_finds_the_project_wired(
    tmp_path: Path, cache_home: Path
) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "extensions"),
        "XDG_CACHE_HOME": str(cache_home),
    }
    command = [sys.executable, "-c", BOOTSTRAP, str(project)]
    first = subprocess.Popen(
        [*command, "first"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert first.stdout is not None and first.stdin is not None
    assert first.stdout.readline().strip() == "deciding"
    assert first.stdout.readline().strip() == "True"  # it bootstraps, lock held
    second = subprocess.Popen([*command, "second"], env=env, stdout=subprocess.PIPE, text=True)
    assert second.stdout is not None
    assert second.stdout.readline().strip() == "deciding"
    with pytest.raises(subprocess.TimeoutExpired):
        second.wait(timeout=1)  # blocked on the lock while the first renders
    first.stdin.write("done\n")
    first.stdin.close()
    assert first.wait(timeout=30) == 0
    output, _ = second.communicate(timeout=30)
    assert output.strip() == "False"  # the project the first one wired


def test_the_lock_lives_in_a_private_folder_or_nowhere(
    tmp_path: Path,
) -> None:
    lock = bootstrap_lock(tmp_path / "shop")
    assert lock is not None and lock.parent == tmp_path / "cache" / "hexforge" / "locks"
    assert bootstrap_lock(tmp_path / "other") != lock  # one per destination
    os.chmod(lock.parent, 0o777)  # another user could hold or swap the locks
    assert bootstrap_lock(tmp_path / "shop") is None


def test_without_symlinks_the_component_renders_alone(
    tmp_path: Path,
) -> None:
    checkout = tmp_path / "template"  # links checked out as small text files
    (checkout / BOOTSTRAP_SUBDIRECTORY).mkdir(parents=True)
    (checkout / BOOTSTRAP_SUBDIRECTORY / "tools").write_text("../project/tools")
    project = tmp_path / "shop"
    project.mkdir()
    assert subdirectory("component", "copy", str(checkout), str(project)) == ("template/component")
