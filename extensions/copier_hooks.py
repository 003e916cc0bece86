"""Jinja glue: how Copier reaches hexforge's Python code.

Loaded by ``copier_template_extensions.TemplateExtensionLoader`` from this file's
path. The sibling modules are imported by their plain names from this folder;
``copier update`` loads two template versions in one process, so a sibling
already imported from another folder (the other version) is dropped first.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent

# Checked here, when Copier loads the template and before it writes anything: the
# tasks need these in Copier's own environment.
_MISSING = [m for m in ("ruff", "tomlkit", "ruamel.yaml") if importlib.util.find_spec(m) is None]
if _MISSING:
    raise RuntimeError(
        f"hexforge needs {', '.join(_MISSING)} next to Copier: run "
        "pip install copier copier-template-extensions tomlkit ruamel.yaml ruff "
        "(or pipx inject copier copier-template-extensions tomlkit ruamel.yaml ruff)"
    )
_SIBLINGS = (
    "naming",
    "pycode",
    "fields",
    "validation",
    "temporary_copy",
    "atomic",
    "project_state",
    "context",
    "jinja_cache",
    "moves",
    "schema_migrations",
)


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


_DIGESTS = {name: _digest(_HERE / f"{name}.py") for name in _SIBLINGS}
_LOADED = {name: sys.modules.get(name) for name in _SIBLINGS}
# Loaded from another folder (the other template version of an update, or an
# earlier run's clone): kept only when every sibling's source is this folder's,
# byte for byte, since they import names from each other. Re-importing them costs
# more than the rest of setting up Copier's environment.
if any(
    getattr(module, "_hexforge_digest", None) != _DIGESTS[name] for name, module in _LOADED.items()
):
    for _name, _module in _LOADED.items():
        if _module is not None and Path(_module.__file__ or "").resolve().parent != _HERE:
            del sys.modules[_name]
if str(_HERE) in sys.path:
    sys.path.remove(str(_HERE))
sys.path.insert(0, str(_HERE))

import context as derived_context  # noqa: E402
import fields  # noqa: E402
import jinja_cache  # noqa: E402
import moves  # noqa: E402
import naming  # noqa: E402
import project_state  # noqa: E402
import pycode  # noqa: E402
import schema_migrations  # noqa: E402
import validation  # noqa: E402
from copier_template_extensions import ContextHook  # noqa: E402
from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]  # noqa: E402
from temporary_copy import in_temporary_copy  # noqa: E402

for _name in _SIBLINGS:
    sys.modules[_name]._hexforge_digest = _DIGESTS[_name]  # type: ignore[attr-defined]
from jinja2 import Environment  # noqa: E402
from jinja2.ext import Extension  # noqa: E402


class Globals(Extension):
    """Expose validators, default-name helpers and import helpers as Jinja globals,
    and give Copier's environment hexforge's compile caches (jinja_cache.py)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        jinja_cache.install(environment)
        environment.globals.update(
            hx_kind_error=validation.kind_error,
            hx_project_name_error=validation.project_name_error,
            hx_component_name_error=validation.component_name_error,
            hx_entity_name_error=validation.entity_name_error,
            hx_fields_error=validation.fields_error,
            hx_fields_change_error=schema_migrations.change_error_at,
            hx_story_id_error=validation.story_id_error,
            hx_feature_dir_error=validation.feature_dir_error,
            hx_default_entity_name=naming.default_entity_name,
            hx_default_project_name=naming.default_project_name,
            hx_imports=fields.imports_for,
            hx_str=fields.python_str,
            hx_import_lines=fields.lines_for,
            hx_isort_sorted=pycode.isort_sorted,
            hx_from=pycode.from_import,
            hx_moves_between=moves.any_between,
            hx_subdirectory=subdirectory,
            hx_project_answers=project_state.project_answers,
            hx_in_temporary_copy=lambda path: in_temporary_copy(Path(str(path))),
            hx_ruff=find_ruff_bin,
        )


def subdirectory(kind: object, src_path: object, dst_path: object) -> str:
    """copier.yml ``_subdirectory``: which template folder this run renders."""
    operation = validation.copier_operation()
    return project_state.subdirectory(kind, operation, str(src_path), str(dst_path))


class DerivedContext(ContextHook):
    """Add the derived names and parsed fields to every render."""

    def hook(self, context: dict[str, Any]) -> None:
        derived_context.derive(context)
