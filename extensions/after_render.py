"""hexforge's step after every render of the real project: wire, then lay out the
component.

Copier runs it in its own process, from the condition of copier.yml's last task
(copier_hooks.after_render): Copier renders a task's ``when`` after every file is
written, and offers no other place to run Python there; a task process of its own
cost about 0.15 s of every copy (a Python start, and the imports Copier's process
already holds). It runs for the real project only: the temporary copies an update
renders are only laid out (format_component.lay_out_copy).

The wiring comes first, since it may add the ruff settings the layout follows (the
first component of a project); the layout touches only the files the template
renders (format_component.py), never the user's own modules.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import format_component
import project_state


def run(
    destination: Path,
    *,
    kind: str,
    component: str,
    operation: str,
    template: str,
    ref: str,
    project_name: str,
    with_project: bool = False,
) -> int:
    """Wire the project at ``destination`` and lay out what was rendered into it (the
    project's own files too ``with_project``: a component's copy that rendered them);
    the exit status of the wiring (0: done)."""
    with contextlib.chdir(destination), _update_finished():
        written: list[Path] = []  # modules this step writes: the starters, the registry
        if kind == "component" and component:
            import schema_migrations  # the real project only: Copier's copies never hold them
            import starters as starter_modules

            schema_migrations.main(Path.cwd(), component, adopt=operation == "update")
            written = starter_modules.main(Path.cwd(), component)
        import wiring  # tomlkit and ruamel.yaml: only where the wiring has work to do

        registry = Path.cwd() / format_component.REGISTRY
        registry_before = _contents(registry)
        status = wiring.run(
            Path.cwd(),
            kind=kind,
            operation=operation,
            template=template,
            ref=ref,
            project_name=project_name,
        )
        # After the wiring: it may add the [tool.ruff] settings the layout follows.
        if kind == "component" and component:
            # The component alone, unless its copy was the project's first, which
            # renders the project's files too (template/component_with_project).
            if not with_project and _contents(registry) != registry_before:
                written.append(registry)
            format_component.lay_out(Path.cwd(), component, written, project_files=with_project)
        elif kind == "project":
            format_component.lay_out(Path.cwd())
        return status


@contextlib.contextmanager
def _update_finished() -> Iterator[None]:
    """The update's last step in the project ran to its end, whatever it found: the
    marker copier_hooks.subdirectory wrote as the update started writing goes."""
    try:
        yield
    finally:
        Path(project_state.UPDATE_MARKER).unlink(missing_ok=True)


def _contents(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
