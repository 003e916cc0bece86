"""Apply each component's SQL migrations to a PostgreSQL database, once each, in order.

    python tools/migrate.py up     [--database-url URL] [--format text|json] [--lock-timeout S]
    python tools/migrate.py plan   [--database-url URL] [--format text|json]
    python tools/migrate.py status [--database-url URL] [--format text|json]
    python tools/migrate.py drop NAME [--yes] [--database-url URL] [--format text|json]

``up`` applies what is pending, ``plan`` prints the SQL ``up`` would run and
changes nothing, ``status`` lists every migration (applied, pending, changed,
missing) and the components whose code is gone but whose data remains. ``drop
NAME`` removes the data of a component whose code ``tools/remove.py`` removed:
without ``--yes`` it only prints what it would drop. The database is
``--database-url`` or else the ``DATABASE_URL`` variable (a ``postgresql://`` URL
or a ``key=value`` connection string).

Exit status: 0 done; 1 refused or failed (the one line on stderr names the file
or the database and the fix); 2 usage error (bad arguments, no or malformed URL).

**Files.** Each component owns its migrations, plain SQL files in
``components/<name>/adapters/outbound/migrations/NNNN_<slug>.sql``: ``NNNN`` is
four digits from ``0001`` with no gap and no repeat, ``<slug>`` lower-case
letters, digits and single underscores. An applied migration never changes:
``up`` keeps each file's SHA-256 (of its text with ``\\n`` line ends and no byte
order mark, so a checkout that converts line endings is not a change) and refuses
to run when an applied file changed or disappeared, naming it, or when a pending
file is numbered before one already applied. Changes go in a new file.

**Header directives.** The comment lines at the top of a file may hold
``-- hexforge: ...`` lines (anywhere else they are refused, as are unknown ones):

- ``-- hexforge: after <component>/<NNNN>`` applies this file after that
  migration of another component (a foreign key needs the other table first).
  Otherwise the order is stable: component name, then version.
- ``-- hexforge: owns table|view|sequence|type <name>`` records, when the file
  is applied, that the component owns that object, so that ``drop`` knows what
  to remove after the code is gone. Every ``CREATE TABLE/VIEW/SEQUENCE/TYPE`` in
  a component's migrations must be declared by one of its files.
- ``-- hexforge: no-transaction`` runs the file outside a transaction, one
  statement at a time: needed by ``CREATE INDEX CONCURRENTLY`` and its kin,
  which PostgreSQL refuses inside one (a file using them without the directive
  is refused). After a failure ``up`` runs such a file again from its first
  statement, so it may only hold statements that are safe to repeat:
  ``CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS``, ``DROP INDEX
  CONCURRENTLY IF EXISTS``, ``REINDEX ... CONCURRENTLY``, ``ALTER TYPE ... ADD
  VALUE IF NOT EXISTS``, ``ALTER TABLE ... VALIDATE CONSTRAINT``, ``VACUUM``,
  ``ANALYZE``. Their locks let reads and writes through, so they wait for a busy
  table instead of timing out. A concurrent index build that fails leaves an
  INVALID index that ``IF NOT EXISTS`` would then skip: ``up`` checks the file's
  indexes before and after and names an invalid one with the command that
  removes it.

Every other file runs in its own transaction together with its history row:
it is applied whole or not at all, and the migrations before it stay applied.
Transaction control (``BEGIN``, ``COMMIT``...) inside a file is refused.

**Database.** ``up`` takes a PostgreSQL advisory lock first (two ``up`` at once:
the second waits, then finds nothing left to do). Each migration in a transaction
runs with ``lock_timeout`` (``--lock-timeout``, default 5 seconds): an ``ALTER
TABLE`` waiting for a busy table fails, and can be run again, instead of stalling
every query queued behind it. History lives in ``hexforge_migrations``
(component, version, name, checksum, applied_at) and what components own in
``hexforge_owned`` (component, kind, name, version); ``up`` creates both.
``drop`` drops the recorded objects (no ``CASCADE``: a
table another component still references is refused by PostgreSQL) and the
component's history, in one transaction.

**From Python** (the composition root): ``pending(conninfo)`` returns the
pending migrations in the order ``up`` applies them and ``apply(conninfo)``
applies them; both raise :class:`MigrationError` with the same one-line message.
The application's start (app/main.py) uses them: it refuses to serve while
migrations are pending, unless ``HEXFORGE_MIGRATE_ON_START=1`` asks it to apply them.
Importable as ``tools.migrate`` from the project root.

Standard library and psycopg 3 (imported only when a database is needed, so
``--help`` and usage errors work without it).
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import importlib.util
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hexforge.core import (
    ArgumentParser,
    Refused,
    UsageError,
    cli,
    positive_seconds,
    project_root,
    read_text,
)

if TYPE_CHECKING:
    import psycopg


def components_root() -> Path:
    """Where ``components/`` is: the project around the current folder, else the
    installed ``components`` package (a service installed from its wheel, run from
    any folder)."""
    root = project_root()
    if (root / "components").is_dir():
        return root
    spec = importlib.util.find_spec("components")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))).parent
    return root


MIGRATIONS_DIR = Path("adapters", "outbound", "migrations")
HISTORY = "hexforge_migrations"
OWNED = "hexforge_owned"
# One key for every hexforge migration run on a database: "hexforge" as a bigint.
LOCK_KEY = int.from_bytes(b"hexforge", "big")
DEFAULT_LOCK_TIMEOUT = 5.0
LOCK_POLL_S = 0.2  # how often a waiting run tries the migration lock again
CONNECT_TIMEOUT = 10  # seconds; an unreachable host fails instead of hanging
KINDS = ("view", "table", "sequence", "type")  # also the order drop removes them in

FILE_NAME = re.compile(r"(\d{4})_([a-z0-9]+(?:_[a-z0-9]+)*)\.sql")
COMPONENT_NAME = re.compile(r"[a-z_][a-z0-9_]*")
OBJECT_NAME = re.compile(r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)?")
DIRECTIVE = re.compile(r"--\s*hexforge:(.*)", re.IGNORECASE)  # a miscased one is refused
AFTER = re.compile(r"after\s+([a-z_][a-z0-9_]*)/(\d{4})")
OWNS = re.compile(r"owns\s+(\w+)\s+(\S+)")

# Statements PostgreSQL refuses inside a transaction block.
NEEDS_NO_TRANSACTION = re.compile(
    r"(?:create\s+(?:unique\s+)?index\s+concurrently|drop\s+index\s+concurrently"
    r"|reindex\b.*\bconcurrently|vacuum|create\s+database|drop\s+database|alter\s+system)\b",
    re.IGNORECASE,
)
# What a no-transaction file may hold: statements that are safe to run again.
REPEATABLE = re.compile(
    r"(?:create\s+(?:unique\s+)?index\s+concurrently\s+if\s+not\s+exists"
    r"|drop\s+index\s+concurrently\s+if\s+exists"
    r"|reindex\b.*\bconcurrently"
    r"|alter\s+type\b.*\badd\s+value\s+if\s+not\s+exists"
    r"|alter\s+table\b.*\bvalidate\s+constraint"
    r"|vacuum|analyze)\b",
    re.IGNORECASE,
)
CONCURRENT_INDEX = re.compile(
    r"create\s+(?:unique\s+)?index\s+concurrently\s+if\s+not\s+exists\s+"
    r'("(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)',
    re.IGNORECASE,
)
DO_BLOCK = re.compile(r"do\b", re.IGNORECASE)
# Every CREATE of an owned kind, named or not (a name built by EXECUTE ... || ...).
CREATES_KIND = re.compile(
    r"\bcreate\s+(?:or\s+replace\s+)?(?:unlogged\s+)?(?:table|view|sequence|type)\b",
    re.IGNORECASE,
)
TRANSACTION_CONTROL = re.compile(
    r"(?:begin|commit|rollback|end|abort|savepoint|release|start\s+transaction"
    r"|prepare\s+transaction)\b",
    re.IGNORECASE,
)
CREATES = re.compile(
    r"create\s+(?:or\s+replace\s+)?(?:unlogged\s+)?"
    r"(table|view|sequence|type)\s+(?:if\s+not\s+exists\s+)?"
    r'((?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)(?:\.(?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*))?)',
    re.IGNORECASE,
)


class MigrationError(Refused):
    """Migrations cannot be applied or read; the message names the file or database and the fix."""


class BadDatabaseUrl(MigrationError):
    """No database URL was given, or it cannot be parsed (a usage error on the command line)."""


# -- files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    offset: int  # where it starts in the file's text, to turn error positions into lines
    text: str
    code: str  # comments and literals blanked, single spaces: what the checks read


@dataclass(frozen=True)
class Migration:
    component: str
    version: int
    name: str
    file: str  # relative to the project root, with / separators
    sql: str  # the file's text, \n line ends
    checksum: str
    transaction: bool
    after: tuple[tuple[str, int], ...]
    owns: tuple[tuple[str, str], ...]  # (kind, name)
    statements: tuple[Statement, ...]

    @property
    def key(self) -> tuple[str, int]:
        return (self.component, self.version)

    @property
    def label(self) -> str:
        return f"{self.component}/{self.version:04d}_{self.name}"

    def summary(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "version": self.version,
            "name": self.name,
            "file": self.file,
            "transaction": self.transaction,
        }


def split_statements(sql: str, file: str) -> list[Statement]:
    """The statements of ``sql``, split at the semicolons outside comments and literals.

    Quotes, ``E''`` escapes, dollar quoting and nested block comments follow
    PostgreSQL's lexer, so a ``;`` inside a string or a function body never splits.
    """
    code = list(sql)
    bounds: list[tuple[int, int]] = []
    start = i = 0
    size = len(sql)

    def blank(begin: int, end: int) -> None:
        for k in range(begin, end):
            if code[k] != "\n":
                code[k] = " "

    def unterminated(what: str, at: int) -> MigrationError:
        return MigrationError(f"{file} line {line_of(sql, at)}: unterminated {what}; close it")

    while i < size:
        char = sql[i]
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            end = size if end < 0 else end
            blank(i, end)
            i = end
        elif sql.startswith("/*", i):
            depth, j = 1, i + 2
            while j < size and depth:
                if sql.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif sql.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                raise unterminated("/* comment", i)
            blank(i, j)
            i = j
        elif char in "'\"":
            escapes = char == "'" and i > 0 and sql[i - 1] in "eE" and not _word_before(sql, i - 1)
            j = i + 1
            while True:
                if j >= size:
                    raise unterminated("quoted text" if char == "'" else "quoted name", i)
                if (escapes and sql[j] == "\\") or (sql[j] == char and sql.startswith(char * 2, j)):
                    j += 2
                elif sql[j] == char:
                    break
                else:
                    j += 1
            if char == "'":
                blank(i + 1, j)  # a literal's content is data; a quoted name stays readable
            i = j + 1
        elif char == "$" and not _word_before(sql, i):
            tag = re.match(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$", sql[i:])
            if tag is None:
                i += 1
                continue
            end = sql.find(tag.group(), i + len(tag.group()))
            if end < 0:
                raise unterminated(f"{tag.group()} quoted text", i)
            end += len(tag.group())
            blank(i, end)
            i = end
        elif char == ";":
            bounds.append((start, i))
            start = i = i + 1
        else:
            i += 1
    bounds.append((start, size))
    flat = "".join(code)
    statements = []
    for begin, end in bounds:
        text = flat[begin:end]
        if text.strip():
            skip = len(text) - len(text.lstrip())
            statements.append(
                Statement(begin + skip, sql[begin + skip : end].rstrip(), " ".join(text.split()))
            )
    return statements


def line_of(sql: str, offset: int) -> int:
    """The 1-based line of a character offset, as an editor shows it."""
    return sql.count("\n", 0, offset) + 1


def _word_before(sql: str, i: int) -> bool:
    return i > 0 and (sql[i - 1].isalnum() or sql[i - 1] in "_$")


def read_migration(root: Path, component: str, path: Path) -> Migration:
    file = path.relative_to(root).as_posix()
    match = FILE_NAME.fullmatch(path.name)
    if match is None or match.group(1) == "0000":
        raise MigrationError(
            f"{file}: a migration file is named NNNN_<slug>.sql (four digits from 0001, "
            "then lower-case letters, digits and single underscores), e.g. 0002_add_email.sql"
        )
    try:
        sql, _ = read_text(path)
        sql = sql.removeprefix("\ufeff")  # a byte order mark some editors add is not SQL
    except (OSError, UnicodeDecodeError) as error:
        raise MigrationError(f"{file}: cannot be read as UTF-8 text ({error})") from None
    after: list[tuple[str, int]] = []
    owns: list[tuple[str, str]] = []
    transaction = True
    in_header = True
    for number, line in enumerate(sql.split("\n"), start=1):
        stripped = line.strip()
        if in_header and stripped and not stripped.startswith("--"):
            in_header = False
        directive = DIRECTIVE.fullmatch(stripped)
        if directive is None:
            continue
        where = f"{file} line {number}"
        if not in_header:
            raise MigrationError(
                f"{where}: '-- hexforge:' lines belong in the comment block at the top of the "
                "file, before the first statement; move it there"
            )
        words = " ".join(directive.group(1).split())
        if words == "no-transaction":
            transaction = False
        elif (dependency := AFTER.fullmatch(words)) is not None:
            after.append((dependency.group(1), int(dependency.group(2))))
        elif (owned := OWNS.fullmatch(words)) is not None:
            kind, name = owned.groups()
            if kind not in KINDS or OBJECT_NAME.fullmatch(name) is None:
                raise MigrationError(
                    f"{where}: '{words}' must be 'owns {'|'.join(KINDS)} NAME' with a lower-case "
                    "name (optionally schema.name)"
                )
            owns.append((kind, name))
        else:
            raise MigrationError(
                f"{where}: unknown directive '-- hexforge: {words}'; the known ones are "
                "'no-transaction', 'after COMPONENT/NNNN' and 'owns table|view|sequence|type NAME'"
            )
    statements = split_statements(sql, file)
    _check_statements(file, sql, statements, transaction)
    return Migration(
        component=component,
        version=int(match.group(1)),
        name=match.group(2),
        file=file,
        sql=sql,
        checksum=hashlib.sha256(sql.encode("utf-8")).hexdigest(),
        transaction=transaction,
        after=tuple(after),
        owns=tuple(owns),
        statements=tuple(statements),
    )


def _check_statements(file: str, sql: str, statements: list[Statement], transaction: bool) -> None:
    for statement in statements:
        where = f"{file} line {line_of(sql, statement.offset)}"
        shown = _shorten(statement.text)
        if TRANSACTION_CONTROL.match(statement.code):
            raise MigrationError(
                f"{where}: '{shown}': each migration runs in its own transaction, opened and "
                "closed by migrate.py; remove the statement"
            )
        if transaction and NEEDS_NO_TRANSACTION.match(statement.code):
            raise MigrationError(
                f"{where}: '{shown}' cannot run inside a transaction: put it in a migration of "
                "its own with '-- hexforge: no-transaction' at the top"
            )
        if not transaction and not REPEATABLE.match(statement.code):
            raise MigrationError(
                f"{where}: '{shown}' is not safe to run again, and a no-transaction migration is "
                "re-run from its start after a failure: move it to a migration that runs in a "
                "transaction (or add IF NOT EXISTS / IF EXISTS)"
            )


def _shorten(text: str, limit: int = 60) -> str:
    words = " ".join(text.split())
    return words if len(words) <= limit else words[: limit - 3] + "..."


@dataclass(frozen=True)
class Project:
    components: frozenset[str]  # every folder in components/, with migrations or not
    migrations: list[Migration]  # in the order up applies them


def load(root: Path | None = None) -> Project:
    """Every component's migrations, checked, in the order ``up`` applies them."""
    root = components_root() if root is None else root
    migrations: list[Migration] = []
    folders = root / "components"
    components = sorted(p.name for p in folders.iterdir() if p.is_dir()) if folders.is_dir() else []
    for component in components:
        folder = folders / component / MIGRATIONS_DIR
        if not folder.is_dir() or COMPONENT_NAME.fullmatch(component) is None:
            continue
        found = [read_migration(root, component, path) for path in sorted(folder.glob("*.sql"))]
        _check_versions(component, found)
        _check_owned(component, found)
        migrations.extend(found)
    return Project(frozenset(components), order(migrations))


