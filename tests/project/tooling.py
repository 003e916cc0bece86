"""The project's tools, in-process: the modules of the hexforge package that a
generated project's ``tools/X.py`` entry points run (template/project/tools/X.py).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from tests.helpers import REPO

TOOLS = REPO / "template" / "project" / "tools"

# The entry point's file name -> the package module it runs.
MODULES = {
    "_hexforge.py": "hexforge.core",
    "hex_audit.py": "hexforge.audit",
    "quality_gates.py": "hexforge.gates",
    "migrate.py": "hexforge.migrate",
    "sync.py": "hexforge.sync",
    "remove.py": "hexforge.remove",
    "story_log.py": "hexforge.story",
    "preflight.py": "hexforge.preflight",
    "completion_report.py": "hexforge.report",
}


def load_tool(filename: str, module_name: str = "") -> ModuleType:
    """The package module behind the tool ``filename`` (``module_name`` is ignored:
    one module per process, as the package imports it)."""
    return importlib.import_module(MODULES[filename])


def tool_path(filename: str) -> Path:
    return TOOLS / filename
