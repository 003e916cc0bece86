"""Architecture audit for the hexagonal components of this project.

    python tools/hex_audit.py [PATH ...] [--format text|json]

PATH (default ``components/``) is a directory of components, or one component
directory (a directory with ``domain/`` or ``ports/``). Exit status: 0 clean,
1 findings, 2 usage error. The audit reads the code as text and with ``ast``; it
never imports it, so it needs nothing beyond the standard library.

Every finding names a rule, ``path:line`` and a fix. Line 0 means the whole file
or directory (it is missing). The rules:

HEX001  a file the audit has to parse has a syntax error, cannot be read, or is nested too
        deeply for Python's parser
HEX101  a file of the canonical component tree (below) is missing
HEX102  a test tier directory (tests/unit, tests/integration, tests/regression) is missing
HEX201  domain/ imports an adapter, of this or another component
HEX202  ports/ imports an adapter, of this or another component
HEX203  adapters/inbound/ imports adapters/outbound/, of this or another component
HEX204  a module under domain/ or ports/ imports outside the standard library (a framework,
        a driver, any installed package, the project's other code)
HEX205  a module under domain/ or ports/ imports another component, or its own component's
        package (which imports the domain and ports: a cycle)
HEX206  a domain module other than domain/service.py imports the component's ports
HEX207  a module outside domain/ and ports/ (the package's own modules, adapters/)
        imports another component; the one path allowed is adapters/outbound/ importing
        that component's public API (``components.<other>``, its __init__.py)
HEX301  domain/model.py imports something other than the stdlib and its own domain package
HEX302  domain/model.py reads the clock or randomness (datetime.now, date.today,
        time.time, uuid4, random, secrets...)
HEX303  domain/model.py does I/O (open, print, input; os, io, pathlib, socket, ...)
HEX401  a public class in ports/inbound.py or ports/outbound.py is not an ABC
HEX402  a public port method is not decorated with @abstractmethod
HEX403  a public port method lacks a parameter or return annotation
HEX501  a public class of ports/outbound.py has no in-memory implementation: no class in
        adapters/outbound/memory_*.py names it among its bases
HEX601  a use case is not implemented: its rule in domain/use_cases/<name>.py (or, in
        a component from before 0.10, its method in domain/service.py) still raises
        NotImplementedError (the body hexforge generates for each answer of `usecases`)
HEX701  a route of adapters/inbound/api_handler.py declares no access rule, in a component
        with access control (its answers say auth: jwt, or its handler uses access.rule)

What each layer may import (HEX201-HEX206 and HEX301 together)::

    domain/model.py    the standard library, its own domain/ (HEX301 for the rest)
    domain/service.py  the standard library, its own domain/ and ports/
    domain/ (other)    the standard library, its own domain/
    ports/             the standard library, its own domain/ and ports/

hexforge.actor (the acting principal, a stdlib-only value) counts as standard
library for domain/ and ports/.
    adapters/inbound/  anything but adapters/outbound/ (HEX203)
    adapters/outbound/ and only it: another component's public API (HEX207)

The direction rules (HEX2xx) see every form of import: absolute, relative,
``from pkg import module``, aliases, imports inside functions and imports under
``if TYPE_CHECKING:`` (type-only imports still couple the layers), and literal
``importlib.import_module("...")`` calls.

The canonical component tree::

    <name>/__init__.py  README.md
    <name>/domain/{__init__,model,service,exceptions,rules}.py
    <name>/ports/{__init__,inbound,outbound}.py
    <name>/adapters/__init__.py
    <name>/adapters/inbound/{__init__,api_handler}.py
    <name>/adapters/outbound/{__init__,postgres_repo,memory_repo}.py
    <name>/tests/{__init__,conftest}.py
    <name>/tests/unit/  tests/integration/  tests/regression/

Speed: most files are settled by a text pre-check; a file is parsed only when its
text could hold a violation, and every finding comes from the parsed tree.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from hexforge.core import ArgumentParser, UsageError, cli, project_root


class Rule(NamedTuple):
    id: str
    title: str
    fix: str


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            "HEX001",
            "file cannot be parsed",
            "fix the syntax error (ruff check shows it); the audit checks parseable code only",
        ),
        Rule(
            "HEX101",
            "required file is missing",
            "create it (copier update restores template files); the tree is in the "
            "docstring of tools/hex_audit.py",
        ),
        Rule(
            "HEX102",
            "test tier directory is missing",
            "create it with an empty __init__.py; keep every tier, even when it has no tests",
        ),
        Rule(
            "HEX201",
            "domain imports an adapter",
            "depend on a port (an ABC in ports/outbound.py) and let the component's "
            "assembly (adapters/compose.py) pass the adapter in",
        ),
        Rule(
            "HEX202",
            "port imports an adapter",
            "ports only name domain types: move the type the port needs into domain/",
        ),
        Rule(
            "HEX203",
            "inbound adapter imports an outbound adapter",
            "call the use case through ports/inbound.py; only the component's assembly "
            "(adapters/compose.py) wires outbound adapters",
        ),
        Rule(
            "HEX204",
            "domain or port imports outside the standard library",
            "keep frameworks and drivers in adapters: raise a domain exception "
            "(domain/exceptions.py) and let the inbound adapter turn it into HTTP; put "
            "database types behind a port in ports/outbound.py",
        ),
        Rule(
            "HEX205",
            "domain or port imports outside its own component",
            "use only this component's domain/ and ports/; reach another component "
            "through an outbound port whose adapter calls that component's public API",
        ),
        Rule(
            "HEX206",
            "domain module other than the service imports a port",
            "only domain/service.py uses ports: pass what the model or rules need as "
            "parameters from the service",
        ),
        Rule(
            "HEX207",
            "imports another component other than an outbound adapter using its public API",
            "depend on an outbound port; its adapter in adapters/outbound/ may import the "
            "other component's public API (components.<other>) and nothing behind it",
        ),
        Rule(
            "HEX301",
            "domain model imports outside the standard library",
            "keep domain/model.py stdlib-only (dataclasses, enum, typing, NewType); "
            "convert to Pydantic/ORM types in an adapter",
        ),
        Rule(
            "HEX302",
            "domain model is non-deterministic",
            "take the value as a parameter (at: datetime, order_id: OrderId) and get it in "
            "the service from a Clock or IdGenerator port",
        ),
        Rule(
            "HEX303",
            "domain model does I/O",
            "move the I/O into an adapter behind a port; the model only computes",
        ),
        Rule(
            "HEX401",
            "port class is not an ABC",
            "inherit from abc.ABC (or use metaclass=ABCMeta); data types belong in domain/model.py",
        ),
        Rule(
            "HEX402",
            "port method is not abstract",
            "decorate it with @abstractmethod; behaviour belongs in the domain service or "
            "an adapter",
        ),
        Rule(
            "HEX403",
            "port method is not fully annotated",
            "annotate every parameter except self/cls, and the return type",
        ),
        Rule(
            "HEX501",
            "outbound port has no in-memory implementation",
            "add class InMemory<Port>(<Port>) to adapters/outbound/memory_repo.py (or "
            "another memory_*.py)",
        ),
        Rule(
            "HEX601",
            "use case is not implemented",
            "write its rule in place of the raise NotImplementedError (the module's docstring "
            "says what to write) and test it; copier update never rewrites that module",
        ),
        Rule(
            "HEX701",
            "route has no access rule",
            'give it one: a parameter `actor: Annotated[Actor, access.rule("...")]` (public, '
            "authenticated or role:NAME), as `copier update -d access=...` writes them",
        ),
    )
}

REQUIRED_FILES = (
    "__init__.py",
    "README.md",
    "domain/__init__.py",
    "domain/model.py",
    "domain/service.py",
    "domain/exceptions.py",
    "domain/rules.py",
    "ports/__init__.py",
    "ports/inbound.py",
    "ports/outbound.py",
    "adapters/__init__.py",
    "adapters/inbound/__init__.py",
    "adapters/inbound/api_handler.py",
    "adapters/outbound/__init__.py",
    "adapters/outbound/postgres_repo.py",
    "adapters/outbound/memory_repo.py",
    "tests/__init__.py",
    "tests/conftest.py",
)
TEST_TIERS = ("tests/unit", "tests/integration", "tests/regression")
PORT_MODULES = ("ports/inbound.py", "ports/outbound.py")
MODEL = "domain/model.py"

# Readers of the clock or of randomness, by the module or class that holds them.
_READERS = (
    ("datetime.datetime", ("now", "utcnow", "today")),
    ("datetime.date", ("today",)),
    ("time", ("time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns")),
    ("time", ("process_time", "process_time_ns", "thread_time", "thread_time_ns")),
    ("time", ("clock_gettime", "clock_gettime_ns")),
    ("uuid", ("uuid1", "uuid4", "uuid6", "uuid7", "getnode")),
    ("os", ("urandom", "getrandom")),
)
NONDETERMINISTIC = frozenset(f"{owner}.{name}" for owner, names in _READERS for name in names)


def _index_by_prefix(names: Iterable[str]) -> dict[str, list[tuple[str, ...]]]:
    """What may follow each prefix of the names: "datetime.datetime" -> [("now",), ...]."""
    index: dict[str, list[tuple[str, ...]]] = {}
    for name in sorted(names):
        parts = name.split(".")
        for cut in range(1, len(parts) + 1):
            index.setdefault(".".join(parts[:cut]), []).append(tuple(parts[cut:]))
    return index


_NONDETERMINISTIC_AFTER = _index_by_prefix(NONDETERMINISTIC)
RANDOM_MODULES = frozenset({"random", "secrets"})
# Standard-library modules whose purpose is I/O.
_IO_GROUPS = (
    ("os", "io", "pathlib", "shutil", "tempfile", "glob", "fileinput", "mmap"),  # files
    ("socket", "socketserver", "ssl", "select", "selectors", "urllib", "http"),  # network
    ("ftplib", "smtplib", "poplib", "imaplib", "webbrowser"),  # network protocols
    ("subprocess", "sqlite3", "dbm", "shelve"),  # processes and storage
)
IO_MODULES = frozenset(module for group in _IO_GROUPS for module in group)
IO_BUILTINS = frozenset({"open", "print", "input"})
STDLIB = frozenset(sys.stdlib_module_names)

# The recursion limit while parsing a file the default limit cannot (deeply nested code).
DEEP_RECURSION_LIMIT = 20_000

# Skipped everywhere: byte-code caches and tool/VCS state are never components.
SKIPPED_DIRS = frozenset({"__pycache__"})

Target = tuple[str, ...]
_IMPORTER = {"HEX201": "domain module", "HEX202": "port module", "HEX203": "inbound adapter"}
SERVICE = "domain/service.py"
USE_CASES = "domain/use_cases"
HANDLER = "adapters/inbound/api_handler.py"
ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options"})
# Modules of the hexforge package a domain or port module may import: plain values
# of the standard library only (hexforge.actor's Actor).
DOMAIN_VALUES = frozenset({("hexforge", "actor")})


class Finding(NamedTuple):
    path: str
    line: int
    rule: str
    message: str
    fix: str

    def as_dict(self) -> dict[str, str | int]:
        return {
            "rule": self.rule,
            "path": self.path,
            "line": self.line,
            "message": self.message,
            "fix": self.fix,
        }

    def as_text(self) -> str:
        return f"{self.path}:{self.line}: {self.rule} {self.message} (fix: {self.fix})"


class Import(NamedTuple):
    """One import, found by the parser or by the text pre-check (which has no line)."""

    line: int
    level: int
    module: str
    names: tuple[tuple[str, str | None], ...]
    is_from: bool


class Component(NamedTuple):
    directory: str
    root_package: str


# --- Module names -------------------------------------------------------------------


def resolve_base(package: Target, level: int, module: str) -> Target | None:
    """The absolute module a `from <dots><module> import` reads, or None above the root."""
    if level == 0:
        return tuple(module.split("."))
    keep = len(package) - (level - 1)
    if keep < 1:
        return None
    base = package[:keep]
    return base + tuple(module.split(".")) if module else base


def import_targets(imp: Import, package: Target) -> list[Target | None]:
    """Every module (or module attribute) one import statement can bind."""
    if not imp.is_from:
        return [tuple(name.split(".")) for name, _ in imp.names]
    base = resolve_base(package, imp.level, imp.module)
    if base is None:
        return [None]
    return [base if name == "*" else (*base, name) for name, _ in imp.names]


def locate(target: Target, root_package: str) -> tuple[str, str, str] | None:
    """(component, layer, sub-layer) of a module inside the components package."""
    try:
        index = target.index(root_package)
    except ValueError:
        return None
    rest = target[index + 1 :]
    if not rest:
        return None
    return (rest[0], rest[1] if len(rest) > 1 else "", rest[2] if len(rest) > 2 else "")


def bindings(imports: Iterable[Import], package: Target) -> dict[str, str]:
    """Local name -> the dotted name it stands for, to see through aliases."""
    bound: dict[str, str] = {}
    for imp in imports:
        if not imp.is_from:
            for name, alias in imp.names:
                if alias:
                    bound[alias] = name
                else:
                    head = name.partition(".")[0]
                    bound[head] = head
            continue
        base = resolve_base(package, imp.level, imp.module)
        if base is None:
            continue
        dotted = ".".join(base)
        for name, alias in imp.names:
            if name == "*":
                # A star import of datetime/time/uuid still binds the clock readers.
                for forbidden in NONDETERMINISTIC:
                    module, _, rest = forbidden.partition(".")
                    if module == dotted:
                        first = rest.partition(".")[0]
                        bound[first] = f"{dotted}.{first}"
            else:
                bound[alias or name] = f"{dotted}.{name}"
    return bound


def resolve(dotted: str, bound: dict[str, str]) -> str:
    head, dot, rest = dotted.partition(".")
    canonical = bound.get(head)
    if canonical is None:
        return dotted
    return canonical + dot + rest


def dotted_name(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


# --- Text pre-check -----------------------------------------------------------------
#
# The pre-check may only ever conclude "clean". It reads every `import` keyword of
# the text and the line around it; whenever a line is not plainly an import
# statement (a string, a comment, a continuation) or anything could be a violation,
# the file goes through the parser, which alone produces findings. A docstring that
# shows an import is read as one: that costs a parse, never a missed finding.

_FROM_HEAD = re.compile(r"\s*from(?!\w)\s*(\.*)\s*([\w.]*)\s*")
_ALIAS = re.compile(r"\s*([\w.]+|\*)(?:\s+as\s+(\w+))?\s*")
_IO_WORD = re.compile(r"\b(?:open|print|input)\b")
_CLASS_BASES = re.compile(r"class[ \t]+\w+[ \t]*\(([^)]*)\)")
_WORD = re.compile(r"\w+")


def _is_word_char(text: str, index: int) -> bool:
    if 0 <= index < len(text):
        char = text[index]
        return char.isalnum() or char == "_"
    return False


def _aliases(text: str, dotted: bool) -> tuple[tuple[str, str | None], ...] | None:
    names: list[tuple[str, str | None]] = []
    for piece in text.split(","):
        if not piece.strip():
            continue
        match = _ALIAS.fullmatch(piece)
        if match is None or (not dotted and "." in match[1]):
            return None
        names.append((match[1], match[2]))
    return tuple(names) or None


_UNRELATED = Import(0, 0, "", (), is_from=False)


def _text_import(text: str, start: int, words: Sequence[str]) -> Import | None:
    """The import statement whose `import` keyword is at start; None if unsure, and
    _UNRELATED if words are given and the statement mentions none of them."""
    line_start = text.rfind("\n", 0, start) + 1
    if "\\" in text[max(line_start - 3, 0) : line_start]:
        return None  # a backslash-continued statement: leave it to the parser
    head = text[line_start:start]
    if "'" in head or '"' in head or "#" in head:
        return None
    head = head[max(head.rfind(";"), head.rfind(":")) + 1 :]
    end = start + len("import")
    rest = end
    while rest < len(text) and text[rest] in " \t":
        rest += 1
    if text.startswith("(", rest):
        close = text.find(")", rest)
        if close < 0 or "#" in text[rest:close]:
            return None  # a comment could hold the ")" found, hiding the names after it
        names_text = text[rest + 1 : close]
    else:
        line_end = text.find("\n", end)
        names_text = text[end : len(text) if line_end < 0 else line_end]
        names_text = names_text.partition(";")[0].partition("#")[0]
    if "'" in names_text or '"' in names_text or "\\" in names_text:
        return None
    if words and not any(word in head or word in names_text for word in words):
        return _UNRELATED
    if not head.strip():
        names = _aliases(names_text, dotted=True)
        return None if names is None else Import(0, 0, "", names, is_from=False)
    match = _FROM_HEAD.fullmatch(head)
    if match is None or not (match[1] or match[2]):
        return None
    names = _aliases(names_text, dotted=False)
    return None if names is None else Import(0, len(match[1]), match[2], names, is_from=True)


def text_imports(text: str, words: Sequence[str] = ()) -> list[Import] | None:
    """Every import statement of the text (if words are given, those that mention one
    of them), or None when any statement is not plainly readable."""
    if "__import__" in text or "import_module" in text:
        return None
    found: list[Import] = []
    start = text.find("import")
    while start >= 0:
        if not (_is_word_char(text, start - 1) or _is_word_char(text, start + 6)):
            imp = _text_import(text, start, words)
            if imp is None:
                return None
            if imp.is_from:
                found.append(imp)
            elif imp is not _UNRELATED:
                found.extend(imp._replace(names=(alias,)) for alias in imp.names)
        start = text.find("import", start + 6)
    return found


def without_docstrings(text: str) -> str:
    """The text with its plain triple-quoted statements (docstrings) replaced by "".

    Docstrings often mention "adapters" or "outbound". Only a string whose quotes open
    their line is removed: anything before them (a prefix such as f, a comment, another
    string) could mean they do not start a string. At the first doubt (the other quote
    style, a backslash) the text is returned unchanged, which is always safe.
    """
    if "'''" in text:
        return text
    pieces: list[str] = []
    last = 0
    start = text.find('"""')
    while start >= 0:
        close = text.find('"""', start + 3)
        if close < 0:
            return text
        line_start = text.rfind("\n", 0, start) + 1
        if text[line_start:start].strip() or "\\" in text[max(line_start - 3, 0) : close]:
            return text
        pieces += (text[last:start], '""')
        last = close + 3
        start = text.find('"""', last)
    pieces.append(text[last:])
    return "".join(pieces)


