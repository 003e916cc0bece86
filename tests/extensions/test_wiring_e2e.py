"""The wiring through real `copier copy` / `copier update` runs, as users and agents run them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import manifest
from registry import read_answers
from tests.helpers import (
    BIN,
    COPIER,
    GIT_ENV,
    REPO,
    commit_all,
    copier_copy,
    copier_update,
    git,
    init_repo,
    run,
    snapshot_template,
    tag_template,
    tree_bytes,
)

pytestmark = pytest.mark.slow


def registered(project: Path) -> list[str]:
    return sorted(manifest.registered((project / ".claude" / "manifest.yaml").read_text()))


def imported(project: Path) -> list[str]:
    text = (project / "app" / "components.py").read_text()
    return [
        line.split(".")[1] for line in text.splitlines() if line.startswith("import components.")
    ]


def test_a_component_wires_an_empty_repository_and_survives_an_update(tmp_path: Path) -> None:
    template = snapshot_template(tmp_path / "template")
    project = init_repo(tmp_path / "shop")
    first = copier_copy(template, project, {"kind": "component", "component_name": "orders"})
    assert "registered component orders" in first.stdout
    answers = read_answers(project / ".copier-answers.yml")
    assert answers is not None
    assert (answers["kind"], answers["_commit"], answers["project_name"]) == (
        "project",
        "v1",
        "shop",
    )
    assert (project / "components" / "conftest.py").is_file()  # the project's own files
    copier_copy(template, project, {"kind": "component", "component_name": "billing"})
    assert imported(project) == registered(project) == ["billing", "orders"]
    commit_all(project, "two components")

    readme = template / "template" / "component" / "components" / "{{ component_name }}"
    (readme / "README.md.jinja").write_text((readme / "README.md.jinja").read_text() + "\nv2\n")
    tag_template(template, "v2")
    main_before = (project / "app" / "main.py").read_bytes()
    copier_update(project, "components/orders/.copier-answers.yml")
    entries = manifest.registered((project / ".claude" / "manifest.yaml").read_text())
    assert (entries["orders"]["template_version"], entries["billing"]["template_version"]) == (
        "v2",
        "v1",
    )
    assert (project / "app" / "main.py").read_bytes() == main_before
    changed = git(project, "status", "--porcelain").split("\n")
    assert sorted(line[3:] for line in changed if line) == [
        ".claude/manifest.yaml",
        "components/orders/.copier-answers.yml",
        "components/orders/README.md",
        "pyproject.toml",  # the update moved the hexforge pin, and nothing else
    ]
    assert git(project, "diff", "--numstat", "pyproject.toml").split()[:2] == ["1", "1"]
    assert (
        f"localhost{template.resolve().as_posix()}@v2" in (project / "pyproject.toml").read_text()
    )


def test_a_first_component_leaves_what_a_project_copy_then_the_component_would(
    tmp_path: Path,
) -> None:
    """The bootstrap render (template/component_with_project, one Copier run) is
    byte for byte the two-step result, answers files included, so the project can
    later be updated as if it had been copied on its own."""
    template = snapshot_template(tmp_path / "template")
    data = {"kind": "component", "component_name": "orders", "fields": "total:decimal, note:str?"}
    one_run = init_repo(tmp_path / "one" / "shop")
    copier_copy(template, one_run, data)
    two_runs = init_repo(tmp_path / "two" / "shop")
    copier_copy(template, two_runs, {"kind": "project"})
    copier_copy(template, two_runs, data)
    assert tree_bytes(one_run) == tree_bytes(two_runs)


def test_a_repository_with_its_own_contracts_is_not_overwritten_half_way(
    tmp_path: Path,
) -> None:
    template = snapshot_template(tmp_path / "template")
    project = init_repo(tmp_path / "shop")
    (project / ".importlinter").write_text("[importlinter]\nroot_package = shop\n")
    commit_all(project, "the user's contracts")
    before = tree_bytes(project)
    data = {"kind": "component", "component_name": "orders"}

    refused = copier_copy(template, project, data, check=False)

    assert refused.returncode != 0
    last_line = refused.stderr.strip().splitlines()[-1]
    assert "would replace yours: .importlinter. Nothing was written" in last_line
    assert tree_bytes(project) == before
    # Asked for, hexforge's contracts replace the user's.
    copier_copy(template, project, data, extra=["--overwrite"])
    assert (project / ".importlinter").read_bytes() == (
        template / "template" / "project" / ".importlinter"
    ).read_bytes()
    assert imported(project) == ["orders"]


def test_the_bootstrap_folder_links_every_file_of_the_project_and_component() -> None:
    templates = REPO / "template"

    def files(root: Path) -> set[str]:  # through the links, as Copier walks them
        return {
            str((Path(folder) / name).relative_to(root))
            for folder, _, names in os.walk(root, followlinks=True)
            for name in names
            if "__pycache__" not in Path(folder).parts
        }

    bootstrap = files(templates / "component_with_project")
    expected = files(templates / "project") | files(templates / "component")
    # One answers template of its own: the project's, beside the component's.
    assert bootstrap - expected == {".copier-answers.yml.jinja"}
    assert bootstrap >= expected
    for link in (templates / "component_with_project").rglob("*"):
        if link.is_symlink():  # relative, inside the template: Copier refuses others
            assert not Path(os.readlink(link)).is_absolute()
            assert link.resolve().is_relative_to(templates)


def test_a_story_wires_the_project_too(tmp_path: Path) -> None:
    template = snapshot_template(tmp_path / "template")
    project = init_repo(tmp_path / "shop")
    copier_copy(template, project, {"kind": "story", "story_id": "WISH-001"})
    answers = read_answers(project / ".copier-answers.yml")
    assert answers is not None and answers["kind"] == "project"
    assert registered(project) == imported(project) == []


def test_concurrent_component_copies_wire_once_and_register_all(tmp_path: Path) -> None:
    template = snapshot_template(tmp_path / "template")
    project = init_repo(tmp_path / "shop")
    names = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    command = [COPIER, "copy", "--trust", "--defaults", "--quiet", "-d", "kind=component"]
    runs = [
        subprocess.Popen(
            [*command, "-d", f"component_name={name}", str(template), str(project)],
            cwd=project,
            env={**os.environ, **GIT_ENV},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0] * len(names), outputs
    assert registered(project) == imported(project) == sorted(names)
    assert sum("pyproject.toml" in out for out, _ in outputs) == 1, "wired exactly once"


# Put on PYTHONPATH, it logs the arguments of every Python process started.
ARGV_LOGGER = """\
import os, sys
with open(os.environ["HEXFORGE_TEST_ARGV_LOG"], "a", encoding="utf-8") as log:
    log.write(repr(sys.argv) + "\\n")
