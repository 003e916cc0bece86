"""extensions/gitignore.py: the project's .gitignore completed, never rewritten."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import gitignore

LINE = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
    max_size=30,
)
USER_LINES = st.lists(st.one_of(LINE, st.sampled_from(gitignore.ENTRIES)), max_size=12)


def _patterns(data: bytes) -> set[str]:
    return {line.strip().strip("/") for line in data.decode().splitlines()}


@given(lines=USER_LINES, crlf=st.booleans(), final_newline=st.booleans())
def test_the_users_bytes_come_first_every_entry_is_there_and_a_second_run_is_a_no_op(
    lines: list[str], crlf: bool, final_newline: bool
) -> None:
    newline = "\r\n" if crlf else "\n"
    text = newline.join(lines) + (newline if final_newline and lines else "")
    data = text.encode()

    completed = gitignore.completed(data)

    assert completed.startswith(data)
    assert {entry.strip("/") for entry in gitignore.ENTRIES} <= _patterns(completed)
    assert gitignore.completed(completed) == completed
    if crlf and "\n" in text:
        assert b"\n" not in completed.replace(b"\r\n", b"")


def test_an_empty_file_gets_the_comment_and_every_entry() -> None:
    assert gitignore.completed(b"").decode().splitlines() == [
        gitignore.HEADER,
        *gitignore.ENTRIES,
    ]


def test_an_entry_written_another_way_or_negated_by_the_user_counts_as_present() -> None:
    data = b"/.venv\n__pycache__\n!.claude/evidence/\n"
    added = gitignore.completed(data)[len(data) :].decode().splitlines()
    assert ".venv/" not in added and "__pycache__/" not in added
    assert ".claude/evidence/" not in added
    assert added[:2] == ["", gitignore.HEADER]
