"""Bad modifier syntax in the fields answer, through the copier CLI: one clear last
line naming the question, the field and the rule; a non-zero exit; not one byte
written anywhere in the project."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import commit_all, copier_copy, init_repo, tree_bytes

pytestmark = pytest.mark.slow

BAD_FIELDS = [
    ("title:str:gt=1", "title", "gt applies to int, float, decimal, date and datetime"),
    ("stock:int:ge=5:le=1", "stock", "contradict"),
    ("stock:int:ge=0:default=-1", "stock", "stock must be at least 0"),
    ("price:decimal:default=cheap", "price", "not a decimal number"),
    ("status:enum[a||b]", "status", "empty enum value"),
    ("status:enum[a|a]", "status", "appears twice"),
    ("sku:str:unique:unique", "sku", "appears twice"),
    ("sku:str junk", "sku", "unknown type"),
    ("sku:str:shiny", "sku", "unknown modifier"),
    ("owner:ref[customers]", "owner", "ref[customers] names no component of this project"),
    ("owner:ref[existing]:default=x", "owner", "a ref takes no default"),
    ("owner:ref[Existing]", "owner", "does not name a component"),
    ("draft:enum[a|b]", "draft", "OrderDraft, a name the generated code already uses"),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, template_v1: Path) -> Path:
    project = init_repo(tmp_path_factory.mktemp("field-validation") / "project")
    copier_copy(template_v1, project, {"kind": "component", "component_name": "existing"})
    commit_all(project, "existing component")
    return project


@pytest.mark.parametrize(("fields", "field", "rule"), BAD_FIELDS)
def test_bad_modifier_syntax_is_refused_and_nothing_is_written(
    project: Path, template_v1: Path, fields: str, field: str, rule: str
) -> None:
    before = tree_bytes(project)
    data = {"kind": "component", "component_name": "orders", "fields": fields}

    result = copier_copy(template_v1, project, data, check=False)

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "'fields'" in last_line
    assert f"'{field}'" in last_line
    assert rule in last_line
    assert tree_bytes(project) == before
