"""Lay out a freshly rendered component with ruff, touching only what the template rendered.

Run by after_render.py after every render, and as ruff commands (copier.yml's tasks)
in Copier's temporary update copies, so that an update compares formatted code with
formatted code. During an update the step runs in the real project before Copier re-applies
the user's changes: at that moment the template's own files are fresh renders, but
the folder may also hold modules the user wrote. Those are not ours to reformat,
and one the formatter cannot parse must not abort the update half-way, so only the
template's files are passed to ruff and a ruff failure is a warning.

Ruff lays them out with the project's own configuration (project_settings.py):
its line length, quotes, isort options... are what its gates check.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

from project_settings import ruff_config_option

TEMPLATES = Path(__file__).resolve().parent.parent / "template"
TEMPLATE_COMPONENT = TEMPLATES / "component" / "components"
TEMPLATE_PROJECT = TEMPLATES / "project"
# After the configuration option; copier.yml passes the same in update copies.
RUFF_OPTIONS = ["--no-cache", "--quiet"]
CONDITION_TAG = re.compile(r"\{%.*?%\}")


def rendered_python_files(component: str, project: Path) -> list[Path]:
    """The component's .py files that this template version renders, where they exist."""
    source = TEMPLATE_COMPONENT / "{{ component_name }}"
    return _rendered(source, project / "components" / component)


def project_python_files(project: Path) -> list[Path]:
    """The project wiring's .py files this template version renders (tools/,
    components/conftest.py) and the registry the wiring writes (app/components.py),
    where they exist: laid out like the components, with the project's own ruff
    settings, so that its `ruff format --check .` passes on them too."""
    registry = project / "app" / "components.py"
    return [*_rendered(TEMPLATE_PROJECT, project), *([registry] if registry.is_file() else [])]


def _rendered(source: Path, target_root: Path) -> list[Path]:
    files = []
    for template_file in sorted(source.rglob("*.py*")):
        relative = template_file.relative_to(source).as_posix().removesuffix(".jinja")
        # A file rendered only when asked for is named {% if x %}name.py{% endif %}.
        relative = CONDITION_TAG.sub("", relative)
        if relative.endswith(".py"):
            target = target_root / relative
            if target.is_file():
                files.append(target)
    return files


def format_files(files: list[Path], project: Path) -> int:
    """isort then format with ``project``'s ruff settings; returns ruff's worst exit status."""
    if not files:
        return 0
    paths = [str(path) for path in files]
    options = [ruff_config_option(project), *RUFF_OPTIONS]
    # The ruff executable itself: `python -m ruff` would start an interpreter first.
    ruff = [find_ruff_bin()]
    isort = subprocess.run(
        [*ruff, "check", *options, "--select=I", "--fix", "--exit-zero", *paths], check=False
    )
    layout = subprocess.run([*ruff, "format", *options, *paths], check=False)
    return max(isort.returncode, layout.returncode)


def lay_out(project: Path, component: str = "", written: Sequence[Path] = ()) -> None:
    """Lay out the project's rendered files, ``component``'s when given, and the
    modules ``written`` this run; a ruff failure is a warning."""
    files = project_python_files(project)
    if component:
        files += rendered_python_files(component, project)
    files += written
    status = format_files(files, project)
    if status != 0:
        what = f"components/{component}" if component else "the project's tools"
        print(
            f"hexforge: warning: ruff could not lay out {what} (exit {status}); "
            "the files are rendered but may fail `ruff format --check`",
            file=sys.stderr,
        )
