"""Jinja glue: how Copier reaches hexforge's Python code.

Loaded by ``copier_template_extensions.TemplateExtensionLoader`` from this file's
path. The sibling modules are imported by their plain names from this folder;
``copier update`` loads two template versions in one process, so a sibling
already imported from another folder (the other version) is dropped first.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

_HERE = Path(__file__).resolve().parent

_SIBLINGS = (
    "bytecode",
    "environment",
    "naming",
    "pycode",
    "fields",
    "usecases",
    "auth",
    "validation",
    "copier_internals",
    "atomic",
    "records",
    "project_state",
    "project_settings",
    "context",
    "jinja_cache",
    "moves",
    "schema_migrations",
    "references",
    "precheck",
    "gitignore",
    "package",
    # Imported only when needed (an update, a file to check): ruamel.yaml, tomlkit.
    "registry",
    "manifest",
    "pyproject_merge",
    "after_render",
    "format_component",
    "starters",
    "wiring",
    "app_main",
    "project_files",
)


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


_DIGESTS = {name: _digest(_HERE / f"{name}.py") for name in _SIBLINGS}


def _source_digest(module: Any) -> str | None:
    """The digest stamped below, or, for a sibling first imported later (lazily), its
    source's."""
    stamped: str | None = getattr(module, "_hexforge_digest", None)
    return stamped or _digest(Path(module.__file__ or ""))


def _take_siblings(*, same_folder: bool = False) -> None:
    """Make this folder's modules the ones a plain ``import <sibling>`` finds.

    Siblings loaded from another folder (the other template version of an update, or
    an earlier run's clone) are kept only when every one's source is this folder's,
    byte for byte, since they import names from each other: re-importing them costs
    more than the rest of setting up Copier's environment. With ``same_folder``,
    every sibling from another folder is dropped: the after-render step reads files
    beside its modules (the package's source, the template, the starters), and by
    then an update has removed its other version's clone.
    """
    loaded = {name: sys.modules.get(name) for name in _SIBLINGS}
    if same_folder or any(
        module is not None and _source_digest(module) != _DIGESTS[name]
        for name, module in loaded.items()
    ):
        for name, module in loaded.items():
            if module is not None and Path(module.__file__ or "").resolve().parent != _HERE:
                del sys.modules[name]
    if str(_HERE) in sys.path:
        sys.path.remove(str(_HERE))
    sys.path.insert(0, str(_HERE))


_take_siblings()

import bytecode  # noqa: E402

bytecode.install([_HERE])  # compiled once for every run, not once per run's clone

import copier_internals  # noqa: E402
import environment  # noqa: E402

# Checked when Copier loads the template, before it asks or writes anything: the
# validators and the tasks need these in Copier's own environment. Raised as
# Copier's user error, the CLI prints the one line alone.
if _MISSING := environment.missing():
    raise copier_internals.refusal(environment.message(_MISSING))
copier_internals.print_refusals_alone()

from copier_template_extensions import ContextHook  # noqa: E402

import auth  # noqa: E402
import context as derived_context  # noqa: E402
import fields  # noqa: E402
import gitignore  # noqa: E402
import jinja_cache  # noqa: E402
import moves  # noqa: E402
import naming  # noqa: E402
import precheck  # noqa: E402
import project_state  # noqa: E402
import pycode  # noqa: E402
import references  # noqa: E402
import schema_migrations  # noqa: E402
import usecases  # noqa: E402
import validation  # noqa: E402

for _name in _SIBLINGS:
    if _name in sys.modules:
        sys.modules[_name]._hexforge_digest = _DIGESTS[_name]  # type: ignore[attr-defined]
from jinja2 import Environment  # noqa: E402
from jinja2.ext import Extension  # noqa: E402


