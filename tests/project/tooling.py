"""Load a tool rendered into projects (template/project/tools/X.py) in-process, as the
file a generated project receives.

`python tools/X.py` puts tools/ first on sys.path, which is how the tools find their
shared module _hexforge.py; loading one by path here does the same. Nothing is
compiled into template/ (no __pycache__ next to the template's files).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from tests.helpers import REPO

TOOLS = REPO / "template" / "project" / "tools"


def load_tool(filename: str, module_name: str) -> ModuleType:
    """The tool's module, loaded once per process under module_name."""
    if module_name in sys.modules:
        return sys.modules[module_name]
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    spec = importlib.util.spec_from_file_location(module_name, TOOLS / filename)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses resolve annotations through sys.modules
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = saved
    return module


def tool_path(filename: str) -> Path:
    return TOOLS / filename