def _check_versions(component: str, found: list[Migration]) -> None:
    folder = f"components/{component}/{MIGRATIONS_DIR.as_posix()}"
    by_version: dict[int, Migration] = {}
    for migration in found:
        earlier = by_version.setdefault(migration.version, migration)
        if earlier is not migration:
            raise MigrationError(
                f"{folder}: {Path(earlier.file).name} and {Path(migration.file).name} share "
                f"version {migration.version:04d}; "
                "give the one not applied yet the next free number"
            )
    for expected, version in enumerate(sorted(by_version), start=1):
        if version != expected:
            raise MigrationError(
                f"{folder}: version {expected:04d} is missing before "
                f"{Path(by_version[version].file).name}; versions run from 0001 without gaps "
                "(restore the file, or renumber the ones not applied yet)"
            )


def _folded(name: str) -> str:
    """A possibly quoted, possibly schema-qualified name as PostgreSQL stores it."""
    parts = re.findall(r'"((?:[^"]|"")+)"|([^."]+)', name)
    return ".".join(
        quoted.replace('""', '"') if quoted else plain.lower() for quoted, plain in parts
    )


def _check_owned(component: str, found: list[Migration]) -> None:
    declared = {owned for migration in found for owned in migration.owns}
    for migration in found:
        for statement in migration.statements:
            line = line_of(migration.sql, statement.offset)
            if DO_BLOCK.match(statement.code):
                # The body is a literal, blanked in ``code``: read what it creates.
                creations = list(CREATES.finditer(statement.text))
                named = sum(1 for _ in CREATES_KIND.finditer(statement.text))
                if named > len(creations):
                    raise MigrationError(
                        f"{migration.file} line {line}: a DO block creates a table, view, "
                        "sequence or type whose name is built at run time, which drop cannot "
                        "know; write the CREATE statement out"
                    )
            else:
                creations = [m for m in [CREATES.match(statement.code)] if m is not None]
            for created in creations:
                kind = created.group(1).lower()
                name = _folded(created.group(2))
                if (kind, name) not in declared:
                    raise MigrationError(
                        f"{migration.file} line {line}: creates {kind} {name}, which no "
                        f"'-- hexforge: owns {kind} {name}' line of the {component} migrations "
                        "declares; add it to this file's header (drop needs it once the code "
                        "is gone)"
                    )


