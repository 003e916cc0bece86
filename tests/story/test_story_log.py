"""tools/story_log.py: check finds each defect on its line; chunk, block and tokens
produce logs that check accepts; bad input changes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import tree_bytes
from tests.story.logkit import (
    FIELD_SLOTS,
    STORY_TEMPLATE,
    TOOL,
    build_log,
    fill_placeholders,
    make_project,
    story_log,
)

DASH = "\u2014"


def problems(text: str, root: Path, *, blockers: bool = False) -> list[tuple[int, str]]:
    _, found = story_log.check_text(text, root, blockers=blockers)
    return [(p.line, p.rule) for p in found]


def run_main(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = story_log.main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def story(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project", files=("src/app.py", "src/other.py"))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("root")
    make_project(base, files=("src/app.py", "src/other.py"))
    return base


# ------------------------------------------------------------------ the skeleton


def test_template_chunk_matches_the_tool_skeleton() -> None:
    """The log template's Chunk 1 and summary are exactly what the tool writes."""
    text = (STORY_TEMPLATE / "BACKEND-LOG.md.jinja").read_text(encoding="utf-8")
    chunk = text[text.index("## Chunk 1") : text.index("## Worker Token Summary")]
    assert chunk == story_log.chunk_skeleton(1) + "\n"
    summary = text[text.index("## Worker Token Summary") :]
    assert summary == "\n".join(["## Worker Token Summary", *story_log.summary_lines()]) + "\n"


def test_skeleton_has_every_field_of_the_seed_structure() -> None:
    skeleton = story_log.chunk_skeleton(3, "persist orders")
    assert skeleton.splitlines() == [
        f"## Chunk 3 {DASH} persist orders",
        "- Objective (maps to story requirement/AC): <the story requirement or acceptance "
        "criterion this chunk delivers>",
        "- Files changed:",
        "  - <path relative to the project root>",
        "- Summary of changes: <what changed and why, in a sentence or two>",
        "- Reuse compliance:",
        "  - Reused: <existing modules, packages or helpers this chunk builds on>",
        "  - New: <modules, classes, tables or endpoints added>",
        "  - Why new was necessary: <why nothing existing fitted; n/a when nothing is new>",
        "- Ports & adapters note:",
        "  - What stayed in core: <logic kept in domain/ports, free of HTTP and SQL types>",
        "  - What stayed in adapters: <HTTP, SQL and other I/O kept in adapters>",
        "- Commands run (if any): <each command and its result; none if nothing ran>",
        "- Notes / Risks: <risks, follow-ups, type errors met; none if nothing>",
    ]


# ------------------------------------------------------------------ check: clean logs


def test_well_filled_log_passes(root: Path) -> None:
    built = build_log(3, files=("src/app.py", "src/other.py"))
    assert problems(built.text, root) == []
    assert problems(built.text + "\nBACKEND COMPLETE\n", root) == []


def test_placeholder_rules() -> None:
    is_placeholder = story_log.is_placeholder
    for text in ("", "  ", "<hint>", "`<a>` <b>", "...", "\u2026", "TODO", "tbd", "-", "**<x>**"):
        assert is_placeholder(text), text
    for text in ("none", "n/a", "AC-2", "returns list<Order>", "0"):
        assert not is_placeholder(text), text
    assert is_placeholder("path", path_entry=True)
    assert not is_placeholder("path")


def test_labels_are_matched_loosely(root: Path) -> None:
    text = build_log(1).text
    text = text.replace("- Notes / Risks:", "- **Notes/Risks**:")
    text = text.replace("- Ports & adapters note:", "- Ports and Adapters note:")
    text = text.replace("- Objective (maps to story requirement/AC):", "- Objective:")
    assert problems(text, root) == []


def test_values_may_sit_in_indented_lines_and_fences(root: Path) -> None:
    text = build_log(1).text.replace(
        "- Commands run (if any): done for chunk 1",
        "- Commands run (if any):\n  ```\n  ruff check .\n  ```",
    )
    assert problems(text, root) == []
    only_fence = build_log(1).text.replace(
        "- Commands run (if any): done for chunk 1",
        "- Commands run (if any):\n  ```\n  ```",
    )
    assert "field-empty" in {rule for _, rule in problems(only_fence, root)}


