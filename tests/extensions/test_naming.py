"""The naming rules and derived names: one place, used by validators and templates."""

from __future__ import annotations

import keyword

import pytest
from hypothesis import given
from hypothesis import strategies as st

import naming


@pytest.mark.parametrize(
    ("component", "entity"),
    [
        ("orders", "Order"),
        ("order_items", "OrderItem"),
        ("categories", "Category"),
        ("addresses", "Address"),
        ("boxes", "Box"),
        ("status", "Status"),
        ("inventory", "Inventory"),
    ],
)
def test_default_entity_name_singularises_the_last_word(component: str, entity: str) -> None:
    assert naming.default_entity_name(component) == entity


@pytest.mark.parametrize("word", ["order", "category", "address", "box", "church", "item"])
def test_plural_and_singular_round_trip(word: str) -> None:
    assert naming.singular(naming.plural(word)) == word


@given(st.from_regex(r"[a-z]{2}[a-z0-9]{0,7}(_[a-z]{2}[a-z0-9]{0,7}){0,2}", fullmatch=True))
def test_snake_pascal_snake_round_trips(snake: str) -> None:
    assert naming.pascal_to_snake(naming.snake_to_pascal(snake)) == snake


@pytest.mark.parametrize(
    "bad", ["", "Orders", "9a", "a-b", "a b", "é", "__x__", "a__b", "_a", "a_"]
)
def test_snake_rule_refuses_non_snake_names(bad: str) -> None:
    assert naming.snake_rule_error(bad) is not None


@pytest.mark.parametrize("word", [*keyword.kwlist, *keyword.softkwlist, "type"])
def test_keywords_are_never_names(word: str) -> None:
    if naming.SNAKE_RE.fullmatch(word):
        assert "keyword" in (naming.snake_rule_error(word) or "")


def test_names_longer_than_the_limit_are_refused() -> None:
    limit = naming.MAX_NAME_LENGTH
    assert naming.snake_rule_error("a" * limit) is None
    assert "longer than" in (naming.snake_rule_error("a" * (limit + 1)) or "")
    assert "longer than" in (naming.pascal_rule_error("A" * (limit + 1)) or "")


@pytest.mark.parametrize(
    "bad", ["order", "Order-Item", "True", "None", "Decimal", "UUID", "Pool", "I", "O"]
)
def test_entity_rule_refuses_names_that_clash(bad: str) -> None:
    assert naming.pascal_rule_error(bad) is not None


@pytest.mark.parametrize("good", ["Class", "Draft", "Page", "L", "CheckDraft", "Delete", "Pytest"])
def test_entity_names_the_templates_keep_apart_are_accepted(good: str) -> None:
    # The generated code never uses the entity's snake_case form as a bare name.
    assert naming.pascal_rule_error(good) is None


@pytest.mark.parametrize(
    ("bad", "rule"),
    [
        ("conftest", "project layout"),
        ("domain", "the audit"),
        ("ports", "the audit"),
        ("pg_class", "pg_"),
        ("pg_stat_activity", "pg_"),
        ("orders_pkey", "_pkey"),
        ("orders_seq", "_seq"),
        ("class", "keyword"),
    ],
)
def test_component_rule_refuses_what_the_layout_or_postgresql_needs(bad: str, rule: str) -> None:
    assert rule in (naming.component_rule_error(bad) or "")


@pytest.mark.parametrize(
    ("bad", "rule"),
    [
        ("id", "reserved"),
        ("version", "reserved"),
        ("model_x", "model_"),
        ("l", "E741"),
        ("classmethod", "clashes"),
        ("xmin", "system column"),
        ("ctid", "system column"),
    ],
)
def test_field_rule_refuses_names_the_generated_classes_use(bad: str, rule: str) -> None:
    assert rule in (naming.field_name_error(bad) or "")


def test_component_names_are_derived_once() -> None:
    names = naming.component_names("order_items", "OrderItem")
    assert (names.entity_snake, names.entity_plural, names.table) == (
        "order_item",
        "order_items",
        "order_items",
    )
    assert (names.url_path, names.id_type, names.id_param) == (
        "/order-items",
        "OrderItemId",
        "order_item_id",
    )


@pytest.mark.parametrize("bad", ["components", "components/wishlist", "components/orders/plans"])
def test_story_logs_stay_out_of_components(bad: str) -> None:
    assert "inside components/" in (naming.feature_dir_rule_error(bad) or "")


@pytest.mark.parametrize("good", ["plans/features/wish", "docs/components", "componentsx"])
def test_story_logs_elsewhere_are_fine(good: str) -> None:
    assert naming.feature_dir_rule_error(good) is None
