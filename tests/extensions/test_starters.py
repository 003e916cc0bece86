"""The starter modules' bookkeeping after a render: a use-case module whose use case
the answers no longer name is reported, kept and left as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

import starters

ANSWERS = {"entity_name": "Product", "usecases": "reserve(quantity:int:gt=0)"}
RULE = "def reserve(product, command, actor):\n    return product\n"
ORPHAN = "async def discontinue(product, command, actor):\n    return product  # mine\n"


def project_with(tmp_path: Path, modules: dict[str, str]) -> Path:
    folder = tmp_path / "components" / "products" / "domain" / "use_cases"
    folder.mkdir(parents=True)
    for name, text in modules.items():
        (folder / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_a_module_of_a_use_case_the_answers_dropped_is_reported(tmp_path: Path) -> None:
    project = project_with(
        tmp_path, {"__init__.py": "", "reserve.py": RULE, "discontinue.py": ORPHAN}
    )

    found = starters.orphaned(project, "products", ANSWERS)

    assert [path.name for path in found] == ["discontinue.py"]


@pytest.mark.parametrize(
    "name, text",
    [
        ("pricing.py", "def price_of(product):\n    return 1\n"),  # a helper of the user's
        ("notes.py", "# def notes(\n"),  # the name, but not a definition
    ],
)
def test_a_module_that_is_not_a_dropped_use_case_is_not(
    tmp_path: Path, name: str, text: str
) -> None:
    project = project_with(tmp_path, {"reserve.py": RULE, name: text})

    assert starters.orphaned(project, "products", ANSWERS) == []


def test_a_module_that_is_not_utf_8_is_read_without_failing(tmp_path: Path) -> None:
    project = project_with(tmp_path, {"reserve.py": RULE})
    folder = project / "components" / "products" / "domain" / "use_cases"
    (folder / "legacy.py").write_bytes(b"\xff\xfe\ndef legacy(x):\n    pass\n")

    assert [path.name for path in starters.orphaned(project, "products", ANSWERS)] == ["legacy.py"]


def test_main_warns_in_one_line_and_leaves_the_module_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = project_with(tmp_path, {"reserve.py": RULE, "discontinue.py": ORPHAN})
    answers = "entity_name: Product\nusecases: reserve(quantity:int:gt=0)\n"
    (project / "components" / "products" / ".copier-answers.yml").write_text(answers)
    (project / "components" / "products" / "domain" / "invariants.py").write_text("")
    (project / "components" / "products" / "tests").mkdir()
    (project / "components" / "products" / "tests" / "factories.py").write_text("")

    assert starters.main(project, "products") == []

    warning = capsys.readouterr().err.strip()
    assert warning.count("\n") == 0
    assert "components/products/domain/use_cases/discontinue.py" in warning
    assert "discontinue()" in warning and "kept" in warning
    orphan = project / "components" / "products" / "domain" / "use_cases" / "discontinue.py"
    assert orphan.read_text(encoding="utf-8") == ORPHAN