def order(migrations: Sequence[Migration]) -> list[Migration]:
    """Each component's migrations by version, each after what its ``after`` lines name;
    otherwise by component name, then version."""
    by_key = {migration.key: migration for migration in migrations}
    waits: dict[tuple[str, int], set[tuple[str, int]]] = {}
    for migration in migrations:
        needs = set(migration.after)
        if migration.version > 1:
            needs.add((migration.component, migration.version - 1))
        for component, version in needs:
            if (component, version) not in by_key:
                raise MigrationError(
                    f"{migration.file}: 'after {component}/{version:04d}' names no migration "
                    f"(no components/{component}/{MIGRATIONS_DIR.as_posix()}/{version:04d}_*.sql); "
                    "fix the line"
                )
        waits[migration.key] = needs
    ready = [key for key, needs in waits.items() if not needs]
    heapq.heapify(ready)
    ordered: list[Migration] = []
    while ready:
        key = heapq.heappop(ready)
        ordered.append(by_key[key])
        for other, needs in waits.items():
            if key in needs:
                needs.discard(key)
                if not needs:
                    heapq.heappush(ready, other)
    if len(ordered) < len(migrations):
        stuck = sorted(by_key[key].label for key, needs in waits.items() if needs)
        raise MigrationError(
            f"these migrations wait on each other through their 'after' lines: {', '.join(stuck)}; "
            "remove the line that closes the circle"
        )
    return ordered


