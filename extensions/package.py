"""Modules of the ``hexforge`` package from this template version's own copy.

The template ships the package's source beside its extensions (src/hexforge). Its
modules are loaded here by path, under a name of their own, never as ``hexforge``:
Copier runs two template versions in one process on an update, and a project's
environment may hold another hexforge; the ``hexforge`` imported first would answer
for all of them. Only modules that import nothing of the package are loaded this way.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SOURCE = Path(__file__).resolve().parent.parent / "src"


def module(name: str) -> ModuleType:
    """hexforge/<name>.py of this template version, loaded once per process."""
    path = SOURCE / "hexforge" / f"{name}.py"
    key = f"_hexforge_{name}_{abs(hash(path))}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module  # dataclasses look their module up while defining
        spec.loader.exec_module(module)
    return sys.modules[key]
