"""The migrations table and the script Copier runs before an update's merge.

The update scenarios with two real template versions are in
tests/component/test_update.py; these tests pin the rules: which moves apply,
where files go, that both the project and Copier's old copy are migrated, and that
a move that would clobber a file changes nothing at all.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import migrations
from migrations import MigrationError, migrate, plan
from moves import Move
from tests.helpers import REPO, commit_all, git, init_repo, tree_bytes

ANSWERS = Path("components/orders/.copier-answers.yml")
ANSWERS_TEXT = (
    "_commit: v1\n_src_path: /somewhere/hexforge\ncomponent_name: orders\nkind: component\n"
)
RENAME = Move("0.2.0", "component", "tests/unit/test_service.py", "tests/unit/test_use_cases.py")


# -- planning the renames -----------------------------------------------------------


def test_a_file_moved_by_two_releases_goes_straight_to_its_last_place() -> None:
    moves = [Move("2", "component", "a.py", "b.py"), Move("3", "component", "b.py", "c/d.py")]
    assert plan(["a.py", "z.py"], moves) == [("a.py", "c/d.py")]


def test_a_move_onto_an_existing_file_is_refused() -> None:
    with pytest.raises(MigrationError, match="a file already exists there"):
        plan(["tests/unit/test_service.py", "tests/unit/test_use_cases.py"], [RENAME])


def test_a_move_out_of_the_folder_is_refused() -> None:
    with pytest.raises(MigrationError, match="not a relative path inside"):
        plan(["a.py"], [Move("2", "component", "a.py", "../a.py")])


def test_copier_runs_the_module_before_the_merge_with_the_pep440_versions() -> None:
    config = YAML(typ="safe").load((REPO / "copier.yml").read_text())
    migration, after = config["_migrations"]
    assert after["when"] == (
        "{{ _stage == 'after' and hx.evidence_tracked(_copier_conf.dst_path) }}"
    )
    assert after["command"] == migration["command"]
    assert migration["when"] == (
        "{{ _stage == 'before' and (hx.moves_between(_version_pep440_from, _version_pep440_to)"
        " or hx.imports_project_tools(_copier_conf.dst_path, _copier_conf.answers_file)) }}"
    )
    assert migration["command"] == [
        "{{ _copier_python }}",
        "{{ _copier_conf.src_path }}/extensions/migrations.py",
        "--stage={{ _stage }}",
        "--from={{ _version_pep440_from }}",
        "--to={{ _version_pep440_to }}",
        "--answers={{ _copier_conf.answers_file }}",
    ]


# -- the script on a real git project and a stand-in for Copier's old copy ---------------


def make_project(root: Path, inside: str = "") -> Path:
    """A project (``inside`` a larger repository at ``root``, if given) whose orders
    component has a user-edited, committed test module."""
    project = init_repo(root) / inside
    orders = project / "components" / "orders"
    (orders / "tests" / "unit").mkdir(parents=True)
    (orders / ".copier-answers.yml").write_text(ANSWERS_TEXT)
    (orders / "tests" / "unit" / "test_service.py").write_text("generated\nuser's line\n")
    (orders / "tests" / "unit" / "test_model.py").write_text("generated\n")
    commit_all(root, "scaffold and edits")
    return project


def make_old_copy(temp: Path, suffix: str, answers: str = ANSWERS_TEXT, inside: str = "") -> Path:
    """What Copier has rendered of the old version when the "before" stage runs: the
    project's place in its repository, under a temporary folder."""
    orders = temp / f"copier._main.old_copy.{suffix}" / inside / "components" / "orders"
    (orders / "tests" / "unit").mkdir(parents=True)
    (orders / ".copier-answers.yml").write_text(answers)
    (orders / "tests" / "unit" / "test_service.py").write_text("generated\n")
    (orders / "tests" / "unit" / "test_model.py").write_text("generated\n")
    return orders


@pytest.fixture
def temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary directory in which Copier's copies are looked for."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_the_file_moves_in_the_project_index_and_in_the_old_copy(
    tmp_path: Path, temp: Path
) -> None:
    project = make_project(tmp_path / "shop")
    old_copy = make_old_copy(temp, "abc")

    lines = migrate(project, ANSWERS, "0.1.0", "0.2.0", [RENAME])

    unit = project / "components/orders/tests/unit"
    assert lines == [
        "hexforge: moved components/orders/tests/unit/test_service.py to "
        "components/orders/tests/unit/test_use_cases.py"
    ]
    assert not (unit / "test_service.py").exists()
    assert (unit / "test_use_cases.py").read_text() == "generated\nuser's line\n"
    # Staged, because Copier takes the user's side of the merge from the index.
    assert git(project, "status", "--porcelain").splitlines() == [
        "R  components/orders/tests/unit/test_service.py -> "
        "components/orders/tests/unit/test_use_cases.py"
    ]
    # The merge base moved too: the old version's file at the new path.
    assert not (old_copy / "tests/unit/test_service.py").exists()
    assert (old_copy / "tests/unit/test_use_cases.py").read_text() == "generated\n"


