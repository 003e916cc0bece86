"""Python source fragments laid out exactly as ruff would lay them out.

Generated files must pass ``ruff check`` and ``ruff format --check`` with zero
edits, whatever names the user chose, so the few places where layout depends on
the names (import lists, ``__all__``) are decided here instead of in templates.
"""

from __future__ import annotations

from collections.abc import Iterable

LINE_LENGTH = 100


def isort_sorted(names: Iterable[str]) -> list[str]:
    """Names in ruff's isort order: CONSTANTS, then Classes, then everything else."""
    return sorted(set(names), key=_type_then_name)


def _type_then_name(name: str) -> tuple[int, str]:
    if name.isupper() and len(name) > 1:
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def from_import(module: str, *names: str) -> str:
    """``from module import a, B`` on one line, or wrapped one name per line."""
    ordered = isort_sorted(names)
    line = f"from {module} import {', '.join(ordered)}"
    if len(line) <= LINE_LENGTH:
        return line
    body = "".join(f"    {name},\n" for name in ordered)
    return f"from {module} import (\n{body})"


def import_lines(pairs: Iterable[tuple[str, str]]) -> list[str]:
    """One sorted ``from`` line per module for (module, name) pairs."""
    by_module: dict[str, set[str]] = {}
    for module, name in pairs:
        by_module.setdefault(module, set()).add(name)
    return [from_import(module, *names) for module, names in sorted(by_module.items())]
