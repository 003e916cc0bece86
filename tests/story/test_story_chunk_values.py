"""story_log.py chunk with the fields' values on the command line, --files-from-git,
and line endings kept by every command that edits a log."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import GIT_ENV, commit_all, init_repo, tree_bytes
from tests.story.logkit import STORY_TEMPLATE, TOOL, build_log, make_project, story_log

DASH = "\u2014"

VALUES = {
    "--objective": "AC-2: list orders by customer",
    "--summary": "added the customer filter to the list use case",
    "--reused": "OrderService.list, the repository contract tests",
    "--new": "CustomerFilter value object",
    "--why-new": "no filter type existed",
    "--core": "the filter and its rule",
    "--adapters": "the query parameter and the SQL WHERE clause",
    "--commands": "python tools/quality_gates.py: all gates passed",
    "--notes": "none",
}
LINES = {
    "--objective": "- Objective (maps to story requirement/AC): ",
    "--summary": "- Summary of changes: ",
    "--reused": "  - Reused: ",
    "--new": "  - New: ",
    "--why-new": "  - Why new was necessary: ",
    "--core": "  - What stayed in core: ",
    "--adapters": "  - What stayed in adapters: ",
    "--commands": "- Commands run (if any): ",
    "--notes": "- Notes / Risks: ",
}


def run_main(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = story_log.main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def fresh_log(story: Path, newline: str = "\n") -> Path:
    text = (STORY_TEMPLATE / "BACKEND-LOG.md.jinja").read_text(encoding="utf-8")
    body = text[text.index("# Backend log") :]
    body = body.replace("{{ story_id }}", "WISH-001").replace("{{ feature_dir }}", "plans/f")
    body = body.replace("{{ dir_arg }}", "DIR")
    log = story / "BACKEND-LOG.md"
    log.write_bytes(body.replace("\n", newline).encode())
    return log


@pytest.fixture
def story(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project", files=("src/app.py", "src/other.py"))


def all_values() -> list[str]:
    return [item for option, value in VALUES.items() for item in (option, value)]


def test_a_fresh_log_takes_its_first_chunk_from_the_command_line(
    story: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = fresh_log(story)
    args = ["--name", "customer filter", "--file", "src/app.py", "--file", "src/other.py"]
    code, out, err = run_main(capsys, "chunk", story, *args, *all_values())
    assert code == 0, err
    assert "filled Chunk 1" in out
    text = log.read_text(encoding="utf-8")
    assert "## Chunk 2" not in text
    assert f"## Chunk 1 {DASH} customer filter\n" in text
    for option, value in VALUES.items():
        assert f"\n{LINES[option]}{value}\n" in text, option
    assert "- Files changed:\n  - `src/app.py`\n  - `src/other.py`\n- Summary" in text
    assert "<" not in text.split("## Chunk 1", 1)[1].split("## Worker", 1)[0]
    assert run_main(capsys, "check", story)[0] == 0

    code, out, _ = run_main(capsys, "chunk", story, "--name", "second", *all_values()[:2])
    assert code == 0 and "added Chunk 2" in out
    text = log.read_text(encoding="utf-8")
    assert f"## Chunk 2 {DASH} second\n- Objective (maps to story requirement/AC): AC-2" in text
    # chunk 2 was begun: its empty fields are reported, each on its line
    code, out, _ = run_main(capsys, "check", story)
    assert code == 1 and out.count("field-empty") == 9


def test_some_values_fill_those_fields_and_keep_the_other_hints(
    story: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = fresh_log(story)
    code, _, _ = run_main(capsys, "chunk", story, "--objective", "AC-1", "--notes", "none")
    assert code == 0
    chunk = log.read_text(encoding="utf-8").split("## Chunk 1", 1)[1].split("## Worker", 1)[0]
    expected = story_log.chunk_skeleton(1).split("## Chunk 1", 1)[1]
    expected = expected.replace(
        "- Objective (maps to story requirement/AC): <the story requirement or acceptance "
        "criterion this chunk delivers>",
        "- Objective (maps to story requirement/AC): AC-1",
    ).replace(
        "- Notes / Risks: <risks, follow-ups, type errors met; none if nothing>",
        "- Notes / Risks: none",
    )
    assert chunk == expected + "\n"


def test_filling_keeps_lines_that_are_no_field(
    story: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = fresh_log(story)
    text = log.read_text(encoding="utf-8").replace(
        "- Summary of changes:", "<!-- a reviewer's note -->\n- Summary of changes:"
    )
    log.write_text(text, encoding="utf-8")
    assert run_main(capsys, "chunk", story, "--summary", "done")[0] == 0
    assert "<!-- a reviewer's note -->\n- Summary of changes: done\n" in log.read_text()


def git_project(tmp_path: Path) -> Path:
    """A committed project with a story; returns the story folder."""
    project = init_repo(tmp_path / "project")
    story = make_project(project, files=("src/app.py", "src/old.py", "src/kept.py"))
    fresh_log(story)
    commit_all(project, "project and story")
    return story


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project, env={**GIT_ENV, "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def test_files_from_git(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    story = git_project(tmp_path)
    project = story.parents[5]
    (project / "src" / "app.py").write_text("changed\n")  # unstaged
    (project / "src" / "new.py").write_text("new\n")  # untracked
    (project / "src" / "old.py").unlink()  # deleted
    (project / "src" / "kept.py").write_text("staged\n")
    git(project, "add", "src/kept.py")
    (project / "ignored.log").write_text("x")
    (project / ".gitignore").write_text("*.log\n")
    (story / "DECISIONS-AUTO.yaml").write_text("decisions: []\n")  # the story's own files
    code, _, err = run_main(capsys, "chunk", story, "--files-from-git", "--file", "src/app.py")
    assert code == 0, err
    files = story_log.Log.parse((story / "BACKEND-LOG.md").read_text()).lines
    start = files.index("- Files changed:")
    end = next(i for i in range(start + 1, len(files)) if not files[i].startswith("  - "))
    assert files[start + 1 : end] == [
        "  - `src/app.py`",
        "  - `.gitignore`",
        "  - `src/kept.py`",
        "  - `src/new.py`",
        "  - `src/old.py` (deleted)",
    ]
    assert run_main(capsys, "check", story)[0] == 1  # the other fields are still empty


def test_files_from_git_since_a_ref(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    story = git_project(tmp_path)
    project = story.parents[5]
    base = git(project, "rev-parse", "HEAD").strip()
    (project / "src" / "app.py").write_text("changed\n")
    commit_all(project, "a committed change")
    (project / "src" / "new.py").write_text("new\n")
    assert run_main(capsys, "chunk", story, "--files-from-git")[0] == 0
    log = story / "BACKEND-LOG.md"
    assert "  - `src/new.py`\n- Summary" in log.read_text()
    git(project, "checkout", "--", ".")
    fresh_log(story)
    assert run_main(capsys, "chunk", story, "--files-from-git", base)[0] == 0
    assert "  - `src/app.py`\n  - `src/new.py`\n- Summary" in log.read_text()


BAD = [
    ["--file", "/etc/passwd"],
    ["--file", "../outside.py"],
    ["--file", "src/missing.py"],
    ["--file", ""],
    ["--files-from-git", "no-such-ref"],
    ["--files-from-git=-p"],
    ["--objective", "TODO"],
    ["--summary", "two\nlines"],
    ["--notes", "<hint>"],
    ["--why-new", " "],
]


@pytest.mark.parametrize("args", BAD, ids=[" ".join(a) for a in BAD])
def test_bad_values_exit_2_and_change_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    story = git_project(tmp_path)
    project = story.parents[5]
    before = tree_bytes(project)
    code, out, err = run_main(capsys, "chunk", story, *args)
    assert code == 2, out + err
    assert out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("story_log.py: error: chunk: ")
    assert tree_bytes(project) == before


def test_deleted_file_given_by_hand(story: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fresh_log(story)
    assert run_main(capsys, "chunk", story, "--file", "src/gone.py (deleted)")[0] == 0
    assert "  - `src/gone.py` (deleted)\n" in (story / "BACKEND-LOG.md").read_text()


printable_line = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=40
).filter(lambda text: not story_log.is_placeholder(text.strip()) and text.strip() == text)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.fixed_dictionaries({option: printable_line for option in VALUES}), name=printable_line
)
def test_any_one_line_values_round_trip(story: Path, values: dict[str, str], name: str) -> None:
    log = fresh_log(story)
    # --option=value: argparse reads a separate value that starts with "-" as an option
    argv = ["chunk", str(story), f"--name={name}", "--file", "src/app.py"]
    argv += [f"{option}={value}" for option, value in values.items()]
    assert story_log.main(argv) == 0
    parsed = story_log.Log.parse(log.read_text(encoding="utf-8"))
    for option, value in values.items():
        assert f"{LINES[option]}{value}" in parsed.lines, option
    _, found = story_log.check_text(
        log.read_text(encoding="utf-8"), story.parents[5], blockers=False
    )
    assert [p for p in found if p.rule != "chunk-heading"] == []


@pytest.mark.parametrize("newline", ["\r\n", "\n"], ids=["crlf", "lf"])
def test_every_command_keeps_the_line_endings(
    story: Path, capsys: pytest.CaptureFixture[str], newline: str
) -> None:
    log = fresh_log(story, newline)
    commands = [
        ["chunk", story, "--name", "first", *all_values(), "--file", "src/app.py"],
        ["chunk", story, "--name", "second"],
        ["tokens", story, "--read", log, "--written", log],
        ["block", story, "--context", "c", "--decision", "d", "--option", "a", "--option", "b",
         "--blocked-steps", "3"],
    ]  # fmt: skip
    for args in commands:
        assert run_main(capsys, *args)[0] == 0, args
        data = log.read_bytes()
        if newline == "\r\n":
            assert data.count(b"\n") == data.count(b"\r\n"), args
        else:
            assert b"\r" not in data, args
    blockers = (story / "BLOCKERS.md").read_bytes()
    assert (blockers.count(b"\r\n") == blockers.count(b"\n")) == (newline == "\r\n")


def test_unicode_line_separators_inside_a_line_are_kept(
    story: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = story / "BACKEND-LOG.md"
    text = build_log(1).text.replace("done for chunk 1", "done\u2028for\x0cchunk 1", 1)
    log.write_text(text, encoding="utf-8")
    assert run_main(capsys, "tokens", story, "--read", log)[0] == 0
    assert "done\u2028for\x0cchunk 1" in log.read_text(encoding="utf-8")


def test_chunk_help_lists_every_field_option() -> None:
    result = subprocess.run(
        [sys.executable, str(TOOL), "chunk", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    for option in [*VALUES, "--file", "--files-from-git", "--name"]:
        assert option in result.stdout


def test_resuming_after_a_block_fills_the_waiting_chunk(
    story: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = fresh_log(story)
    block = ["--context", "c", "--decision", "paging", "--option", "a", "--option", "b"]
    assert run_main(capsys, "block", story, *block, "--blocked-steps", "2")[0] == 0
    (story / "BLOCKERS.md").unlink()
    code, out, _ = run_main(capsys, "chunk", story, "--name", "after the decision", *all_values())
    assert code == 0 and "resumed after the block" in out
    text = log.read_text(encoding="utf-8")
    assert "\nBLOCKED:" not in text and "## Chunk 2" not in text
    assert (
        f"## Chunk 1 {DASH} after the decision\n"
        "> Resumed after a block: Architectural decision required - paging\n"
        f"{LINES['--objective']}{VALUES['--objective']}\n"
    ) in text
    assert run_main(capsys, "chunk", story, "--file", "src/app.py")[0] == 0  # chunk 2
    code, out, _ = run_main(capsys, "check", story, "--format", "json")
    report = json.loads(out)
    assert (report["status"], report["chunks"]) == ("in-progress", 2)
    # chunk 1 lacks its files, chunk 2 all but its files: every empty field, on its line
    rules = [problem["rule"] for problem in report["problems"]]
    assert sorted(rules) == ["chunk-heading"] + ["field-empty"] * 10
