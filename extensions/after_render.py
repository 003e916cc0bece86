"""Copier's task in the project after every render: lay out the component, then wire.

    python extensions/after_render.py --kind=KIND [--component=NAME]
        --template=SRC --ref=COMMIT --project-name=NAME

One process for both steps: a Python start costs as much as either. The layout
touches only the files the template renders (format_component.py), never the
user's own modules; the wiring is imported only here, where it has work to do
(wiring.py). In the temporary copies an update renders, copier.yml runs ruff
directly instead; should this script be run there, it only lays out the code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import format_component
from temporary_copy import in_temporary_copy


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", required=True)
    parser.add_argument("--component", default="")
    parser.add_argument("--operation", default="copy")
    args, wiring_args = parser.parse_known_args(argv)
    if args.kind == "component" and args.component:
        format_component.main([f"--component={args.component}"])
    if in_temporary_copy(Path.cwd()):
        return 0
    if args.kind == "component" and args.component:
        import schema_migrations  # the real project only: Copier's copies never hold them

        schema_migrations.main(Path.cwd(), args.component, adopt=args.operation == "update")
    import wiring  # tomlkit and ruamel.yaml: only where the wiring has work to do

    return wiring.main([f"--kind={args.kind}", *wiring_args])


if __name__ == "__main__":
    sys.exit(main())
