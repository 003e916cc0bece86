"""`python tools/remove.py NAME` on generated projects (SPEC section 9).

A project with two components, rendered with the copier CLI and committed. Removing
one leaves, staged, a tree byte for byte equal to a project that never had it, whose
gates pass and whose app serves the other; every refusal changes nothing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest

from tests.component.gates import run_gates
from tests.component.test_http_file import wait_for
from tests.component.test_openapi_fuzz import serving
from tests.helpers import commit_all, copier_copy, git, init_repo, run, tree_bytes

pytestmark = pytest.mark.slow

COMPONENTS = {"orders": "customer:str, total:decimal:gt=0", "customers": "email:str:unique"}


def render(root: Path, template: Path, components: dict[str, str]) -> Path:
    init_repo(root)
    for name, fields in components.items():
        copier_copy(template, root, {"kind": "component", "component_name": name, "fields": fields})
    commit_all(root, "two components")
    return root


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, template_v1: Path) -> Path:
    return render(tmp_path_factory.mktemp("remove") / "shop", template_v1, COMPONENTS)


@pytest.fixture
def project(shop: Path, tmp_path: Path) -> Path:
    """A copy of the shop (its git history included) that a test may change."""
    copy = tmp_path / "copy" / "shop"
    shutil.copytree(shop, copy, symlinks=True)
    return copy


def remove(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "tools/remove.py", *args], project, check=False)


def commit_file(relative: str, text: str) -> Callable[[Path], None]:
    def change(project: Path) -> None:
        (project / relative).write_text(text)
        commit_all(project, f"add {relative}")

    return change


def refer_by_fields(project: Path) -> None:
    answers = project / "components" / "customers" / ".copier-answers.yml"
    text = answers.read_text()
    text = text.replace("fields: email:str:unique", "fields: email:str, best:ref[orders]")
    answers.write_text(text)
    commit_all(project, "customers refer to orders")


REFUSALS = {
    "not a component": (None, ["nope"], ["'nope' is not a component", "customers, orders"]),
    "dirty tree": (
        lambda project: (project / "notes.txt").write_text("draft\n"),
        ["orders"],
        ["not clean", "?? notes.txt", "commit or stash"],
    ),
    "imported by another component": (
        commit_file(
            "components/customers/adapters/outbound/order_lookup.py",
            '"""Asks orders."""\n\nfrom components.orders import domain\n',
        ),
        ["orders"],
        ["components.orders is still used by customers", "order_lookup.py:3"],
    ),
    "imported relatively": (
        commit_file(
            "components/customers/adapters/outbound/order_lookup.py",
            "from ....orders.domain import model\n",
        ),
        ["orders"],
        ["still used by customers", "order_lookup.py:1"],
    ),
    "imported by the user's app code": (
        commit_file("app/reports.py", "import components.orders.domain.model as orders\n"),
        ["orders"],
        ["still used by app/reports.py (app/reports.py:1)"],
    ),
    "a ref field": (
        refer_by_fields,
        ["orders"],
        ["still used by customers (its field best:ref[orders])"],
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_refusal_is_one_line_and_changes_nothing(project: Path, case: str) -> None:
    prepare, argv, expected = REFUSALS[case]
    if prepare:
        prepare(project)
    before, status = tree_bytes(project), git(project, "status", "--porcelain")

    result = remove(project, *argv)

    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    for fragment in expected:
        assert fragment in line
    assert tree_bytes(project) == before
    assert git(project, "status", "--porcelain") == status


def test_an_unused_component_is_removed(project: Path) -> None:
    result = remove(project, "customers", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["drop_data"] == "hexforge migrate drop customers --yes"
    assert report["unregistered_from"] == ["app/components.py", ".claude/manifest.yaml"]


def test_removal_is_one_staged_change_equal_to_never_having_had_it(
    project: Path, tmp_path: Path, template_v1: Path, generated_venv: Path
) -> None:
    # What git ignores (the wiring's .gitignore has __pycache__/) stays on disk after
    # `git rm`; the folder must still go.
    assert "__pycache__/" in (project / ".gitignore").read_text().splitlines()
    stale = project / "components" / "orders" / "__pycache__" / "model.cpython-311.pyc"
    stale.parent.mkdir()
    stale.write_bytes(b"stale")
    owned = git(project, "ls-files", "components/orders", "__http__/orders.http").split()

    result = remove(project, "orders")

    assert result.returncode == 0, result.stderr
    assert "git diff --staged" in result.stdout
    assert "hexforge migrate drop orders --yes" in result.stdout
    assert not (project / "components" / "orders").exists()
    # Everything is staged, nothing else is changed: `git diff --staged` is the removal.
    assert git(project, "diff", "--name-only") == ""
    staged = git(project, "diff", "--staged", "--name-status").splitlines()
    assert sorted(staged) == sorted(
        [*(f"D\t{path}" for path in owned), "M\t.claude/manifest.yaml", "M\tapp/components.py"]
    )
    assert "__http__/orders.http" in owned and len(owned) > 20

    fresh = render(tmp_path / "fresh" / "shop", template_v1, {"customers": COMPONENTS["customers"]})
    expected = tree_bytes(fresh)
    actual = tree_bytes(project)
    assert sorted(actual) == sorted(expected)
    assert actual == expected

    commit_all(project, "remove orders")
    run_gates(project, generated_venv)
    with serving(project, generated_venv, None) as base:
        paths = wait_for(base)["paths"]
        assert isinstance(paths, dict)
        assert sorted(paths) == ["/customers", "/customers/{customer_id}", "/healthz", "/readyz"]
        with urllib.request.urlopen(f"{base}/customers", timeout=10) as response:
            assert response.status == 200
        with pytest.raises(urllib.error.HTTPError) as gone:
            urllib.request.urlopen(f"{base}/orders", timeout=10)
        assert gone.value.code == 404


@pytest.mark.parametrize(("answer", "removed"), [("n", False), ("", False), ("y", True)])
def test_at_a_terminal_it_asks_first(project: Path, answer: str, removed: bool) -> None:
    child = pexpect.spawn(
        sys.executable, ["tools/remove.py", "orders"], cwd=str(project), timeout=60
    )
    child.expect(r"Remove components/orders/ \(\d+ files\) and its registrations\? \[y/N\] ")
    child.sendline(answer)
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == (0 if removed else 1)
    assert (project / "components" / "orders").exists() is not removed
    assert (git(project, "status", "--porcelain") == "") is not removed


def test_crlf_registrations_keep_their_line_ends(project: Path) -> None:
    edited = [project / "app" / "main.py", project / ".claude" / "manifest.yaml"]
    for path in edited:
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    commit_all(project, "windows line ends")

    result = remove(project, "orders", "--yes")

    assert result.returncode == 0, result.stderr
    for path in edited:
        data = path.read_bytes()
        assert b"orders" not in data
        assert data.count(b"\n") == data.count(b"\r\n") > 5


def test_the_registry_is_laid_out_with_the_projects_ruff_settings(project: Path) -> None:
    """app/components.py after a removal passes the project's `ruff format --check`,
    whatever its line length (hexforge writes the default one, 100)."""
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("line-length = 100", "line-length = 40"))
    commit_all(project, "a narrow project (40 columns)")
    result = remove(project, "customers", "--yes")
    assert result.returncode == 0, result.stderr
    registry = (project / "app" / "components.py").read_text()
    assert "customers" not in registry
    check = run([sys.executable, "-m", "ruff", "format", "--check", "app/components.py"], project)
    assert check.returncode == 0, check.stdout
