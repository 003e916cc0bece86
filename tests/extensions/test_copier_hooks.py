"""extensions/copier_hooks.py: which template version's modules the after-render step runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO

# Loads copier_hooks.py from two extension folders, as copier-template-extensions
# loads it for each template version of an update, then imports what the step imports.
SCRIPT = """\
import importlib.util, sys
from pathlib import Path

def load(folder, name):
    spec = importlib.util.spec_from_file_location(name, Path(folder) / "copier_hooks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module

new = load(sys.argv[1], "hooks_new")
load(sys.argv[2], "hooks_old")
new.after_render("project", "", "copy", sys.argv[1], "", "shop", sys.argv[3], False)
print(Path(sys.modules["after_render"].__file__).parent)
print(Path(sys.modules["wiring"].__file__).parent)
"""


def test_the_step_imports_its_own_versions_modules_when_another_loaded_since(
    tmp_path: Path,
) -> None:
    """An update loads the other template version's extensions too, which puts their
    folder first on sys.path: the step must still run this version's code."""
    new = REPO / "extensions"
    old = tmp_path / "old" / "extensions"
    shutil.copytree(new, old, ignore=shutil.ignore_patterns("__pycache__"))
    step = old / "after_render.py"
    step.write_text(step.read_text(encoding="utf-8") + "\n# another version\n", "utf-8")

    project = tmp_path / "shop"
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)

    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(new), str(old), str(project)],
        capture_output=True,
        text=True,
        env={**os.environ, "HEXFORGE_PYC_CACHE": "off"},
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-2:] == [str(new), str(new)]
    assert (project / ".claude" / "manifest.yaml").is_file()  # the step ran
