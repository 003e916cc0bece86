"""The registry is what is on disk: one entry per components/<name>/.copier-answers.yml."""

from __future__ import annotations

from pathlib import Path

import registry
from tests.extensions.support import add_component


def test_scan_lists_components_sorted_by_name(tmp_path: Path) -> None:
    add_component(tmp_path, "orders", fields="total:decimal", commit="v2")
    add_component(tmp_path, "billing", entity="Invoice")
    found = registry.scan(tmp_path)
    assert found.warnings == []
    assert found.components == [
        registry.Component("billing", "Invoice", "name:str", "v1"),
        registry.Component("orders", "Orders", "total:decimal", "v2"),
    ]


def test_scan_of_a_project_without_components(tmp_path: Path) -> None:
    assert registry.scan(tmp_path) == registry.Scan([], [])


def test_scan_skips_what_is_not_a_hexforge_component(tmp_path: Path) -> None:
    (tmp_path / "components" / "handmade").mkdir(parents=True)  # no answers file
    other = tmp_path / "components" / "vendored"
    other.mkdir()
    (other / ".copier-answers.yml").write_text("_src_path: gh:someone/else\nkind: library\n")
    assert registry.scan(tmp_path).components == []


def test_scan_warns_about_unreadable_answers_and_bad_names(tmp_path: Path) -> None:
    broken = tmp_path / "components" / "broken"
    broken.mkdir(parents=True)
    (broken / ".copier-answers.yml").write_text("kind: [component\n")
    add_component(tmp_path, "Bad-Name")
    add_component(tmp_path, "fine")
    found = registry.scan(tmp_path)
    assert [c.name for c in found.components] == ["fine"]
    assert len(found.warnings) == 2
    assert any("components/Bad-Name" in w for w in found.warnings)
    assert any("components/broken/.copier-answers.yml" in w for w in found.warnings)


def test_a_component_without_a_template_version(tmp_path: Path) -> None:
    folder = tmp_path / "components" / "plain"
    folder.mkdir(parents=True)
    (folder / ".copier-answers.yml").write_text(
        "component_name: plain\nentity_name: Plain\nfields: a:int\nkind: component\n"
    )
    assert registry.scan(tmp_path).components == [
        registry.Component("plain", "Plain", "a:int", None)
    ]


def test_read_answers(tmp_path: Path) -> None:
    path = tmp_path / "answers.yml"
    assert registry.read_answers(path) is None
    path.write_text("- not\n- a mapping\n")
    assert registry.read_answers(path) is None
    path.write_text("# header\nkind: project\n")
    assert registry.read_answers(path) == {"kind": "project"}


def test_a_folder_holding_another_components_answers_is_reported_not_registered(
    tmp_path: Path,
) -> None:
    add_component(tmp_path, "orders")
    (tmp_path / "components" / "orders").rename(tmp_path / "components" / "purchases")

    found = registry.scan(tmp_path)

    assert found.components == []
    [warning] = found.warnings
    assert "components/purchases holds the answers of component 'orders'" in warning
    assert "git mv components/purchases components/orders" in warning


def test_a_registered_component_whose_answers_file_is_gone_stays_while_its_folder_does(
    tmp_path: Path,
) -> None:
    add_component(tmp_path, "orders")
    add_component(tmp_path, "billing", entity="Invoice")
    (tmp_path / "components" / "billing" / ".copier-answers.yml").unlink()
    recorded = {"billing": {"entity": "Invoice", "fields": "name:str", "template_version": "v1"}}

    found = registry.scan(tmp_path, recorded)

    assert [component.name for component in found.components] == ["billing", "orders"]
    assert found.components[0] == registry.Component("billing", "Invoice", "name:str", "v1")
    [warning] = found.warnings
    assert warning.startswith("components/billing has no .copier-answers.yml: kept registered")
    # Once the folder is gone too, so is the registration.
    (tmp_path / "components" / "billing").rename(tmp_path / "elsewhere")
    assert [c.name for c in registry.scan(tmp_path, recorded).components] == ["orders"]


def test_a_commit_that_looks_like_a_number_stays_the_version_string(tmp_path: Path) -> None:
    add_component(tmp_path, "orders")
    answers = tmp_path / "components" / "orders" / ".copier-answers.yml"
    text = answers.read_text(encoding="utf-8")
    for commit in ("5e72125", "1.10", "1e3", "0x1F", "true", "null"):
        lines = [line for line in text.splitlines() if not line.startswith("_commit:")]
        answers.write_text("\n".join([*lines, f"_commit: {commit}"]) + "\n", encoding="utf-8")
        (found,) = registry.scan(tmp_path).components
        assert found.template_version == commit