# -- database -------------------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    component: str
    version: int
    name: str
    checksum: str
    applied_at: str


def database_url(url: str | None) -> str:
    """The connection string to use: ``url``, else ``DATABASE_URL``, checked for syntax."""
    chosen = url if url is not None else os.environ.get("DATABASE_URL", "")
    if not chosen.strip():
        raise BadDatabaseUrl(
            "no database: set DATABASE_URL or pass --database-url "
            "(e.g. postgresql://user:password@localhost:5432/app)"
        )
    psycopg = _psycopg()
    try:
        psycopg.conninfo.conninfo_to_dict(chosen)
    except psycopg.Error as error:
        raise BadDatabaseUrl(
            f"the database URL {redact(chosen)!r} cannot be parsed "
            f"({redact(_one_line(error))}); "
            "write it as postgresql://user:password@host:port/dbname"
        ) from None
    return chosen


def redact(url: str) -> str:
    """``url`` without its password, fit to print."""
    url = re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", url)
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", url)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _first_line(error: BaseException) -> str:
    return " ".join(str(error).split("\n", 1)[0].split()) or type(error).__name__


def _psycopg() -> Any:
    """psycopg, imported on first use so that --help and usage errors work without it."""
    try:
        import psycopg
        import psycopg.conninfo
    except ImportError:
        raise MigrationError(
            f"psycopg is not installed for {sys.executable}; install the project "
            "(pip install -e .), which depends on it"
        ) from None
    return psycopg


