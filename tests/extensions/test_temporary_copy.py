"""extensions/temporary_copy.py: telling Copier's throwaway update copies apart."""

from __future__ import annotations

from pathlib import Path

from temporary_copy import in_temporary_copy


def test_copier_old_and_new_copies_are_recognised_at_any_depth() -> None:
    assert in_temporary_copy(Path("/tmp/copier._main.old_copy.abcd/project"))
    assert in_temporary_copy(Path("/tmp/copier._main.new_copy.abcd"))
    assert in_temporary_copy(Path("/tmp/copier.main.new_copy.x"))  # older Copier


def test_a_project_whose_path_only_looks_alike_is_real() -> None:
    assert not in_temporary_copy(Path("/home/me/copier.main.notes"))
    assert not in_temporary_copy(Path("/home/me/old_copy/project"))
