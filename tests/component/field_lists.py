"""Hypothesis strategies for field lists with modifiers, valid by construction.

Shared by the parser's tests (tests/extensions/test_fields.py) and the generated
component's tests, which render such lists and run the project's gates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

snake = st.from_regex(r"[a-z][a-z0-9]{0,6}(_[a-z0-9]{1,5}){0,2}", fullmatch=True)
enum_values = st.lists(
    # Not o, i or l: their members O, I, L read like digits (refused, ruff E741).
    st.from_regex(r"[a-z][a-z0-9]{0,5}(_[a-z0-9]{1,3})?", fullmatch=True).filter(
        lambda value: value not in {"o", "i", "l"}
    ),
    min_size=1,
    max_size=7,
    unique=True,
)
ORDERED = ("int", "float", "decimal", "date", "datetime")
TYPES = ("str", "bool", "uuid", *ORDERED, "enum")


def _literal(kind: str, offset: int) -> str:
    """A literal of ``kind``, ordered like ``offset``."""
    if kind == "int":
        return str(offset)
    if kind == "float":
        return str(offset / 4)
    if kind == "decimal":
        return str(Decimal(offset) / 8)
    if kind == "date":
        return (date(2020, 1, 1) + timedelta(days=offset)).isoformat()
    moment = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(hours=offset)
    return moment.isoformat().replace("+00:00", "Z")


@st.composite
def modifiers(draw: st.DrawFn, kind: str, optional: bool, values: list[str]) -> list[str]:
    """Modifiers that apply to ``kind`` and agree with each other."""
    chosen: list[str] = []
    unique = draw(st.booleans()) and kind != "bool" and (kind != "enum" or len(values) >= 6)
    if unique:
        chosen.append("unique")
    elif draw(st.booleans()):
        chosen.append("index")
    low = high = None
    if kind in ORDERED:
        if draw(st.booleans()):
            low = draw(st.integers(-50, 50))
            chosen.append(f"{draw(st.sampled_from(['gt', 'ge']))}={_literal(kind, low)}")
        if draw(st.booleans()):
            # Room for six distinct values above the lower bound, whatever the type.
            high = (low if low is not None else -60) + draw(st.integers(8, 60))
            chosen.append(f"{draw(st.sampled_from(['lt', 'le']))}={_literal(kind, high)}")
    if kind == "str":
        least = draw(st.none() | st.integers(0, 5))
        if least is not None:
            chosen.append(f"min_length={least}")
        if draw(st.booleans()):
            chosen.append(f"max_length={(least or 0) + draw(st.integers(1, 30))}")
    if not optional and draw(st.booleans()):
        if kind == "enum":
            chosen.append(f"default={draw(st.sampled_from(values))}")
        elif kind in ORDERED:
            inside = (low if low is not None else 0) + 1
            if high is None or inside < high:
                chosen.append(f"default={_literal(kind, inside)}")
        elif kind == "bool":
            chosen.append(f"default={draw(st.sampled_from(['true', 'false']))}")
    return draw(st.permutations(chosen))


@st.composite
def field_lists(draw: st.DrawFn, max_size: int = 6) -> str:
    """A valid fields answer whose fields carry random, consistent modifiers."""
    names = draw(st.lists(snake, min_size=1, max_size=max_size, unique=True))
    parts = []
    for name in names:
        kind = draw(st.sampled_from(TYPES))
        values = draw(enum_values) if kind == "enum" else []
        spec = f"enum[{'|'.join(values)}]" if kind == "enum" else kind
        optional = draw(st.booleans())
        chosen = draw(modifiers(kind, optional, values))
        parts.append(":".join([f"{name}:{spec}{'?' if optional else ''}", *chosen]))
    return ", ".join(parts)