def code_of(data: bytes) -> str | None:
    """The source without docstrings, for the pre-checks; None when it is not UTF-8."""
    try:
        return without_docstrings(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None


# Every `def` and `class` that starts a line, in one pass. The last alternative
# catches the ones the first two cannot read (nested parentheses in a signature,
# for instance), which makes the module "unsure".
_DEFINITION = re.compile(
    r"""
    ^(?P<indent>[ \t]*)
    (?:
        (?P<decorators>(?:@[^\n]*\n[ \t]*)*)
        (?:async[ \t]+)?def[ \t]+(?P<name>\w+)[ \t]*
        \((?P<params>[^()]*(?:\([^()]*\)[^()]*)*)\)[ \t]*(?P<returns>->)?
      | class[ \t]+(?P<cls>\w+)[ \t]*(?:\((?P<bases>[^()]*)\))?[ \t]*:
      | (?P<unread>(?:async[ \t]+)?def\b|class\b)
    )
    """,
    re.MULTILINE | re.VERBOSE,
)
# A parameter with no annotation: a name right after "(" or a comma and followed by
# a comma, "=" or the end. Commas inside annotations (tuple[int, str]) can make it
# match an annotated parameter too, which only costs a parse.
_UNANNOTATED = re.compile(r"(?:^|,)\s*(\**)\w+\s*(?=[,=)]|$)")
_DOTTED = re.compile(r"[\w.]+")


def _abc_by_text(bases: str, bound: dict[str, str], abstract: set[str]) -> bool:
    for base in bases.split(","):
        key, equals, value = base.partition("=")
        if equals:
            if key.strip() == "metaclass" and resolve(value.strip(), bound) in (
                "abc.ABCMeta",
                "ABCMeta",
            ):
                return True
            continue
        base = base.strip()
        if _DOTTED.fullmatch(base) and (
            resolve(base, bound) in ("abc.ABC", "ABC") or base in abstract
        ):
            return True
    return False


def _method_clean_by_text(definition: re.Match[str], bound: dict[str, str]) -> bool:
    """Whether a method is abstract and fully annotated, as far as its text shows."""
    params = definition["params"]
    if not definition["returns"] or "#" in params or "'" in params or '"' in params:
        return False
    decorators = [
        line.strip()[1:].replace(" ", "")
        for line in definition["decorators"].split("\n")
        if line.strip()
    ]
    if not {resolve(d, bound) for d in decorators} & {"abc.abstractmethod", "abstractmethod"}:
        return False
    is_static = "staticmethod" in decorators
    for unannotated in _UNANNOTATED.finditer(params):
        # The first positional parameter is self or cls, typed by the class itself.
        first = unannotated.start() == 0 and params[: unannotated.start(1)].strip(", \t\n") == ""
        if not (first and not unannotated[1] and not is_static):
            return False
    return True


def port_definitions(code: str) -> tuple[list[re.Match[str]], set[str]] | None:
    """The class and def statements of a port module, and the words their bases and
    decorators use (only imports that bind one of those words matter), or None."""
    if '"""' in code or "'''" in code:
        return None  # a docstring was left in place: its lines could read as code
    definitions = list(_DEFINITION.finditer(code))
    words: set[str] = set()
    for definition in definitions:
        if definition["unread"]:
            return None
        words.update(_WORD.findall(definition["bases"] or definition["decorators"] or ""))
    return definitions, words


def ports_by_text(
    definitions: list[re.Match[str]], bound: dict[str, str]
) -> dict[str, set[str]] | None:
    """The public classes of a port module with the words of their bases, when the text
    shows plainly that every port rule holds; None when the parser has to decide.

    Every indented public `def` is held to the method rules: more than the parser
    checks (it looks at direct methods of public classes only), never less.
    """
    classes: dict[str, set[str]] = {}
    abstract: set[str] = set()
    for definition in definitions:
        name = definition["cls"]
        if name is None:
            if (
                definition["indent"]
                and not definition["name"].startswith("_")
                and not _method_clean_by_text(definition, bound)
            ):
                return None
            continue
        if definition["indent"]:
            continue
        bases = definition["bases"] or ""
        if _abc_by_text(bases, bound, abstract):
            abstract.add(name)
        elif not name.startswith("_"):
            return None
        if not name.startswith("_"):
            classes[name] = set(_WORD.findall(bases))
    return classes


def _follows_dot(text: str, word: str) -> bool:
    """Whether word may be an attribute: after a dot, maybe across whitespace. A word
    that opens a line counts too, since a comment may stand between it and the dot."""
    start = text.find(word)
    while start >= 0:
        before = start - 1
        while before >= 0 and text[before] in " \t\r\n\\":
            before -= 1
        if before >= 0 and (text[before] == "." or "\n" in text[before:start]):
            return True
        start = text.find(word, start + len(word))
    return False


# --- Parsed-tree helpers --------------------------------------------------------------


IMPORT_CALLABLES = frozenset({"__import__", "import_module"})


def _is_import_module(func: ast.expr, names: frozenset[str] = IMPORT_CALLABLES) -> bool:
    if isinstance(func, ast.Name):
        return func.id in names
    return isinstance(func, ast.Attribute) and func.attr in IMPORT_CALLABLES


def _import_callables(tree: ast.AST) -> frozenset[str]:
    """The names that call an import in this tree: ``import_module`` and
    ``__import__``, and what they are bound to (``from importlib import import_module
    as im``, ``im = importlib.import_module``)."""
    names = set(IMPORT_CALLABLES)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("importlib", "builtins"):
            names |= {
                alias.asname
                for alias in node.names
                if alias.name in IMPORT_CALLABLES and alias.asname
            }
    for node in ast.walk(tree):  # then names assigned from any of them
        if isinstance(node, ast.Assign) and _is_import_module(node.value, frozenset(names)):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
    return frozenset(names)


def statement_imports(node: ast.Import | ast.ImportFrom) -> list[Import]:
    if isinstance(node, ast.Import):
        return [
            Import(node.lineno, 0, "", ((alias.name, alias.asname),), is_from=False)
            for alias in node.names
        ]
    names = tuple((alias.name, alias.asname) for alias in node.names)
    return [Import(node.lineno, node.level, node.module or "", names, is_from=True)]


def tree_imports(tree: ast.AST) -> list[Import]:
    """Every import anywhere in the tree, including literal importlib calls."""
    found: list[Import] = []
    callables = _import_callables(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            found += statement_imports(node)
        elif (
            isinstance(node, ast.Call)
            and node.args
            and _is_import_module(node.func, callables)
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and not node.args[0].value.startswith(".")
        ):
            found.append(Import(node.lineno, 0, "", ((node.args[0].value, None),), is_from=False))
    # In file order, like the text pre-check: a later import of a name wins.
    return sorted(found, key=lambda imp: imp.line)


def _names_in(expressions: Iterable[ast.expr]) -> set[str]:
    names: set[str] = set()
    for expression in expressions:
        for node in ast.walk(expression):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
    return names


def _class_base_names(node: ast.ClassDef) -> set[str]:
    return _names_in([*node.bases, *(k.value for k in node.keywords)])


def _missing_annotations(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    is_static = any(
        dotted_name(d) in ("staticmethod", "builtins.staticmethod") for d in function.decorator_list
    )
    if positional and not is_static:
        positional = positional[1:]  # self or cls: typed by the class itself
    params = [*positional, *args.kwonlyargs]
    if args.vararg:
        params.append(args.vararg)
    if args.kwarg:
        params.append(args.kwarg)
    missing = [p.arg for p in params if p.annotation is None]
    if function.returns is None:
        missing.append("return")
    return missing


# --- The audit ------------------------------------------------------------------------


class Source(NamedTuple):
    path: str
    shown: str
    relative: str
    package: Target


class ComponentAudit:
    """Checks one component directory and collects its findings."""

    def __init__(self, component: Component, shown: str, *, fast: bool) -> None:
        self.directory = component.directory
        self.root = component.root_package
        self.name = os.path.basename(component.directory)
        self.shown = shown
        self.fast = fast
        self.findings: list[Finding] = []

    # Reporting

    def report(self, rule: str, shown: str, line: int, message: str) -> None:
        self.findings.append(Finding(shown, line, rule, message, RULES[rule].fix))

    def shown_path(self, relative: str) -> str:
        return relative if self.shown == "." else f"{self.shown}/{relative}"

    def source(self, relative: str) -> Source:
        parts = relative.split("/")
        return Source(
            os.path.join(self.directory, *parts),
            self.shown_path(relative),
            relative,
            (self.root, self.name, *parts[:-1]),
        )

    def read(self, source: Source) -> bytes | None:
        try:
            with open(source.path, "rb") as handle:
                return handle.read()
        except OSError as error:
            self.report("HEX001", source.shown, 0, f"cannot read the file: {error.strerror}")
            return None

    def parse(self, source: Source, data: bytes) -> ast.Module | None:
        try:
            return parse_source(data, source.path)
        except (SyntaxError, ValueError) as error:
            line = error.lineno if isinstance(error, SyntaxError) and error.lineno else 0
            detail = error.msg if isinstance(error, SyntaxError) else str(error)
            self.report("HEX001", source.shown, line, f"cannot parse the file: {detail}")
        except (RecursionError, MemoryError):
            self.report(
                "HEX001",
                source.shown,
                0,
                "cannot analyse the file: its code is nested too deeply for Python's parser",
            )
        return None

    # Entry point

    def run(self) -> list[Finding]:
        files, dirs = self.listing()
        for relative in REQUIRED_FILES:
            if relative not in files:
                self.report("HEX101", self.shown_path(relative), 0, f"{relative} is missing")
        for relative in TEST_TIERS:
            if relative not in dirs:
                self.report(
                    "HEX102", self.shown_path(relative), 0, f"test tier {relative}/ is missing"
                )
        ports: dict[str, tuple[int, set[str]]] = {}
        for relative in sorted(files):
            if not relative.endswith(".py"):
                continue
            layer = _layer(relative)
            if relative == MODEL:
                self.check_model(self.source(relative))
            elif relative in PORT_MODULES:
                found = self.check_port_module(self.source(relative))
                if relative == "ports/outbound.py" and found is not None:
                    ports = found
            elif layer:
                self.check_direction(self.source(relative), layer)
        if ports:
            memory = [
                r
                for r in sorted(files)
                if r.startswith("adapters/outbound/memory_")
                and r.endswith(".py")
                and r.count("/") == 2
            ]
            self.check_memory_twins(ports, self.source("ports/outbound.py"), memory)
        if SERVICE in files:
            self.check_use_cases(self.source(SERVICE))
        for relative in sorted(files):
            if _is_use_case_module(relative):
                self.check_use_cases(self.source(relative), module=True)
        if HANDLER in files:
            self.check_access(self.source(HANDLER), ".copier-answers.yml" in files)
        return self.findings

    def listing(self) -> tuple[set[str], set[str]]:
        """Relative paths of the files and directories the rules look at.

        Symbolic links are followed, but a directory already listed (by another path) is
        not listed again: a link to a parent cannot make the walk endless, nor show the
        component's files again under a layer they are not in.
        """
        files: set[str] = set()
        dirs: set[str] = set()
        visited = {_identity(self.directory)}
        pending = [""]
        while pending:
            relative = pending.pop()
            try:
                with os.scandir(os.path.join(self.directory, relative)) as entries:
                    for entry in entries:
                        path = f"{relative}{entry.name}"
                        if _is_dir(entry):
                            if entry.name in SKIPPED_DIRS or entry.name.startswith("."):
                                continue
                            identity = _identity(entry.path)
                            if identity in visited:
                                continue
                            visited.add(identity)
                            dirs.add(path)
                            # Test code is not audited: list tests/ itself, not its tiers.
                            if path.partition("/")[0] in ("domain", "ports", "adapters") or (
                                path == "tests"
                            ):
                                pending.append(path + "/")
                        elif entry.is_file():
                            files.add(path)
            except OSError:
                continue
        return files, dirs

    # Dependency direction

    def direction_rule(self, layer: str, target: Target | None) -> str | None:
        if target is None:
            return None
        where = locate(target, self.root)
        if where is None or where[1] != "adapters":
            return None
        if layer == "domain":
            return "HEX201"
        if layer == "ports":
            return "HEX202"
        if layer == "inbound" and where[2] == "outbound":
            return "HEX203"
        return None

    def layer_rule(self, relative: str, target: Target | None) -> str | None:
        """HEX204-HEX206: what a module under domain/ or ports/ may import besides the
        standard library (adapters are the direction rules' business)."""
        if target is None:
            return "HEX205"  # a relative import that climbs out of the components package
        where = locate(target, self.root)
        if where is None:
            if target[0] in STDLIB or target[:2] in DOMAIN_VALUES:
                return None
            return "HEX205" if target[0] == self.root else "HEX204"
        component, layer, _ = where
        if layer == "adapters":
            return None
        if component != self.name or layer not in ("domain", "ports"):
            return "HEX205"
        if layer == "ports" and relative.startswith("domain/") and not _is_service(relative):
            return "HEX206"
        return None

    def import_rule(self, source: Source, layer: str, target: Target | None) -> str | None:
        """The rule one imported module breaks, if any; the model's own rules (HEX301)
        are checked by check_model."""
        rule = self.direction_rule(layer, target)
        if rule is None and layer in ("domain", "ports") and source.relative != MODEL:
            rule = self.layer_rule(source.relative, target)
        if rule is None and layer not in ("domain", "ports"):
            rule = self.component_rule(layer, target)
        return rule

    def component_rule(self, layer: str, target: Target | None) -> str | None:
        """HEX207: outside domain/ and ports/ (HEX205's), another component is imported
        only by an outbound adapter, and only through its public API."""
        where = None if target is None else locate(target, self.root)
        if where is None or where[0] == self.name:
            return None
        if layer == "outbound" and where[1] not in INTERNALS:
            return None
        return "HEX207"

    def report_imports(self, source: Source, layer: str, imports: Iterable[Import]) -> None:
        """One finding per import statement: the first rule one of its names breaks."""
        for imp in imports:
            for target in import_targets(imp, source.package):
                rule = self.import_rule(source, layer, target)
                if rule is not None:
                    self.report(rule, source.shown, imp.line, _import_message(rule, target))
                    break

    def imports_clean_by_text(self, code: str | None, source: Source, layer: str) -> bool:
        if code is None:
            return False
        if layer in ("inbound", "outbound", "adapters", "package"):
            other = _may_reach_another_component(code)
            # Any import that reaches an outbound adapter spells "outbound" somewhere.
            if not other and (layer != "inbound" or "outbound" not in code):
                return True
            imports = text_imports(code) if other else text_imports(code, ("outbound",))
        else:
            imports = text_imports(code)
        return imports is not None and not any(
            self.import_rule(source, layer, target)
            for imp in imports
            for target in import_targets(imp, source.package)
        )

    def check_direction(self, source: Source, layer: str) -> None:
        data = self.read(source)
        if data is None:
            return
        # Every form of import spells "import" (import_module and __import__ included).
        if b"import" not in data:
            return
        if (
            layer in ("inbound", "outbound", "adapters", "package")
            and b"components" not in data
            and b"from .." not in data
            and (layer != "inbound" or b"outbound" not in data)
        ):
            return
        if self.fast and self.imports_clean_by_text(code_of(data), source, layer):
            return
        tree = self.parse(source, data)
        if tree is not None:
            self.report_imports(source, layer, tree_imports(tree))

    # Domain model purity

    def model_import_rule(self, target: Target | None) -> str | None:
        if target is None:
            return "HEX301"
        where = locate(target, self.root)
        if where is not None and where[:2] == (self.name, "domain"):
            return None
        top = target[0]
        if top in RANDOM_MODULES:
            return "HEX302"
        if top in IO_MODULES:
            return "HEX303"
        if top in STDLIB and where is None:
            return None
        return "HEX301"

    def model_clean_by_text(self, text: str | None, source: Source) -> bool:
        if text is None:
            return False
        imports = text_imports(text)
        if imports is None:
            return False
        for imp in imports:
            for target in import_targets(imp, source.package):
                if self.direction_rule("domain", target) or self.model_import_rule(target):
                    return False
        if any(name in text for name in IO_BUILTINS) and _IO_WORD.search(text):
            return False
        # A clock or random reader is either a name bound by an import (uuid4) or an
        # attribute reached through one (dt.now, datetime.date.today): if any of those
        # words could be in use, the parser decides.
        bare, attributes = _nondeterministic_words(bindings(imports, source.package))
        return not any(word in text for word in bare) and not any(
            _follows_dot(text, word) for word in attributes
        )

    def check_model(self, source: Source) -> None:
        data = self.read(source)
        if data is None:
            return
        if self.fast and self.model_clean_by_text(code_of(data), source):
            return
        tree = self.parse(source, data)
        if tree is None:
            return
        imports = tree_imports(tree)
        self.report_imports(source, "domain", imports)
        for imp in imports:
            for target in import_targets(imp, source.package):
                if self.direction_rule("domain", target):
                    break
                rule = self.model_import_rule(target)
                if rule is not None:
                    self.report(rule, source.shown, imp.line, _model_import_message(rule, target))
                    break
        bound = bindings(imports, source.package)
        for line, spelled, canonical in _nondeterministic_uses(tree, bound):
            self.report(
                "HEX302",
                source.shown,
                line,
                f"{spelled} is non-deterministic ({canonical})",
            )
        for line, name in _io_calls(tree, bound):
            self.report("HEX303", source.shown, line, f"{name}() does I/O")

    # Ports

    def check_port_module(self, source: Source) -> dict[str, tuple[int, set[str]]] | None:
        """Check a port module; return its public classes (line, port base names)."""
        data = self.read(source)
        if data is None:
            return None
        if self.fast:
            found = self.port_module_by_text(source, data)
            if found is not None:
                return found
        tree = self.parse(source, data)
        if tree is None:
            return None
        imports = tree_imports(tree)
        self.report_imports(source, "ports", imports)
        bound = bindings(imports, source.package)
        abstract: set[str] = set()
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            if _is_abc(node, bound, abstract):
                abstract.add(node.name)
            if node.name.startswith("_"):
                continue
            if node.name not in abstract:
                self.report("HEX401", source.shown, node.lineno, f"port {node.name} is not an ABC")
            self.check_port_methods(source, node, bound)
        return _port_classes(tree)

    def port_module_by_text(
        self, source: Source, data: bytes
    ) -> dict[str, tuple[int, set[str]]] | None:
        """The port classes when the text pre-check finds the module clean (their lines
        are 0: only a HEX501 finding needs them, and it parses the module then)."""
        code = code_of(data)
        found = port_definitions(code) if code is not None else None
        if code is None or found is None:
            return None
        definitions, _ = found
        imports = text_imports(code)
        if imports is None:
            return None
        if any(
            self.import_rule(source, "ports", target)
            for imp in imports
            for target in import_targets(imp, source.package)
        ):
            return None
        classes = ports_by_text(definitions, bindings(imports, source.package))
        if classes is None:
            return None
        return {name: (0, bases & classes.keys()) for name, bases in classes.items()}

    def check_port_methods(self, source: Source, node: ast.ClassDef, bound: dict[str, str]) -> None:
        for item in node.body:
            if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if item.name.startswith("_"):
                continue
            method = f"{node.name}.{item.name}"
            decorators = {resolve(d, bound) for d in map(dotted_name, item.decorator_list) if d}
            if not decorators & {"abc.abstractmethod", "abstractmethod"}:
                self.report("HEX402", source.shown, item.lineno, f"{method} is not @abstractmethod")
            missing = _missing_annotations(item)
            if missing:
                self.report(
                    "HEX403",
                    source.shown,
                    item.lineno,
                    f"{method} has no annotation for: {', '.join(missing)}",
                )

    def check_memory_twins(
        self, ports: dict[str, tuple[int, set[str]]], outbound: Source, memory: list[str]
    ) -> None:
        contents = [(source, self.read(source)) for source in map(self.source, memory)]
        if self.fast:
            named: set[str] = set()
            for _, data in contents:
                code = code_of(data) if data is not None else None
                if code is not None:
                    named |= _class_base_words(code)
            if not _unimplemented(ports, named):
                return
        if not all(line for line, _ in ports.values()):
            # The text pre-check gives no lines: the module's tree does.
            data = self.read(outbound)
            tree = self.parse(outbound, data) if data is not None else None
            ports = _port_classes(tree) if tree is not None else {}
        named = set()
        for source, data in contents:
            # A memory module that never spells a port's name cannot implement it.
            if data is None or not any(name.encode() in data for name in ports):
                continue
            tree = self.parse(source, data)
            if tree is not None:
                for node in ast.walk(tree):
                    if isinstance(node, ast.ClassDef):
                        named |= _class_base_names(node)
        for name in sorted(_unimplemented(ports, named), key=lambda n: ports[n][0]):
            self.report(
                "HEX501",
                outbound.shown,
                ports[name][0],
                f"port {name} has no in-memory implementation in adapters/outbound/memory_*.py",
            )

    # Access control

    def check_access(self, source: Source, has_answers: bool) -> None:
        """HEX701: with access control on (the component answered auth=jwt, or its
        handler declares a rule anywhere), each route declares its access rule, an
        ``access.rule(...)`` parameter or dependency: no route nobody decided about."""
        data = self.read(source)
        if data is None:
            return
        required = b"access.rule(" in data or (has_answers and _answered_jwt(self.directory))
        if not required:
            return
        tree = self.parse(source, data)
        if tree is None:
            return
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if any(_is_route(decorator) for decorator in function.decorator_list) and not (
                _declares_rule(function)
            ):
                self.report(
                    "HEX701",
                    source.shown,
                    function.lineno,
                    f"route {function.name} has no access rule",
                )

    # Use cases

    def check_use_cases(self, source: Source, *, module: bool = False) -> None:
        """HEX601: each use case whose body still raises NotImplementedError: a method of
        domain/service.py (components from before 0.10) or, with ``module``, a function
        of a use case's own module (the starter hexforge writes in domain/use_cases/).

        Only a file that mentions NotImplementedError is parsed (most never do).
        """
        data = self.read(source)
        if data is None or b"NotImplementedError" not in data:
            return
        tree = self.parse(source, data)
        if tree is None:
            return
        found = _unimplemented_functions(tree) if module else _unimplemented_methods(tree)
        for name, line in found:
            self.report(
                "HEX601",
                source.shown,
                line,
                f"use case {name} is not implemented: {name}() still raises NotImplementedError",
            )


def _answered_jwt(component: str) -> bool:
    """Whether the component's answers file says ``auth: jwt`` (read as text: the
    audit needs nothing beyond the standard library)."""
    try:
        with open(os.path.join(component, ".copier-answers.yml"), encoding="utf-8") as answers:
            text = answers.read(100_000)
    except (OSError, UnicodeDecodeError):
        return False
    return re.search(r"""^auth:\s*['"]?jwt['"]?\s*$""", text, re.MULTILINE) is not None


def _is_route(decorator: ast.expr) -> bool:
    """``@<router>.get(...)`` and the other HTTP methods, ``@<router>.api_route(...)``."""
    call = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(call, ast.Attribute) and (
        call.attr in ROUTE_METHODS or call.attr == "api_route"
    )


def _is_rule_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "rule"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "access"
    )


def _declares_rule(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether a route states its access rule: in a parameter's annotation or default,
    or in its decorator's ``dependencies``."""
    arguments = function.args
    places: list[ast.AST] = [
        *(
            argument.annotation
            for argument in (*arguments.args, *arguments.kwonlyargs)
            if argument.annotation is not None
        ),
        *arguments.defaults,
        *(default for default in arguments.kw_defaults if default is not None),
        *function.decorator_list,
    ]
    return any(_is_rule_call(node) for place in places for node in ast.walk(place))


def _is_use_case_module(relative: str) -> bool:
    """domain/use_cases/<name>.py: the module holding one use case's rule."""
    folder, _, name = relative.rpartition("/")
    return folder == USE_CASES and name.endswith(".py") and name != "__init__.py"


def _unimplemented_functions(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """(function, line of its raise) for each module-level function of ``tree`` that
    raises NotImplementedError in its own body."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            line = _raises_not_implemented(node.body)
            if line is not None:
                yield node.name, line


def _unimplemented_methods(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """(method, line of its raise) for each method of a class in ``tree`` that raises
    NotImplementedError in its own body (not in a nested function or class)."""
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        for method in node.body:
            if isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
                line = _raises_not_implemented(method.body)
                if line is not None:
                    yield method.name, line


def _raises_not_implemented(statements: list[ast.stmt]) -> int | None:
    """The line of the first ``raise NotImplementedError`` among ``statements`` and the
    blocks they hold, nested definitions left out."""
    pending = list(statements)
    while pending:
        statement = pending.pop(0)
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        if isinstance(statement, ast.Raise) and statement.exc is not None:
            raised = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
            if isinstance(raised, ast.Name) and raised.id == "NotImplementedError":
                return statement.lineno
        pending[:0] = [
            child
            for field in ("body", "orelse", "finalbody", "handlers", "cases")
            for child in getattr(statement, field, [])
            if isinstance(child, ast.stmt)
        ]
        for handler in getattr(statement, "handlers", []):
            pending.extend(handler.body)
        for case in getattr(statement, "cases", []):
            pending.extend(case.body)
    return None


def parse_source(data: bytes, filename: str) -> ast.Module:
    """ast.parse, with room for long expressions: CPython builds a 3000-term sum
    recursively and would stop at the default recursion limit."""
    try:
        return ast.parse(data, filename=filename)
    except RecursionError:
        pass
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, DEEP_RECURSION_LIMIT))
    try:
        return ast.parse(data, filename=filename)
    finally:
        sys.setrecursionlimit(limit)


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """Whether the entry is a directory, following links; a broken or looping link is not."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _identity(path: str) -> tuple[int, int] | str:
    """What makes two paths one directory: device and inode (the real path if stat fails)."""
    try:
        status = os.stat(path)
    except OSError:
        return os.path.realpath(path)
    return (status.st_dev, status.st_ino)


def _layer(relative: str) -> str:
    """Which direction rules apply to a file: domain, ports, inbound, outbound,
    adapters (the rest of adapters/), package (the component's own modules), or none."""
    if relative.startswith("domain/"):
        return "domain"
    if relative.startswith("ports/"):
        return "ports"
    if relative.startswith("adapters/inbound/"):
        return "inbound"
    if relative.startswith("adapters/outbound/"):
        return "outbound"
    if relative.startswith("adapters/"):
        return "adapters"
    if "/" not in relative:
        return "package"
    return ""


# A component's modules behind its public API: another component never imports them.
INTERNALS = frozenset({"domain", "ports", "adapters", "tests"})


def _may_reach_another_component(text: str) -> bool:
    # An import of another component names the components package, or climbs to it
    # with a relative import of two dots or more.
    return "components" in text or "from .." in text


def _is_abc(node: ast.ClassDef, bound: dict[str, str], abstract: set[str]) -> bool:
    for base in node.bases:
        dotted = dotted_name(base)
        if dotted is not None and (
            resolve(dotted, bound) in ("abc.ABC", "ABC") or dotted in abstract
        ):
            return True
    for keyword in node.keywords:
        dotted = dotted_name(keyword.value)
        if (
            keyword.arg == "metaclass"
            and dotted is not None
            and resolve(dotted, bound) in ("abc.ABCMeta", "ABCMeta")
        ):
            return True
    return False


def _port_classes(tree: ast.Module) -> dict[str, tuple[int, set[str]]]:
    """Public classes of a port module: their line, and the ports among their bases."""
    classes = {
        node.name: (node.lineno, _class_base_names(node))
        for node in tree.body
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_")
    }
    return {name: (line, bases & classes.keys()) for name, (line, bases) in classes.items()}


def _unimplemented(ports: dict[str, tuple[int, set[str]]], named: set[str]) -> set[str]:
    """Ports with no implementation; implementing a port also covers the ports it extends."""
    covered: set[str] = set()
    pending = [name for name in ports if name in named]
    while pending:
        name = pending.pop()
        if name not in covered:
            covered.add(name)
            pending.extend(ports[name][1])
    return set(ports) - covered


def _is_service(relative: str) -> bool:
    """domain/service.py, or a domain/service/ package that grew out of it."""
    return relative == SERVICE or relative.startswith("domain/service/")


def _import_message(rule: str, target: Target | None) -> str:
    if target is None:
        return "relative import reaches above the components package"
    module = ".".join(target)
    if rule in _IMPORTER:
        return f"{_IMPORTER[rule]} imports {module}"
    if rule == "HEX204":
        return f"imports {module}, which is not in the standard library"
    if rule == "HEX205":
        return f"imports {module}, outside this component's domain and ports"
    if rule == "HEX207":
        return (
            f"imports {module}: another component is imported only by adapters/outbound/, "
            "and only its public API"
        )
    return f"imports {module}: only {SERVICE} may use the ports"


def _model_import_message(rule: str, target: Target | None) -> str:
    if target is None:
        return "relative import reaches above the components package"
    module = ".".join(target)
    if rule == "HEX302":
        return f"imports {module}: randomness"
    if rule == "HEX303":
        return f"imports {module}: I/O"
    return f"imports {module}, which is neither stdlib nor this component's domain"


def _nondeterministic_words(bound: dict[str, str]) -> tuple[set[str], set[str]]:
    """The local names bound to a clock or random reader, and the attribute names that
    reach one through a bound module or class (now, today, uuid4...)."""
    bare: set[str] = set()
    attributes: set[str] = set()
    for local, canonical in bound.items():
        for rest in _NONDETERMINISTIC_AFTER.get(canonical, ()):
            if rest:
                attributes.add(rest[-1])
            else:
                bare.add(local)
    return bare, attributes


def _class_base_words(text: str) -> set[str]:
    """Words in the bases of every class statement that starts a line (none when a
    docstring was left in place, as its lines could read as class statements)."""
    words: set[str] = set()
    if '"""' in text or "'''" in text:
        return words
    for match in _CLASS_BASES.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        if not text[line_start : match.start()].strip():
            words.update(_WORD.findall(match[1]))
    return words


def _nondeterministic_uses(tree: ast.AST, bound: dict[str, str]) -> Iterator[tuple[int, str, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute | ast.Name):
            spelled = dotted_name(node)
            if spelled is not None:
                canonical = resolve(spelled, bound)
                if canonical in NONDETERMINISTIC:
                    yield node.lineno, spelled, canonical


def _io_calls(tree: ast.Module, bound: dict[str, str]) -> Iterator[tuple[int, str]]:
    defined = set(bound)
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(statement.name)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in IO_BUILTINS
            and node.func.id not in defined
        ):
            yield node.lineno, node.func.id


# --- Command line -------------------------------------------------------------------


def shown_path(path: str) -> str:
    """The path relative to the working directory when it is below it."""
    relative = os.path.relpath(path)
    if relative == ".." or relative.startswith(".." + os.sep):
        relative = path
    return relative.replace(os.sep, "/")


def _is_component(path: str) -> bool:
    return os.path.isdir(os.path.join(path, "domain")) or os.path.isdir(os.path.join(path, "ports"))


def discover(paths: Sequence[str]) -> list[Component]:
    """The component directories named by the command line, each once, in order.

    A directory reached twice (through a symbolic link, or named twice) is audited
    once; a link back to the folder of components (or above) is not a component.
    """
    seen: set[tuple[int, int] | str] = set()
    components: list[Component] = []
    for given in paths:
        path = os.path.abspath(given)
        if not os.path.exists(path):
            raise UsageError(f"{given}: no such directory")
        if not os.path.isdir(path):
            raise UsageError(f"{given}: not a directory (pass components/ or one component)")
        if _is_component(path):
            candidates = [path]
        else:
            with os.scandir(path) as entries:
                candidates = sorted(
                    entry.path
                    for entry in entries
                    if _is_dir(entry)
                    and entry.name not in SKIPPED_DIRS
                    and not entry.name.startswith(".")
                )
            real = os.path.realpath(path)
            candidates = [
                candidate
                for candidate in candidates
                if not _is_within(real, os.path.realpath(candidate))
            ]
        for candidate in candidates:
            identity = _identity(candidate)
            if identity not in seen:
                seen.add(identity)
                root = os.path.basename(os.path.dirname(candidate))
                components.append(Component(candidate, root))
    return components


def _is_within(path: str, ancestor: str) -> bool:
    """Whether path is ancestor or below it (both real paths)."""
    return path == ancestor or path.startswith(ancestor.rstrip(os.sep) + os.sep)


class Report(NamedTuple):
    components: int
    failing: int
    findings: list[Finding]

    def summary(self) -> dict[str, object]:
        by_rule: dict[str, int] = {}
        for finding in self.findings:
            by_rule[finding.rule] = by_rule.get(finding.rule, 0) + 1
        return {
            "components": self.components,
            "components_with_findings": self.failing,
            "findings": len(self.findings),
            "by_rule": dict(sorted(by_rule.items())),
        }


def audit(components: Sequence[Component], *, fast: bool = True) -> Report:
    """Audit the components; findings sorted by path and line.

    fast=False sends every file the rules concern through the parser: the tests use
    it to prove that the text pre-checks never hide a finding.
    """
    findings: set[Finding] = set()
    failing = 0
    for component in components:
        shown = shown_path(component.directory)
        found = ComponentAudit(component, shown, fast=fast).run()
        failing += bool(found)
        findings.update(found)
    return Report(len(components), failing, sorted(findings))


def _parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="hex_audit.py",
        description="Audit hexagonal components: structure, dependency direction, "
        "domain model purity, ports, in-memory adapters.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="rules (what each one checks, and the canonical tree, in the docstring of\n"
        f"{__file__}):\n" + "\n".join(f"  {rule.id}  {rule.title}" for rule in RULES.values()),
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="a directory of components or one component directory (default: components/)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="one line per finding and a summary (text, the default), or one JSON document",
    )
    return parser


def default_target() -> str:
    """``components/`` here, else the project's (found as hexforge commands find it)."""
    root = project_root()
    if Path("components").is_dir() or root == Path.cwd().resolve():
        return "components/"
    return f"{root / 'components'}/"


def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        components = discover(args.paths or [default_target()])
    except OSError as error:
        raise UsageError(f"{error.filename}: {error.strerror}") from error
    report = audit(components)
    if args.format == "json":
        document = {
            "findings": [finding.as_dict() for finding in report.findings],
            "summary": report.summary(),
        }
        print(json.dumps(document, indent=2))
    else:
        for finding in report.findings:
            print(finding.as_text())
        if report.findings:
            print(
                f"hex_audit: {len(report.findings)} finding(s) in {report.failing}"
                f" of {report.components} component(s)"
            )
        else:
            print(f"hex_audit: {report.components} component(s) checked, no findings")
    return 1 if report.findings else 0


def main(argv: Sequence[str] | None = None) -> int:
    return cli(run, argv, prog="hex_audit")
