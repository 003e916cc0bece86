"""Every name the validators accept generates code that passes every gate.

The candidates are not a list someone thought of: they are every identifier a
rendered component and its project wiring define or use (parsed from the code,
SQL included), Python's builtins, keywords and constants, and PostgreSQL's
reserved words and catalog names, each in the form a question takes. Each one,
as entity, component, field and use-case name, is either refused by the validator with its
rule, or rendered and checked by the project's own gates (ruff, format, mypy
--strict, lint-imports, the audit, unit and integration tests on PostgreSQL).

To stay affordable, accepted candidates are packed: one component per entity
and component candidate, up to FIELDS_PER_COMPONENT field candidates in each,
BATCH components per project, and the gates run once per project.
"""

from __future__ import annotations

import itertools
import os
import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fields
import naming
import usecases
import validation
from tests.component.candidates import (
    outside_names,
    pascal_forms,
    rendered_identifiers,
    snake_forms,
)
from tests.component.gates import run_gates
from tests.helpers import (
    commit_all,
    copier_copy,
    init_repo,
    refusal_line,
    tree_bytes,
    write_use_case_rules,
)

pytestmark = pytest.mark.slow

# Every field type, required and optional, and every modifier and an enum, so that
# each code path of the templates is rendered at least once.
REFERENCE_FIELDS = ", ".join(
    [
        f"{kind}_{'opt' if optional else 'req'}:{kind}{'?' if optional else ''}"
        for kind in fields.TYPES
        for optional in (False, True)
    ]
    + [
        "sku:str:unique:min_length=1:max_length=40",
        "price:decimal:gt=0:lt=1000",
        "stock:int:ge=0:le=500:default=0",
        "due:date:ge=2024-01-01",
        "seen_at:datetime:lt=2100-01-01T00:00:00Z",
        "status:enum[active|retired]:default=active",
        "tag:str?:index",
    ]
)
FIELDS_PER_COMPONENT = 24
BATCHES = int(os.environ.get("HEXFORGE_NAME_BATCHES", "24"))
# Every batch through every gate takes about an hour on two cores. A run checks
# SAMPLE of them, drawn anew each day (HEXFORGE_NAME_SEED to repeat a draw; the
# test ids name the batches), so that successive runs cover them all;
# HEXFORGE_NAME_SAMPLE=all checks every batch.
_SAMPLE = os.environ.get("HEXFORGE_NAME_SAMPLE", "3")
_SEED = os.environ.get("HEXFORGE_NAME_SEED", date.today().isoformat())
SAMPLED_BATCHES = (
    list(range(BATCHES))
    if _SAMPLE == "all"
    else sorted(random.Random(_SEED).sample(range(BATCHES), min(int(_SAMPLE), BATCHES)))
)
TYPES = list(fields.TYPES)


@dataclass(frozen=True)
class Candidates:
    entities: list[str]  # accepted entity names
    components: list[str]  # accepted component names
    field_names: list[str]  # accepted field names
    use_case_names: list[str]  # accepted use-case names (for the entity Order)
    refused: list[tuple[str, str, str]]  # (question, value, the validator's message)


@pytest.fixture(scope="session")
def found(tmp_path_factory: pytest.TempPathFactory, template_v1: Path) -> Candidates:
    """Render the reference component once and derive every candidate from it."""
    root = tmp_path_factory.mktemp("names")
    project = init_repo(root / "project")
    copier_copy(
        template_v1,
        project,
        {"kind": "component", "component_name": "orders", "fields": REFERENCE_FIELDS},
    )
    files = sorted(project.glob("components/**/*.py")) + sorted(project.glob("app/**/*.py"))
    identifiers = rendered_identifiers(files) | outside_names()
    snake = sorted(set().union(*(snake_forms(name) for name in identifiers)))
    pascal = sorted(set().union(*(pascal_forms(name) for name in identifiers)))
    refused: list[tuple[str, str, str]] = []
    entities, components, field_names, use_case_names = [], [], [], []
    empty = root / "empty"
    empty.mkdir()
    checks = [
        ("entity_name", pascal, validation.entity_name_error, entities),
        ("component_name", snake, lambda v: validation.component_name_error(v, empty), components),
        ("fields", snake, lambda v: validation.fields_error(f"{v}:str"), field_names),
        # For the entity Order: test_refused_candidates_write_nothing copies orders.
        ("usecases", snake, lambda v: usecases.use_cases_error(f"{v}()", "Order"), use_case_names),
    ]
    for question, values, check, accepted in checks:
        for value in values:
            message = check(value)
            if message:
                refused.append((question, value, message))
            else:
                accepted.append(value)
    return Candidates(entities, components, field_names, use_case_names, refused)


