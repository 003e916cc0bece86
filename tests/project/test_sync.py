"""tools/sync.py, the whole-project update, driven through real `copier update` runs.

One template snapshot per module (and xdist worker) gets two tags: v1, and v2 which
changes the component README's title line, the use-case module's docstring and the
agent note of the wiring. A project with three components (billing, orders,
shipping) is scaffolded at v1 and committed with a few user edits; every test works
on its own copy of that project, so nothing a test does is seen by another.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from hexforge.core import UPDATE_MARKER
from tests.helpers import (
    COPIER,
    REPO,
    commit_all,
    copier_copy,
    copier_update,
    git,
    init_repo,
    run,
    snapshot_template,
    tag_template,
    tree_bytes,
)
from tests.project.tooling import load_tool

TOOLS = REPO / "template" / "project" / "tools"
SYNC = TOOLS / "sync.py"
COMPONENTS = ["billing", "orders", "shipping"]  # the order sync takes them in
WIRING = "project wiring"

COMPONENT_TEMPLATE = Path("template/component/components/{{ component_name }}")
V1_TITLE = "# {{ n.component }}\n"
V2_TITLE = "# {{ n.component }} (template v2)\n"
V1_DOC = '"""The {{ n.component }} use cases, written against the repository port only.'
V2_DOC = '"""The {{ n.component }} use cases (v2), written against the repository port only.'
V2_NOTE = "\nTemplate v2: keep components current with `python tools/sync.py`.\n"

USER_NOTE = "# Our notes\n\nNothing hexforge should ever touch.\n"
USER_RULE = "\n\n# Team rule: totals are never negative (kept across template updates).\n"


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} not found exactly once in {path}"
    path.write_text(text.replace(old, new))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed project with three components at template v1; v2 is tagged."""
    root = tmp_path_factory.mktemp("sync-base")
    template = snapshot_template(root / "template", tag="v1")
    component = template / COMPONENT_TEMPLATE
    replace_once(component / "README.md.jinja", V1_TITLE, V2_TITLE)
    replace_once(component / "domain" / "service.py.jinja", V1_DOC, V2_DOC)
    note = template / "template" / "project" / ".claude" / "HEXFORGE.md.jinja"
    note.write_text(note.read_text() + V2_NOTE)
    tag_template(template, "v2", "template v2")

    project = init_repo(root / "shop")
    for name in COMPONENTS:
        copier_copy(template, project, {"kind": "component", "component_name": name}, vcs_ref="v1")
    commit_all(project, "three components at v1")
    (project / "docs").mkdir()
    (project / "docs" / "notes.md").write_text(USER_NOTE)
    rules = project / "components" / "orders" / "domain" / "rules.py"
    rules.write_text(rules.read_text() + USER_RULE)
    commit_all(project, "our own work")
    return project


@pytest.fixture
def project(base: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(base, tmp_path / "shop", symlinks=True))


def sync(project: Path, *args: str, check_rc: int | None = None) -> tuple[int, str, str]:
    """Run the project's own tools/sync.py the way users do: from the project root."""
    result = run([sys.executable, "tools/sync.py", *args], project, check=False)
    if check_rc is not None:
        assert result.returncode == check_rc, result.stdout + result.stderr
    return result.returncode, result.stdout, result.stderr


def commit_of(project: Path, answers: str) -> str:
    for line in (project / answers).read_text().splitlines():
        if line.startswith("_commit:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no _commit in {answers}")


def component_version(project: Path, name: str) -> str:
    return commit_of(project, f"components/{name}/.copier-answers.yml")


def subjects(project: Path, count: int) -> list[str]:
    """The last `count` commit subjects, oldest first."""
    return git(project, "log", f"-{count}", "--format=%s").splitlines()[::-1]


def files_in(project: Path, rev: str) -> set[str]:
    return set(git(project, "show", "--name-only", "--format=", rev).split())


def head(project: Path) -> str:
    return git(project, "rev-parse", "HEAD").strip()


def status(project: Path) -> str:
    return git(project, "status", "--porcelain")


