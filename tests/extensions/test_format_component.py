"""extensions/format_component.py: the layout of what the template renders."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

import format_component
from tests.helpers import init_repo


def _ruff_runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every ruff command format_component starts from now on."""
    runs: list[list[str]] = []
    real_run = subprocess.run

    def counted(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        runs.append(command)
        return real_run(command, **kwargs)

    monkeypatch.setattr(format_component.subprocess, "run", counted)
    return runs


def _within_an_update(monkeypatch: pytest.MonkeyPatch, *copies: Path) -> None:
    monkeypatch.setattr(format_component.copier_internals, "update_copies", lambda: copies)


PYPROJECT = """\
[project]
name = "shop"
requires-python = ">=3.11"
dependencies = ["hexforge @ git+https://example.com/hexforge@{pin}"]

[tool.ruff]
line-length = {line_length}
"""
UNLAID = "import sys\nimport os\nx=[1,\n  2]\nprint( os.sep, sys.argv, x )\n"


def _render(root: Path, relative: str, text: str = UNLAID) -> Path:
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target


def test_an_update_lays_out_each_rendering_of_a_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old copy, the project and the new copy of one update hold mostly the same
    renders: ruff runs for the first, the others get its layout, byte for byte."""
    project = init_repo(tmp_path / "shop")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(PYPROJECT.format(pin="v1", line_length=20))
    old_copy, new_copy = tmp_path / "old", tmp_path / "new"
    _within_an_update(monkeypatch, old_copy, new_copy)
    monkeypatch.setattr(
        format_component, "ruff_config_option", lambda root: f"--config={project}/pyproject.toml"
    )
    runs = _ruff_runs(monkeypatch)
    relative = "components/orders/domain/model.py"

    assert format_component.format_files([_render(project, relative)], project) == 0
    laid_out = (project / relative).read_text()
    assert laid_out.startswith("import os\nimport sys\n")  # isort, then 20 columns:
    assert "print(os.sep, sys.argv, x)" not in laid_out
    assert len(runs) == 2

    # The update moves the project's pin on hexforge, which ruff does not read.
    pyproject.write_text(PYPROJECT.format(pin="v2", line_length=20))
    assert format_component.format_files([_render(new_copy, relative)], new_copy) == 0
    assert (new_copy / relative).read_text() == laid_out
    assert len(runs) == 2  # from the memo

    # Another file, other bytes, or other settings: ruff again.
    other = _render(old_copy, "components/orders/domain/view.py")
    changed = _render(old_copy, relative, UNLAID + "y=2\n")
    assert format_component.format_files([other, changed], old_copy) == 0
    assert len(runs) == 4 and runs[-1][-2:] == [str(other), str(changed)]
    pyproject.write_text(PYPROJECT.format(pin="v2", line_length=88))
    assert format_component.format_files([_render(project, relative)], project) == 0
    assert len(runs) == 6
    assert "print(os.sep, sys.argv, x)" in (project / relative).read_text()
    # ruff infers its target Python version from requires-python.
    pyproject.write_text(pyproject.read_text().replace(">=3.11", ">=3.12"))
    assert format_component.format_files([_render(project, relative)], project) == 0
    assert len(runs) == 8


def test_a_render_is_laid_out_in_its_own_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ruff decides isort's first-party section from the folder it runs in: a copy is
    laid out as a project rooted at the copy, wherever the update was started."""
    copy = tmp_path / "copy"
    module = _render(
        copy, "components/orders/domain/model.py", "import pytest\nimport components\n"
    )
    monkeypatch.setattr(format_component, "ruff_config_option", lambda root: "--isolated")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    assert format_component.format_files([module], copy) == 0

    assert module.read_text() == "import pytest\n\nimport components\n"


def test_renders_share_a_layout_only_when_they_hold_the_same_imported_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module the file imports, present in the project but not in the copy, is
    first-party in one and third-party in the other: ruff runs for each."""
    project, copy = init_repo(tmp_path / "shop"), tmp_path / "copy"
    (project / "warehouse").mkdir()
    _within_an_update(monkeypatch, copy)
    monkeypatch.setattr(format_component, "ruff_config_option", lambda root: "--isolated")
    runs = _ruff_runs(monkeypatch)
    relative, text = "components/orders/domain/model.py", "import warehouse\nimport pytest\n"

    assert format_component.format_files([_render(project, relative, text)], project) == 0
    assert format_component.format_files([_render(copy, relative, text)], copy) == 0

    assert len(runs) == 4
    assert (project / relative).read_text() == "import pytest\n\nimport warehouse\n"
    assert (copy / relative).read_text() == "import pytest\nimport warehouse\n"
    # The same render again, in a folder holding the same modules: from the memo.
    assert format_component.format_files([_render(copy, relative, text)], copy) == 0
    assert len(runs) == 4


def test_a_layout_is_not_shared_outside_its_update(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = init_repo(tmp_path / "shop")
    runs = _ruff_runs(monkeypatch)
    relative = "components/orders/domain/model.py"
    _within_an_update(monkeypatch, tmp_path / "old-1", tmp_path / "new-1")
    format_component.format_files([_render(project, relative)], project)
    _within_an_update(monkeypatch, tmp_path / "old-2", tmp_path / "new-2")
    format_component.format_files([_render(project, relative)], project)
    _within_an_update(monkeypatch)  # a copy: no update running
    format_component.format_files([_render(project, relative)], project)
    format_component.format_files([_render(project, relative)], project)
    assert len(runs) == 8


def test_a_failed_layout_is_not_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = init_repo(tmp_path / "shop")
    _within_an_update(monkeypatch, tmp_path / "old", tmp_path / "new")
    runs = _ruff_runs(monkeypatch)
    broken = "def broken(:\n"
    for root in (project, tmp_path / "new"):
        path = _render(root, "components/orders/domain/model.py", broken)
        assert format_component.format_files([path], root) != 0
        assert path.read_text() == broken
    assert len(runs) == 4


def test_an_update_copy_is_laid_out_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A temporary copy holds only the template's files: every module of the rendered
    folders is laid out, and nothing else."""
    copy = tmp_path / "copy"
    _within_an_update(monkeypatch, copy)
    monkeypatch.setattr(format_component, "ruff_config_option", lambda root: "--isolated")
    ours = [
        _render(copy, "components/orders/domain/model.py"),
        _render(copy, "components/orders/x.py"),
    ]
    elsewhere = _render(copy, "components/users/model.py")
    format_component.lay_out_copy(copy, "component", "orders")
    assert all(path.read_text() != UNLAID for path in ours)
    assert elsewhere.read_text() == UNLAID
    tools = _render(copy, "tools/migrate.py")
    format_component.lay_out_copy(copy, "project", "")
    assert tools.read_text() != UNLAID and elsewhere.read_text() != UNLAID


def test_only_the_files_the_template_renders_are_laid_out(tmp_path: Path) -> None:
    project = init_repo(tmp_path / "shop")
    orders = project / "components" / "orders"
    (orders / "domain").mkdir(parents=True)
    (orders / "domain" / "model.py").write_text("x=1\n")
    (orders / "domain" / "users_own.py").write_text("y=2\n")
    files = format_component.rendered_python_files("orders", project)
    assert orders / "domain" / "model.py" in files
    assert orders / "domain" / "users_own.py" not in files
    assert format_component.format_files(files, project) == 0
    assert (orders / "domain" / "model.py").read_text() == "x = 1\n"
    assert (orders / "domain" / "users_own.py").read_text() == "y=2\n"  # not ours
