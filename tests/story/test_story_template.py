"""kind=story through the copier CLI: the rendered files, that copy and update never
overwrite a story's files, and that bad answers leave the project untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import (
    commit_all,
    copier_copy,
    copier_update,
    init_repo,
    snapshot_template,
    tag_template,
    tree_bytes,
)
from tests.story.logkit import STORY_TEMPLATE, fill_placeholders, story_log

pytestmark = pytest.mark.slow

STORY = {"kind": "story", "story_id": "WISH-001", "feature_dir": "plans/features/wishlist"}
STORY_DIR = "plans/features/wishlist/in-progress/WISH-001/_implementation"
ANSWERS = f"{STORY_DIR}/.copier-answers.yml"
STORY_FILES = (
    "BACKEND-LOG.md",
    "DECISIONS-AUTO.yaml",
    "IMPLEMENTATION-PLAN.md",
    "SCOPE.md",
    "ARCHITECTURAL-DECISIONS.yaml",
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot_template(tmp_path_factory.mktemp("template") / "hexforge", tag="v1")


def new_story(template: Path, project: Path, **data: str) -> Path:
    init_repo(project)
    copier_copy(template, project, {**STORY, **data})
    commit_all(project, "story scaffolded")
    return project / STORY_DIR


def test_story_renders_exactly_its_files(template: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    story = new_story(template, project)
    # The first story in an unwired project also wires it (tools/story_log.py...).
    rendered = sorted(path for path in tree_bytes(project) if path.startswith(STORY_DIR))
    assert rendered == sorted(
        f"{STORY_DIR}/{name}" for name in (*STORY_FILES, ".copier-answers.yml")
    )
    assert (project / "tools" / "story_log.py").is_file()
    assert not (story / "BLOCKERS.md").exists()
    story_file = (story.parent / "WISH-001.md").read_text(encoding="utf-8")
    assert story_file.startswith("# WISH-001 \u2014 <story title>\n")
    assert "Feature folder `plans/features/wishlist`" in story_file
    assert "## Acceptance criteria" in story_file
    answers = (story / ".copier-answers.yml").read_text()
    assert "feature_dir: plans/features/wishlist\n" in answers
    assert "story_id: WISH-001\n" in answers
    log = (story / "BACKEND-LOG.md").read_text()
    assert log.startswith("# Backend log \u2014 WISH-001\n")
    assert f"python tools/story_log.py chunk {STORY_DIR} " in log
    assert story_log.chunk_skeleton(1) in log
    for name in ("DECISIONS-AUTO.yaml", "ARCHITECTURAL-DECISIONS.yaml"):
        text = (story / name).read_text()
        assert text.endswith("story: WISH-001\ndecisions: []\n"), name


def test_rendered_log_works_with_the_tool(template: Path, tmp_path: Path) -> None:
    """The rendered skeleton passes check while the story is in progress; completed,
    it fails for its placeholders and the plan's; filled, it passes, with Files changed resolved
    against the project (found from the answers file)."""
    project = tmp_path / "project"
    story = new_story(template, project)
    (project / "src").mkdir()
    (project / "src" / "app.py").write_text("", encoding="utf-8")
    assert story_log.main(["check", str(story)]) == 0
    log = story / "BACKEND-LOG.md"
    log.write_text(log.read_text() + "\nBACKEND COMPLETE\n", encoding="utf-8")
    assert story_log.main(["check", str(story)]) == 1
    log.write_text(fill_placeholders(log.read_text()), encoding="utf-8")
    assert story_log.main(["tokens", str(story), "--read", str(log)]) == 0
    # The log is filled; the plan files are still the scaffold's hints.
    assert story_log.main(["check", str(story)]) == 1
    (story / "IMPLEMENTATION-PLAN.md").write_text("# Plan\n\nAdd a wish list.\n")
    (story / "SCOPE.md").write_text("# Scope\n\n- Backend: yes\n")
    assert story_log.main(["check", str(story)]) == 0
    assert story_log.project_root(story, None) == project.resolve()


def test_the_story_file_is_written_only_when_absent(template: Path, tmp_path: Path) -> None:
    """The analyst's {STORY_ID}.md may come first: the scaffold never overwrites it,
    nor does a second copy or an update once someone has filled it in."""
    project = init_repo(tmp_path / "project")
    story_file = project / "plans/features/wishlist/in-progress/WISH-001/WISH-001.md"
    story_file.parent.mkdir(parents=True)
    story_file.write_bytes(b"# WISH-001 \xe2\x80\x94 Wishlist\r\n\r\nAs a shopper...\r\n")
    commit_all(project, "the story, from the analyst")
    before = story_file.read_bytes()
    copier_copy(template, project, STORY)
    assert story_file.read_bytes() == before
    commit_all(project, "scaffolded")
    copier_copy(template, project, STORY)
    copier_update(project, ANSWERS)
    assert story_file.read_bytes() == before


def edit_story(story: Path) -> dict[str, bytes]:
    for name in STORY_FILES:
        path = story / name
        path.write_bytes(path.read_bytes() + f"\nedited by hand: {name}\n".encode())
    return {name: (story / name).read_bytes() for name in STORY_FILES}


def test_second_copy_keeps_every_story_file(template: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    story = new_story(template, project)
    edited = edit_story(story)
    commit_all(project, "story work")
    copier_copy(template, project, STORY)
    assert {name: (story / name).read_bytes() for name in STORY_FILES} == edited
    assert not (story / "BLOCKERS.md").exists()


def story_at_v1(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A template of its own tagged v1 (the test changes it), and a committed story from it."""
    template = snapshot_template(tmp_path / "template", tag="v1")
    project = tmp_path / "project"
    init_repo(project)
    copier_copy(template, project, STORY, vcs_ref="v1")
    commit_all(project, "story scaffolded")
    return template, project, project / STORY_DIR