@pytest.mark.slow
def test_sync_updates_the_wiring_then_each_component_committing_each(project: Path) -> None:
    notes_before = (project / "docs" / "notes.md").read_bytes()
    _, out, _ = sync(project, check_rc=0)

    lines = out.splitlines()
    assert lines[:4] == [
        "project wiring: v1 -> v2 updated",
        "billing: v1 -> v2 updated",
        "orders: v1 -> v2 updated",
        "shipping: v1 -> v2 updated",
    ]
    assert (
        "  updated:    project wiring (v1 -> v2), billing (v1 -> v2), orders (v1 -> v2), "
        "shipping (v1 -> v2)" in lines
    )
    assert "  conflicted: none" in lines
    assert "  untouched:  none" in lines

    assert subjects(project, 5) == [
        "our own work",
        "hexforge: update project wiring v1 -> v2",
        "hexforge: update billing v1 -> v2",
        "hexforge: update orders v1 -> v2",
        "hexforge: update shipping v1 -> v2",
    ]
    assert status(project) == ""
    assert commit_of(project, ".copier-answers.yml") == "v2"
    assert [component_version(project, name) for name in COMPONENTS] == ["v2"] * 3

    # Each commit holds its own scaffold and what the wiring re-wrote, nothing of the others.
    wiring = files_in(project, "HEAD~3")
    assert {".copier-answers.yml", ".claude/HEXFORGE.md"} <= wiring
    assert not any(path.startswith("components/") for path in wiring)
    for rev, name in zip(["HEAD~2", "HEAD~1", "HEAD"], COMPONENTS, strict=True):
        files = files_in(project, rev)
        assert {
            f"components/{name}/.copier-answers.yml",
            f"components/{name}/README.md",
            f"components/{name}/domain/service.py",
        } <= files
        others = {path for path in files if path.startswith("components/")}
        assert all(path.startswith(f"components/{name}/") for path in others), files

    # The template's changes landed; the user's work is still there, byte for byte.
    assert V2_NOTE.strip() in (project / ".claude" / "HEXFORGE.md").read_text()
    for name in COMPONENTS:
        readme = (project / "components" / name / "README.md").read_text()
        assert readme.startswith(f"# {name} (template v2)\n")
        service = (project / "components" / name / "domain" / "service.py").read_text()
        assert f'"""The {name} use cases (v2), written' in service
    assert (project / "docs" / "notes.md").read_bytes() == notes_before
    rules = (project / "components" / "orders" / "domain" / "rules.py").read_text()
    assert rules.endswith(USER_RULE)

    # Everything is current now, and --check agrees.
    code, out, _ = sync(project, "--check")
    assert code == 0, out
    for label in [WIRING, *COMPONENTS]:
        assert f"{label}: up to date (v2)" in out
    assert "  behind:     none" in out.splitlines()


@pytest.mark.slow
def test_check_lists_what_is_behind_and_changes_nothing(project: Path) -> None:
    (project / "scratch.txt").write_text("work in progress\n")  # --check minds no dirt
    before, commit = tree_bytes(project), head(project)

    code, out, _ = sync(project, "--check")
    assert code == 1, out
    lines = out.splitlines()
    assert lines[:4] == [
        "project wiring: v1 -> v2 available",
        "billing: v1 -> v2 available",
        "orders: v1 -> v2 available",
        "shipping: v1 -> v2 available",
    ]
    assert "  up to date: none" in lines
    assert tree_bytes(project) == before and head(project) == commit


@pytest.mark.slow
def test_a_dirty_tree_is_refused_and_nothing_changes(project: Path) -> None:
    readme = project / "components" / "orders" / "README.md"
    readme.write_text(readme.read_text() + "\nhalf-done edit\n")
    (project / "todo.txt").write_text("later\n")
    before, commit = tree_bytes(project), head(project)

    code, out, err = sync(project)
    assert code == 2
    assert out == ""
    assert "not clean" in err
    assert "M components/orders/README.md" in err and "?? todo.txt" in err
    assert len(err.strip().splitlines()) == 1
    assert tree_bytes(project) == before and head(project) == commit


