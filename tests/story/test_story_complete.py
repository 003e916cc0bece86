"""`story complete`: the log ends with BACKEND COMPLETE only when it passes the check so
ended and the plan files hold none of their skeleton hints; otherwise every problem
is listed and nothing is written. `story check` of a complete story reports the
hints too."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hexforge import plans
from tests.story.logkit import build_log, make_project, story_log

REPO = Path(__file__).resolve().parents[2]
SKELETONS = next((REPO / "template" / "story").glob("*/in-progress/*/_implementation"))


def skeleton(name: str) -> str:
    """A plan file as the story scaffold writes it."""
    text = (SKELETONS / f"{name}.jinja").read_text(encoding="utf-8")
    return text.replace("{{ story_id }}", "WISH-001").replace("{{ feature_dir }}", "plans/x")


FILLED_PLAN = """# Implementation plan — WISH-001

## Goal

Customers keep a wish list; `GET /wishes?owner=<id>` lists theirs.

## Steps

1. Add the `wishes` component (domain, ports, adapters), see <https://example.org/adr>.
   - Files: components/wishes/
   - Tests: unit and integration, a < b and c > d stays prose
"""
FILLED_SCOPE = "# Scope — WISH-001\n\n## Surfaces\n\n- Backend: yes<br>\n- Frontend: no\n"


def run_main(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = story_log.main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def story(tmp_path: Path) -> Path:
    directory = make_project(tmp_path / "project", files=("src/app.py",))
    (directory / "BACKEND-LOG.md").write_text(build_log(2).text, encoding="utf-8")
    for name in plans.PLAN_FILES:
        (directory / name).write_text(skeleton(name), encoding="utf-8")
    return directory


def test_every_hint_line_of_the_scaffolds_plan_files_is_found(story: Path) -> None:
    found = plans.placeholders(story)
    for name in plans.PLAN_FILES:
        lines = skeleton(name).split("\n")
        hinted = [n for n, line in enumerate(lines, start=1) if "<" in line and ">" in line]
        assert [p.line for p in found if p.path.name == name] == hinted, name


def test_complete_refuses_while_the_plan_holds_its_hints_and_writes_nothing(
    story: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (story / "BACKEND-LOG.md").read_bytes()
    code, out, _ = run_main(capsys, "complete", story)
    assert code == 1
    assert "IMPLEMENTATION-PLAN.md:9: plan-placeholder: still holds the skeleton hint" in out
    assert out.rstrip().endswith("is unchanged")
    assert (story / "BACKEND-LOG.md").read_bytes() == before


def test_complete_ends_a_checked_log_once_the_plan_is_filled(
    story: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (story / "IMPLEMENTATION-PLAN.md").write_text(FILLED_PLAN, encoding="utf-8")
    (story / "SCOPE.md").write_text(FILLED_SCOPE, encoding="utf-8")
    code, out, _ = run_main(capsys, "complete", story)
    assert code == 0, out
    text = (story / "BACKEND-LOG.md").read_text(encoding="utf-8")
    assert text.rstrip("\n").split("\n")[-1] == "BACKEND COMPLETE"
    assert run_main(capsys, "check", story)[:2] == (
        0,
        f"{story / 'BACKEND-LOG.md'}: ok (2 chunks, complete)\n",
    )
    code, out, _ = run_main(capsys, "complete", story)
    assert (code, out) == (1, "")


def test_complete_refuses_a_log_that_would_fail_the_check(
    story: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (story / "IMPLEMENTATION-PLAN.md").write_text(FILLED_PLAN, encoding="utf-8")
    (story / "SCOPE.md").write_text(FILLED_SCOPE, encoding="utf-8")
    unfinished = build_log(2, summary=False).text
    (story / "BACKEND-LOG.md").write_text(unfinished, encoding="utf-8")
    code, out, _ = run_main(capsys, "complete", story)
    assert code == 1 and "is unchanged" in out
    assert (story / "BACKEND-LOG.md").read_text(encoding="utf-8") == unfinished


def test_check_of_a_complete_story_names_the_unfilled_plan(
    story: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = story / "BACKEND-LOG.md"
    log.write_text(log.read_text(encoding="utf-8") + "\nBACKEND COMPLETE\n", encoding="utf-8")
    code, out, _ = run_main(capsys, "check", story)
    assert code == 1
    assert f"{story / 'SCOPE.md'}:9: plan-placeholder" in out


def test_a_blocked_story_is_not_completed(story: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (story / "BLOCKERS.md").write_text("# Blockers\n", encoding="utf-8")
    code, _, err = run_main(capsys, "complete", story)
    assert code == 1 and "BLOCKERS.md exists" in err


prose = st.text(
    alphabet=st.characters(blacklist_characters="<>`\n", blacklist_categories=("Cs",)),
    max_size=40,
)


@given(prose, prose)
def test_code_and_links_never_count_as_hints(before: str, after: str) -> None:
    line = f"{before}`<T>` and <https://x.example/a> <br> {after}"
    assert plans._in_text(Path("PLAN.md"), f"{line}\n```\n<inside a fence>\n```\n") == []


hints = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 :/,.-]{0,30}[A-Za-z0-9]", fullmatch=True).filter(
    lambda hint: plans.NOT_A_HINT.fullmatch(f"<{hint}>") is None  # an HTML tag a plan may use
)


@given(prose, hints)
def test_an_angle_bracketed_hint_is_found_anywhere_in_prose(before: str, hint: str) -> None:
    found = plans._in_text(Path("PLAN.md"), f"{before}<{hint}>\n")
    assert [(p.line, p.hint) for p in found] == [(1, f"<{hint}>")]