"""


def test_the_after_render_step_runs_in_copiers_own_process(tmp_path: Path) -> None:
    """Wiring and layout start no Python process of their own (a second interpreter
    cost a sixth of a copy): Copier's is the only one, and the project is wired."""
    template = snapshot_template(tmp_path / "template")
    project = init_repo(tmp_path / "shop")
    copier_copy(template, project, {"kind": "project"})
    commit_all(project, "wired")
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(ARGV_LOGGER, encoding="utf-8")
    log = tmp_path / "argv.log"
    data = {"kind": "component", "component_name": "orders"}

    result = run(
        [COPIER, "copy", "--trust", "--defaults", "--quiet"]
        + [arg for key, value in data.items() for arg in ("-d", f"{key}={value}")]
        + [str(template), str(project)],
        project,
        env={"PYTHONPATH": str(hook), "HEXFORGE_TEST_ARGV_LOG": str(log)},
    )

    started = log.read_text(encoding="utf-8").splitlines()
    assert len(started) == 1 and "'copy'" in started[0], started
    assert "registered component orders" in result.stdout
    assert registered(project) == imported(project) == ["orders"]
    migrations = project / "components/orders/adapters/outbound/migrations"
    assert [path.name for path in migrations.glob("*.sql")] == ["0001_create_orders.sql"]
    assert (project / "components/orders/domain/invariants.py").is_file()  # a starter
    check = [str(BIN / "ruff"), "format", "--check", "--quiet", "components"]
    assert subprocess.run(check, cwd=project, check=False).returncode == 0  # laid out


def test_a_wiring_that_stops_fails_the_copy_with_its_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The step's failure is Copier's user error (its CLI prints it alone, exit 1),
    after the wiring's own line saying why."""
    from copier.errors import UserMessageError

    import copier_hooks

    project = init_repo(tmp_path / "shop")
    (project / "pyproject.toml").write_text("[project\nname = 'x'\n", encoding="utf-8")

    with pytest.raises(UserMessageError) as stopped:
        copier_hooks.after_render("project", "", "copy", "hexforge", "v1", "shop", project, False)

    assert str(stopped.value) == "hexforge: the project's wiring stopped (exit 1)"
    assert "hexforge: error: pyproject.toml is not valid TOML" in capsys.readouterr().err
    assert (project / "pyproject.toml").read_text(encoding="utf-8") == "[project\nname = 'x'\n"
    assert not (project / ".claude" / "manifest.yaml").exists()  # nothing half-written
