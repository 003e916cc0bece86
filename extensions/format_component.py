"""Lay out a freshly rendered component with ruff, touching only what the template rendered.

Run by Copier's task (after_render.py) after every render, also in Copier's
temporary update copies, so that an update compares formatted code with formatted
code. During an update the task runs in the real project before Copier re-applies
the user's changes: at that moment the template's own files are fresh renders, but
the folder may also hold modules the user wrote. Those are not ours to reformat,
and one the formatter cannot parse must not abort the update half-way, so only the
template's files are passed to ruff and a ruff failure is a warning.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

TEMPLATE_COMPONENT = (
    Path(__file__).resolve().parent.parent / "template" / "component" / "components"
)
RUFF_OPTIONS = [
    "--isolated",
    "--no-cache",
    "--quiet",
    "--line-length=100",
    "--target-version=py311",
]


def rendered_python_files(component: str, project: Path) -> list[Path]:
    """The component's .py files that this template version renders, where they exist."""
    source = TEMPLATE_COMPONENT / "{{ component_name }}"
    files = []
    for template_file in sorted(source.rglob("*.py*")):
        relative = template_file.relative_to(source).as_posix().removesuffix(".jinja")
        if relative.endswith(".py"):
            target = project / "components" / component / relative
            if target.is_file():
                files.append(target)
    return files


def format_files(files: list[Path]) -> int:
    """isort then format; returns ruff's worst exit status."""
    if not files:
        return 0
    paths = [str(path) for path in files]
    # The ruff executable itself: `python -m ruff` would start an interpreter first.
    ruff = [find_ruff_bin()]
    isort = subprocess.run(
        [*ruff, "check", *RUFF_OPTIONS, "--select=I", "--fix", "--exit-zero", *paths], check=False
    )
    layout = subprocess.run([*ruff, "format", *RUFF_OPTIONS, *paths], check=False)
    return max(isort.returncode, layout.returncode)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--component", required=True)
    args = parser.parse_args(argv)
    status = format_files(rendered_python_files(args.component, Path.cwd()))
    if status != 0:
        print(
            f"hexforge: warning: ruff could not lay out components/{args.component} "
            f"(exit {status}); the files are rendered but may fail `ruff format --check`",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
