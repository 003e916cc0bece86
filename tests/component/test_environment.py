"""A Copier environment without a package hexforge needs: one line naming it and the
command that installs it, before anything is asked or written.

Runs a real Copier from a virtualenv built without ruamel.yaml and tomlkit (once,
under .cache/, reused by later runs while the requirements stay the same).
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, init_repo, run, tree_bytes

pytestmark = pytest.mark.slow

VENV = REPO / ".cache" / "copier-without-ruamel-tomlkit"
REQUIREMENTS = ["copier>=9.15.2,<10", "copier-template-extensions", "ruff"]


@pytest.fixture(scope="session")
def incomplete_copier() -> Path:
    """The `copier` of a virtualenv that lacks ruamel.yaml and tomlkit."""
    VENV.parent.mkdir(parents=True, exist_ok=True)
    stamp = VENV / "requirements.txt"
    with open(VENV.parent / f"{VENV.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists() or stamp.read_text() != "\n".join(REQUIREMENTS):
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
            pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
            subprocess.run([*pip, *REQUIREMENTS], check=True)
            stamp.write_text("\n".join(REQUIREMENTS))
    python = VENV / "bin" / "python"
    for module in ("ruamel.yaml", "tomlkit"):
        probe = subprocess.run([python, "-c", f"import {module}"], capture_output=True)
        assert probe.returncode != 0, f"{module} came in as a dependency: pick another"
    return VENV / "bin" / "copier"


def test_missing_packages_are_named_in_one_line_with_the_install_command(
    tmp_path: Path, template_v1: Path, incomplete_copier: Path
) -> None:
    project = init_repo(tmp_path / "shop")
    before = tree_bytes(project)

    result = run(
        [
            incomplete_copier,
            "copy",
            "--trust",
            "--defaults",
            "-d",
            "kind=component",
            "-d",
            "component_name=orders",
            template_v1,
            project,
        ],
        project,
        check=False,
    )

    assert result.returncode == 1
    python = incomplete_copier.parent / "python"
    assert result.stderr.strip().splitlines() == [
        f"hexforge needs tomlkit, ruamel.yaml in Copier's environment ({python}), "
        f"where they are missing: install with {python} -m pip install tomlkit ruamel.yaml "
        "(or, for a pipx-installed Copier: pipx inject copier tomlkit ruamel.yaml)"
    ]
    assert tree_bytes(project) == before