@dataclass(frozen=True)
class Component:
    name: str
    entity: str
    fields: str
    usecases: str = ""


def components_for_all_candidates(found: Candidates) -> list[Component]:
    count = max(len(found.entities), len(found.components))
    field_chunks = [
        found.field_names[start : start + FIELDS_PER_COMPONENT]
        for start in range(0, len(found.field_names), FIELDS_PER_COMPONENT)
    ]
    # Spread over the first BATCHES components, so that every batch renders some.
    per_component = max(1, -(-len(found.use_case_names) // BATCHES))
    use_case_chunks = [
        found.use_case_names[start : start + per_component]
        for start in range(0, len(found.use_case_names), per_component)
    ]
    count = max(count, len(field_chunks), len(use_case_chunks))
    taken = set(found.components)
    spare = (f"spare{i}" for i in itertools.count() if f"spare{i}" not in taken)
    types = itertools.cycle(itertools.product(TYPES, ("", "?")))
    result = []
    for index in range(count):
        name = found.components[index] if index < len(found.components) else next(spare)
        if index < len(found.entities):
            entity = found.entities[index]
        else:
            default = naming.default_entity_name(name)
            entity = default if naming.pascal_rule_error(default) is None else "Item"
        chunk = field_chunks[index] if index < len(field_chunks) else ["label"]
        specs = []
        for field_name in chunk:
            kind, optional = next(types)
            specs.append(f"{field_name}:{kind}{optional}")
        fields_answer = ", ".join(specs)
        # Accepted for the entity Order; the few another entity name would refuse
        # (a command class it already defines) are left out.
        chosen = use_case_chunks[index] if index < len(use_case_chunks) else []
        use_case_specs = [
            f"{use_case}(amount:{kind})"
            for use_case, (kind, _optional) in zip(chosen, types, strict=False)
            if not usecases.use_cases_error(f"{use_case}()", entity, fields_answer)
        ]
        result.append(Component(name, entity, fields_answer, ", ".join(use_case_specs)))
    return result


def scaffold_batch(template: Path, project: Path, batch: list[Component]) -> None:
    init_repo(project)
    for component in batch:
        data = {
            "kind": "component",
            "component_name": component.name,
            "entity_name": component.entity,
            "fields": component.fields,
            "usecases": component.usecases,
        }
        copier_copy(template, project, data)
        if component.usecases:
            write_use_cases(project, component)
    commit_all(project, "candidates")


def write_use_cases(project: Path, component: Component) -> None:
    """Write each use case's rule (return the entity unchanged), as its user would: the
    audit reports a rule that is still the starter hexforge wrote (HEX601)."""
    names = naming.component_names(component.name, component.entity)
    written = write_use_case_rules(project, component.name, names.entity_var)
    assert written == len(component.usecases.split(", ")), component


@pytest.mark.parametrize("batch_index", SAMPLED_BATCHES, ids=lambda i: f"batch{i}")
def test_accepted_candidates_pass_every_gate(
    tmp_path: Path,
    template_v1: Path,
    generated_venv: Path,
    found: Candidates,
    batch_index: int,
) -> None:
    every = components_for_all_candidates(found)
    batch = every[batch_index::BATCHES]
    if not batch:
        pytest.skip("fewer components than batches")  # only with HEXFORGE_NAME_BATCHES raised
    project = tmp_path / "project"
    scaffold_batch(template_v1, project, batch)

    outputs = run_gates(project, generated_venv)

    assert "skipped" not in outputs["integration"]


def test_the_candidates_cover_the_reported_collisions(found: Candidates) -> None:
    """The issue's reproductions are among the candidates, accepted or refused."""
    tried_entities = set(found.entities) | {v for q, v, _ in found.refused if q == "entity_name"}
    tried_components = set(found.components) | {
        v for q, v, _ in found.refused if q == "component_name"
    }
    tried_fields = set(found.field_names) | {v for q, v, _ in found.refused if q == "fields"}
    assert {"CheckDraft", "DELETE", "COUNT", "INSERT", "UPDATE", "OtherDraft"} <= tried_entities
    assert {"True", "False", "None", "Winner", "Pytest"} <= tried_entities
    assert {"pg_class", "domain", "conftest", "true"} <= tried_components
    assert "unexpected" in tried_fields
    # More than a handful: the whole vocabulary of the rendered code.
    assert len(found.entities) > 300
    assert len(found.field_names) > 300


def test_every_refusal_is_one_line_naming_the_value(found: Candidates) -> None:
    for question, value, message in found.refused:
        assert "\n" not in message, (question, value)
        assert repr(value) in message or value == "", (question, value, message)


def _one_per_rule(refused: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """One refused candidate per question and rule (the message without the value)."""
    seen: dict[tuple[str, str], tuple[str, str, str]] = {}
    for question, value, message in refused:
        rule = message.replace(repr(value), "<value>")
        seen.setdefault((question, rule), (question, value, message))
    return sorted(seen.values())


def test_refused_candidates_write_nothing(
    tmp_path: Path, template_v1: Path, found: Candidates
) -> None:
    """Through the CLI, one candidate per rule: the last line names the question, the
    value and the rule, and the project is byte for byte unchanged."""
    project = init_repo(tmp_path / "project")
    copier_copy(template_v1, project, {"kind": "component", "component_name": "existing"})
    commit_all(project, "existing component")
    before = tree_bytes(project)
    good = {"kind": "component", "component_name": "orders", "fields": "customer:str"}
    for question, value, message in _one_per_rule(found.refused):
        shaped = {"fields": f"{value}:str", "usecases": f"{value}()"}
        data = {**good, question: shaped.get(question, value)}
        result = copier_copy(template_v1, project, data, check=False)

        last_line = refusal_line(result)
        assert f"'{question}'" in last_line, last_line
        assert message in last_line, last_line
        assert tree_bytes(project) == before, (question, value)


def test_a_component_whose_default_entity_is_refused_is_refused_too(
    tmp_path: Path, template_v1: Path
) -> None:
    project = init_repo(tmp_path / "project")
    before = tree_bytes(project)

    result = copier_copy(
        template_v1, project, {"kind": "component", "component_name": "true"}, check=False
    )

    last_line = refusal_line(result)
    assert "'entity_name'" in last_line
    assert "'True' is a Python constant" in last_line
    assert tree_bytes(project) == before


snake_names = st.from_regex(r"[a-z][a-z0-9]{0,8}(_[a-z0-9]{1,6}){0,2}", fullmatch=True)
pascal_names = st.from_regex(r"[A-Z][A-Za-z0-9]{0,12}", fullmatch=True)


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    component=snake_names,
    entity=pascal_names,
    field_names=st.lists(snake_names, min_size=1, max_size=8, unique=True),
    seed=st.integers(0, 2**32),
)
def test_random_names_are_refused_or_pass_every_gate(
    tmp_path_factory: pytest.TempPathFactory,
    template_v1: Path,
    generated_venv: Path,
    component: str,
    entity: str,
    field_names: list[str],
    seed: int,
) -> None:
    chooser = random.Random(seed)
    spec = ", ".join(f"{name}:{chooser.choice(TYPES)}" for name in field_names)
    project = init_repo(tmp_path_factory.mktemp("random") / "project")
    before = tree_bytes(project)
    data = {"kind": "component", "component_name": component, "entity_name": entity}
    data["fields"] = spec
    problems = [
        ("component_name", naming.component_rule_error(component)),
        ("entity_name", naming.pascal_rule_error(entity)),
        ("fields", validation.fields_error(spec) or None),
    ]

    result = copier_copy(template_v1, project, data, check=False)

    refusals = [(question, message) for question, message in problems if message]
    if refusals:
        last_line = refusal_line(result)
        assert any(f"'{q}'" in last_line and m in last_line for q, m in refusals), last_line
        assert tree_bytes(project) == before
        return
    assert result.returncode == 0, result.stderr
    outputs = run_gates(project, generated_venv)
    assert "skipped" not in outputs["integration"]
