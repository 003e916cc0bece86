"""extensions/moves.py: the table of generated files that template versions moved."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.version import Version

import moves
from moves import Move, any_between, applicable
from tests.helpers import REPO

RENAME = Move("0.2.0", "component", "tests/unit/test_service.py", "tests/unit/test_use_cases.py")


def test_a_literal_pattern_moves_exactly_its_file() -> None:
    assert RENAME.target("tests/unit/test_service.py") == "tests/unit/test_use_cases.py"
    assert RENAME.target("tests/unit/test_service.pyc") is None
    assert RENAME.target("x/tests/unit/test_service.py") is None


def test_a_star_matches_within_a_segment_and_a_double_star_across() -> None:
    one = Move("1", "component", "tests/unit/test_*.py", "tests/unit/{0}_test.py")
    assert one.target("tests/unit/test_model.py") == "tests/unit/model_test.py"
    assert one.target("tests/unit/deep/test_model.py") is None
    deep = Move("1", "component", "tests/**.py", "checks/{0}.py")
    assert deep.target("tests/unit/deep/test_model.py") == "checks/unit/deep/test_model.py"


def test_moves_apply_after_the_old_version_up_to_the_new_one_of_the_same_kind() -> None:
    table = [
        Move("0.3.0", "component", "c", "d"),
        Move("0.1.0", "component", "old", "older"),
        Move("0.2.0", "component", "a", "b"),
        Move("0.2.0", "project", "x", "y"),
        Move("0.4.0", "component", "e", "f"),
    ]
    chosen = applicable(table, "component", Version("0.1.0"), Version("0.3.0"))
    assert [(m.version, m.old) for m in chosen] == [("0.2.0", "a"), ("0.3.0", "c")]
    assert applicable(table, "component", Version("0.3.0"), Version("0.3.0")) == []
    assert applicable(table, "story", Version("0"), Version("9")) == []


def test_the_shipped_table_is_well_formed() -> None:
    released = set(re.findall(r"^## \[(\d[^\]]*)\]", (REPO / "CHANGELOG.md").read_text(), re.M))
    versions = [move.introduced for move in moves.MOVES]
    assert versions == sorted(versions)
    for move in moves.MOVES:
        assert move.kind in ("project", "component", "story")
        assert move.version in released, f"{move.version} has no CHANGELOG.md entry"
        assert not move.old.startswith("/") and ".." not in Path(move.old).parts
        assert move.target(move.old.replace("**", "x").replace("*", "x")) is not None


def test_any_between_tells_whether_the_migration_has_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(moves, "MOVES", (RENAME, Move("0.3.0", "project", "a", "b")))
    assert any_between(Version("0.1.0"), Version("0.2.0"))
    assert any_between("0.1.0", "0.4.0")
    assert any_between("0.2.0", "0.3.0")  # a project move: the migration picks by kind
    assert not any_between("0.3.0", "0.4.0")  # 0.3.0 is already there
    assert not any_between("0.0.1", "0.1.0")
    # A version Copier could not read as PEP 440: run the migration, which says why.
    assert any_between("not-a-version", "0.2.0")
