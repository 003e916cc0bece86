"""Suite-wide fixtures. The extension modules import each other by plain name
(as Copier's loader and the wiring script see them), so their folder goes on
sys.path here too."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

EXTENSIONS = Path(__file__).resolve().parent.parent / "extensions"
if str(EXTENSIONS) not in sys.path:
    sys.path.insert(0, str(EXTENSIONS))

REPO = Path(__file__).resolve().parent.parent
GENERATED_VENV = Path(os.environ.get("HEXFORGE_GENERATED_VENV", REPO / ".cache" / "generated-venv"))


def generated_project_requirements() -> list[str]:
    """What `pip install -e ".[dev]"` installs in a generated project, from one source."""
    config = tomllib.loads((EXTENSIONS / "project_pyproject.toml").read_text())
    project = config["project"]
    # hexforge itself from this checkout (a project pins the template's git URL); its
    # own requirements listed too, so that a new one rebuilds the venv.
    extras = project["optional-dependencies"]
    package = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    return [*project["dependencies"], *extras["dev"], *extras["otel"], *package, "-e", str(REPO)]


@pytest.fixture(scope="session")
def generated_venv() -> Path:
    """One virtualenv with a generated project's dependencies, shared by every test
    (and every xdist worker: the first one builds it under a lock)."""
    GENERATED_VENV.parent.mkdir(parents=True, exist_ok=True)
    requirements = generated_project_requirements()
    stamp = GENERATED_VENV / "requirements.txt"
    with open(GENERATED_VENV.parent / "generated-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists() or stamp.read_text() != "\n".join(requirements):
            subprocess.run(
                [sys.executable, "-m", "venv", "--clear", str(GENERATED_VENV)], check=True
            )
            pip = [str(GENERATED_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
            subprocess.run([*pip, *requirements], check=True)
            stamp.write_text("\n".join(requirements))
    return GENERATED_VENV


@pytest.fixture(scope="session")
def template_v1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot of the working tree's template, tagged v1."""
    from tests.helpers import snapshot_template

    return snapshot_template(tmp_path_factory.mktemp("template") / "hexforge", tag="v1")
