"""Candidate names for the collision tests, drawn from what rendered code really uses.

Every identifier a rendered component and its project wiring define or use (names,
attributes, arguments, functions, classes, imports, keyword arguments, and the
words of its SQL), plus Python's builtins, keywords and constants and PostgreSQL's
reserved words and catalog names. Each is put in the form a question takes: a
snake_case component or field name, a PascalCase entity name.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re
from collections.abc import Iterable
from pathlib import Path

from naming import PASCAL_RE, SNAKE_RE, pascal_to_snake, snake_to_pascal


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# PostgreSQL 15's reserved key words (SQL Key Words appendix, "reserved" and
# "reserved (can be function or type)"): a table or column named so must be quoted.
POSTGRES_RESERVED = _words(
    """
all analyse analyze and any array as asc asymmetric authorization binary both case cast
check collate collation column concurrently constraint create cross current_catalog
current_date current_role current_schema current_time current_timestamp current_user
default deferrable desc distinct do else end except false fetch for foreign freeze from
full grant group having ilike in initially inner intersect into is isnull join lateral
leading left like limit localtime localtimestamp natural not notnull null offset on only
or order outer overlaps placing primary references returning right select session_user
similar some symmetric system_user table tablesample then to trailing true union unique
user using variadic verbose when where window with
"""
)

# Relations, types and functions PostgreSQL resolves before a user's table of the
# same name (pg_catalog comes first on the search path), and names the server
# itself uses (the system columns of every table): a sample of each kind.
POSTGRES_CATALOG = _words(
    """
pg_class pg_type pg_namespace pg_attribute pg_index pg_proc pg_database pg_roles pg_user
pg_tables pg_views pg_settings pg_stat_activity pg_constraint pg_depend pg_description
text int4 int8 uuid numeric timestamptz bool name oid regclass record void xid tid cid
information_schema public postgres template0 template1 now count version
tableoid xmin cmin xmax cmax ctid
"""
)

# The names that broke generated code when issue #10 was filed (older templates
# defined them), kept so they stay tried whatever the templates become.
REPORTED = _words(
    """
CheckDraft DELETE COUNT INSERT UPDATE True False None OtherDraft Winner Pytest
unexpected pg_class domain conftest true
"""
)

SQL_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SQL_HINT = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|TRUNCATE)\b")


def rendered_identifiers(files: Iterable[Path]) -> set[str]:
    """Every identifier the files define or use, and every word of their SQL."""
    found: set[str] = set()
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            found.update(_node_identifiers(node))
    return found


def _node_identifiers(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, ast.keyword) and node.arg:
        return [node.arg]
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.alias):
        return [*node.name.split("."), *([node.asname] if node.asname else [])]
    if isinstance(node, ast.ImportFrom) and node.module:
        return node.module.split(".")
    is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
    if is_text and SQL_HINT.search(node.value):
        return SQL_WORD.findall(node.value)
    return []


def outside_names() -> set[str]:
    """Python's builtins, keywords and constants; PostgreSQL's reserved and system
    names; the names reported as breaking generated code."""
    return (
        set(dir(builtins))
        | set(keyword.kwlist)
        | set(keyword.softkwlist)
        | set(POSTGRES_RESERVED)
        | set(POSTGRES_CATALOG)
        | set(REPORTED)
    )


def snake_forms(identifier: str) -> set[str]:
    """The identifier as a component or field name would spell it (the raw spelling too,
    so that the rules for dunders, capitals and keywords are exercised)."""
    forms = {identifier}
    core = identifier.strip("_")
    if core:
        forms.add(core if core.islower() or core.isdigit() else pascal_to_snake(core))
    return {form for form in forms if form}


def pascal_forms(identifier: str) -> set[str]:
    """The identifier as an entity name would spell it."""
    forms = set()
    if PASCAL_RE.fullmatch(identifier):
        forms.add(identifier)
    core = identifier.strip("_").lower() if identifier.isupper() else identifier.strip("_")
    snake = core if core.islower() else pascal_to_snake(core)
    if SNAKE_RE.fullmatch(snake):
        forms.add(snake_to_pascal(snake))
    return forms
