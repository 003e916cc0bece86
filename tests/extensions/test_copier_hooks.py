"""extensions/copier_hooks.py: which template version's modules the after-render step runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

# Loads copier_hooks.py from two extension folders, as copier-template-extensions
# loads it for each template version of an update (argv: this version's folder, the
# other's, the project, and the order), then runs the step in the project and says
# where its modules came from.
SCRIPT = """\
import importlib.util, shutil, sys
from pathlib import Path

def load(folder, name):
    spec = importlib.util.spec_from_file_location(name, Path(folder) / "copier_hooks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module

this, other, project, order = sys.argv[1:]
if order == "other-last":
    new = load(this, "hooks_new")
    load(other, "hooks_old")
else:  # other-first, and removed as an update removes an earlier render's clone
    load(other, "hooks_old")
    fields = sys.modules["fields"]
    new = load(this, "hooks_new")
    if order == "other-first-then-removed":
        shutil.rmtree(Path(other).parent)
    print("fields kept" if sys.modules["fields"] is fields else "fields imported again")
new.after_render("project", "", "copy", this, "", "shop", project, False)
print(Path(sys.modules["after_render"].__file__).parent)
print(Path(sys.modules["wiring"].__file__).parent)
"""


def run_step(
    this: Path, other: Path, project: Path, order: str, pyc_cache: Path | None = None
) -> list[str]:
    """The step's output; with ``pyc_cache``, the modules load through bytecode.py's
    finders (one per clone), as in Copier's process, else through sys.path."""
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    cache = {"XDG_CACHE_HOME": str(pyc_cache)} if pyc_cache else {"HEXFORGE_PYC_CACHE": "off"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(this), str(other), str(project), order],
        capture_output=True,
        text=True,
        env={**os.environ, **cache},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (project / ".claude" / "manifest.yaml").is_file()  # the step ran
    lines = done.stdout.splitlines()
    return [line for line in lines if line.startswith("fields ")] + lines[-2:]


def copy_of_this_version(folder: Path) -> Path:
    for part in ("extensions", "src"):
        shutil.copytree(REPO / part, folder / part, ignore=shutil.ignore_patterns("__pycache__"))
    return folder / "extensions"


def test_the_step_imports_its_own_versions_modules_when_another_loaded_since(
    tmp_path: Path,
) -> None:
    """Loading the other version puts its folder first on sys.path: the step must
    still run this version's code."""
    other = copy_of_this_version(tmp_path / "other")
    step = other / "after_render.py"
    step.write_text(step.read_text(encoding="utf-8") + "\n# another version\n", "utf-8")

    found = run_step(REPO / "extensions", other, tmp_path / "shop", "other-last")

    assert found == [str(REPO / "extensions")] * 2


def test_the_step_runs_after_an_identical_other_version_was_loaded_and_removed(
    tmp_path: Path,
) -> None:
    """An update loads the old version first, from a clone it removes before the real
    render: modules kept because their source is this version's byte for byte must
    not send the step to read files in that clone."""
    other = copy_of_this_version(tmp_path / "other")

    found = run_step(REPO / "extensions", other, tmp_path / "shop", "other-first-then-removed")

    assert found == ["fields imported again", *[str(REPO / "extensions")] * 2]
    assert not other.exists()


def checkouts(tmp_path: Path, *, same_commit: bool = True) -> tuple[Path, Path]:
    """Two clones of the template, checked out detached as Copier's are: of one commit,
    or of two whose extensions are the same byte for byte (the second changes only a
    template file, as a release may)."""
    source = tmp_path / "template"
    copy_of_this_version(source)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C"]
    subprocess.run([*git, str(source), "init", "-q"], check=True)
    subprocess.run([*git, str(source), "add", "-A"], check=True)
    subprocess.run([*git, str(source), "commit", "-qm", "v1"], check=True)
    clones = []
    for name in ("first", "second"):
        if name == "second" and not same_commit:
            (source / "template").mkdir()
            (source / "template" / "README.md.jinja").write_text("v2\n")
            subprocess.run([*git, str(source), "add", "-A"], check=True)
            subprocess.run([*git, str(source), "commit", "-qm", "v2"], check=True)
        subprocess.run(
            ["git", "clone", "-q", "--no-checkout", str(source), str(tmp_path / name)], check=True
        )
        subprocess.run(
            [*git, str(tmp_path / name), "checkout", "-q", "--detach", "HEAD"], check=True
        )
        clones.append(tmp_path / name / "extensions")
    return clones[0], clones[1]


@pytest.mark.parametrize("pyc_cache", [True, False])
def test_renders_from_clones_of_one_commit_share_their_modules(
    tmp_path: Path, pyc_cache: bool
) -> None:
    """An update renders the new version from several clones of one commit: the
    modules the first loaded serve the others while it exists, those imported later
    included, since every file beside them is the same."""
    first, second = checkouts(tmp_path)
    cache = tmp_path / "cache" if pyc_cache else None

    found = run_step(second, first, tmp_path / "shop", "other-first", cache)

    assert found == ["fields kept", str(first), str(first)]


def test_a_removed_clone_of_the_same_commit_serves_no_module(tmp_path: Path) -> None:
    """Kept while the first clone existed, its modules are dropped once it is gone:
    the step reads files beside them."""
    first, second = checkouts(tmp_path)

    found = run_step(second, first, tmp_path / "shop", "other-first-then-removed")

    assert found == ["fields kept", str(second), str(second)]


def test_a_clone_of_another_commit_serves_no_module(tmp_path: Path) -> None:
    """The same extension sources in a clone of another commit: the files beside them
    (the template, the package's source) may differ, so nothing is kept."""
    first, second = checkouts(tmp_path, same_commit=False)

    found = run_step(second, first, tmp_path / "shop", "other-first")

    assert found == ["fields imported again", str(second), str(second)]
