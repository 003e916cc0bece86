"""Every tool rendered into projects, driven by hostile command lines: the exit status
is 0, 1 or 2 and stderr never shows a traceback.

The tools run as subprocesses, as `python tools/X.py` in a project of their own (a
copy of template/project/tools), so a random argument can only ever touch that copy.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import GIT_ENV
from tests.project.audit_cases.realistic import write_component
from tests.project.tooling import TOOLS

# Every option each tool knows, to mix into the random command lines.
OPTIONS = {
    "hex_audit.py": ["--format", "json", "text", "components", "--help"],
    "story_log.py": [
        "chunk", "check", "block", "tokens", "STORY", "--name", "--objective", "--file",
        "--files-from-git", "--summary", "--notes", "--root", "--format", "json", "--read",
        "--written", "--context", "--decision", "--option", "--blocked-steps", "--reason",
    ],
    "sync.py": ["--check", "--to", "--root", "-v", "orders", "nope"],
    "preflight.py": ["--format", "json", "--no-fix", "--root", "."],
    "completion_report.py": ["--output", "report.md", "--root", "."],
    "remove.py": ["orders", "nope", "--yes", "--format", "json", "text", "../orders"],
}  # fmt: skip
STORY = "plans/f/in-progress/WISH-1/_implementation"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project (not a git repository, so sync starts nothing) with one component,
    a story log and the tools."""
    root = tmp_path_factory.mktemp("cli") / "shop"
    shutil.copytree(TOOLS, root / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    write_component(root / "components", "orders")
    (root / "components" / "__init__.py").write_text("")
    story = root / STORY
    story.mkdir(parents=True)
    log = (TOOLS.parent.parent / "story").glob("**/BACKEND-LOG.md.jinja")
    text = next(log).read_text()
    (story / "BACKEND-LOG.md").write_text(text[text.index("# Backend log") :])
    return root


def run(workspace: Path, tool: str, argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, f"tools/{tool}", *argv],
        cwd=workspace,
        env={
            **GIT_ENV,
            "PATH": "/usr/bin:/bin",
            "GIT_CEILING_DIRECTORIES": str(workspace.parent),
            "PYTHONDONTWRITEBYTECODE": "1",  # the tools write nothing; Python neither
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def words(tool: str) -> st.SearchStrategy[str]:
    junk = st.text(
        st.characters(blacklist_characters="/\\\x00", blacklist_categories=("Cs",)), max_size=12
    )
    known = st.sampled_from([*OPTIONS[tool], STORY if tool == "story_log.py" else "."])
    return st.one_of(known, known.map(lambda option: f"{option}=x"), junk)


@pytest.mark.parametrize("tool", sorted(OPTIONS))
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_command_lines(workspace: Path, tool: str, data: st.DataObject) -> None:
    argv = data.draw(st.lists(words(tool), max_size=6), label="argv")
    result = run(workspace, tool, argv)
    assert result.returncode in (0, 1, 2), result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    if result.returncode == 2:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


BAD = [
    ("hex_audit.py", ["--format"]),
    ("hex_audit.py", ["no/such/dir"]),
    ("story_log.py", []),
    ("story_log.py", ["chunk"]),
    ("story_log.py", ["check", STORY, "--root", "missing"]),
    ("story_log.py", ["chunk", STORY, "--file", "/etc/passwd"]),
    ("sync.py", ["--to"]),
    ("sync.py", ["--check", "--to", "v1"]),
    ("preflight.py", ["--format", "yaml"]),
    ("preflight.py", ["--root", "missing"]),
    ("completion_report.py", ["--root", "missing"]),
    ("completion_report.py", ["--output", "tools"]),
    ("completion_report.py", ["extra"]),
    ("remove.py", []),
    ("remove.py", ["../orders"]),
    ("remove.py", ["Orders"]),
    ("remove.py", ["orders", "--format", "yaml"]),
    ("remove.py", ["orders", "customers"]),
]


@pytest.mark.parametrize(("tool", "argv"), BAD, ids=[f"{t} {' '.join(a)}" for t, a in BAD])
def test_bad_arguments_exit_2_with_one_line(workspace: Path, tool: str, argv: list[str]) -> None:
    before = sorted(path for path in workspace.rglob("*"))
    result = run(workspace, tool, argv)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert "error" in line and "Traceback" not in line
    assert sorted(path for path in workspace.rglob("*")) == before


@pytest.mark.parametrize("tool", sorted(OPTIONS))
def test_help(workspace: Path, tool: str) -> None:
    result = run(workspace, tool, ["--help"])
    assert result.returncode == 0 and result.stderr == ""
    assert "usage:" in result.stdout
