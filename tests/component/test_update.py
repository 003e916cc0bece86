"""`copier update` across two real template versions never loses a line the user wrote.

Each scenario snapshots the working tree's template as tag v1, scaffolds a project
from it with the copier CLI, commits, makes the user's edits and commits them, then
changes the template snapshot, tags it v2 and runs `copier update` the way a user or
an agent does. The rendered components go through the template's ruff layout on
every side of the update, so the edits below are checked against formatted code.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import shutil
import subprocess
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from registry import read_answers
from tests.component.gates import gate_env, run_gates
from tests.helpers import (
    REPO,
    TEMPLATE_PARTS,
    commit_all,
    copier_copy,
    copier_update,
    git,
    init_repo,
    run,
    snapshot_template,
    tag_template,
    template_parts_at,
    tree_bytes,
)

pytestmark = pytest.mark.slow

FIELDS = "customer:str, total:int"
ORDERS = "components/orders"
ORDERS_ANSWERS = f"{ORDERS}/.copier-answers.yml"
COMPONENT_TEMPLATE = "template/component/components/{{ component_name }}"
STORY = "plans/features/wish/in-progress/WISH-001/_implementation"
STORY_TEMPLATE = "template/story/{{ feature_dir }}/in-progress/{{ story_id }}/_implementation"
STORY_FILES = [
    "BACKEND-LOG.md",
    "DECISIONS-AUTO.yaml",
    "IMPLEMENTATION-PLAN.md",
    "SCOPE.md",
    "ARCHITECTURAL-DECISIONS.yaml",
]
MARKERS = ("<<<<<<< before updating", "=======", ">>>>>>> after updating")

# A module-level function a user adds to the generated use cases.
USER_FUNCTION = '''

def order_summary(order: Order) -> str:
    """The user's own helper: one line about an order."""
    return f"{order.customer}: {order.total}"