@pytest.mark.slow
def test_a_conflict_stops_there_and_leaves_it_for_the_user(project: Path) -> None:
    # The user retitled orders' README: the very line v2 changes.
    readme = project / "components" / "orders" / "README.md"
    text = readme.read_text()
    assert text.startswith("# orders\n")
    readme.write_text("# orders (our service)\n" + text.split("\n", 1)[1])
    commit_all(project, "our title")
    shipping_before = tree_bytes(project / "components" / "shipping")

    code, out, _ = sync(project)
    assert code == 1, out
    lines = out.splitlines()
    assert lines[:3] == [
        "project wiring: v1 -> v2 updated",
        "billing: v1 -> v2 updated",
        "orders: v1 -> v2 conflicted: resolve components/orders/README.md",
    ]
    assert "shipping:" not in "\n".join(lines[:4])
    assert "  updated:    project wiring (v1 -> v2), billing (v1 -> v2)" in lines
    assert "  conflicted: orders (v1 -> v2): resolve components/orders/README.md" in lines
    assert "  untouched:  shipping" in lines
    assert any(line.startswith("next: resolve") for line in lines)

    # Done ones are committed, the conflicted one is left in the tree, uncommitted.
    assert subjects(project, 3) == [
        "our title",
        "hexforge: update project wiring v1 -> v2",
        "hexforge: update billing v1 -> v2",
    ]
    conflicted = readme.read_text()
    assert "<<<<<<< before updating\n# orders (our service)\n=======\n" in conflicted
    assert "# orders (template v2)\n>>>>>>> after updating\n" in conflicted
    assert "UU components/orders/README.md" in status(project).splitlines()
    assert component_version(project, "orders") == "v2"  # in the tree, not committed
    assert "_commit: v1\n" in git(project, "show", "HEAD:components/orders/.copier-answers.yml")

    # The third component was never started.
    assert component_version(project, "shipping") == "v1"
    assert tree_bytes(project / "components" / "shipping") == shipping_before

    # A second run refuses until the user resolves; then it carries on with the rest.
    code, _, err = sync(project)
    assert code == 2 and "components/orders/README.md" in err
    readme.write_text("# orders (our service, template v2)\n" + text.split("\n", 1)[1])
    commit_all(project, "resolved")
    _, out, _ = sync(project, "orders", "shipping", check_rc=0)
    assert out.splitlines()[:3] == [
        "project wiring: up to date (v2)",
        "orders: up to date (v2)",
        "shipping: v1 -> v2 updated",
    ]
    assert subjects(project, 2) == ["resolved", "hexforge: update shipping v1 -> v2"]
    assert status(project) == ""


@pytest.mark.slow
def test_naming_a_component_updates_only_it_after_the_wiring(project: Path) -> None:
    billing_before = tree_bytes(project / "components" / "billing")

    _, out, _ = sync(project, "orders", "--to", "v2", check_rc=0)
    assert out.splitlines()[:2] == [
        "project wiring: v1 -> v2 updated",
        "orders: v1 -> v2 updated",
    ]
    assert "billing" not in out and "shipping" not in out
    assert subjects(project, 2) == [
        "hexforge: update project wiring v1 -> v2",
        "hexforge: update orders v1 -> v2",
    ]
    assert [component_version(project, name) for name in COMPONENTS] == ["v1", "v2", "v1"]
    assert tree_bytes(project / "components" / "billing") == billing_before
    assert status(project) == ""

    code, out, _ = sync(project, "--check", "orders")
    assert code == 0, out
    assert out.splitlines()[:2] == ["project wiring: up to date (v2)", "orders: up to date (v2)"]


# -- without Copier runs ---------------------------------------------------------------


def load_sync() -> ModuleType:
    return load_tool("sync.py", "hexforge_project_sync")


def fake_project(root: Path, *, repo: bool = True) -> Path:
    """Answers files only: enough for everything sync decides before running Copier."""
    if repo:
        init_repo(root)
    else:
        root.mkdir(parents=True)
    (root / "tools").mkdir()
    shutil.copy2(SYNC, root / "tools" / "sync.py")
    answers = "_commit: v1\n_src_path: /nowhere/hexforge\n"
    (root / ".copier-answers.yml").write_text(answers + "kind: project\n")
    for name, kind in [("orders", "component"), ("billing", "component"), ("odd", "story")]:
        (root / "components" / name).mkdir(parents=True)
        (root / "components" / name / ".copier-answers.yml").write_text(
            f"{answers}component_name: {name}\nkind: {kind}\n"
        )
    story = root / "plans" / "features" / "wish" / "in-progress" / "WISH-1" / "_implementation"
    story.mkdir(parents=True)
    (story / ".copier-answers.yml").write_text(answers + "kind: story\nstory_id: WISH-1\n")
    if repo:
        commit_all(root, "answers")
    return root


