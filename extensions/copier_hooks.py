"""Jinja glue: how Copier reaches hexforge's Python code.

Loaded by ``copier_template_extensions.TemplateExtensionLoader`` from this file's
path. The sibling modules are imported by their plain names from this folder;
``copier update`` renders from several clones of two template versions in one
process, so siblings already imported from another clone are dropped first, unless
that clone holds the same commit (_take_siblings).
"""

from __future__ import annotations

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


def _take_siblings() -> Path:
    """Make the siblings a plain ``import <sibling>`` finds this template commit's;
    returns the folder those not loaded yet come from: this one, or the kept ones'.

    Copier clones the template for each of its runs, and an update makes several in
    one process: the old version's copy, then the new version's project render and
    copy, each from a clone of its own. Siblings already loaded from another clone
    are kept only when that clone still exists and is a checkout of this one's commit,
    so that every file beside them is the same, byte for byte (some read the
    template, the package's source or the starters when called); otherwise every
    sibling from another folder is dropped, since they import names from each other.
    Re-importing them costs more than the rest of setting up Copier's environment.
    """
    folders = {
        name: Path(str(module.__file__)).resolve().parent
        for name in _SIBLINGS
        if (module := sys.modules.get(name)) is not None
    }
    active = _HERE
    if not all(_same_checkout(folder) for folder in folders.values()):
        for name, folder in folders.items():
            if folder != _HERE:
                del sys.modules[name]
    elif others := sorted(set(folders.values()) - {_HERE}):
        # Siblings imported later come from the same clone as the kept ones: in an
        # update, the first clone of this commit, which Copier removes last.
        active = others[0]
    if str(active) in sys.path:
        sys.path.remove(str(active))
    sys.path.insert(0, str(active))
    return active


def _same_checkout(folder: Path) -> bool:
    """Whether ``folder`` is this one, or the same in another checkout, still there,
    of this template's commit."""
    return folder == _HERE or (_CHECKOUT is not None and _checkout(folder.parent) == _CHECKOUT)


def _checkout(root: Path) -> str | None:
    """The commit checked out, detached, in the git folder ``root`` (as Copier's clones
    are), read from its HEAD; None when it is anything else or cannot be read."""
    try:
        git = root / ".git"
        if git.is_file():  # a worktree (Copier's cache of a remote template)
            pointer = git.read_text(encoding="utf-8").strip().removeprefix("gitdir:").strip()
            git = (root / pointer).resolve()
        head = (git / "HEAD").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    is_commit = len(head) in (40, 64) and all(c in "0123456789abcdef" for c in head)
    return head if is_commit else None


_CHECKOUT = _checkout(_HERE.parent)


_ACTIVE = _take_siblings()

import bytecode  # noqa: E402

bytecode.install([_ACTIVE])  # compiled once for every run, not once per run's clone

import copier_internals  # noqa: E402
import environment  # noqa: E402

# Checked when Copier loads the template, before it asks or writes anything: the
# validators and the tasks need these in Copier's own environment. Raised as
# Copier's user error, the CLI prints the one line alone.
if _MISSING := environment.missing():
    raise copier_internals.refusal(environment.message(_MISSING))
copier_internals.print_refusals_alone()

from copier_template_extensions import ContextHook  # noqa: E402
from jinja2 import Environment  # noqa: E402
from jinja2.ext import Extension  # noqa: E402

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
# Destinations a component's copy renders the project's files into as well (the
# bootstrap folder): only those files' layout is then the after-render step's too.
_BOOTSTRAPPED: set[str] = set()


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
    if chosen == project_state.BOOTSTRAP_SUBDIRECTORY:
        _BOOTSTRAPPED.add(str(dst_path))
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
    # Another template version may have been loaded since this module was.
    bytecode.install([_take_siblings()])
    if copier_internals.in_temporary_copy(str(dst_path)):
        import format_component

        copy = Path(str(dst_path)).absolute()
        format_component.lay_out_copy(copy, str(kind), str(component))
        return False
    import after_render as step

    status = step.run(
        copier_internals.destination() or Path(str(dst_path)).absolute(),
        kind=str(kind),
        component=str(component),
        operation=str(operation),
        template=str(template),
        ref=str(ref),
        project_name=str(project_name),
        with_project=str(dst_path) in _BOOTSTRAPPED,
    )
    if status:
        # The wiring has said why on stderr; Copier removes a folder it created.
        raise copier_internals.refusal(f"hexforge: the project's wiring stopped (exit {status})")
    return False


class DerivedContext(ContextHook):
    """Add the derived names and parsed fields to every render."""

    def hook(self, context: dict[str, Any]) -> None:
        derived_context.derive(context)
