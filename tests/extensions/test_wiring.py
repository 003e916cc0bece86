"""The wiring script, run the way Copier runs its task: a process in the project root."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

import app_main
import manifest
import project_files
import pyproject_merge
import wiring
from hexforge import composition
from tests.extensions.support import (
    WIRING,
    add_component,
    assert_only_additions,
    mark_wired,
    run_wiring,
    snapshot,
)
from tests.extensions.test_app_main import BLOCKS_ERA
from tests.helpers import git, init_repo

CORPUS = Path(__file__).parent / "pyproject_corpus"


def imported_components(project: Path) -> list[str]:
    text = (project / "app" / "components.py").read_text()
    return [
        line.split(".")[1] for line in text.splitlines() if line.startswith("import components.")
    ]


def test_first_run_wires_everything(tmp_path: Path) -> None:
    project = mark_wired(tmp_path / "shop")
    add_component(project, "orders")
    result = run_wiring(project)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "created .claude/.gitignore, .gitignore, pyproject.toml, app/__init__.py, "
        "components/__init__.py, .claude/evidence/.gitkeep, app/settings.py, README.md, "
        "app/main.py, app/components.py, .claude/manifest.yaml",
        "registered component orders",
    ]
    written = (project / "pyproject.toml").read_text()
    (pin,) = [line.strip(' ",') for line in written.splitlines() if '"hexforge @ ' in line]
    assert written == pyproject_merge.new_pyproject("demo", pin)
    assert (project / "app" / "main.py").read_text() == app_main.new_app_main("demo")
    assert (project / "app" / "settings.py").read_text() == project_files.SETTINGS_PY
    assert (project / "app" / "components.py").read_text() == composition.render(["orders"])
    assert list(manifest.registered((project / ".claude/manifest.yaml").read_text())) == ["orders"]
    assert (project / ".claude" / ".gitignore").read_text().splitlines()[-1] == ".hexforge.lock"
    assert (project / ".claude" / "evidence" / ".gitkeep").read_bytes() == b""
    for package in ("app", "components"):
        assert (project / package / "__init__.py").read_text().startswith('"""')


def test_second_run_changes_no_byte_and_says_nothing(tmp_path: Path) -> None:
    project = mark_wired(tmp_path / "shop")
    add_component(project, "orders")
    add_component(project, "billing")
    assert run_wiring(project).returncode == 0
    before = snapshot(project)
    time.sleep(0.01)
    again = run_wiring(project)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    assert snapshot(project) == before


def test_a_merge_that_changed_nothing_is_not_parsed_again_for_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    project = mark_wired(tmp_path / "shop")
    add_component(project, "orders")
    merges: list[str] = []
    merge = pyproject_merge.merge_pyproject

    def counted(text: str, *args: Any, **options: Any) -> Any:
        if not options:  # the wiring's merge; new_pyproject's passes its pin by name
            merges.append(text)
        return merge(text, *args, **options)

    monkeypatch.setattr(pyproject_merge, "merge_pyproject", counted)

    def wire() -> None:
        status = wiring.run(
            project,
            kind="component",
            operation="copy",
            template="/nonexistent/hexforge",
            ref="v1",
            project_name="demo",
        )
        assert status == 0

    wire()  # writes pyproject.toml: nothing to merge yet
    wire()  # merges, finds nothing to add, records it
    before = snapshot(project)
    wire()
    assert len(merges) == 1
    assert snapshot(project) == before
    # Other bytes, another merge; and another pin, too.
    with (project / "pyproject.toml").open("a") as pyproject:
        pyproject.write("# a comment of the user's\n")
    wire()
    assert len(merges) == 2
    wire()
    assert len(merges) == 2
    monkeypatch.setattr(wiring, "hexforge_pin", lambda *_: "hexforge @ git+https://h.invalid/x@v2")
    wire()
    assert len(merges) == 3
    assert "hexforge @ git+https://h.invalid/x@v2" in (project / "pyproject.toml").read_text()


def test_kind_project_wires_an_empty_project(tmp_path: Path) -> None:
    project = tmp_path / "empty"
    project.mkdir()
    result = run_wiring(project, kind="project")
    assert result.returncode == 0, result.stderr
    assert imported_components(project) == []
    assert "    return []\n" in (project / "app/components.py").read_text()
    assert manifest.registered((project / ".claude/manifest.yaml").read_text()) == {}