class Globals(Extension):
    """Expose validators, default-name helpers and import helpers as Jinja globals,
    and give Copier's environment hexforge's compile caches (jinja_cache.py)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        jinja_cache.install(environment)
        # Every global is copied into every render's context (Jinja's new_context),
        # about 1,700 per update: what copier.yml alone calls (validators, defaults,
        # the steps) sits behind one name, hx.<name>; the templates' helpers are
        # hx_<name>. Twenty-three names more cost an update about 25 ms.
        environment.globals.update(
            hx=SimpleNamespace(
                kind_error=validation.kind_error,
                project_name_error=validation.project_name_error,
                component_name_error=validation.component_name_error,
                entity_name_error=validation.entity_name_error,
                fields_error=validation.fields_error,
                fields_change_error=schema_migrations.change_error_at,
                references_error=references.references_error,
                usecases_error=usecases.use_cases_error,
                access_error=auth.answer_error,
                default_auth=auth.default_auth,
                story_id_error=validation.story_id_error,
                feature_dir_error=validation.feature_dir_error,
                default_entity_name=naming.default_entity_name,
                default_project_name=naming.default_project_name,
                moves_between=moves.any_between,
                imports_project_tools=_imports_project_tools,
                subdirectory=subdirectory,
                project_answers=project_state.project_answers,
                after_render=after_render,
                evidence_tracked=lambda path: bool(gitignore.tracked_evidence(Path(str(path)))),
            ),
            hx_imports=fields.imports_for,
            hx_str=fields.python_str,
            hx_import_lines=fields.lines_for,
            hx_isort_sorted=pycode.isort_sorted,
            hx_from=pycode.from_import,
        )


def _imports_project_tools(destination: object, answers_file: object) -> bool:
    """Whether an update's component still imports the project's tools/ (rendered
    before the hexforge package): then migrations.py aligns the merge base."""
    folder = Path(str(destination)) / str(answers_file)
    return moves.imports_project_tools(folder.parent)


# (operation, kind, destination) already checked in this process: Copier renders
# _subdirectory once per file.
_CHECKED: set[tuple[str, str, str]] = set()


def subdirectory(
    kind: object, src_path: object, dst_path: object, recorded_src: object = None
) -> str:
    """copier.yml ``_subdirectory``: which template folder this run renders.

    Copier renders it just before writing the first file (and again for every file),
    which makes it the place to refuse a run that would fail half-way: precheck.py,
    once per destination.
    """
    operation = copier_internals.operation()
    chosen = project_state.subdirectory(kind, operation, str(src_path), str(dst_path))
    key = (operation, str(kind), str(dst_path))
    if key in _CHECKED:
        return chosen
    _CHECKED.add(key)  # an update's temporary copies too: nothing to check there
    if not copier_internals.in_temporary_copy(str(dst_path)):
        last_answers = copier_internals.last_answers_file()
        # Absolute as Copier made it when the run began: an update moves the process
        # into its temporary folders and back (plumbum's local.cwd).
        destination = copier_internals.destination() or Path(str(dst_path)).absolute()
        found = precheck.problems(kind, Path(str(src_path)), destination, last_answers)
        if isinstance(recorded_src, str) and project_state.needs_nested_copy(
            kind, chosen, destination
        ):
            found += filter(None, [project_state.unreachable_template(destination, recorded_src)])
        if found:
            _CHECKED.discard(key)
            raise copier_internals.refusal("hexforge: " + "; ".join(found))
        if operation == "update":
            # Every check passed and the first file is next: the update is under way
            # until the after-render step (after_render.py) removes the marker. One
            # killed half-way leaves it, and hexforge's gates and sync name it.
            (destination / project_state.UPDATE_MARKER).touch()
    return chosen


def after_render(
    kind: object,
    component: object,
    operation: object,
    template: object,
    ref: object,
    project_name: object,
    dst_path: object,
    pretend: object,
) -> bool:
    """copier.yml's last task condition: hexforge's after-render step (after_render.py),
    run here, in Copier's process; always false, so Copier starts no process for it.
    In an update's temporary copies it only lays out the rendered Python, as in the
    project; nothing runs for ``--pretend``."""
    if pretend:
        return False
    if copier_internals.in_temporary_copy(str(dst_path)):
        import format_component

        copy = Path(str(dst_path)).absolute()
        format_component.lay_out_copy(copy, str(kind), str(component))
        return False
    # The other version of an update may have been loaded since this module was.
    _take_siblings(same_folder=True)
    import after_render as step

    status = step.run(
        copier_internals.destination() or Path(str(dst_path)).absolute(),
        kind=str(kind),
        component=str(component),
        operation=str(operation),
        template=str(template),
        ref=str(ref),
        project_name=str(project_name),
    )
    if status:
        # The wiring has said why on stderr; Copier removes a folder it created.
        raise copier_internals.refusal(f"hexforge: the project's wiring stopped (exit {status})")
    return False


class DerivedContext(ContextHook):
    """Add the derived names and parsed fields to every render."""

    def hook(self, context: dict[str, Any]) -> None:
        derived_context.derive(context)
