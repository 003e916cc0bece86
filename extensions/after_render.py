"""Copier's task in the project after every render: wire, then lay out the component.

    python extensions/after_render.py --kind=KIND [--component=NAME]
        --template=SRC --ref=COMMIT --project-name=NAME

One process for both steps: a Python start costs as much as either. The wiring
comes first, since it may add the ruff settings the layout follows (the first
component of a project); the layout touches only the files the template renders
(format_component.py), never the user's own modules. Copier runs it in the real
project only: in the temporary copies an update renders, copier.yml runs ruff
directly instead (its ``when``, decided in Copier's process by
copier_internals.in_temporary_copy).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import bytecode

# The template's modules and its copy of the package, compiled once for all runs.
bytecode.install([Path(__file__).resolve().parent, Path(__file__).resolve().parent.parent / "src"])

import format_component  # noqa: E402
import project_state  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", required=True)
    parser.add_argument("--component", default="")
    parser.add_argument("--operation", default="copy")
    args, wiring_args = parser.parse_known_args(argv)
    try:
        return _finish(args, wiring_args)
    finally:
        # The update's last step in the project: it ran to its end (the marker is
        # written by copier_hooks.subdirectory as the update starts writing).
        Path(project_state.UPDATE_MARKER).unlink(missing_ok=True)


def _finish(args: argparse.Namespace, wiring_args: list[str]) -> int:
    starters: list[Path] = []
    if args.kind == "component" and args.component:
        import schema_migrations  # the real project only: Copier's copies never hold them
        import starters as starter_modules

        schema_migrations.main(Path.cwd(), args.component, adopt=args.operation == "update")
        starters = starter_modules.main(Path.cwd(), args.component)
    import wiring  # tomlkit and ruamel.yaml: only where the wiring has work to do

    status = wiring.main([f"--kind={args.kind}", *wiring_args])
    # After the wiring: it may add the [tool.ruff] settings the layout follows.
    if args.kind == "component" and args.component:
        format_component.main([f"--component={args.component}", *map(str, starters)])
    elif args.kind == "project":
        format_component.main([])
    return status


if __name__ == "__main__":
    sys.exit(main())