@pytest.mark.parametrize("folder", ["copier._main.old_copy.x1y2", "copier.main.new_copy.abc"])
def test_a_project_only_named_like_a_copier_temporary_copy_is_wired(
    tmp_path: Path, folder: str
) -> None:
    # Copier's own temporary copies are told apart in Copier's process
    # (copier_internals.py), where the task is not even started.
    project = mark_wired(tmp_path / folder / "sub")
    add_component(project, "orders")
    result = run_wiring(project)
    assert result.returncode == 0, result.stderr
    assert imported_components(project) == ["orders"]


def test_components_are_registered_and_unregistered_from_disk(tmp_path: Path) -> None:
    project = mark_wired(tmp_path / "shop")
    add_component(project, "orders")
    add_component(project, "billing")
    run_wiring(project)
    for path in sorted((project / "components" / "billing").iterdir()):
        path.unlink()
    (project / "components" / "billing").rmdir()
    add_component(project, "order_items")
    result = run_wiring(project)
    assert result.stdout.splitlines() == [
        "registered component order_items",
        "unregistered component billing (its folder is gone)",
    ]
    assert imported_components(project) == ["order_items", "orders"]


def test_a_new_template_version_updates_the_registry_entry(tmp_path: Path) -> None:
    project = mark_wired(tmp_path / "shop")
    add_component(project, "orders", commit="v1")
    run_wiring(project)
    add_component(project, "orders", commit="v2")
    result = run_wiring(project)
    assert result.stdout == "updated the registry entry of component orders\n"
    entry = manifest.registered((project / ".claude/manifest.yaml").read_text())["orders"]
    assert entry["template_version"] == "v2"


def test_an_existing_pyproject_is_merged_not_replaced(tmp_path: Path) -> None:
    project = mark_wired(tmp_path / "shop")
    original = (CORPUS / "setuptools_comments.toml").read_text()
    (project / "pyproject.toml").write_text(original)
    result = run_wiring(project)
    assert "wired pyproject.toml: added 5 dependencies, 8 dev dependencies" in result.stdout
    merged = (project / "pyproject.toml").read_text()
    assert_only_additions(original, merged)
    assert "build-system" in tomllib.loads(merged)
    # the app is titled after the project's own distribution name
    assert 'title="inventory",' in (project / "app/main.py").read_text()


def test_an_invalid_pyproject_is_reported_and_left_alone(tmp_path: Path) -> None:
    project = mark_wired(tmp_path / "shop")
    (project / "pyproject.toml").write_text("[project\n")
    add_component(project, "orders")
    result = run_wiring(project)
    assert result.returncode == 1
    assert "hexforge: error: pyproject.toml is not valid TOML" in result.stderr
    assert (project / "pyproject.toml").read_text() == "[project\n"
    # All or nothing: no other file of the wiring was written either.
    assert sorted(p.name for p in project.iterdir()) == [
        ".claude",  # the wiring lock's folder only
        ".copier-answers.yml",
        "components",
        "pyproject.toml",
    ]
    assert [p.name for p in (project / ".claude").iterdir()] == [".hexforge.lock"]


def test_app_main_is_the_users_once_written(tmp_path: Path) -> None:
    project = mark_wired(tmp_path / "shop")
    add_component(project, "orders")
    run_wiring(project)
    main_py = project / "app" / "main.py"
    edited = main_py.read_text().replace(
        "app = create_app()\n", "app = create_app()\napp.state.ready = True  # mine\n"
    )
    main_py.write_text(edited)
    add_component(project, "billing")
    result = run_wiring(project)
    assert result.stdout.splitlines() == ["registered component billing"]
    assert main_py.read_text() == edited
    assert imported_components(project) == ["billing", "orders"]


def test_a_main_off_the_service_is_kept_with_a_warning_saying_how_to_move(
    tmp_path: Path,
) -> None:
    project = mark_wired(tmp_path / "shop")
    add_component(project, "orders")
    main_py = project / "app" / "main.py"
    main_py.parent.mkdir(parents=True, exist_ok=True)
    mine = "from fastapi import FastAPI\n\napp = FastAPI()  # mine, from scratch\n"
    main_py.write_text(mine)
    result = run_wiring(project)
    assert result.returncode == 0, result.stderr
    assert main_py.read_text() == mine
    assert "app/main.py is yours and not as hexforge wrote it" in result.stderr
    assert "create_service" in result.stderr and "docs/operations.md" in result.stderr