@contextmanager
def connect(conninfo: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection (each migration opens its own transaction); closed on exit."""
    psycopg = _psycopg()
    conninfo = database_url(conninfo)
    given = psycopg.conninfo.conninfo_to_dict(conninfo)
    timeout = {} if "connect_timeout" in given else {"connect_timeout": CONNECT_TIMEOUT}
    try:
        connection = psycopg.connect(conninfo, autocommit=True, **timeout)
    except psycopg.Error as error:
        raise MigrationError(
            f"cannot connect to {redact(conninfo)}: {_first_line(error)} (check that the "
            "server runs and the URL's host, port, user, password and database name)"
        ) from None
    try:
        yield connection
    except psycopg.Error as error:  # the server went away, or refused something mid-run
        raise MigrationError(f"{redact(conninfo)}: {_first_line(error)}") from None
    finally:
        connection.close()


def _exists(connection: psycopg.Connection[Any], table: str) -> bool:
    row = connection.execute("SELECT to_regclass(%s) IS NOT NULL", [table]).fetchone()
    return bool(row and row[0])


def read_history(connection: psycopg.Connection[Any]) -> dict[tuple[str, int], Applied]:
    if not _exists(connection, HISTORY):
        return {}
    rows = connection.execute(
        f"SELECT component, version, name, checksum, applied_at FROM {HISTORY}"
        " ORDER BY component, version"
    ).fetchall()
    return {
        (row[0], row[1]): Applied(
            row[0], row[1], row[2], row[3], row[4].isoformat(sep=" ", timespec="seconds")
        )
        for row in rows
    }


def read_owned(connection: psycopg.Connection[Any], component: str) -> list[tuple[str, str]]:
    if not _exists(connection, OWNED):
        return []
    rows = connection.execute(
        f"SELECT kind, name FROM {OWNED} WHERE component = %s", [component]
    ).fetchall()
    rank = {kind: position for position, kind in enumerate(KINDS)}
    return sorted(((row[0], row[1]) for row in rows), key=lambda r: (rank.get(r[0], 0), r[1]))


def _create_history(connection: psycopg.Connection[Any]) -> None:
    connection.execute(
        f"""CREATE TABLE IF NOT EXISTS {HISTORY} (
    component text NOT NULL,
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version)
);
CREATE TABLE IF NOT EXISTS {OWNED} (
    component text NOT NULL,
    kind text NOT NULL,
    name text NOT NULL,
    version integer NOT NULL,
    PRIMARY KEY (component, kind, name)
)"""
    )


def set_lock_timeout(connection: psycopg.Connection[Any], seconds: float) -> None:
    """How long each statement may wait for a lock (0: as long as it takes)."""
    connection.execute("SELECT set_config('lock_timeout', %s, false)", [f"{seconds * 1000:.0f}ms"])


@contextmanager
def locked(connection: psycopg.Connection[Any], on_wait: Callable[[str], None]) -> Iterator[None]:
    """Hold the migration lock of this database: one ``up`` or ``drop`` at a time."""
    # Polled, never waited for in one statement: a statement waiting holds a snapshot,
    # and the other run's CREATE INDEX CONCURRENTLY waits for every older snapshot to
    # end, while this one waits for its lock: a deadlock, which PostgreSQL breaks by
    # failing one of the two. Between tries this session holds nothing.
    waited = False
    while True:
        row = connection.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]).fetchone()
        if row and row[0]:
            break
        if not waited:
            on_wait("waiting for another migrate run on this database to finish")
            waited = True
        time.sleep(LOCK_POLL_S)
    try:
        yield
    finally:
        if not connection.broken:  # a lost connection released the lock already
            connection.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


# -- what is pending ------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One line of ``status``: a migration file, or a history row without its file."""

    component: str
    version: int
    name: str
    file: str | None
    state: str  # applied, pending, changed, missing
    applied_at: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "version": self.version,
            "name": self.name,
            "file": self.file,
            "state": self.state,
            "applied_at": self.applied_at,
        }


