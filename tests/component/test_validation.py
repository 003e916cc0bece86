"""Bad answers: one clear line naming the question, the value and the rule; a
non-zero exit; and not one byte written anywhere in the project."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import COPIER, commit_all, copier_copy, init_repo, run, tree_bytes

pytestmark = pytest.mark.slow

GOOD = {"kind": "component", "component_name": "orders", "fields": "customer:str"}

BAD_ANSWERS = [
    ("component_name", "class", "keyword"),
    ("component_name", "match", "keyword"),
    ("component_name", "9lives", "snake_case"),
    ("component_name", "order-items", "snake_case"),
    ("component_name", "order items", "snake_case"),
    ("component_name", "Orders", "snake_case"),
    ("component_name", "commandes_\u00e9t\u00e9", "non-ASCII"),
    ("component_name", "__init__", "dunder"),
    ("component_name", "../orders", "snake_case"),
    ("component_name", "a/b", "snake_case"),
    ("component_name", "", "empty"),
    ("component_name", "a" * 31, "longer than 30"),
    ("component_name", "existing", "already exists"),
    ("entity_name", "order", "PascalCase"),
    ("entity_name", "Order-Item", "PascalCase"),
    ("entity_name", "True", "Python constant"),
    ("entity_name", "Decimal", "already import"),
    ("entity_name", "I", "reads like 1 or 0"),
    ("component_name", "pg_class", "PostgreSQL reserves"),
    ("component_name", "conftest", "project layout"),
    ("component_name", "orders_pkey", "ends with _pkey"),
    ("fields", "total:money", "unknown type"),
    ("fields", "a:str, a:int", "twice"),
    ("fields", "id:int", "reserved"),
    ("fields", "version:int", "reserved"),
    ("fields", "model_x:str", "clashes"),
    ("fields", "class:str", "keyword"),
    ("fields", "l:str", "reads like 1 or I"),
    ("fields", "Name:str", "snake_case"),
    ("fields", "name", "name:type"),
    ("fields", "name:str,,x:int", "empty entry"),
    ("fields", "", "at least one field"),
    ("fields", "na me:str", "snake_case"),
    ("kind", "service", "is not in"),
    ("story_id", "wish-1", "story id"),
    ("feature_dir", "../outside", "inside the project"),
    ("feature_dir", "/abs/path", "relative"),
    ("feature_dir", "components", "inside components/"),
    ("component_name", "domain", "the audit"),
]


@pytest.fixture(scope="module")
def wired_project(tmp_path_factory: pytest.TempPathFactory, template_v1: Path) -> Path:
    """A project that already holds a component named 'existing'."""
    project = init_repo(tmp_path_factory.mktemp("validation") / "project")
    copier_copy(template_v1, project, {**GOOD, "component_name": "existing"})
    commit_all(project, "existing component")
    return project


@pytest.mark.parametrize(("question", "value", "rule"), BAD_ANSWERS)
def test_a_bad_answer_is_refused_and_nothing_is_written(
    wired_project: Path, template_v1: Path, question: str, value: str, rule: str
) -> None:
    before = tree_bytes(wired_project)
    data = dict(GOOD)
    if question in {"story_id", "feature_dir"}:
        data = {"kind": "story", "story_id": "WISH-1", "feature_dir": "plans/features/wish"}
    data[question] = value

    result = copier_copy(template_v1, wired_project, data, check=False)

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert f"'{question}'" in last_line
    assert rule in last_line
    # The culprit is named: the whole value, or for a field list the offending entry.
    culprit = value.split(",")[0].split(":")[0].strip() if question == "fields" else value
    assert culprit in last_line
    assert tree_bytes(wired_project) == before


def test_pretend_writes_nothing(tmp_path: Path, template_v1: Path) -> None:
    project = init_repo(tmp_path / "project")
    before = tree_bytes(project)

    run(
        [
            COPIER,
            "copy",
            "--trust",
            "--defaults",
            "--pretend",
            "-d",
            "kind=component",
            "-d",
            "component_name=orders",
            str(template_v1),
            str(project),
        ],
        project,
    )

    assert tree_bytes(project) == before
