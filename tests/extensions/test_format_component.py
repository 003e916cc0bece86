"""extensions/format_component.py and the layout copier.yml runs in update copies."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

import format_component
from tests.helpers import REPO, init_repo


def test_update_copies_are_laid_out_with_the_same_ruff_options() -> None:
    """copier.yml runs ruff itself in an update's temporary copies; the options must be
    the Python step's, or an update would see layout changes nobody made."""
    tasks = YAML(typ="safe").load((REPO / "copier.yml").read_text())["_tasks"]
    isort, layout = (task["command"] for task in tasks[:2])
    options = ["{{ hx.ruff_config(_copier_conf.dst_path) }}", *format_component.RUFF_OPTIONS]
    assert isort == ["{{ hx.ruff() }}", "check", *options, "--select=I", "--fix", "--exit-zero",
                     "components/{{ component_name }}"]  # fmt: skip
    assert layout == ["{{ hx.ruff() }}", "format", *options, "components/{{ component_name }}"]
    # The project's own renders: the folders hold exactly format_component's files.
    project_isort, project_layout = (task["command"] for task in tasks[2:4])
    assert project_isort == [*isort[:-1], "tools", "components"]
    assert project_layout == [*layout[:-1], "tools", "components"]
    source = format_component.TEMPLATE_PROJECT
    rendered = [path.relative_to(source) for path in source.rglob("*.py*")]
    assert {path.parts[0] for path in rendered} == {"tools", "components"}


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