def survey(
    project: Project, history: dict[tuple[str, int], Applied]
) -> tuple[list[Entry], dict[str, int]]:
    """Every migration's state, and the components whose folder is gone but not their history."""
    entries: list[Entry] = []
    for migration in project.migrations:
        applied = history.get(migration.key)
        if applied is None:
            state = "pending"
        else:
            state = "applied" if applied.checksum == migration.checksum else "changed"
        at = applied.applied_at if applied else None
        entries.append(
            Entry(migration.component, migration.version, migration.name, migration.file, state, at)
        )
    files = {migration.key for migration in project.migrations}
    removed: dict[str, int] = {}
    for key, applied in sorted(history.items()):
        if applied.component not in project.components:
            removed[applied.component] = removed.get(applied.component, 0) + 1
        elif key not in files:
            entries.append(Entry(*key, applied.name, None, "missing", applied.applied_at))
    return entries, removed


def check(project: Project, history: dict[tuple[str, int], Applied]) -> list[Migration]:
    """The pending migrations in order; refused when an applied one changed or is gone,
    or when a pending one sorts before one already applied."""
    entries, _ = survey(project, history)
    for entry in entries:
        if entry.state == "changed":
            raise MigrationError(
                f"{entry.file} changed after it was applied ({entry.applied_at}); an applied "
                "migration never changes: restore it (git checkout -- <file>) and put the "
                "change in a new migration"
            )
        if entry.state == "missing":
            raise MigrationError(
                f"{entry.component}/{entry.version:04d}_{entry.name} was applied "
                f"({entry.applied_at}) but components/{entry.component}/"
                f"{MIGRATIONS_DIR.as_posix()}/{entry.version:04d}_{entry.name}.sql is missing; "
                "restore it from git"
            )
    latest: dict[str, int] = {}
    for component, version in history:
        latest[component] = max(latest.get(component, 0), version)
    todo = [migration for migration in project.migrations if migration.key not in history]
    for migration in todo:
        if migration.version < latest.get(migration.component, 0):
            raise MigrationError(
                f"{migration.file} is pending but {migration.component}/"
                f"{latest[migration.component]:04d} is already applied; migrations apply in "
                "version order: renumber it after the last applied one"
            )
    return todo


# -- applying -------------------------------------------------------------------------


def _failed(
    migration: Migration,
    error: Exception,
    outcome: str,
    *,
    statement: Statement | None = None,
    lock_timeout: float = 0,
) -> MigrationError:
    """The one line for a migration PostgreSQL refused, at the line it refused when known."""
    diag = getattr(error, "diag", None)
    position = getattr(diag, "statement_position", None)  # 1-based, in what was sent
    where = migration.file
    if position:
        offset = statement.offset if statement else 0
        where += f" line {line_of(migration.sql, offset + int(position) - 1)}"
    elif statement:
        where += f" line {line_of(migration.sql, statement.offset)}"
    message = _first_line(error)
    detail = getattr(diag, "message_detail", None)
    if detail:  # which row: "Key (sku)=(a-1) is duplicated."
        message += f" ({' '.join(detail.split())})"
    if lock_timeout and getattr(error, "sqlstate", None) == "55P03":  # lock_not_available
        message += (
            f" (waited lock_timeout {lock_timeout:g}s for a table another session holds: run up "
            "again when it is quieter, or raise --lock-timeout)"
        )
    return MigrationError(f"{where}: {message}; {outcome}")


def _left_invalid(connection: psycopg.Connection[Any], statement: Statement) -> str | None:
    """The index a failed ``CREATE INDEX CONCURRENTLY`` left behind INVALID, if any."""
    built = CONCURRENT_INDEX.match(statement.code)
    if built is None or connection.broken:
        return None
    name = built.group(1)
    row = connection.execute(
        "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name]
    ).fetchone()
    return name if row and row[0] else None


def _record(connection: psycopg.Connection[Any], migration: Migration) -> None:
    connection.execute(
        f"INSERT INTO {HISTORY} (component, version, name, checksum) VALUES (%s, %s, %s, %s)",
        [migration.component, migration.version, migration.name, migration.checksum],
    )
    for kind, name in migration.owns:
        connection.execute(
            f"INSERT INTO {OWNED} (component, kind, name, version) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            [migration.component, kind, name, migration.version],
        )


def _check_indexes(connection: psycopg.Connection[Any], migration: Migration) -> None:
    """Refuse when an index this file builds concurrently was left INVALID by a failed build:
    ``IF NOT EXISTS`` would skip it, and the table would go on without a working index."""
    for statement in migration.statements:
        built = CONCURRENT_INDEX.match(statement.code)
        if built is None:
            continue
        name = built.group(1)
        row = connection.execute(
            "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name]
        ).fetchone()
        if row and row[0]:
            raise MigrationError(
                f"{migration.file}: index {name} is INVALID, left by a concurrent build that "
                "failed (duplicate values for a unique index, a lock timeout, a cancel); fix the "
                f"cause, run DROP INDEX CONCURRENTLY {name}; then run up again"
            )


