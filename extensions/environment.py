"""The packages hexforge needs in Copier's own environment, and what to say when one
is missing: one line naming every missing package and the command that installs
them into that very environment. Stdlib only: it runs before anything else of ours.

Copier loads ``copier-template-extensions`` itself, before any hexforge code can run:
without it Copier's own message names that package alone.
"""

from __future__ import annotations

import importlib.util
import shlex
import sys

# Distribution name -> the module hexforge imports from it.
PACKAGES = {
    "copier-template-extensions": "copier_template_extensions",
    "tomlkit": "tomlkit",
    "ruamel.yaml": "ruamel.yaml",
    "ruff": "ruff",
}


def missing() -> list[str]:
    """The distributions in :data:`PACKAGES` this interpreter cannot import."""
    return [name for name, module in PACKAGES.items() if not _importable(module)]


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a dotted name whose parent is missing (ruamel)
        return False


def message(names: list[str]) -> str:
    """The one line for the missing distributions ``names``."""
    install = shlex.join([sys.executable, "-m", "pip", "install", *names])
    return (
        f"hexforge needs {', '.join(names)} in Copier's environment ({sys.executable}), "
        f"where {'it is' if len(names) == 1 else 'they are'} missing: install with "
        f"{install} (or, for a pipx-installed Copier: pipx inject copier {' '.join(names)})"
    )