def test_fenced_headings_and_signals_are_ignored(root: Path) -> None:
    # the header of every built log fences a chunk heading and the completion signal
    built = build_log(1)
    assert "```sh\n## Chunk 9" in built.text
    assert problems(built.text, root) == []


# ------------------------------------------------------------------ check: each defect


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_missing_field_is_reported_on_the_chunk_heading(root: Path) -> None:
    built = build_log(2)
    text = built.text.replace("- Summary of changes: done for chunk 2\n", "")
    assert problems(text, root) == [(built.chunk_lines[1], "field-missing")]


def test_missing_sub_field_is_reported_on_its_field(root: Path) -> None:
    built = build_log(1)
    text = built.text.replace(
        "  - Why new was necessary: real text for why new was necessary\n", ""
    )
    assert problems(text, root) == [
        (built.field_lines[(0, "Reuse compliance", None)], "field-missing")
    ]


def test_duplicate_field(root: Path) -> None:
    built = build_log(1)
    text = built.text.replace(
        "- Notes / Risks: done for chunk 1", "- Notes / Risks: done\n- Notes / Risks: again"
    )
    assert problems(text, root) == [(line_of(text, "again"), "field-duplicate")]


def test_missing_and_bad_paths(root: Path) -> None:
    built = build_log(1, files=("src/app.py", "src/gone.py", "/etc/passwd", "../up.py"))
    assert problems(built.text, root) == [
        (built.file_lines[(0, "src/gone.py")], "file-missing"),
        (built.file_lines[(0, "/etc/passwd")], "file-path"),
        (built.file_lines[(0, "../up.py")], "file-path"),
    ]


def test_deleted_files_and_plain_word_paths(root: Path) -> None:
    built = build_log(1)
    text = built.text.replace(
        "  - `src/app.py` (edited)",
        "  - src/app.py: the entry point\n  - src/old.py (deleted)\n  - `src/other.py`",
    )
    assert problems(text, root) == []


def test_files_on_the_label_line_and_no_files(root: Path) -> None:
    built = build_log(1)
    line = built.field_lines[(0, "Files changed", None)]
    text = built.text.replace(
        "- Files changed:\n  - `src/app.py` (edited)\n", "- Files changed: src/app.py\n"
    )
    assert problems(text, root) == [(line, "field-empty"), (line, "files-inline")]


def test_chunk_heading_problems(root: Path) -> None:
    built = build_log(2)
    no_name = built.text.replace(
        f"## Chunk 2 {DASH} step 2 of the plan", f"## Chunk 2 {DASH} <short name>"
    )
    assert problems(no_name, root) == [(built.chunk_lines[1], "chunk-heading")]
    no_number = built.text.replace(f"## Chunk 2 {DASH} step 2", "## Chunk two: step")
    assert problems(no_number, root) == [(built.chunk_lines[1], "chunk-heading")]
    hyphen = built.text.replace(f"## Chunk 2 {DASH}", "## Chunk 2 -")
    assert problems(hyphen, root) == []


@pytest.mark.parametrize(
    ("numbers", "bad"),
    [
        ([1, 3], [1]),  # gap: 2 missing
        ([1, 2, 2], [2]),  # duplicate
        ([1, 3, 2], [1, 2]),  # gap, then out of order
        ([2, 3], [0]),  # starts at 2
    ],
)
def test_chunk_numbering(root: Path, numbers: list[int], bad: list[int]) -> None:
    built = build_log(numbers=numbers)
    assert problems(built.text, root) == [(built.chunk_lines[i], "chunk-number") for i in bad]


def test_no_chunks(root: Path) -> None:
    text = "# Backend log\n\n## Worker Token Summary\n- Input: ~1 tokens\n- Output: ~2 tokens\n"
    assert problems(text, root) == [(1, "no-chunks")]


def test_summary_missing_or_without_numbers(root: Path) -> None:
    """The token summary is the seed's last step: it is checked once the log says the
    work is done (BACKEND COMPLETE), not while the story is in progress."""
    done = ("", "BACKEND COMPLETE")
    built = build_log(1, summary=False, tail=done)
    last = len(built.text.splitlines())
    assert problems(built.text, root) == [(last, "summary-missing")]
    assert problems(build_log(1, summary=False).text, root) == []
    built = build_log(1, tokens=("X", "Y"), tail=done)
    assert problems(built.text, root) == [
        (built.input_line, "summary-number"),
        (built.output_line, "summary-number"),
    ]
    assert problems(build_log(1, tokens=("X", "Y")).text, root) == []
    text = build_log(1, tail=done).text.replace("- Output: ~340 tokens (files written)\n", "")
    assert problems(text, root) == [(build_log(1).summary_line, "summary-missing")]


