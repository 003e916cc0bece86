"""The ``auth`` and ``access`` answers (SPEC §14).

``access`` is validated and parsed by the package's own parser (hexforge.access),
the one the served application reads each route's rule with. ``auth`` is the
project's: a component's default is what the project recorded, so that every
component of a project agrees unless told otherwise; a project that existed before
the question keeps ``none`` until its owner changes it.
"""

from __future__ import annotations

import functools
from pathlib import Path

import copier_internals
import package
from usecases import UseCasesError, parse_use_cases

_access = package.module("access")
Rule = _access.Rule
access_error = _access.access_error
parse_access = _access.parse_access

CHOICES = ("jwt", "none")
NEW_PROJECT = "jwt"
EXISTING_PROJECT = "none"


def default_auth(destination: object) -> str:
    """The project's recorded ``auth``; else ``jwt`` for a new project (no
    pyproject.toml yet) and ``none`` for one that existed before the question."""
    project = copier_internals.updated_project() or Path(str(destination))
    recorded = copier_internals.read_answers(project / ".copier-answers.yml").get("auth")
    if recorded in CHOICES:
        return str(recorded)
    return EXISTING_PROJECT if (project / "pyproject.toml").exists() else NEW_PROJECT


def use_case_names(usecases: object, entity: object) -> list[str] | None:
    """The use cases' names, or None while the usecases answer is invalid."""
    try:
        return [uc.name for uc in parse_use_cases(str(usecases or ""), str(entity or "X"))]
    except UseCasesError:
        return None


def answer_error(access: object, usecases: object, entity: object) -> str:
    """Copier's validator of ``access``: '' when valid (or while usecases is invalid,
    which its own validator reports)."""
    names = use_case_names(usecases, entity)
    return "" if names is None else str(access_error(access, names))


def rules(auth: object, access: object, usecases: object, entity: object) -> dict[str, object]:
    """Each operation's rule, for the templates; empty with ``auth=none``.

    Copier builds a context for every path and file it renders, and parsing the rules
    of a component with use cases took about 0.1 ms: some 60 ms a copy. The answers
    are strings, so the parse is kept per answers (the templates only read it)."""
    if auth != "jwt":
        return {}
    try:
        return _rules(access, usecases, entity)
    except TypeError:  # an answer of another type: not hashable, not cached
        return _rules.__wrapped__(access, usecases, entity)


@functools.lru_cache(maxsize=64)
def _rules(access: object, usecases: object, entity: object) -> dict[str, object]:
    names = use_case_names(usecases, entity)
    if names is None or access_error(access, names):
        return {}
    parsed: dict[str, object] = parse_access(str(access or ""), names)
    return parsed


def roles(rules: dict[str, object]) -> tuple[str, ...]:
    """Every role the rules name, in order of first mention."""
    found: tuple[str, ...] = _access.roles_of(rules)
    return found
