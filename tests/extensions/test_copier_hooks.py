"""extensions/copier_hooks.py: which template version's modules the after-render step runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

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
else:  # other-first-then-removed, as an update removes its old version's clone
    load(other, "hooks_old")
    new = load(this, "hooks_new")
    shutil.rmtree(Path(other).parent)
new.after_render("project", "", "copy", this, "", "shop", project, False)
print(Path(sys.modules["after_render"].__file__).parent)
print(Path(sys.modules["wiring"].__file__).parent)
"""


def run_step(this: Path, other: Path, project: Path, order: str) -> list[str]:
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(this), str(other), str(project), order],
        capture_output=True,
        text=True,
        env={**os.environ, "HEXFORGE_PYC_CACHE": "off"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (project / ".claude" / "manifest.yaml").is_file()  # the step ran
    return done.stdout.splitlines()[-2:]


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

    assert found == [str(REPO / "extensions")] * 2
    assert not other.exists()