def apply_one(
    connection: psycopg.Connection[Any], migration: Migration, lock_timeout: float
) -> None:
    """Apply one migration and record it: in one transaction, or statement by statement."""
    psycopg = _psycopg()
    if migration.transaction:
        set_lock_timeout(connection, lock_timeout)
        try:
            with connection.transaction():
                if migration.statements:
                    connection.execute(migration.sql)
                _record(connection, migration)
        except psycopg.Error as error:
            raise _failed(
                migration,
                error,
                "nothing of it was applied (the migrations before it stay applied)",
                lock_timeout=lock_timeout,
            ) from None
        return
    # The statements a no-transaction file may hold take locks that let reads and writes
    # through, so they wait for busy tables instead of failing half-way (which would leave
    # an INVALID index behind).
    set_lock_timeout(connection, 0)
    _check_indexes(connection, migration)
    for statement in migration.statements:
        try:
            connection.execute(statement.text)
        except psycopg.Error as error:
            left = _left_invalid(connection, statement)
            raise _failed(
                migration,
                error,
                f"it left index {left} INVALID: fix the cause, run DROP INDEX CONCURRENTLY "
                f"{left}; then run up again"
                if left
                else "it runs outside a transaction and is not recorded: fix the cause and run "
                "up again, which runs it again from its first statement",
                statement=statement,
            ) from None
    _check_indexes(connection, migration)
    with connection.transaction():
        _record(connection, migration)


def _ignore(_: object) -> None:
    """Report nothing."""


def pending(conninfo: str, root: Path | None = None) -> list[Migration]:
    """The migrations ``up`` would apply, in order (empty when the schema is current).

    Raises :class:`MigrationError` (one line) when the files are malformed, an
    applied one changed or is missing, or the database cannot be reached.
    """
    project = load(root)
    with connect(conninfo) as connection:
        return check(project, read_history(connection))


def apply(
    conninfo: str,
    root: Path | None = None,
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    on_wait: Callable[[str], None] = _ignore,
    on_applied: Callable[[Migration], None] = _ignore,
) -> list[Migration]:
    """Apply the pending migrations under the migration lock; returns those applied.

    ``on_wait`` gets a line when another run holds the lock, ``on_applied`` each
    migration as soon as it is recorded. Raises :class:`MigrationError` at the first
    failure, after which the migrations applied before it stay applied and recorded.
    """
    project = load(root)
    done: list[Migration] = []
    with connect(conninfo) as connection, locked(connection, on_wait):
        _create_history(connection)
        for migration in check(project, read_history(connection)):
            apply_one(connection, migration, lock_timeout)
            done.append(migration)
            on_applied(migration)
    return done


def drop_statements(owned: Sequence[tuple[str, str]]) -> list[Any]:
    from psycopg import sql

    return [
        sql.SQL("DROP {} IF EXISTS {}").format(
            sql.SQL(kind.upper()), sql.Identifier(*name.split("."))
        )
        for kind, name in owned
    ]


@dataclass(frozen=True)
class Dropping:
    """What ``drop`` removes (or, without ``yes``, would remove)."""

    component: str
    owned: list[tuple[str, str]]  # (kind, name), in the order they are dropped
    sql: list[str]
    migrations: int  # history rows forgotten
    dropped: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "owned": [{"kind": kind, "name": name} for kind, name in self.owned],
            "sql": self.sql,
            "migrations": self.migrations,
            "dropped": self.dropped,
        }


def drop(conninfo: str, component: str, *, yes: bool, root: Path | None = None) -> Dropping:
    """Drop what a removed component owns and forget its history, in one transaction.

    Without ``yes`` nothing changes: the result says what would go. Refused while
    the component's code is still in the project.
    """
    root = components_root() if root is None else root
    if (root / "components" / component).exists():
        raise MigrationError(
            f"components/{component} is still in the project; drop removes the data of a "
            f"component whose code is gone: run python tools/remove.py {component} first"
        )
    psycopg = _psycopg()
    with connect(conninfo) as connection, locked(connection, _ignore):
        history = [key for key in read_history(connection) if key[0] == component]
        owned = read_owned(connection, component)
        if not history and not owned:
            raise MigrationError(
                f"this database has no migrations of component {component!r} and nothing it "
                "owns: nothing to drop (python tools/migrate.py status lists what it has)"
            )
        statements = drop_statements(owned)
        shown = [statement.as_string(connection) for statement in statements]
        if yes:
            set_lock_timeout(connection, DEFAULT_LOCK_TIMEOUT)
            try:
                with connection.transaction():
                    for statement in statements:
                        connection.execute(statement)
                    for table in (OWNED, HISTORY):
                        connection.execute(f"DELETE FROM {table} WHERE component = %s", [component])
            except psycopg.Error as error:
                raise MigrationError(
                    f"drop {component} failed, nothing was dropped: {_one_line(error)}"
                ) from None
    return Dropping(component, owned, shown, len(history), dropped=yes)


def status(
    conninfo: str, root: Path | None = None
) -> tuple[list[Entry], dict[str, list[tuple[str, str]]], dict[str, int]]:
    """Every migration's state; for components whose code is gone, what they own and how
    many of their migrations the database holds."""
    project = load(root)
    with connect(conninfo) as connection:
        entries, removed = survey(project, read_history(connection))
        owned = {component: read_owned(connection, component) for component in removed}
    return entries, owned, removed


# -- command line ---------------------------------------------------------------------