def test_update_to_a_new_template_version_keeps_story_files(tmp_path: Path) -> None:
    template, project, story = story_at_v1(tmp_path)
    edited = edit_story(story)
    untouched_plan = story / "SCOPE.md"
    untouched_plan.write_bytes(b"# Scope as the leader wrote it\n")
    edited["SCOPE.md"] = untouched_plan.read_bytes()
    commit_all(project, "story work")

    # v2 rewords every story template file
    story_templates = template / STORY_TEMPLATE.relative_to(STORY_TEMPLATE.parents[5])
    for source in story_templates.glob("*.jinja"):
        note = "# changed in v2\n" if ".yaml" in source.name else "\nChanged in v2.\n"
        source.write_text(source.read_text(encoding="utf-8") + note, encoding="utf-8")
    log_template = story_templates / "BACKEND-LOG.md.jinja"
    text = log_template.read_text(encoding="utf-8")
    assert "running record" in text
    log_template.write_text(text.replace("running record", "durable record"), encoding="utf-8")
    tag_template(template, "v2", "reword the story files")

    copier_update(project, ANSWERS, vcs_ref="v2")
    assert {name: (story / name).read_bytes() for name in STORY_FILES} == edited
    assert "_commit: v2" in (story / ".copier-answers.yml").read_text()
    assert not list(project.rglob("*.rej"))
    assert not (story / "BLOCKERS.md").exists()


def test_update_never_rewrites_an_unedited_log(tmp_path: Path) -> None:
    template, project, story = story_at_v1(tmp_path)
    before = {name: (story / name).read_bytes() for name in STORY_FILES}
    log_template = template / STORY_TEMPLATE.relative_to(STORY_TEMPLATE.parents[5])
    log_template = log_template / "BACKEND-LOG.md.jinja"
    log_template.write_text(log_template.read_text() + "\nA line added in v2.\n")
    tag_template(template, "v2")
    copier_update(project, ANSWERS, vcs_ref="v2")
    assert {name: (story / name).read_bytes() for name in STORY_FILES} == before


@pytest.mark.parametrize(
    ("question", "data"),
    [
        ("story_id", {"story_id": "wish-1"}),
        ("story_id", {"story_id": "WISH"}),
        ("story_id", {"story_id": "WISH-"}),
        ("story_id", {"story_id": ""}),
        ("feature_dir", {"feature_dir": "../x"}),
        ("feature_dir", {"feature_dir": "/abs"}),
        ("feature_dir", {"feature_dir": "a/../b"}),
        ("feature_dir", {"feature_dir": ""}),
    ],
)
def test_bad_answers_change_nothing(
    template: Path, tmp_path: Path, question: str, data: dict[str, str]
) -> None:
    project = init_repo(tmp_path / "project")
    (project / "README.md").write_text("existing project\n", encoding="utf-8")
    commit_all(project, "existing")
    before = tree_bytes(project)
    result = copier_copy(template, project, {**STORY, **data}, check=False)
    assert result.returncode != 0
    last = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1]
    assert f"question '{question}'" in last
    assert repr(data[question]) in last
    assert tree_bytes(project) == before
