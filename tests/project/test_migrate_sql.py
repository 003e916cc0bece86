"""The parts of tools/migrate.py that need no database, by construction with hypothesis:
how a file splits into statements, the order migrations apply in, and the one-line
messages. The runner itself, on PostgreSQL, is in test_migrate.py."""

from __future__ import annotations

import sys
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.project.test_migrate import migrate  # the tool, loaded from the template


@given(st.text())
def test_a_message_quoting_any_text_prints_as_one_printable_line(text: str) -> None:
    hexforge = sys.modules["hexforge.core"]  # the helper module migrate.py imported
    shown = hexforge.one_line(text)
    assert shown.isprintable()
    assert len(shown.splitlines()) <= 1
    assert hexforge.one_line(shown) == shown
    if text.isprintable():
        assert shown == text


PIECES = st.sampled_from(
    [
        "1",
        "'a;b'",
        "'it''s; fine'",
        "E'\\\\'';'",
        "$$x; y$$",
        "$body$ ; $$ ; $body$",
        '"semi;colon"',
        "1 /* c; /* nested; */ still; */",
        "1 -- trailing; comment\n",
        "a$b",
        "100%",
    ]
)


@given(st.lists(st.lists(PIECES, min_size=1, max_size=4), min_size=1, max_size=5))
def test_statements_split_only_at_semicolons_outside_comments_and_literals(
    pieces: list[list[str]],
) -> None:
    statements = ["SELECT " + ", ".join(items) for items in pieces]
    sql = ";\n".join(statements) + ";\n"
    split = migrate.split_statements(sql, "f.sql")
    assert [s.text for s in split] == [s.rstrip() for s in statements]
    assert [sql[s.offset : s.offset + len(s.text)] for s in split] == [s.text for s in split]


def fake(component: str, version: int, after: tuple[tuple[str, int], ...] = ()) -> Any:
    return migrate.Migration(
        component=component,
        version=version,
        name="m",
        file=f"{component}/{version:04d}_m.sql",
        sql="",
        checksum="",
        transaction=True,
        after=after,
        owns=(),
        statements=(),
    )


@st.composite
def dependency_graphs(draw: st.DrawFn) -> list[Any]:
    """Components with 1-3 versions each; some wait on migrations listed before them."""
    names = draw(st.lists(st.sampled_from("abcdef"), min_size=1, max_size=5, unique=True))
    layout = [(name, v) for name in names for v in range(1, draw(st.integers(1, 3)) + 1)]
    layout = draw(st.permutations(layout))  # a topological order the dependencies follow
    position = {key: i for i, key in enumerate(layout)}
    migrations = []
    for key in layout:
        earlier = [other for other in layout[: position[key]] if other[0] != key[0]]
        after = draw(st.lists(st.sampled_from(earlier), max_size=2, unique=True)) if earlier else []
        migrations.append(fake(key[0], key[1], tuple(after)))
    versions: dict[str, list[int]] = {}
    for m in migrations:
        versions.setdefault(m.component, []).append(m.version)
    # Versions of a component must follow their numbers: renumber along the layout.
    renumber = {}
    for component, found in versions.items():
        for new, old in enumerate(found, start=1):
            renumber[(component, old)] = new
    return [
        fake(
            m.component,
            renumber[m.key],
            tuple((c, renumber[(c, v)]) for c, v in m.after),
        )
        for m in migrations
    ]


@given(dependency_graphs(), st.randoms())
def test_order_respects_versions_and_after_lines_and_is_otherwise_by_name(
    migrations: list[Any], random: Any
) -> None:
    shuffled = list(migrations)
    random.shuffle(shuffled)
    ordered = migrate.order(shuffled)
    assert ordered == migrate.order(migrations)  # the input order does not matter
    place = {m.key: i for i, m in enumerate(ordered)}
    for m in ordered:
        if m.version > 1:
            assert place[(m.component, m.version - 1)] < place[m.key]
        for need in m.after:
            assert place[need] < place[m.key]
    if not any(m.after for m in migrations):
        assert [m.key for m in ordered] == sorted(place)


def test_an_after_line_moves_a_migration_behind_another_component() -> None:
    plain = [fake("aaa", 1), fake("zed", 1)]
    assert [m.label for m in migrate.order(plain)] == ["aaa/0001_m", "zed/0001_m"]
    waiting = [fake("aaa", 1, (("zed", 1),)), fake("zed", 1)]
    assert [m.label for m in migrate.order(waiting)] == ["zed/0001_m", "aaa/0001_m"]