'''


# -- helpers ------------------------------------------------------------------------


def new_project(tmp_path: Path, *components: tuple[str, str]) -> tuple[Path, Path]:
    """A template snapshot tagged v1 and a git project with ``components`` at v1."""
    template = snapshot_template(tmp_path / "hexforge", tag="v1")
    project = init_repo(tmp_path / "shop")
    for name, fields in components or (("orders", FIELDS),):
        data = {"kind": "component", "component_name": name, "fields": fields}
        copier_copy(template, project, data, vcs_ref="v1")
    commit_all(project, "scaffold at v1")
    return template, project


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"expected {old!r} once in {path}"
    path.write_text(text.replace(old, new))


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def component_template(template: Path, relative: str) -> Path:
    return template / COMPONENT_TEMPLATE / f"{relative}.jinja"


def answers_commit(project: Path, answers_file: str) -> str:
    for line in (project / answers_file).read_text().splitlines():
        if line.startswith("_commit:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no _commit in {answers_file}")


def conflicted(project: Path) -> list[str]:
    """Files git reports as unmerged, as Copier leaves them after a conflict."""
    return git(project, "diff", "--name-only", "--diff-filter=U").split()


def files_with_markers(project: Path) -> list[str]:
    """Files holding a line that is one of Copier's conflict markers."""
    markers = {MARKERS[0].encode(), MARKERS[2].encode()}
    return sorted(
        relative
        for relative, data in tree_bytes(project).items()
        if any(line.rstrip() in markers for line in data.splitlines())
    )


def component_files(project: Path, name: str = "orders") -> dict[str, bytes]:
    return tree_bytes(project / "components" / name)


# -- (a) an untouched user edit is kept and the new version's change lands ---------------


def test_a_user_edit_in_lines_v2_left_alone_is_kept_and_v2_lands(tmp_path: Path) -> None:
    template, project = new_project(tmp_path)
    orders = project / ORDERS
    replace_once(orders / "domain/rules.py", "DEFAULT_PAGE_SIZE = 20", "DEFAULT_PAGE_SIZE = 25")
    append(orders / "domain/service.py", USER_FUNCTION)
    replace_once(orders / "README.md", "# orders\n", "# orders: the shop's orders\n")
    commit_all(project, "user edits")

    append(
        component_template(template, "domain/rules.py"),
        '\n\ndef describe_paging() -> str:\n    """v2: the paging rules in words."""\n'
        '    return f"pages of 1 to {MAX_PAGE_SIZE} items"\n',
    )
    append(component_template(template, "README.md"), "\n## Added in v2\n\nA new section.\n")
    tag_template(template, "v2")

    copier_update(project, ORDERS_ANSWERS)

    rules = (orders / "domain/rules.py").read_text()
    assert "DEFAULT_PAGE_SIZE = 25" in rules  # the user's line
    assert "def describe_paging() -> str:" in rules  # v2's addition, same file
    assert (orders / "domain/service.py").read_text().endswith(USER_FUNCTION)
    readme = (orders / "README.md").read_text()
    assert readme.startswith("# orders: the shop's orders\n")
    assert readme.endswith("## Added in v2\n\nA new section.\n")
    assert files_with_markers(project) == []
    assert conflicted(project) == []
    assert answers_commit(project, ORDERS_ANSWERS) == "v2"
    # The wiring ran after the update: the registry records the new version.
    assert "template_version: v2" in (project / ".claude/manifest.yaml").read_text()


def test_an_update_started_from_another_folder_merges_as_one_started_in_the_project(
    tmp_path: Path,
) -> None:
    """The update's copies are laid out as if they were the project, wherever the
    command runs: isort puts `components` in its own section there too, so the user's
    import beside it meets no conflict."""
    template, project = new_project(tmp_path, ("customers", FIELDS), ("orders", FIELDS))
    test_module = project / ORDERS / "tests/unit/test_public_api.py"
    replace_once(test_module, "import pytest\n", "import hypothesis\nimport pytest\n")
    commit_all(project, "user edit")
    replace_once(
        component_template(template, "tests/unit/test_public_api.py"),
        "carries no framework.",
        "carries no framework (v2).",
    )
    tag_template(template, "v2")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    copier_update(project, ORDERS_ANSWERS, cwd=elsewhere)

    text = test_module.read_text()
    assert "import hypothesis\nimport pytest\n\nimport components.orders\n" in text
    assert "carries no framework (v2)." in text
    assert files_with_markers(project) == []
    assert conflicted(project) == []


# -- (b) a line both sides changed: both kept, inline --------------------------------------


def test_a_line_both_sides_changed_keeps_both_in_inline_conflict_markers(tmp_path: Path) -> None:
    template, project = new_project(tmp_path)
    rules = project / ORDERS / "domain/rules.py"
    replace_once(rules, "MAX_PAGE_SIZE = 100\n", "MAX_PAGE_SIZE = 500  # the user's limit\n")
    append(rules, "\n\n# The user's note at the end of the file.\n")
    commit_all(project, "user edits")

    replace_once(
        component_template(template, "domain/rules.py"),
        "MAX_PAGE_SIZE = 100\n",
        "MAX_PAGE_SIZE = 200  # v2's limit\n",
    )
    tag_template(template, "v2")

    copier_update(project, ORDERS_ANSWERS)

    text = rules.read_text()
    for marker in MARKERS:
        assert marker in text
    ours = text.index("MAX_PAGE_SIZE = 500  # the user's limit")
    theirs = text.index("MAX_PAGE_SIZE = 200  # v2's limit")
    assert text.index(MARKERS[0]) < ours < text.index(MARKERS[1]) < theirs
    assert theirs < text.index(MARKERS[2])
    assert text.endswith("\n# The user's note at the end of the file.\n")  # nothing else lost
    assert files_with_markers(project) == [f"{ORDERS}/domain/rules.py"]
    assert conflicted(project) == [f"{ORDERS}/domain/rules.py"]


# -- (c) a deleted file stays deleted --------------------------------------------------


def test_a_file_the_user_deleted_stays_deleted_even_when_v2_changed_it(tmp_path: Path) -> None:
    template, project = new_project(tmp_path)
    (project / ORDERS / "tests/unit/test_rules.py").unlink()
    commit_all(project, "the user drops the rules tests")

    append(
        component_template(template, "tests/unit/test_rules.py"),
        "\n\ndef test_added_in_v2() -> None:\n    assert True\n",
    )
    append(component_template(template, "README.md"), "\n## Added in v2\n")
    tag_template(template, "v2")

    copier_update(project, ORDERS_ANSWERS)

    assert not (project / ORDERS / "tests/unit/test_rules.py").exists()
    assert (project / ORDERS / "README.md").read_text().endswith("\n## Added in v2\n")
    assert "test_rules.py" not in git(project, "status", "--porcelain")


# -- (d) a migration moves an edited file before the merge ---------------------------------


def declare_move(template: Path, version: str, old: str, new: str) -> None:
    """Add a move to the snapshot's migrations table, as a release would."""
    replace_once(
        template / "extensions/moves.py",
        "MOVES: tuple[Move, ...] = (\n",
        f"MOVES: tuple[Move, ...] = (\n    Move({version!r}, 'component', {old!r}, {new!r}),\n",
    )


def rename_test_module(template: Path) -> None:
    """v2 renames tests/unit/test_service.py to test_use_cases.py and changes it."""
    old = component_template(template, "tests/unit/test_service.py")
    new = component_template(template, "tests/unit/test_use_cases.py")
    old.rename(new)
    append(new, "\n\nasync def test_added_in_v2() -> None:\n    assert True\n")
    declare_move(template, "2", "tests/unit/test_service.py", "tests/unit/test_use_cases.py")


USER_TEST = """

async def test_the_users_own_case(service: OrderService, draft: OrderDraft) -> None:
    created = await service.create_order(draft)

    assert await service.get_order(created.id) == created
"""


def edit_service_tests(project: Path) -> None:
    """User edits in the test module v2 renames: a changed line and an added test."""
    tests = project / ORDERS / "tests/unit/test_service.py"
    replace_once(tests, "\nUNKNOWN_ID = OrderId(", "\nUNKNOWN_ID: OrderId = OrderId(")
    first_test = "\n\nasync def test_create_then_get_returns_the_same_order("
    replace_once(tests, "\n" + first_test, "\n" + USER_TEST + first_test)


def test_a_migration_moves_the_edited_file_so_the_edits_survive_at_the_new_path(
    tmp_path: Path,
) -> None:
    template, project = new_project(tmp_path)
    edit_service_tests(project)
    commit_all(project, "user edits")
    rename_test_module(template)
    tag_template(template, "v2")

    result = copier_update(project, ORDERS_ANSWERS)

    unit = project / ORDERS / "tests/unit"
    assert not (unit / "test_service.py").exists()
    moved = (unit / "test_use_cases.py").read_text()
    assert "\nUNKNOWN_ID: OrderId = OrderId(" in moved  # the user's changed line
    assert USER_TEST in moved  # the user's own test
    assert moved.endswith("async def test_added_in_v2() -> None:\n    assert True\n")  # v2's
    assert files_with_markers(project) == []
    assert conflicted(project) == []
    assert f"moved {ORDERS}/tests/unit/test_service.py to" in result.stdout
    assert "warning" not in result.stdout  # Copier's old copy was found and migrated too
    # Git sees a rename with edits, so the file's history follows it.
    rename = f"{ORDERS}/tests/unit/test_service.py -> {ORDERS}/tests/unit/test_use_cases.py"
    assert re.search(rf"^R. {re.escape(rename)}$", git(project, "status", "--porcelain"), re.M)


# -- (e) a field added through update ------------------------------------------------


SEED_V1 = """
import asyncio
import os
from uuid import UUID

from psycopg_pool import AsyncConnectionPool

from components.orders.adapters.outbound.postgres_repo import PostgresOrderRepository
from components.orders.domain.model import Order, OrderDraft, OrderId

ROW = OrderId(UUID("00000000-0000-4000-8000-000000000001"))


async def main() -> None:
    async with AsyncConnectionPool(os.environ["TEST_DATABASE_URL"], min_size=1) as pool:
        draft = OrderDraft(customer="made by v1", total=42)
        await PostgresOrderRepository(pool).add(Order.create(ROW, draft))


asyncio.run(main())
"""

CHECK_V2 = """
import asyncio
import json
import os
from uuid import UUID

from psycopg_pool import AsyncConnectionPool

from components.orders.adapters.outbound.postgres_repo import PostgresOrderRepository
from components.orders.domain.model import Order, OrderDraft, OrderId
from components.orders.domain.query import OrderQuery

ROW = OrderId(UUID("00000000-0000-4000-8000-000000000001"))
NEW = OrderId(UUID("00000000-0000-4000-8000-000000000002"))
COLUMNS = '''
SELECT column_name, is_nullable FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = 'orders' ORDER BY ordinal_position
'''


async def main() -> None:
    async with AsyncConnectionPool(os.environ["TEST_DATABASE_URL"], min_size=1) as pool:
        async with pool.connection() as connection:
            columns = await (await connection.execute(COLUMNS)).fetchall()
        repository = PostgresOrderRepository(pool)
        old = await repository.get(ROW)
        await repository.add(Order.create(NEW, OrderDraft(customer="v2", total=1, extra=7)))
        new = await repository.get(NEW)
        page = await repository.list(OrderQuery(limit=10, count=True))
    print(json.dumps({
        "columns": columns,
        "old": None if old is None else [old.customer, old.total, old.extra],
        "new": None if new is None else [new.customer, new.total, new.extra],
        "total": page.total,
    }))


asyncio.run(main())
"""


@contextmanager
def postgres_server(project: Path) -> Iterator[str]:
    """A throwaway PostgreSQL cluster, started with the project's own conftest code,
    that outlives the update (the table the v1 code made must still be there)."""
    module = importlib.import_module("hexforge.pytest_plugin")  # components/conftest.py's
    try:
        cluster = module._Cluster.start()
    except module.PostgresUnavailable as error:
        pytest.fail(f"PostgreSQL is required for this scenario: {error}")
    try:
        yield cluster.dsn
    finally:
        cluster.stop()


def run_script(project: Path, venv: Path, source: str, dsn: str) -> str:
    env = {**gate_env(venv, project), "TEST_DATABASE_URL": dsn}
    return run(["python", "-c", textwrap.dedent(source)], project, env=env).stdout


def migrate(
    project: Path, venv: Path, dsn: str, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """The project's tools/migrate.py, as a deploy step runs it."""
    command = ["python", "tools/migrate.py", *args, "--database-url", dsn]
    return run(command, project, env=gate_env(venv, project), check=check)


def test_a_field_added_through_update_reaches_every_layer_and_the_table(
    tmp_path: Path, generated_venv: Path
) -> None:
    _, project = new_project(tmp_path)
    orders = project / ORDERS
    append(orders / "domain/service.py", USER_FUNCTION)
    commit_all(project, "user edits")

    with postgres_server(project) as dsn:
        migrate(project, generated_venv, dsn, "up")
        run_script(project, generated_venv, SEED_V1, dsn)

        copier_update(project, ORDERS_ANSWERS, data={"fields": f"{FIELDS}, extra:int?"})

        answers = read_answers(project / ORDERS_ANSWERS)
        assert answers is not None and answers["fields"] == f"{FIELDS}, extra:int?"
        model = (orders / "domain/model.py").read_text()
        assert model.count("extra: int | None") >= 2  # the draft and the entity
        assert "extra: int | None" in (orders / "adapters/inbound/api_handler.py").read_text()
        postgres = (orders / "adapters/outbound/postgres_repo.py").read_text()
        assert '"extra": entity.extra' in postgres
        added = (orders / "adapters/outbound/migrations/0002_add_extra.sql").read_text()
        assert 'ALTER TABLE "orders" ADD COLUMN "extra" bigint;' in added
        assert "applied orders/0002_add_extra" in migrate(project, generated_venv, dsn, "up").stdout
        assert '"extra": ' in (orders / "tests/samples.py").read_text()
        assert (orders / "domain/service.py").read_text().endswith(USER_FUNCTION)
        assert files_with_markers(project) == []

        report = json.loads(run_script(project, generated_venv, CHECK_V2, dsn))

    assert report["columns"] == [
        ["id", "NO"],
        ["version", "NO"],
        ["customer", "NO"],
        ["total", "NO"],
        ["extra", "YES"],
    ]
    assert report["old"] == ["made by v1", 42, None]  # the v1 row survives, without a value
    assert report["new"] == ["v2", 1, 7]
    assert report["total"] == 2

    outputs = run_gates(project, generated_venv)
    assert "skipped" not in outputs["integration"]
    both = run(
        ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "unit or integration"],
        project,
        env=gate_env(generated_venv, project),
    )
    assert " passed" in both.stdout and "skipped" not in both.stdout


# -- (f) kind=project and kind=story updates ---------------------------------------------


def test_project_and_story_updates_rewire_and_never_rewrite_story_logs(tmp_path: Path) -> None:
    template, project = new_project(tmp_path, ("orders", FIELDS), ("customers", "name:str"))
    copier_copy(template, project, {"kind": "story", "story_id": "WISH-001"}, vcs_ref="v1")
    commit_all(project, "a story")
    append(project / STORY / "BACKEND-LOG.md", "\n## Chunk 1: the agent's work\n\nDone.\n")
    append(project / ".claude/manifest.yaml", "agent_notes: the agent's own key\n")
    append(project / "app/main.py", "\n# The user's note.\n")
    append(project / ".importlinter", "\n# The user's note in the contracts.\n")
    commit_all(project, "user and agent edits")
    story_before = {name: (project / STORY / name).read_bytes() for name in STORY_FILES}
    main_before = (project / "app/main.py").read_bytes()
    manifest_before = (project / ".claude/manifest.yaml").read_bytes()

    append(template / "template/project/.claude/HEXFORGE.md.jinja", "\nAdded in v2.\n")
    for name in ("BACKEND-LOG.md", "DECISIONS-AUTO.yaml", "SCOPE.md"):
        append(template / STORY_TEMPLATE / f"{name}.jinja", "\n# changed in v2\n")
    tag_template(template, "v2")

    copier_update(project, ".copier-answers.yml")

    assert (project / ".claude/HEXFORGE.md").read_text().endswith("\nAdded in v2.\n")
    assert (
        (project / ".importlinter").read_text().endswith("\n# The user's note in the contracts.\n")
    )
    # The wiring re-ran and found nothing to change: both components, the user's line,
    # the registry and the agent's key are all still there, byte for byte.
    assert (project / "app/main.py").read_bytes() == main_before
    assert (project / ".claude/manifest.yaml").read_bytes() == manifest_before
    registry = (project / "app/components.py").read_text()
    assert (
        "import components.customers.adapters.compose as customers_compose\n"
        "import components.orders.adapters.compose as orders_compose\n"
    ) in registry
    assert (
        "        customers_compose.router(customers_service),\n"
        "        orders_compose.router(orders_service),\n"
    ) in registry
    manifest = manifest_before.decode()
    assert "  customers:\n" in manifest and "  orders:\n" in manifest
    assert answers_commit(project, ".copier-answers.yml") == "v2"
    assert {n: (project / STORY / n).read_bytes() for n in STORY_FILES} == story_before
    assert files_with_markers(project) == []
    commit_all(project, "project wiring at v2")

    before_story_update = tree_bytes(project)
    copier_update(project, f"{STORY}/.copier-answers.yml")

    after = tree_bytes(project)
    changed = sorted(
        name
        for name in after.keys() | before_story_update.keys()
        if after.get(name) != before_story_update.get(name)
    )
    assert changed == [f"{STORY}/.copier-answers.yml"]  # the logs were not rewritten
    assert answers_commit(project, f"{STORY}/.copier-answers.yml") == "v2"
    assert not (project / STORY / "BLOCKERS.md").exists()


# -- (g) after a component update the whole project passes its gates -------------------


def test_after_a_component_update_the_whole_project_passes_its_gates(
    tmp_path: Path, generated_venv: Path
) -> None:
    template, project = new_project(tmp_path, ("orders", FIELDS), ("customers", "name:str"))
    orders = project / ORDERS
    edit_service_tests(project)
    append(orders / "domain/service.py", USER_FUNCTION)
    replace_once(orders / "domain/rules.py", "DEFAULT_PAGE_SIZE = 20", "DEFAULT_PAGE_SIZE = 25")
    (orders / "tests/regression/test_user_regression.py").write_text(
        "import pytest\n\npytestmark = pytest.mark.regression\n\n\n"
        "def test_kept() -> None:\n    assert True\n"
    )
    commit_all(project, "user edits")
    customers_before = component_files(project, "customers")

    rename_test_module(template)
    append(
        component_template(template, "domain/rules.py"),
        '\n\ndef describe_paging() -> str:\n    """v2: the paging rules in words."""\n'
        '    return f"pages of 1 to {MAX_PAGE_SIZE} items"\n',
    )
    tag_template(template, "v2")

    copier_update(project, ORDERS_ANSWERS)

    assert files_with_markers(project) == []
    assert component_files(project, "customers") == customers_before
    assert (orders / "tests/regression/test_user_regression.py").exists()
    outputs = run_gates(project, generated_venv)
    assert "skipped" not in outputs["integration"]
    assert (
        "test_the_users_own_case"
        in run(
            [
                "python",
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "--collect-only",
                "-m",
                "unit",
            ],
            project,
            env=gate_env(generated_venv, project),
        ).stdout
    )


# -- the formatting task touches only what the template renders --------------------------


def test_a_users_own_module_in_the_component_is_left_byte_for_byte(tmp_path: Path) -> None:
    template, project = new_project(tmp_path)
    own = project / ORDERS / "domain/pricing.py"
    own.write_text("import os,sys\nx=1\n")
    commit_all(project, "the user's own module, laid out the user's way")
    tag_template(template, "v2")

    copier_update(project, ORDERS_ANSWERS)

    assert own.read_text() == "import os,sys\nx=1\n"


def test_a_module_ruff_cannot_parse_does_not_stop_the_update_half_way(tmp_path: Path) -> None:
    template, project = new_project(tmp_path)
    orders = project / ORDERS
    (orders / "domain/draft.py").write_text("def unfinished(:\n")
    replace_once(orders / "domain/rules.py", "DEFAULT_PAGE_SIZE = 20", "DEFAULT_PAGE_SIZE = 25")
    commit_all(project, "work in progress")
    tag_template(template, "v2")

    copier_update(project, ORDERS_ANSWERS)

    assert "DEFAULT_PAGE_SIZE = 25" in (orders / "domain/rules.py").read_text()
    assert (orders / "domain/draft.py").read_text() == "def unfinished(:\n"


# -- onto the composition root: a project from before adapters/compose.py ---------------

# The last release whose components built their own router in their public API
# (`build_router` in components/<name>/__init__.py, app/main.py looping over them).
BUILD_ROUTER_RELEASE = "ca77fa11ad84d877c346f51bb6142cf03d5ad238"
USER_API_LINE = "# Reviewed by the orders team: all that other code may use of orders.\n"


def template_at(dest: Path, commit: str, tag: str) -> Path:
    """The template as it was at ``commit`` of this repository, in its own repo, tagged."""
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", commit, *template_parts_at(REPO, commit)],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    init_repo(dest)
    tag_template(dest, tag, "the build_router release")
    return dest


def test_a_build_router_project_updates_onto_the_composition_root_keeping_its_edits(
    tmp_path: Path, generated_venv: Path
) -> None:
    template = template_at(tmp_path / "hexforge", BUILD_ROUTER_RELEASE, "v1")
    project = init_repo(tmp_path / "shop")
    for name, fields in (("orders", FIELDS), ("customers", "name:str")):
        data = {"kind": "component", "component_name": name, "fields": fields}
        copier_copy(template, project, data, vcs_ref="v1")
    commit_all(project, "scaffold at v1")
    assert "def build_router(" in (project / ORDERS / "__init__.py").read_text()
    replace_once(project / ORDERS / "__init__.py", "\n__all__ = [", f"\n{USER_API_LINE}__all__ = [")
    main = project / "app" / "main.py"
    replace_once(main, "import os\n", "import logging\nimport os\n")
    append(main, 'logging.getLogger(__name__).info("routes mounted")\n')
    commit_all(project, "user edits")
    # v2: this working tree.
    for part in TEMPLATE_PARTS:
        if (template / part).is_dir():
            shutil.rmtree(template / part)
        else:
            (template / part).unlink(missing_ok=True)
    snapshot = snapshot_template(tmp_path / "current", tag=None)
    for part in TEMPLATE_PARTS:
        source = snapshot / part
        if source.is_dir():
            shutil.copytree(source, template / part, symlinks=True)
        else:
            shutil.copy2(source, template / part)
    tag_template(template, "v2")

    # The wiring first, as docs/updates.md says for a project from before the package
    # (its copied tools know nothing of what the new components import); then one
    # component, the other still at v1: app/main.py mounts each its own way.
    copier_update(project, ".copier-answers.yml")
    commit_all(project, "wiring at v2")
    copier_update(project, ORDERS_ANSWERS)
    commit_all(project, "orders at v2")

    api = (project / ORDERS / "__init__.py").read_text()
    assert USER_API_LINE in api and "build_router" not in api and "fastapi" not in api
    assert files_with_markers(project) == []
    text = main.read_text()
    assert "import logging\nimport os\n" in text
    assert text.endswith('app = create_app()\nlogging.getLogger(__name__).info("routes mounted")\n')
    assert "class Component(Protocol)" not in text
    assert "from app.components import component_routers\n" in text
    registry = (project / "app" / "components.py").read_text()
    assert "import components.customers\n" in registry
    assert "components.customers.build_router(pool)" in registry
    assert "orders_service = orders_compose.build(pool)" in registry
    run_gates(project, generated_venv)

    copier_update(project, "components/customers/.copier-answers.yml")
    commit_all(project, "customers at v2")

    registry = (project / "app" / "components.py").read_text()
    assert "build_router" not in registry
    assert "customers_service = customers_compose.build(pool)" in registry
    outputs = run_gates(project, generated_venv)
    assert "skipped" not in outputs["integration"]