def test_an_unknown_component_is_refused_with_the_list(tmp_path: Path) -> None:
    project = fake_project(tmp_path / "shop")
    code, out, err = sync(project, "orders", "odd", "nope")
    assert code == 2 and out == ""
    assert err.strip() == "sync: unknown component odd, nope; this project has: billing, orders"


def test_outside_a_git_repository_it_says_so(tmp_path: Path) -> None:
    project = fake_project(tmp_path / "shop", repo=False)
    result = run(
        [sys.executable, "tools/sync.py", "--check"],
        project,
        check=False,
        env={"GIT_CEILING_DIRECTORIES": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "is not in a git repository" in result.stderr


def test_without_copier_it_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    module = load_sync()
    monkeypatch.setattr(module.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(module.shutil, "which", lambda name: None)
    with pytest.raises(module.SyncError, match=r"Copier is not installed.*pipx install copier"):
        module.copier_command()
    monkeypatch.setattr(module.shutil, "which", lambda name: "/opt/bin/copier")
    assert module.copier_command() == ["/opt/bin/copier"]


def test_targets_skip_story_logs_and_read_quoted_answers(tmp_path: Path) -> None:
    module = load_sync()
    project = fake_project(tmp_path / "shop")
    (project / "components" / "orders" / ".copier-answers.yml").write_text(
        "# Managed by Copier\n_commit: 'v1.2'\n_src_path: \"/srv/hex forge\"\n"
        "fields: 'customer:str, note:str?'\nkind: component\n"
    )
    wiring, components = module.find_targets(project)
    assert wiring.answers == ".copier-answers.yml"
    assert sorted(components) == ["billing", "orders"]
    answers = module.read_answers(project / "components" / "orders" / ".copier-answers.yml")
    assert answers["_commit"] == "v1.2"
    assert answers["_src_path"] == "/srv/hex forge"
    assert answers["fields"] == "customer:str, note:str?"


def test_a_detached_head_is_refused_in_one_line(tmp_path: Path) -> None:
    project = fake_project(tmp_path / "shop")
    git(project, "checkout", "-q", "--detach")
    before = head(project)
    code, out, err = sync(project)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("sync: HEAD is detached (at ")
    assert "git switch" in err
    assert head(project) == before and status(project) == ""
    # --check changes nothing, so it still answers on a detached HEAD.
    assert "detached" not in sync(project, "--check")[2]


@pytest.mark.parametrize(
    "args",
    [["--to"], ["--check", "--to", "v2"], ["--nope"], ["--root"], ["-v=1"]],
    ids=["to-without-ref", "check-and-to", "unknown-flag", "root-without-path", "flag-value"],
)
def test_bad_arguments_exit_2_in_one_line(tmp_path: Path, args: list[str]) -> None:
    project = fake_project(tmp_path / "shop")
    code, out, err = sync(project, *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("sync: error: ")
    assert "Traceback" not in err


@pytest.mark.slow
def test_an_update_stopped_half_way_is_named_by_sync_and_the_gates(project: Path) -> None:
    # Copier stopped after writing the update, before the step that ends it: what a
    # kill -9 or a closed terminal leaves (--skip-tasks stops it there every time).
    answers = "components/orders/.copier-answers.yml"
    run(
        [
            COPIER,
            "update",
            "--trust",
            "--defaults",
            "--quiet",
            "--skip-tasks",
            "-a",
            answers,
            str(project),
        ],
        project,
    )
    assert (project / UPDATE_MARKER).exists()

    code, out, err = sync(project)
    assert code == 2 and out == ""
    assert "an update was stopped half-way" in err and "git reset --hard" in err
    assert len(err.strip().splitlines()) == 1
    gates = run([sys.executable, "tools/quality_gates.py"], project, check=False)
    assert gates.returncode == 1
    assert "stopped half-way" in gates.stderr and "evidence" not in gates.stdout

    # The recovery it names works, and an update that runs to its end leaves no marker.
    run(["git", "reset", "--hard", "-q"], project)
    run(["git", "clean", "-fdq"], project)
    copier_update(project, answers)
    assert not (project / UPDATE_MARKER).exists()
