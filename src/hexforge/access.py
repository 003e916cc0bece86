"""The ``access`` answer (SPEC §14): who may call each operation of a component.

    *=authenticated, list=public, delete=role:admin, cancel=role:patient|clerk

Comma-separated ``OPERATION=RULE``. An operation is ``list``, ``get``, ``create``,
``replace``, ``delete``, one of the component's use cases, or ``*`` (every operation
not named); a rule is ``public`` (anyone, no token), ``authenticated`` (any valid
token) or ``role:NAME[|NAME...]`` (a valid token holding any of those roles). An
operation nobody named, with no ``*``, is ``authenticated``: access is closed unless
opened on purpose.

Standard library only: the Copier extensions validate the answer with it, and the
served application (``hexforge.service.access``) reads each route's rule with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

CRUD = ("list", "get", "create", "replace", "delete")
EVERY = "*"
PUBLIC = "public"
AUTHENTICATED = "authenticated"
ROLE_PREFIX = "role:"
DEFAULT = f"{EVERY}={AUTHENTICATED}"
RULES_HELP = f"{PUBLIC}, {AUTHENTICATED} or {ROLE_PREFIX}NAME[|NAME...]"
# A role as tokens carry it: letters, digits and underscores, not starting with a digit.
ROLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_ROLE_LENGTH = 63


class AccessError(ValueError):
    """The answer or a rule breaks the language; the message names the value and why."""


@dataclass(frozen=True)
class Rule:
    """Who may call one operation: anyone (``public``), any signed-in actor (no
    ``roles``), or an actor holding one of ``roles``."""

    public: bool = False
    roles: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        if self.public:
            return PUBLIC
        return ROLE_PREFIX + "|".join(self.roles) if self.roles else AUTHENTICATED

    @property
    def statuses(self) -> tuple[int, ...]:
        """The refusals a route under this rule can answer: 401 without a valid token,
        403 with one that lacks the role."""
        if self.public:
            return ()
        return (401, 403) if self.roles else (401,)


def parse_rule(text: str) -> Rule:
    """The rule ``text`` states; AccessError naming it otherwise."""
    rule = text.strip()
    if rule == PUBLIC:
        return Rule(public=True)
    if rule == AUTHENTICATED:
        return Rule()
    if not rule.startswith(ROLE_PREFIX):
        raise AccessError(f"unknown rule {rule!r}: a rule is {RULES_HELP}")
    roles = tuple(role.strip() for role in rule.removeprefix(ROLE_PREFIX).split("|"))
    for role in roles:
        if not ROLE.fullmatch(role) or len(role) > MAX_ROLE_LENGTH:
            raise AccessError(
                f"role name {role!r} in {rule!r} is not an identifier (letters, digits and "
                f"underscores, not starting with a digit, at most {MAX_ROLE_LENGTH} characters)"
            )
    if len(set(roles)) != len(roles):
        raise AccessError(f"{rule!r} names a role twice")
    return Rule(roles=roles)


def parse_access(text: str, use_cases: Iterable[str] = ()) -> dict[str, Rule]:
    """Every operation of a component (CRUD, then ``use_cases``) with its rule."""
    operations = (*CRUD, *use_cases)
    named: dict[str, Rule] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        operation, equals, rule = item.partition("=")
        operation = operation.strip()
        if not equals:
            raise AccessError(f"{item!r} is not OPERATION=RULE (e.g. list=public)")
        if operation != EVERY and operation not in operations:
            raise AccessError(
                f"unknown operation {operation!r}: operations are "
                f"{', '.join(operations)} or {EVERY}"
            )
        if operation in named:
            raise AccessError(f"operation {operation!r} is given a rule twice")
        named[operation] = parse_rule(rule)
    fallback = named.pop(EVERY, Rule())
    return {operation: named.get(operation, fallback) for operation in operations}


def access_error(text: object, use_cases: Iterable[str] = ()) -> str:
    """Why ``text`` is not a valid access answer, or '' (for Copier's validator)."""
    try:
        parse_access(str(text or ""), use_cases)
    except AccessError as error:
        return f"access: {error}"
    return ""


def roles_of(rules: Mapping[str, Rule]) -> tuple[str, ...]:
    """Every role ``rules`` mention, in order of first mention."""
    return tuple(dict.fromkeys(role for rule in rules.values() for role in rule.roles))