def test_old_copies_of_other_projects_or_past_their_before_stage_are_left_alone(
    tmp_path: Path, temp: Path
) -> None:
    project = make_project(tmp_path / "shop")
    make_old_copy(temp, "other", ANSWERS_TEXT.replace("orders", "invoices"))
    busy = make_old_copy(temp, "busy")
    (busy.parent.parent / ".git").mkdir()  # Copier already committed it: not ours
    unrelated = temp / "something-else" / "components" / "orders" / "tests" / "unit"
    unrelated.mkdir(parents=True)
    before = tree_bytes(temp)

    lines = migrate(project, ANSWERS, "0.1.0", "0.2.0", [RENAME])

    assert tree_bytes(temp) == before
    assert lines[-1].startswith("hexforge: warning: Copier's copy of the old version was not found")
    # Without the base the project is still migrated: the user's file is not lost.
    assert (project / "components/orders/tests/unit/test_use_cases.py").exists()


def test_a_project_inside_a_larger_repository_finds_its_old_copy(
    tmp_path: Path, temp: Path
) -> None:
    project = make_project(tmp_path / "monorepo", inside="services/shop")
    old_copy = make_old_copy(temp, "abc", inside="services/shop")

    migrate(project, ANSWERS, "0.1.0", "0.2.0", [RENAME])

    assert (old_copy / "tests/unit/test_use_cases.py").read_text() == "generated\n"
    moved = project / "components/orders/tests/unit/test_use_cases.py"
    assert moved.read_text() == "generated\nuser's line\n"
    assert git(project, "status", "--porcelain").startswith("R  ")


def test_a_move_onto_a_file_the_user_made_changes_nothing(tmp_path: Path, temp: Path) -> None:
    project = make_project(tmp_path / "shop")
    (project / "components/orders/tests/unit/test_use_cases.py").write_text("the user's\n")
    commit_all(project, "the user's own module")
    make_old_copy(temp, "abc")
    before, temp_before = tree_bytes(project), tree_bytes(temp)

    with pytest.raises(MigrationError, match="move or merge it by hand"):
        migrate(project, ANSWERS, "0.1.0", "0.2.0", [RENAME])

    assert tree_bytes(project) == before
    assert tree_bytes(temp) == temp_before
    assert git(project, "status", "--porcelain") == ""


def test_no_move_applies_outside_the_version_window(tmp_path: Path, temp: Path) -> None:
    project = make_project(tmp_path / "shop")
    make_old_copy(temp, "abc")
    before, temp_before = tree_bytes(project), tree_bytes(temp)

    assert migrate(project, ANSWERS, "0.2.0", "0.3.0", [RENAME]) == []
    assert migrate(project, ANSWERS, "0.1.0", "0.1.5", [RENAME]) == []

    assert tree_bytes(project) == before and tree_bytes(temp) == temp_before


def test_an_unreadable_answers_file_or_version_is_refused(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    with pytest.raises(MigrationError, match="missing or is not a YAML mapping"):
        migrate(project, Path("nowhere/.copier-answers.yml"), "1", "2", [RENAME])
    with pytest.raises(MigrationError, match="not a PEP 440 version"):
        migrate(project, ANSWERS, "yesterday", "2", [RENAME])


def run_script(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The script as Copier's migration runs it: a process in the project root."""
    return subprocess.run(
        [sys.executable, str(REPO / "extensions" / "migrations.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_script_acts_only_in_the_before_stage(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    args = ["--from=1", "--to=2", f"--answers={ANSWERS}"]

    after = run_script(project, "--stage=after", *args)
    assert (after.returncode, after.stdout, after.stderr) == (0, "", "")

    # The shipped table has no move after 1 up to 2: the project is left as it was.
    before = run_script(project, "--stage=before", *args)
    assert (before.returncode, before.stdout, before.stderr) == (0, "", "")


def test_the_script_reports_why_it_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path / "shop")
    monkeypatch.chdir(project)

    assert migrations.main(["--stage=before", "--from=1", "--to=2", "--answers=x/a.yml"]) == 1

    assert capsys.readouterr().err == (
        "hexforge: migration failed: x/a.yml is missing or is not a YAML mapping\n"
    )
