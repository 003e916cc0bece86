"""extensions/precheck.py: what would make the wiring fail, found before Copier writes.

The refusals through the copier CLI are in tests/component/test_refusals.py; these
pin the rules and the record that lets the next scaffold skip the parsing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import precheck
import records
from tests.extensions.support import add_component, mark_wired, run_wiring
from tests.helpers import REPO


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_every_path_the_wiring_writes_is_checked_for_what_stands_in_its_way(
    tmp_path: Path,
) -> None:
    files = precheck.wiring_files(REPO)
    for expected in ("pyproject.toml", ".gitignore", "app/main.py", ".claude/manifest.yaml"):
        assert expected in files
    assert "tools/hex_audit.py" in files and ".importlinter" in files
    assert not any("{{" in name or name.endswith(".jinja") for name in files)

    (tmp_path / "app").write_text("a file\n")
    (tmp_path / ".claude/manifest.yaml").mkdir(parents=True)
    found = precheck.paths_in_the_way(tmp_path, files)

    assert found == [
        ".claude/manifest.yaml is a folder, but hexforge writes a file there: move it "
        "aside, then run the command again",
        "app is a file, but hexforge needs a folder there (app/__init__.py): move it aside, "
        "then run the command again",
    ]


def test_a_wiring_run_records_its_files_and_any_later_edit_is_checked_again(
    tmp_path: Path,
) -> None:
    project = mark_wired(tmp_path / "shop")
    add_component(project, "orders")
    assert not precheck.already_checked(project)
    assert run_wiring(project).returncode == 0

    assert precheck.already_checked(project)
    assert precheck.problems("component", REPO, project) == []
    clone = tmp_path / "clone"
    shutil.copytree(project, clone)
    assert precheck.already_checked(clone)  # the same bytes
    (project / "pyproject.toml").write_bytes(b"[project\n")
    assert not precheck.already_checked(project)
    [problem] = precheck.problems("component", REPO, project)
    assert problem.startswith("pyproject.toml is not valid TOML")


def test_only_the_newest_records_are_kept(tmp_path: Path, cache_home: Path) -> None:
    project = mark_wired(tmp_path / "shop")
    for number in range(records.KEPT + 5):
        (project / "pyproject.toml").write_text(f'[project]\nname = "p{number}"\n')
        precheck.record_checked(project)
    assert len(list((cache_home / "hexforge" / "checked").iterdir())) == records.KEPT
    assert precheck.already_checked(project)


def test_a_byte_order_mark_is_refused_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b"\xef\xbb\xbf[project]\nname = 'x'\n")
    [problem] = precheck.pyproject_problems(tmp_path)
    assert "byte order mark" in problem and "without BOM" in problem