def test_a_main_with_managed_blocks_moves_them_out_once(tmp_path: Path) -> None:
    project = mark_wired(tmp_path / "shop")
    add_component(project, "orders")
    main_py = project / "app" / "main.py"
    main_py.parent.mkdir(parents=True, exist_ok=True)
    main_py.write_text(BLOCKS_ERA + "app.state.ready = True  # mine\n")
    result = run_wiring(project)
    assert result.returncode == 0, result.stderr
    assert "moved the component blocks of app/main.py into app/components.py" in result.stdout
    moved = main_py.read_text()
    assert moved == app_main.update_app_main(BLOCKS_ERA + "app.state.ready = True  # mine\n")
    assert "hexforge:" not in moved and moved.endswith("app.state.ready = True  # mine\n")
    assert imported_components(project) == ["orders"]
    assert run_wiring(project).stdout == ""


def test_the_agents_manifest_keys_survive(tmp_path: Path) -> None:
    project = mark_wired(tmp_path / "shop")
    agent_text = "# mine\nphase: build   # now\n\ncomponents: {}\n\n# tasks\ntasks:\n- T1\n"
    (project / ".claude").mkdir()
    (project / ".claude" / "manifest.yaml").write_text(agent_text)
    add_component(project, "orders")
    result = run_wiring(project)
    assert "registered component orders" in result.stdout
    text = (project / ".claude" / "manifest.yaml").read_text()
    assert text.startswith("# mine\nphase: build   # now\n\ncomponents:\n  orders:\n")
    # The agent's missing key is added after its own lines; its phase is kept.
    assert text.endswith(
        "\n\n# tasks\ntasks:\n- T1\noutstanding:\n  tasks: []\n  remediation: []\n"
    )
    assert run_wiring(project).stdout == ""  # and a second run changes nothing


def test_a_manifest_that_cannot_be_edited_is_reported_and_left_alone(tmp_path: Path) -> None:
    project = mark_wired(tmp_path / "shop")
    (project / ".claude").mkdir()
    (project / ".claude" / "manifest.yaml").write_text("- the agent wrote a list\n")
    add_component(project, "orders")
    result = run_wiring(project)
    assert result.returncode == 1
    assert ".claude/manifest.yaml was left alone because its top level is not a mapping" in (
        result.stderr
    )
    assert (project / ".claude" / "manifest.yaml").read_text() == "- the agent wrote a list\n"
    assert not (project / "app").exists()  # all or nothing


def test_an_existing_gitignore_gets_the_lock_entry_once(tmp_path: Path) -> None:
    project = mark_wired(tmp_path / "shop")
    (project / ".claude").mkdir()
    (project / ".claude" / ".gitignore").write_text("settings.local.json")
    assert "added .hexforge.lock to .claude/.gitignore" in run_wiring(project).stdout
    assert (project / ".claude" / ".gitignore").read_text() == (
        "settings.local.json\n.hexforge.lock\n"
    )
    run_wiring(project)
    assert (project / ".claude" / ".gitignore").read_text().count(".hexforge.lock") == 1


def test_the_lock_file_keeps_git_status_clean(tmp_path: Path) -> None:
    project = mark_wired(init_repo(tmp_path / "shop"))
    add_component(project, "orders")
    run_wiring(project)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "wired")
    run_wiring(project)
    assert (project / ".claude" / ".hexforge.lock").exists()
    assert git(project, "status", "--porcelain") == ""


def test_an_unwired_project_needs_a_reachable_template(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    add_component(project, "orders")
    result = run_wiring(project, template="../somewhere/hexforge")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "'../somewhere/hexforge'" in result.stderr
    assert "absolute path" in result.stderr
    assert sorted(p.name for p in project.iterdir()) == ["components"]


def test_a_missing_library_gives_one_line_saying_what_to_install(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "tomlkit"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'tomlkit'\", name='tomlkit')\n"
    )
    project = mark_wired(tmp_path / "shop")
    result = run_wiring(project, env={"PYTHONPATH": str(tmp_path / "shadow")})
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "hexforge needs tomlkit in Copier's environment" in result.stderr
    assert "-m pip install tomlkit" in result.stderr
    assert sorted(p.name for p in project.iterdir()) == [".copier-answers.yml"]


def test_the_cli_rejects_an_unknown_kind(tmp_path: Path) -> None:
    result = run_wiring(mark_wired(tmp_path / "shop"), kind="library")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


# --- concurrency -------------------------------------------------------------------

SCAFFOLD = """
import subprocess, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from tests.extensions.support import add_component, run_wiring
project, name = Path(sys.argv[2]), sys.argv[3]
add_component(project, name)
result = run_wiring(project)
sys.stdout.write(result.stdout)
sys.stderr.write(result.stderr)
sys.exit(result.returncode)
"""


def test_eight_concurrent_scaffolds_lose_no_registration(tmp_path: Path) -> None:
    project = mark_wired(tmp_path / "shop")
    names = [f"component_{i}" for i in range(8)]
    repo = str(WIRING.parent.parent)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SCAFFOLD, repo, str(project), name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0] * 8, outputs
    assert imported_components(project) == names
    assert sorted(manifest.registered((project / ".claude/manifest.yaml").read_text())) == names
    created = [out for out, _ in outputs if out.startswith("created ")]
    assert len(created) == 1, "exactly one run created the shared files"
    before = snapshot(project)
    assert run_wiring(project).stdout == ""
    assert snapshot(project) == before


