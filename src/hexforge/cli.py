"""The ``hexforge`` command: one subcommand per tool.

    hexforge gates | audit | migrate | sync | remove | preflight | report | story | tasks
        | token

Each subcommand takes the arguments, prints the output and exits with the codes of
the tool it runs (``hexforge audit --help``); a project's ``tools/<tool>.py`` is the
same command. Exit 2 with one line for an unknown subcommand.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from hexforge import __version__, core

# subcommand -> (module, what it does)
COMMANDS: dict[str, tuple[str, str]] = {
    "gates": ("hexforge.gates", "run every quality gate, write the evidence files"),
    "audit": ("hexforge.audit", "the architecture audit of components/"),
    "migrate": ("hexforge.migrate", "apply, plan, list or drop the components' SQL migrations"),
    "sync": ("hexforge.sync", "update the wiring and every component to a newer template"),
    "remove": ("hexforge.remove", "remove a component's code and registrations"),
    "preflight": ("hexforge.preflight", "the coding agent's pre-flight checklist"),
    "report": ("hexforge.report", "write the completion report from tasks and evidence"),
    "story": ("hexforge.story", "story logs: chunk, check, block, tokens"),
    "tasks": ("hexforge.tasks", "the manifest's tasks: list, claim, complete, fail; the phase"),
    "token": ("hexforge.token", "a bearer token the service accepts, for local runs"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {about}" for name, (_, about) in COMMANDS.items()]
    return "usage: hexforge COMMAND [ARGS...]\n\ncommands:\n" + "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage(), end="")
        return 0 if args else 2
    if args[0] == "--version":
        print(f"hexforge {__version__}")
        return 0
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(
            f"hexforge: error: unknown command {command!r}; use one of {', '.join(COMMANDS)}",
            file=sys.stderr,
        )
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    code: int = module.main(rest)
    return code


def tool(command: str) -> None:
    """What a project's ``tools/<tool>.py`` runs: this command, with its arguments,
    on the project that holds that file (as the copied tools did), from any folder."""
    entry_point = Path(sys.argv[0]).resolve()
    if entry_point.parent.name == "tools":
        core.ENTRY_ROOT = entry_point.parent.parent
    sys.exit(main([command, *sys.argv[1:]]))