def component_name(text: str) -> str:
    """An argparse type: a component name as the project's folders spell them."""
    if COMPONENT_NAME.fullmatch(text) is None or len(text) > 63:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a component name (lower-case letters, digits and underscores)"
        )
    return text


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="tools/migrate.py",
        description="Apply the components' SQL migrations to PostgreSQL, each once, in order.",
    )
    common = ArgumentParser(add_help=False)
    common.add_argument(
        "--database-url", metavar="URL", help="the database (default: $DATABASE_URL)"
    )
    common.add_argument("--format", choices=("text", "json"), default="text", help="output")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = commands.add_parser("up", parents=[common], help="apply the pending migrations")
    up.add_argument(
        "--lock-timeout",
        type=positive_seconds,
        default=DEFAULT_LOCK_TIMEOUT,
        metavar="SECONDS",
        help=f"how long a migration waits for a table lock (default {DEFAULT_LOCK_TIMEOUT:g})",
    )
    commands.add_parser("plan", parents=[common], help="print the SQL up would run; change nothing")
    commands.add_parser("status", parents=[common], help="list applied and pending migrations")
    dropping = commands.add_parser(
        "drop", parents=[common], help="drop the tables of a component whose code was removed"
    )
    dropping.add_argument("component", metavar="NAME", type=component_name)
    dropping.add_argument("--yes", action="store_true", help="really drop (default: only show)")
    return parser


def _migrations(count: int) -> str:
    return f"{count} migration" if count == 1 else f"{count} migrations"


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _status_command(url: str, as_json: bool) -> int:
    entries, owned, removed = status(url)
    if as_json:
        _print_json(
            {
                "migrations": [entry.as_json() for entry in entries],
                "removed": [
                    {
                        "component": component,
                        "migrations": count,
                        "owned": [{"kind": k, "name": n} for k, n in owned[component]],
                    }
                    for component, count in removed.items()
                ],
            }
        )
        return 0
    width = max((len(entry.component) for entry in entries), default=0)
    names = max((len(f"{entry.version:04d}_{entry.name}") for entry in entries), default=0)
    for entry in entries:
        label = f"{entry.version:04d}_{entry.name}"
        line = f"{entry.component:<{width}}  {label:<{names}}  {entry.state}"
        print(f"{line}  {entry.applied_at}" if entry.applied_at else line)
    for component, count in removed.items():
        print(
            f"{component}: its code is gone, its data remains ({_migrations(count)} applied); "
            f"drop it with python tools/migrate.py drop {component} --yes"
        )
    counts = {state: sum(e.state == state for e in entries) for state in ("applied", "pending")}
    others = [f"{sum(e.state == s for e in entries)} {s}" for s in ("changed", "missing")]
    extra = [text for text in others if not text.startswith("0 ")]
    print(", ".join([f"{counts['applied']} applied", f"{counts['pending']} pending", *extra]))
    return 0


def _plan_command(url: str, as_json: bool) -> int:
    todo = pending(url)
    if as_json:
        _print_json({"pending": [{**m.summary(), "sql": m.sql} for m in todo]})
        return 0
    for migration in todo:
        how = "in one transaction" if migration.transaction else "outside a transaction"
        print(f"-- {migration.label} ({migration.file}), {how}")
        print(migration.sql.rstrip("\n"))
        print()
    print(f"-- {_migrations(len(todo))} pending" if todo else "-- nothing to apply")
    return 0


def _up_command(url: str, as_json: bool, lock_timeout: float) -> int:
    def waiting(line: str) -> None:
        print(f"migrate.py: {line}", file=sys.stderr, flush=True)

    def applied(migration: Migration) -> None:
        if not as_json:  # as it happens: a later failure does not hide what went in
            print(f"applied {migration.label}", flush=True)

    done = apply(url, lock_timeout=lock_timeout, on_wait=waiting, on_applied=applied)
    if as_json:
        _print_json({"applied": [migration.summary() for migration in done]})
    else:
        print(f"{_migrations(len(done))} applied" if done else "nothing to apply: up to date")
    return 0


def _drop_command(url: str, as_json: bool, component: str, yes: bool) -> int:
    result = drop(url, component, yes=yes)
    objects = ", ".join(f"{kind} {name}" for kind, name in result.owned) or "no objects"
    if as_json:
        _print_json(result.as_json())
    elif yes:
        print(f"dropped {objects}; forgot {_migrations(result.migrations)} of {component}")
    else:
        print(f"-- drop {component} --yes would run, in one transaction:")
        for statement in result.sql:
            print(f"{statement};")
        for table in (OWNED, HISTORY):
            print(f"DELETE FROM {table} WHERE component = '{component}';")
    if not yes:
        raise MigrationError(
            f"nothing dropped: python tools/migrate.py drop {component} --yes drops {objects} "
            f"and forgets {_migrations(result.migrations)}"
        )
    return 0


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        url = database_url(args.database_url)
    except BadDatabaseUrl as error:
        raise UsageError(str(error)) from None
    as_json = args.format == "json"
    if args.command == "status":
        return _status_command(url, as_json)
    if args.command == "plan":
        return _plan_command(url, as_json)
    if args.command == "up":
        return _up_command(url, as_json, args.lock_timeout)
    return _drop_command(url, as_json, args.component, args.yes)


def main(argv: Sequence[str] | None = None) -> int:
    return cli(run, argv, prog="migrate.py")