def test_summary_structure_is_checked_in_progress(root: Path) -> None:
    built = build_log(1, tokens=("X", "Y"))
    twice = built.text + "\n## Worker Token Summary\n- Input: ~1 tokens\n"
    assert problems(twice, root) == [(built.output_line + 2, "summary-duplicate")]


def test_chunk_after_the_summary(root: Path) -> None:
    built = build_log(1)
    extra = build_log(2).text.split("\n## Chunk 2", 1)[1].split("\n## Worker", 1)[0]
    text = built.text + "\n## Chunk 2" + extra + "\n"
    assert problems(text, root) == [(built.output_line + 2, "summary-order")]


def test_completion_signal_must_be_last(root: Path) -> None:
    built = build_log(1, tail=("", "BACKEND COMPLETE", "", "trailing words"))
    assert problems(built.text, root) == [(built.output_line + 2, "signal-position")]


def test_decorated_signal(root: Path) -> None:
    built = build_log(1, tail=("", "**BACKEND COMPLETE**"))
    assert problems(built.text, root) == [(built.output_line + 2, "signal-format")]


def test_blocked_signal_rules(root: Path) -> None:
    built = build_log(1, tail=("", "BLOCKED: need a decision on paging"))
    line = built.output_line + 2
    assert problems(built.text, root, blockers=True) == []
    assert problems(built.text, root) == [(line, "blocked-without-blockers")]
    empty = build_log(1, tail=("", "BLOCKED:"))
    assert problems(empty.text, root, blockers=True) == [(line, "signal-reason")]
    early = build_log(1, tail=("", "BLOCKED: paging", "", "BACKEND COMPLETE"))
    assert problems(early.text, root) == [(line, "signal-position")]


def test_completion_with_blockers_file(root: Path) -> None:
    built = build_log(1, tail=("", "BACKEND COMPLETE"))
    assert problems(built.text, root, blockers=True) == [
        (built.output_line + 2, "complete-with-blockers")
    ]


def test_blockers_file_without_blocked_signal(root: Path) -> None:
    built = build_log(1)
    assert problems(built.text, root, blockers=True) == [
        (built.output_line, "blockers-without-signal")
    ]


def test_blocked_log_may_leave_its_last_skeleton_empty(root: Path) -> None:
    text = build_log(1).text.replace(
        "\n## Worker", "\n" + story_log.chunk_skeleton(2) + "\n## Worker"
    )
    text += "\nBLOCKED: Architectural decision required - paging\n"
    assert problems(text, root, blockers=True) == []
    # in progress, work on the last chunk has not begun either
    in_progress = text.rsplit("\nBLOCKED:", 1)[0] + "\n"
    assert problems(in_progress, root) == []
    # complete: the empty chunk is reported field by field
    found = problems(in_progress + "\nBACKEND COMPLETE\n", root)
    assert {rule for _, rule in found} == {"field-empty", "chunk-heading"}
    assert len(found) == 11  # the name and all ten fields


# ------------------------------------------------------------------ check: properties


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_every_emptied_field_is_reported_on_its_line(root: Path, data: st.DataObject) -> None:
    count = data.draw(st.integers(min_value=1, max_value=5), label="chunks")
    slots = [(pos, top, sub) for pos in range(count) for top, sub in FIELD_SLOTS]
    emptied = data.draw(st.sets(st.sampled_from(slots), max_size=8), label="emptied")
    built = build_log(count, empty=frozenset(emptied))
    expected = sorted((built.field_lines[slot], "field-empty") for slot in emptied)
    assert problems(built.text, root) == expected


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(numbers=st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=6))
def test_numbering_is_flagged_exactly_when_not_one_to_n(root: Path, numbers: list[int]) -> None:
    built = build_log(numbers=numbers)
    found = problems(built.text, root)
    assert {rule for _, rule in found} <= {"chunk-number"}
    assert bool(found) == (numbers != list(range(1, len(numbers) + 1)))
    assert {line for line, _ in found} <= set(built.chunk_lines)