def test_wiring_waits_for_the_project_lock(tmp_path: Path) -> None:
    project = mark_wired(tmp_path / "shop")
    add_component(project, "orders")
    lock_path = project / ".claude" / ".hexforge.lock"
    lock_path.parent.mkdir()
    with lock_path.open("w") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        waiting = subprocess.Popen(
            [sys.executable, str(WIRING), "--kind=component", "--template=x", "--project-name=d"],
            cwd=project,
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.5)
        assert waiting.poll() is None
        assert not (project / "app").exists()
    out, _ = waiting.communicate(timeout=60)
    assert waiting.returncode == 0
    assert "registered component orders" in out


# --- the nested copy's version ---------------------------------------------------------


def test_nested_ref(tmp_path: Path) -> None:
    template = init_repo(tmp_path / "template")
    git(template, "tag", "v1")
    assert wiring.nested_ref(tmp_path, "template", "v1") == "v1"
    assert wiring.nested_ref(tmp_path, str(template), "") is None
    # Copier's own commit of a dirty template: the template repository lacks it.
    assert wiring.nested_ref(tmp_path, str(template), "1a2b3c4") is None
    assert wiring.nested_ref(tmp_path, "gh:org/hexforge", "v3") == "v3"


def test_a_write_that_fails_half_way_puts_back_what_the_wiring_had_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = mark_wired(tmp_path / "shop")
    add_component(project, "orders")
    (project / ".gitignore").write_text("/build/\n")
    (project / "pyproject.toml").write_text('[project]\nname = "shop"\n')
    before = snapshot(project)
    calls: list[Path] = []
    real_write = wiring.write_if_changed

    def third_write_fails(path: Path, data: bytes) -> bool:
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_write(path, data)

    monkeypatch.setattr(wiring, "write_if_changed", third_write_fails)

    with pytest.raises(wiring.WiringError, match="every file it had written was put back"):
        wiring.wire(project, "shop", "component")

    # Two files were written before the failure, and put back: the same bytes, no
    # file added.
    after = snapshot(project)
    assert {name: data for name, (data, _) in after.items()} == {
        name: data for name, (data, _) in before.items()
    }


def test_references_order_app_main_and_a_hand_made_cycle_writes_nothing(tmp_path: Path) -> None:
    project = mark_wired(tmp_path / "shop")
    add_component(project, "warehouses")
    add_component(project, "products", fields="sku:str, warehouse:ref[warehouses]")
    assert run_wiring(project).returncode == 0
    registry = (project / "app" / "components.py").read_text()
    refs = {"products": ["warehouses"], "warehouses": []}
    assert registry == composition.render(["warehouses", "products"], refs)

    # Answers edited by hand past the validator: a cycle has no order to build in.
    add_component(project, "warehouses", fields="name:str, flagship:ref[products]?")
    before = snapshot(project)
    result = run_wiring(project)
    assert result.returncode != 0
    assert "reference each other in a cycle: products, warehouses" in result.stderr
    assert snapshot(project) == before


def test_a_main_whose_blocks_were_damaged_is_left_alone_with_a_warning(tmp_path: Path) -> None:
    project = mark_wired(tmp_path / "shop")
    add_component(project, "orders")
    main_py = project / "app" / "main.py"
    main_py.parent.mkdir(parents=True, exist_ok=True)
    damaged = app_main.with_packaged_migrate(BLOCKS_ERA).replace(
        app_main.end_marker(app_main.REGISTRY), "# the end"
    )
    main_py.write_text(damaged)
    result = run_wiring(project)
    assert result.returncode == 0, result.stderr
    assert "app/main.py still holds hexforge's old component blocks" in result.stderr
    assert main_py.read_text() == damaged
    assert imported_components(project) == ["orders"]
