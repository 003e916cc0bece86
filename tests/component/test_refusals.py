"""What must never half-happen, through the copier CLI: an update that would move a
scaffold, a wiring that would fail after Copier wrote the component, a story folder
that would land outside the project. Each is refused with one line that says why,
and the project's files are the same bytes afterwards; what is accepted works.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import (
    COPIER,
    commit_all,
    copier_copy,
    copier_update,
    git,
    init_repo,
    run,
    tree_bytes,
)

pytestmark = pytest.mark.slow

ORDERS = "components/orders/.copier-answers.yml"
STORY = "plans/features/wish/in-progress/WISH-1/_implementation"
COMPONENT = {"kind": "component", "fields": "customer:str"}


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    return result.stderr.strip().splitlines()[-1]


def refused(result: subprocess.CompletedProcess[str]) -> str:
    """The refusal: one line on stderr, no traceback, a non-zero exit."""
    assert result.returncode != 0, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return last_line(result)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, template_v1: Path) -> Path:
    """A project with the orders component and a filled-in story log, all committed."""
    root = init_repo(tmp_path_factory.mktemp("refusals") / "shop")
    copier_copy(template_v1, root, {**COMPONENT, "component_name": "orders"})
    copier_copy(template_v1, root, {"kind": "story", "story_id": "WISH-1"})
    log = root / STORY / "BACKEND-LOG.md"
    log.write_text(log.read_text() + "\n## Chunk 1: the agent's work\n")
    commit_all(root, "scaffolds and the agent's log")
    return root


# -- updates never change a path answer ----------------------------------------------


@pytest.mark.parametrize(
    ("answers", "question", "old", "new"),
    [
        (ORDERS, "component_name", "orders", "purchases"),
        (ORDERS, "kind", "component", "story"),
        (f"{STORY}/.copier-answers.yml", "story_id", "WISH-1", "WISH-2"),
        (f"{STORY}/.copier-answers.yml", "feature_dir", "plans/features/wish", "plans/other"),
        (f"{STORY}/.copier-answers.yml", "kind", "story", "component"),
    ],
)
def test_an_update_that_changes_a_path_answer_is_refused_and_changes_nothing(
    project: Path, answers: str, question: str, old: str, new: str
) -> None:
    before = tree_bytes(project)

    result = copier_update(project, answers, data={question: new}, check=False)

    line = refused(result)
    assert line.startswith(f"Validation error for question '{question}': ")
    assert f"{question} is {old!r} in {answers}" in line
    assert f"cannot change it to {new!r}: renaming is not an update" in line
    assert tree_bytes(project) == before
    assert git(project, "status", "--porcelain") == ""


def test_an_update_that_keeps_its_answers_goes_through(project: Path) -> None:
    before = tree_bytes(project)
    copier_update(project, f"{STORY}/.copier-answers.yml", data={"story_id": "WISH-1"})
    assert tree_bytes(project) == before


def test_a_component_folder_moved_by_hand_is_reported_by_its_update_and_others(
    tmp_path: Path, template_v1: Path
) -> None:
    shop = init_repo(tmp_path / "shop")
    for name in ("orders", "billing"):
        copier_copy(template_v1, shop, {**COMPONENT, "component_name": name})
    commit_all(shop, "two components")
    git(shop, "mv", "components/orders", "components/purchases")
    commit_all(shop, "the user renames a folder")
    before = tree_bytes(shop)

    result = copier_update(shop, "components/purchases/.copier-answers.yml", check=False)

    assert refused(result) == (
        "hexforge: components/purchases/.copier-answers.yml belongs to components/orders/ "
        "(its answers say so), but it lies in components/purchases/: the folder was moved "
        "or renamed, and an update would scaffold components/orders/ again beside it. Move "
        "it back (git mv components/purchases components/orders), commit, and update again; "
        "renaming a scaffold is not an update"
    )
    assert tree_bytes(shop) == before
    # Another component's update goes on, and says what does not add up.
    other = copier_update(shop, "components/billing/.copier-answers.yml")
    assert "components/purchases holds the answers of component 'orders'" in other.stderr
    assert not (shop / "components/orders").exists()


def test_a_component_that_lost_its_answers_file_stays_registered_while_its_folder_does(
    tmp_path: Path, template_v1: Path
) -> None:
    shop = init_repo(tmp_path / "shop")
    for name in ("orders", "billing"):
        copier_copy(template_v1, shop, {**COMPONENT, "component_name": name})
    commit_all(shop, "two components")
    git(shop, "rm", "-q", "components/billing/.copier-answers.yml")
    commit_all(shop, "the answers file is gone")

    result = copier_update(shop, ORDERS)

    registry = (shop / "app/components.py").read_text()
    assert "import components.billing.adapters.compose as billing_compose\n" in registry
    assert "    billing_service = billing_compose.build(pool)\n" in registry
    assert "  billing:\n" in (shop / ".claude/manifest.yaml").read_text()
    assert "components/billing has no .copier-answers.yml: kept registered" in result.stderr


# -- the wiring's obstacles: refused before the first file ---------------------------


OBSTACLES = [
    (
        "toml",
        {"pyproject.toml": b"[project\nname = 'x'\n"},
        "hexforge: pyproject.toml is not valid TOML (",
    ),
    (
        "bom",
        {"pyproject.toml": b"\xef\xbb\xbf[project]\nname = 'x'\n"},
        "hexforge: pyproject.toml starts with a UTF-8 byte order mark",
    ),
    (
        "project-not-a-table",
        {"pyproject.toml": b"project = 'x'\n"},
        "hexforge: pyproject.toml has a `project` key that is not a table",
    ),
    (
        "manifest",
        {".claude/manifest.yaml": b"phase: [coding\n"},
        "hexforge: .claude/manifest.yaml cannot be edited because it is not valid YAML",
    ),
    ("app", {"app": b"a file"}, "hexforge: app is a file, but hexforge needs a folder there"),
    ("components", {"components": b"a file"}, "hexforge: components is a file, but hexforge"),
    ("tools", {"tools": b"a file"}, "hexforge: tools is a file, but hexforge needs a folder"),
    (
        "folder",
        {"tools/hex_audit.py/keep": b""},
        "hexforge: tools/hex_audit.py is a folder, but hexforge writes a file there",
    ),
]
# A first component meets a file of the project's template in the way earlier, in its
# own validator (a clash: tests/extensions/test_wiring_e2e.py).
WIRING_CASES = [
    pytest.param(kind, obstacle, message, id=f"{kind}-{name}")
    for kind in ("component", "story")
    for name, obstacle, message in OBSTACLES
    if not (kind == "component" and name == "folder")
]


@pytest.mark.parametrize(("kind", "obstacle", "message"), WIRING_CASES)
def test_what_would_fail_the_wiring_is_refused_before_any_file_is_written(
    tmp_path: Path, template_v1: Path, kind: str, obstacle: dict[str, bytes], message: str
) -> None:
    shop = init_repo(tmp_path / "shop")
    for relative, data in obstacle.items():
        (shop / relative).parent.mkdir(parents=True, exist_ok=True)
        (shop / relative).write_bytes(data)
    commit_all(shop, "the user's files")
    before = tree_bytes(shop)
    data = (
        {**COMPONENT, "component_name": "orders"}
        if kind == "component"
        else {"kind": "story", "story_id": "WISH-1"}
    )

    result = copier_copy(template_v1, shop, data, check=False)

    assert refused(result).startswith(message)
    assert "Traceback" not in result.stderr  # one line, not Copier's traceback
    assert tree_bytes(shop) == before
    assert git(shop, "status", "--porcelain") == ""


# -- story folders -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "question", "rule"),
    [
        ({"story_id": "WISH-" + "1" * 300}, "story_id", "longer than 40 characters"),
        ({"feature_dir": "components/wishes"}, "feature_dir", "inside components/"),
        ({"feature_dir": "components"}, "feature_dir", "inside components/"),
        ({"feature_dir": "outside/wish"}, "feature_dir", "leads out of the project"),
        ({"feature_dir": "notes.md/wish"}, "feature_dir", "needs a folder where the file"),
        ({"feature_dir": "notes.md"}, "feature_dir", "needs a folder where the file notes.md"),
    ],
)
def test_a_story_folder_that_cannot_be_made_is_refused(
    tmp_path: Path, template_v1: Path, data: dict[str, str], question: str, rule: str
) -> None:
    shop = init_repo(tmp_path / "shop")
    copier_copy(template_v1, shop, {**COMPONENT, "component_name": "orders"})
    (shop / "notes.md").write_text("the user's notes\n")
    (tmp_path / "elsewhere").mkdir()
    (shop / "outside").symlink_to(tmp_path / "elsewhere")
    commit_all(shop, "a wired project")
    before = tree_bytes(shop)

    result = copier_copy(
        template_v1, shop, {"kind": "story", "story_id": "WISH-1", **data}, check=False
    )

    line = refused(result)
    assert f"Validation error for question '{question}'" in line
    assert rule in line
    assert len(line) < 400
    assert tree_bytes(shop) == before
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_story_does_not_bring_back_an_app_main_the_user_deleted(
    tmp_path: Path, template_v1: Path
) -> None:
    shop = init_repo(tmp_path / "shop")
    copier_copy(template_v1, shop, {**COMPONENT, "component_name": "orders"})
    commit_all(shop, "a component")
    git(shop, "rm", "-q", "app/main.py")
    commit_all(shop, "the user composes the app elsewhere")

    copier_copy(template_v1, shop, {"kind": "story", "story_id": "WISH-1"})

    assert not (shop / "app/main.py").exists()


def test_a_project_in_a_folder_named_like_a_copier_temporary_copy_is_wired(
    tmp_path: Path, template_v1: Path
) -> None:
    shop = init_repo(tmp_path / "copier.main.new_copy.x" / "copier._main.old_copy.y")

    copier_copy(template_v1, shop, {**COMPONENT, "component_name": "orders"})

    assert (
        "import components.orders.adapters.compose as orders_compose\n"
        in (shop / "app/components.py").read_text()
    )
    assert (shop / ".copier-answers.yml").is_file()


# -- .gitignore, evidence and the agent's manifest keys ----------------------------


GITIGNORE_ENTRIES = [
    ".venv/",
    "__pycache__/",
    "*.py[cod]",
    "*.egg-info/",
    ".pytest_cache/",
    ".mypy_cache/",
    ".ruff_cache/",
    ".hypothesis/",
    ".import_linter_cache/",
    ".claude/evidence/",
]


def test_the_gitignore_is_completed_keeping_the_users_lines_and_crlf(
    tmp_path: Path, template_v1: Path
) -> None:
    shop = init_repo(tmp_path / "shop")
    users = b"# mine\r\n/build/\r\n.venv\r\n"
    (shop / ".gitignore").write_bytes(users)
    commit_all(shop, "the user's ignores")

    copier_copy(template_v1, shop, {**COMPONENT, "component_name": "orders"})

    data = (shop / ".gitignore").read_bytes()
    assert data.startswith(users)
    added = data[len(users) :].decode().split("\r\n")
    assert added[0] == "" and added[1].startswith("# ") and added[-1] == ""
    assert added[2:-1] == [entry for entry in GITIGNORE_ENTRIES if entry != ".venv/"]
    assert b"\n" not in data.replace(b"\r\n", b"")
    copier_copy(template_v1, shop, {**COMPONENT, "component_name": "billing"})
    assert (shop / ".gitignore").read_bytes() == data  # idempotent


def test_gates_evidence_stays_out_of_git_status_and_tracked_evidence_is_untracked(
    tmp_path: Path, template_v1: Path
) -> None:
    shop = init_repo(tmp_path / "shop")
    copier_copy(template_v1, shop, {**COMPONENT, "component_name": "orders"})
    commit_all(shop, "scaffold")
    evidence = shop / ".claude/evidence/quality_gates_run.json"
    evidence.write_text('{"passed": true}\n')
    (shop / ".venv").mkdir()
    (shop / ".venv/pyvenv.cfg").write_text("home = /usr\n")
    assert git(shop, "status", "--porcelain") == ""  # ignored: nothing to commit
    # A project from before the .gitignore: the evidence was committed.
    git(shop, "add", "-f", ".claude/evidence/quality_gates_run.json")
    commit_all(shop, "evidence tracked by an older version")

    result = copier_update(shop, ".copier-answers.yml")

    assert "untracked 1 evidence file(s) in .claude/evidence/ (kept on disk" in result.stdout
    assert evidence.read_text() == '{"passed": true}\n'
    assert git(shop, "ls-files", ".claude/evidence") == ""
    assert git(shop, "status", "--porcelain").splitlines() == [
        "D  .claude/evidence/quality_gates_run.json"
    ]


def test_the_agents_manifest_keys_are_added_once_and_its_values_kept(
    tmp_path: Path, template_v1: Path
) -> None:
    shop = init_repo(tmp_path / "shop")
    copier_copy(template_v1, shop, {**COMPONENT, "component_name": "orders"})
    manifest = shop / ".claude/manifest.yaml"
    text = manifest.read_text()
    assert "phase: coding\noutstanding:\n  tasks: []\n  remediation: []\n" in text
    manifest.write_text(
        text.replace("phase: coding", "phase: review  # the agent's")
        .replace("tasks: []", "tasks: [T1]")
        .replace("  remediation: []\n", "")
    )
    commit_all(shop, "the agent's progress")

    copier_copy(template_v1, shop, {**COMPONENT, "component_name": "billing"})
    commit_all(shop, "another component")
    copier_update(shop, ORDERS)
    copier_update(shop, ".copier-answers.yml")

    text = manifest.read_text()
    assert "phase: review  # the agent's\n" in text
    assert "outstanding:\n  tasks: [T1]\n  remediation: []\n" in text
    assert "  billing:\n" in text and "  orders:\n" in text


def test_a_story_whose_template_the_wiring_could_not_reach_is_refused_before_writing(
    tmp_path: Path, template_v1: Path
) -> None:
    # The template given relative to where copier runs, not to the project: the
    # wiring's nested copy (a story in a project not wired yet) could not find it.
    shop = init_repo(tmp_path / "shop")
    before = tree_bytes(shop)
    relative = os.path.relpath(template_v1, tmp_path)

    command = [COPIER, "copy", "--trust", "--defaults", "--quiet", "-d", "kind=story"]
    result = run(
        [*command, "-d", "story_id=W-1", relative, "shop"],
        tmp_path,
        check=False,
    )

    assert refused(result) == (
        f"hexforge: cannot wire the project: the template {relative!r} is not a folder with "
        f"a copier.yml when seen from {shop}; run the command again with the template's "
        "absolute path"
    )
    assert tree_bytes(shop) == before


def test_an_update_meeting_a_project_file_the_wiring_cannot_edit_changes_nothing(
    tmp_path: Path, template_v1: Path
) -> None:
    shop = init_repo(tmp_path / "shop")
    copier_copy(template_v1, shop, {**COMPONENT, "component_name": "orders"})
    (shop / "pyproject.toml").write_bytes(b"\xef\xbb\xbf" + (shop / "pyproject.toml").read_bytes())
    commit_all(shop, "an editor added a byte order mark")
    before = tree_bytes(shop)

    result = copier_update(shop, ORDERS, data={"fields": "customer:str, total:int?"}, check=False)

    assert refused(result).startswith(
        "hexforge: pyproject.toml starts with a UTF-8 byte order mark"
    )
    assert tree_bytes(shop) == before
    assert git(shop, "status", "--porcelain") == ""
