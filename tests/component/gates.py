"""Run a generated project's own gates with the shared generated-project venv."""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers import run


def gate_env(venv: Path, project: Path) -> dict[str, str]:
    # PYTHONPATH stands in for `pip install -e .`: the shared venv serves many projects.
    return {
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(project),
        "HEXFORGE_REQUIRE_POSTGRES": "1",
        "VIRTUAL_ENV": str(venv),
    }


GATES: list[tuple[str, list[str]]] = [
    ("ruff", ["ruff", "check", "."]),
    ("format", ["ruff", "format", "--check", "."]),
    ("mypy", ["mypy", "--strict", "components", "app"]),
    ("imports", ["lint-imports"]),
    ("audit", ["python", "tools/hex_audit.py", "components/"]),
    ("migrations", ["python", "tools/quality_gates.py", "--only", "migrations"]),
    ("unit", ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "unit"]),
    (
        "integration",
        ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "integration"],
    ),
]


def run_gates(project: Path, venv: Path) -> dict[str, str]:
    """Every gate must pass; returns each gate's output for further assertions."""
    env = gate_env(venv, project)
    outputs: dict[str, str] = {}
    for name, command in GATES:
        if name == "audit" and not (project / "tools" / "hex_audit.py").exists():
            raise AssertionError("tools/hex_audit.py was not rendered into the project")
        # mypy resolves imports itself, as in an installed project: PYTHONPATH would hide
        # an import only the project's own layout can satisfy.
        gate = {k: v for k, v in env.items() if k != "PYTHONPATH"} if name == "mypy" else env
        result = run(command, project, env=gate)
        outputs[name] = result.stdout + result.stderr
    return outputs
