"""The usecases answer: syntax, names, and the messages for bad lists."""

from __future__ import annotations

import keyword

import pytest
from hypothesis import given
from hypothesis import strategies as st

import usecases
from naming import component_names
from tests.component.field_lists import snake

SPEC_EXAMPLE = "reserve(quantity:int:gt=0), discontinue()"
SCALAR_FIELD = st.sampled_from(
    ["quantity:int:gt=0", "note:str?:max_length=40", "at:datetime", "price:decimal:ge=0",
     "ratio:float:lt=1", "code:uuid?", "urgent:bool:default=false", "day:date"]
)  # fmt: skip
NAMES = component_names("products", "Product")


def test_the_spec_example_parses_into_names_and_fields() -> None:
    reserve, discontinue = usecases.parse_use_cases(SPEC_EXAMPLE, "Product", "products")

    assert (reserve.name, reserve.command, reserve.dto) == (
        "reserve",
        "ReserveProduct",
        "ReserveProductIn",
    )
    assert (reserve.route_function, reserve.segment) == ("reserve_product", "reserve")
    assert [f.spec for f in reserve.fields] == ["quantity:int:gt=0"]
    assert reserve.fields[0].refusal(reserve.fields[0].rules[-1], "self.quantity") == (
        "self.quantity <= 0"
    )
    assert (discontinue.command, discontinue.fields) == ("DiscontinueProduct", ())


def test_an_empty_answer_is_no_use_case() -> None:
    assert usecases.parse_use_cases("", "Product") == []
    assert usecases.parse_use_cases("   ", "Product") == []
    assert usecases.use_cases_error("", "Product", "name:str") == ""


def test_a_name_with_underscores_is_a_dashed_route_segment() -> None:
    (add_stock,) = usecases.parse_use_cases("add_stock(quantity:int)", "OrderItem", "order_items")

    assert (add_stock.command, add_stock.segment) == ("AddStockOrderItem", "add-stock")
    assert add_stock.route_function == "add_stock_order_item"


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ("reserve", "'reserve' is not name(field, ...)"),
        ("reserve(quantity:int", "leaves a parenthesis open"),
        ("reserve)(", "closes a parenthesis it never opened"),
        ("reserve(), ", "has an empty entry"),
        ("Reserve()", "'Reserve' is not snake_case"),
        ("class()", "'class' is a Python keyword"),
        ("match()", "'match' is a Python keyword"),
        ("__init__()", "dunder"),
        ("create()", "use case 'create' collides with the generated create"),
        ("delete_product()", "use case 'delete_product' collides"),
        ("list_products()", "use case 'list_products' collides"),
        ("replace()", "use case 'replace' collides"),
        ("commands()", "use case 'commands' would hide commands"),
        ("abstractmethod()", "use case 'abstractmethod' would hide"),
        ("int()", "use case 'int' would hide int (a builtin"),
        ("print()", "use case 'print' would hide"),
        ("stale()", "would name its command StaleProduct, a class the generated code"),
        ("invalid()", "would name its command InvalidProduct"),
        ("reserve(), reserve()", "use case 'reserve' appears twice"),
        ("reserve(quantity:integer)", "use case 'reserve': field 'quantity' has unknown type"),
        ("reserve(quantity:int:gt=5:lt=2)", "use case 'reserve': field 'quantity': its bounds"),
        ("reserve(quantity:int, quantity:int)", "field name 'quantity' appears twice"),
        ("reserve(why:enum[a|b])", "field 'why' is an enum"),
        ("move(to:ref[warehouses])", "field 'to' is a reference (ref[warehouses])"),
        ("tag(x:ref[nonexistent]?)", "field 'x' is a reference (ref[nonexistent])"),
        ("reserve(code:str:unique)", "field 'code' is unique, which only stored fields"),
        ("reserve(to_command:int)", "field 'to_command' clashes with the generated request"),
        ("reserve(product_id:uuid)", "field 'product_id' clashes with the generated request"),
    ],
)
def test_a_bad_answer_is_one_line_naming_the_value_and_the_rule(answer: str, says: str) -> None:
    message = usecases.use_cases_error(answer, "Product", "name:str")

    assert says in message
    assert "\n" not in message


def test_a_command_that_would_take_an_enum_class_name_is_refused() -> None:
    # Product + field product -> enum ProductProduct; use case product -> ProductProduct.
    message = usecases.use_cases_error("product()", "Product", "product:enum[a|b]")

    assert "would name its command ProductProduct, the enum class of a field" in message


@given(
    st.lists(
        st.tuples(snake, st.lists(SCALAR_FIELD, max_size=3, unique_by=lambda f: f.split(":")[0])),
        min_size=1,
        max_size=4,
        unique_by=lambda pair: pair[0],
    )
)
def test_every_valid_list_parses_and_its_canonical_spelling_parses_the_same(
    items: list[tuple[str, list[str]]],
) -> None:
    text = ", ".join(f"{name}({', '.join(fields)})" for name, fields in items)
    refused = usecases.use_cases_error(text, "Product", "name:str")
    if refused:
        # Only the name rules refuse a list built from valid fields.
        bad = [name for name, _ in items if usecases.name_error(name, NAMES)]
        assert bad and repr(bad[0]) in refused, refused
        return
    parsed = usecases.parse_use_cases(text, "Product")

    assert [uc.name for uc in parsed] == [name for name, _ in items]
    canonical = usecases.normalise_use_cases(text, "Product")
    assert usecases.normalise_use_cases(canonical, "Product") == canonical


@given(st.text(max_size=60))
def test_any_text_gets_an_answer_never_an_exception(text: str) -> None:
    assert isinstance(usecases.use_cases_error(text, "Product", "name:str"), str)


@pytest.mark.parametrize("word", sorted(set(keyword.kwlist) | set(keyword.softkwlist)))
def test_no_keyword_names_a_use_case(word: str) -> None:
    assert usecases.use_cases_error(f"{word}()", "Product", "name:str")