# ------------------------------------------------------------------ CLI: check


def test_check_cli_text_and_json(story: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (story / "BACKEND-LOG.md").write_text(build_log(2).text, encoding="utf-8")
    code, out, _ = run_main(capsys, "check", story)
    assert code == 0
    assert "ok (2 chunks, in-progress)" in out
    code, out, _ = run_main(capsys, "check", story, "--format", "json")
    report = json.loads(out)
    assert code == 0
    assert report["ok"] is True
    assert report["status"] == "in-progress"
    assert report["root"] == str(story.parents[5].resolve())

    broken = build_log(2, files=("src/nope.py",))
    (story / "BACKEND-LOG.md").write_text(broken.text, encoding="utf-8")
    code, out, _ = run_main(capsys, "check", story, "--format", "json")
    report = json.loads(out)
    assert code == 1
    assert [(p["line"], p["rule"]) for p in report["problems"]] == [
        (broken.file_lines[(0, "src/nope.py")], "file-missing"),
        (broken.file_lines[(1, "src/nope.py")], "file-missing"),
    ]
    code, out, _ = run_main(capsys, "check", story)
    assert code == 1
    line = broken.file_lines[(0, "src/nope.py")]
    assert f"BACKEND-LOG.md:{line}: file-missing: 'src/nope.py'" in out


def test_root_from_the_story_answers_file(tmp_path: Path) -> None:
    """Without project markers, the answers file tells where the project root is."""
    project = tmp_path / "bare"
    story = project / "docs" / "feat" / "in-progress" / "AB1-7" / "_implementation"
    story.mkdir(parents=True)
    (story / ".copier-answers.yml").write_text(
        "_commit: v1\nfeature_dir: docs/feat\nkind: story\nstory_id: AB1-7\n", encoding="utf-8"
    )
    assert story_log.project_root(story, None) == project.resolve()
    (story / ".copier-answers.yml").write_text("feature_dir: 'other'\nstory_id: AB1-7\n")
    assert story_log.project_root(story, None) != project.resolve()
    assert story_log.project_root(story, str(project)) == project.resolve()


def test_check_with_explicit_root(story: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (story / "BACKEND-LOG.md").write_text(build_log(1, files=("app.py",)).text, encoding="utf-8")
    (story.parents[5] / "src" / "app.py").rename(story.parents[5] / "src" / "moved.py")
    code, _, _ = run_main(capsys, "check", story, "--root", story.parents[5] / "src")
    assert code == 1
    (story.parents[5] / "src" / "app.py").write_text("", encoding="utf-8")
    code, _, _ = run_main(capsys, "check", story, "--root", story.parents[5] / "src")
    assert code == 0


# ------------------------------------------------------------------ CLI: chunk


def fresh_log(story: Path) -> Path:
    text = (STORY_TEMPLATE / "BACKEND-LOG.md.jinja").read_text(encoding="utf-8")
    body = text[text.index("# Backend log") :]
    body = body.replace("{{ story_id }}", "WISH-001").replace("{{ feature_dir }}", "plans/f")
    body = body.replace("{{ dir_arg }}", "DIR")
    log = story / "BACKEND-LOG.md"
    log.write_text(body, encoding="utf-8")
    return log


def test_chunk_cycle_produces_logs_check_accepts(
    story: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = fresh_log(story)
    before = log.read_bytes()
    code, _, _ = run_main(capsys, "check", story)
    assert code == 0  # a fresh log is a story in progress: nothing missing yet
    code, out, _ = run_main(capsys, "chunk", story)
    assert code == 0
    assert "ready to fill in: nothing added" in out
    assert log.read_bytes() == before

    log.write_text(fill_placeholders(log.read_text()), encoding="utf-8")
    code, _, _ = run_main(capsys, "check", story)
    assert code == 0  # the token numbers wait for the end
    for number in (2, 3):
        code, out, _ = run_main(capsys, "chunk", story, "--name", f"part {number}")
        assert code == 0, out
        assert f"added Chunk {number}" in out
        text = log.read_text()
        assert f"## Chunk {number} {DASH} part {number}" in text
        assert text.rstrip().endswith("- Output: ~Y tokens (files written)")  # summary stays last
        log.write_text(fill_placeholders(text, ("src/other.py",)), encoding="utf-8")

    log.write_text(log.read_text() + "\nBACKEND COMPLETE\n", encoding="utf-8")
    code, out, _ = run_main(capsys, "check", story)
    assert code == 1  # complete: now the token summary must be filled
    assert "summary-number" in out
    code, _, _ = run_main(
        capsys, "tokens", story, "--read", log, "--written", story.parents[5] / "src" / "app.py"
    )
    assert code == 0
    code, out, _ = run_main(capsys, "check", story)
    assert (code, out.strip().endswith("ok (3 chunks, complete)")) == (0, True)
    done = log.read_bytes()
    code, _, err = run_main(capsys, "chunk", story)
    assert code == 1
    assert "BACKEND COMPLETE" in err
    assert log.read_bytes() == done


def test_chunk_without_summary_appends_at_the_end(
    story: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = story / "BACKEND-LOG.md"
    log.write_text(build_log(1, summary=False).text, encoding="utf-8")
    assert run_main(capsys, "chunk", story)[0] == 0
    assert log.read_text().endswith(story_log.chunk_skeleton(2))


BAD_INPUT = [
    "chunk {story} --name=",
    "chunk {missing}",
    "check {story} --format xml",
    "check {story} --root {missing}",
    "tokens {story}",
    "tokens {story} --read {missing}",
    "block {story} --context c --decision d --option a --blocked-steps 2",
    "block {story} --context= --decision d --option a --option b --blocked-steps 2",
    "block {story} --decision d --option a --option b --blocked-steps 2",
    "frobnicate {story}",
    "",
]


@pytest.mark.parametrize(
    "args", [*[line.split() for line in BAD_INPUT], ["chunk", "{story}", "--name", "two\nlines"]]
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    story: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    (story / "BACKEND-LOG.md").write_text(build_log(1).text, encoding="utf-8")
    project = story.parents[5]
    before = tree_bytes(project)
    argv = [a.format(story=story, missing=project / "missing") for a in args]
    code, out, err = run_main(capsys, *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "error" in err
    assert tree_bytes(project) == before


def test_missing_log_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "check", tmp_path)
    assert code == 2
    assert "no BACKEND-LOG.md" in err


# ------------------------------------------------------------------ CLI: block


BLOCK_ARGS = [
    "--context", "Adding pagination to the orders list",
    "--decision", "Cursor or offset pagination",
    "--option", "Offset and limit",
    "--option", "Opaque cursor on the id",
    "--recommendation", "Opaque cursor",
    "--blocked-steps", "Steps 3 and 4",
]  # fmt: skip


def test_block_writes_blockers_and_signal(story: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = story / "BACKEND-LOG.md"
    log.write_text(build_log(1).text, encoding="utf-8")
    code, _, _ = run_main(capsys, "block", story, *BLOCK_ARGS)
    assert code == 0
    assert (story / "BLOCKERS.md").read_text() == (
        f"# Blockers {DASH} WISH-001\n"
        "\n"
        "## Architectural Decision Required\n"
        "\n"
        "**Context**: Adding pagination to the orders list\n"
        "**Decision Needed**: Cursor or offset pagination\n"
        "**Options Identified**:\n"
        "1. Offset and limit\n"
        "2. Opaque cursor on the id\n"
        "**Recommendation**: Opaque cursor\n"
        "**Blocked Steps**: Steps 3 and 4\n"
    )
    assert log.read_text().endswith(
        "\n\nBLOCKED: Architectural decision required - Cursor or offset pagination\n"
    )
    code, out, _ = run_main(capsys, "check", story)
    assert (code, "blocked" in out) == (0, True)

    # blocked: no second block, no new chunk
    frozen = tree_bytes(story)
    assert run_main(capsys, "block", story, *BLOCK_ARGS)[0] == 1
    assert run_main(capsys, "chunk", story)[0] == 1
    assert tree_bytes(story) == frozen

    # resolved: BLOCKERS.md removed, the next chunk resumes the log
    (story / "BLOCKERS.md").unlink()
    code, _, _ = run_main(capsys, "check", story)
    assert code == 1  # BLOCKED without BLOCKERS.md
    assert run_main(capsys, "chunk", story, "--name", "after the decision")[0] == 0
    text = log.read_text()
    assert "\nBLOCKED:" not in text
    assert (
        f"## Chunk 2 {DASH} after the decision\n"
        "> Resumed after a block: Architectural decision required - Cursor or offset pagination\n"
    ) in text
    log.write_text(fill_placeholders(text), encoding="utf-8")
    assert run_main(capsys, "check", story)[0] == 0


def test_block_on_a_fresh_log_then_tokens_passes_check(
    story: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = fresh_log(story)
    assert run_main(capsys, "block", story, *BLOCK_ARGS, "--reason", "pagination style")[0] == 0
    assert log.read_text().endswith("BLOCKED: Architectural decision required - pagination style\n")
    assert run_main(capsys, "tokens", story, "--read", log)[0] == 0
    code, out, _ = run_main(capsys, "check", story)
    assert code == 0, out


def test_block_refuses_a_completed_log(story: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (story / "BACKEND-LOG.md").write_text(build_log(1, tail=("BACKEND COMPLETE",)).text)
    before = tree_bytes(story)
    code, _, err = run_main(capsys, "block", story, *BLOCK_ARGS)
    assert code == 1
    assert "refused" in err
    assert tree_bytes(story) == before


# ------------------------------------------------------------------ CLI: tokens


def test_tokens_fills_and_is_idempotent(story: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = story / "BACKEND-LOG.md"
    log.write_text(build_log(1, tokens=("X", "Y")).text, encoding="utf-8")
    read_a = story / "a.txt"
    read_a.write_bytes(b"x" * 10)
    read_b = story / "b.txt"
    read_b.write_bytes(b"y" * 7)
    written = story / "c.txt"
    written.write_bytes(b"z" * 400)
    args = ["tokens", story, "--read", read_a, read_b, "--read", read_a, "--written", written]
    assert run_main(capsys, *args)[0] == 0
    first = log.read_bytes()
    text = first.decode()
    assert "- Input: ~5 tokens (files read)\n" in text  # ceil(17 / 4), a.txt counted once
    assert "- Output: ~100 tokens (files written)\n" in text
    assert run_main(capsys, *args)[0] == 0
    assert log.read_bytes() == first
    assert run_main(capsys, "check", story)[0] == 0


def test_tokens_adds_a_missing_summary_before_the_signal(
    story: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = story / "BACKEND-LOG.md"
    log.write_text(build_log(1, summary=False, tail=("", "BACKEND COMPLETE")).text)
    assert run_main(capsys, "check", story)[0] == 1
    assert run_main(capsys, "tokens", story, "--written", log)[0] == 0
    text = log.read_text()
    size = len(build_log(1, summary=False, tail=("", "BACKEND COMPLETE")).text.encode())
    assert text.endswith(
        "## Worker Token Summary\n- Input: ~0 tokens (files read)\n"
        f"- Output: ~{(size + 3) // 4} tokens (files written)\n\nBACKEND COMPLETE\n"
    )
    assert run_main(capsys, "check", story)[0] == 0


# ------------------------------------------------------------------ as a script


def test_runs_as_a_script(story: Path) -> None:
    (story / "BACKEND-LOG.md").write_text(build_log(1).text, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(TOOL), "check", str(story), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["chunks"] == 1
    bad = subprocess.run(
        [sys.executable, str(TOOL), "check"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1


def test_resume_into_an_empty_chunk(story: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Blocked before chunk 1 began: after the decision, chunk resumes into chunk 1."""
    log = fresh_log(story)
    assert run_main(capsys, "block", story, *BLOCK_ARGS)[0] == 0
    (story / "BLOCKERS.md").unlink()
    code, out, _ = run_main(capsys, "chunk", story)
    assert (code, "fill in chunk 1" in out) == (0, True)
    text = log.read_text()
    assert "## Chunk 2" not in text
    assert "\nBLOCKED:" not in text
    assert f"## Chunk 1 {DASH} <short name>\n> Resumed after a block: " in text
    log.write_text(fill_placeholders(text), encoding="utf-8")
    assert run_main(capsys, "tokens", story, "--read", log)[0] == 0
    assert run_main(capsys, "check", story)[0] == 0
