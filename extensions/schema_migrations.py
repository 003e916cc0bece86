"""A component's SQL migrations, computed from its field lists (SPEC §7).

Each component owns ``components/<name>/adapters/outbound/migrations/NNNN_<slug>.sql``,
applied by the project's ``tools/migrate.py``. The files are not rendered by the
template: Copier would then compare, rewrite or delete them on every update. The
project's after-render task (:func:`write_pending`) writes them in the real project
only, never in Copier's temporary copies, and never touches an existing file.

What a component's migrations establish is read from the files themselves: the
last file of every step carries a ``-- fields: ...`` comment line, the field list
its table matches once it is applied. The next step is the difference between
that list and the answer's ``fields``:

- added field: ``ADD COLUMN`` (NULL allowed, or NOT NULL with its default; a
  required field without a default is refused: the rows stored have no value);
- removed field: the column stays, made nullable, its rules dropped; the file
  says how to drop the column once no code reads it;
- unique, index: built ``CONCURRENTLY`` in a ``no-transaction`` file, a unique
  index then attached as the constraint (a short lock, no table scan);
- bound, length, enum value: the CHECK is replaced ``NOT VALID`` (no scan under
  the lock) and validated in the concurrent file (a lock that lets writes through);
- default, optional: ``SET/DROP DEFAULT``, ``DROP NOT NULL``; required again
  through a validated ``IS NOT NULL`` check, so that ``SET NOT NULL`` does not scan.

A type change is refused before anything is written (:func:`change_error`).
Pure functions, but for :func:`write_pending` and :func:`established`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fields import Field, FieldsError, parse_fields

MIGRATIONS = Path("adapters", "outbound", "migrations")
FIELDS_LINE = "-- fields: "
# In the files written since lists sort by index (SPEC section 8): the keyset index
# of every sortable field is there. A component without it gets them built once.
KEYSET_LINE = "-- lists: every sortable field has its keyset index"
FILE_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")


@dataclass(frozen=True)
class Migration:
    """One file to write: ``NNNN_<slug>.sql`` and its text."""

    name: str
    sql: str


# --------------------------------------------------------------------------- reading


def migration_files(directory: Path) -> list[Path]:
    """The migration files of a component, in version order."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if FILE_NAME.fullmatch(p.name))


def established(directory: Path) -> str | None:
    """The field list the component's migrations establish (None: no migration yet)."""
    for path in reversed(migration_files(directory)):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("--"):
                break
            if line.startswith(FIELDS_LINE):
                return line.removeprefix(FIELDS_LINE).strip()
    return None


def has_keyset_indexes(directory: Path) -> bool:
    """Whether the component's migrations build the keyset indexes lists sort by."""
    return any(
        KEYSET_LINE in path.read_text(encoding="utf-8").splitlines()
        for path in migration_files(directory)
    )


def established_spec(fields_text: str) -> str:
    """How a migration's ``-- fields:`` line writes ``fields_text``."""
    return _spec(parse_fields(fields_text))


def next_version(directory: Path) -> int:
    files = migration_files(directory)
    return int(files[-1].name[:4]) + 1 if files else 1


# --------------------------------------------------------------------------- SQL pieces


def _q(name: str) -> str:
    return f'"{name}"'


def _checks(f: Field) -> dict[str, str]:
    """CHECK constraint name -> its condition, for each rule PostgreSQL enforces."""
    return {f"{f.name}_{rule.key}": rule.sql for rule in f.rules if rule.sql is not None}


def _header(
    summary: str, *, fields: str | None, extra: list[str], keyset: bool = True
) -> list[str]:
    lines = [f"-- {summary}"]
    lines += [f"-- {line}" if line else "--" for line in extra]
    if fields is not None:
        if keyset:
            lines.append(KEYSET_LINE)
        lines.append(f"{FIELDS_LINE}{fields}")
    return lines


def _keyset_index(f: Field, *, concurrently: bool) -> str:
    """The index a list sorted by ``f`` scans: its column as lists compare it, then id."""
    how = "CONCURRENTLY IF NOT EXISTS " if concurrently else ""
    return f"CREATE INDEX {how}{_q(f.keyset_index_name)} ON {_q(f.table)} {f.keyset_index_columns};"


def _spec(fields: list[Field]) -> str:
    return ", ".join(f.spec for f in fields)


def first_migration(component: str, entity: str, fields_text: str, *, adopt: bool) -> Migration:
    """Version 0001: the table with its constraints and indexes.

    ``adopt`` writes the baseline of a project whose table ``create_schema`` made
    before migrations existed: every statement is guarded, so that it creates what
    is missing and keeps what is there, rows included.
    """
    table = component
    fields = parse_fields(fields_text, entity, component)
    t = _q(table)
    lines = _header(
        f"The {table} table" + (" (adopted: it may exist already)" if adopt else "") + ".",
        fields=_spec(fields),
        extra=[],
        # An adopted table may hold rows: its keyset indexes are built concurrently next.
        keyset=not adopt,
    )
    lines.append(f"-- hexforge: owns table {table}")
    lines.append("")
    # squawk would have a bigint: a row's version counts its updates, and the column
    # is as create_schema made it before migrations (a type never changes).
    columns = [
        '"id" uuid PRIMARY KEY',
        "-- squawk-ignore prefer-bigint-over-int\n    " + '"version" integer NOT NULL',
    ]
    columns += [f.sql_column for f in fields]
    if adopt:
        lines.append(f"CREATE TABLE IF NOT EXISTS {t} (")
        lines += [f"    {c}," for c in columns[:-1]] + [f"    {columns[-1]}", ");", ""]
        lines.append("-- A table from before migrations may lack the newer columns: rows stored")
        lines.append("-- before have no value, so a column is NOT NULL only with a default.")
        for f in fields:
            lines.append(f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {f.sql_added_column};")
        constraints = [(f.index_name, f"UNIQUE ({_q(f.name)})") for f in fields if f.unique] + [
            (name, f"CHECK ({sql})") for f in fields for name, sql in _checks(f).items()
        ]
        if constraints:
            lines.append("")
            lines.append(
                "-- Constraints a table from before migrations may lack; added where missing."
            )
        for name, body in constraints:
            lines += [
                "DO $$",
                "BEGIN",
                f"    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conrelid = '{t}'::regclass"
                f" AND conname = '{name}') THEN",
                f"        ALTER TABLE {t} ADD CONSTRAINT {_q(name)} {body};",
                "    END IF;",
                "END",
                "$$;",
            ]
        for f in fields:
            if f.index:
                lines += [
                    "-- create_schema made it already, unless the field is new: then the",
                    "-- table just gained the column, and the build reads no value.",
                    "-- squawk-ignore require-concurrent-index-creation",
                    f"CREATE INDEX IF NOT EXISTS {_q(f.index_name)} ON {t} ({_q(f.name)});",
                ]
    else:
        columns += [c for f in fields for c in f.constraints]
        lines.append(f"CREATE TABLE {t} (")
        lines += [f"    {c}," for c in columns[:-1]] + [f"    {columns[-1]}", ");"]
        for f in fields:
            if f.index:
                lines += [
                    "-- A new, empty table: the build takes no time, no need for CONCURRENTLY.",
                    "-- squawk-ignore require-concurrent-index-creation",
                    f"CREATE INDEX {_q(f.index_name)} ON {t} ({_q(f.name)});",
                ]
        for f in fields:
            if f.sortable:
                lines += [
                    "-- The keyset index lists sorted by this field scan (SPEC section 8).",
                    "-- squawk-ignore require-concurrent-index-creation",
                    _keyset_index(f, concurrently=False),
                ]
    slug = "adopt" if adopt else "create"
    return Migration(f"0001_{slug}_{table}.sql", "\n".join(lines) + "\n")


# --------------------------------------------------------------------------- changes


class ChangeRefused(ValueError):
    """A change of ``fields`` that the generator cannot make safely; names the field."""


def _parse_pair(
    old_text: str, new_text: str, entity: str, component: str
) -> tuple[dict[str, Field], dict[str, Field]]:
    old = {f.name: f for f in parse_fields(old_text, entity, component)}
    new = {f.name: f for f in parse_fields(new_text, entity, component)}
    for name, f in new.items():
        before = old.get(name)
        if before is not None and (before.type.sql != f.type.sql or before.is_enum != f.is_enum):
            raise ChangeRefused(
                f"field {name!r} changes type from {before.type.spec} to {f.type.spec}: "
                "hexforge cannot migrate a column's type safely; add a new field instead"
            )
        filled = f.optional or f.has_default or f.has_backfill
        if before is None and not filled:
            raise ChangeRefused(
                f"field {name!r} is new and required without a default: the rows already "
                f"stored have no value for it; give them one ({name}:...:backfill=...), "
                f"give it a default ({name}:...:default=...) or make it optional "
                f"({name}:{f.type.spec}?)"
            )
        if before is not None and before.optional and not filled:
            raise ChangeRefused(
                f"field {name!r} becomes required without a default: rows may hold NULL; "
                "give them a value with backfill=, give it a default or keep it optional"
            )
    return old, new


def change_error(old_text: str, new_text: str, entity: str, component: str) -> str:
    """Why the step from ``old_text`` to ``new_text`` cannot be generated, or ''."""
    try:
        _parse_pair(old_text, new_text, entity, component)
    except (ChangeRefused, FieldsError) as error:
        return str(error)
    return ""


def change_error_at(fields_text: object, entity: object, component: object, dst: object) -> str:
    """Validator form of :func:`change_error` against the component's migrations in
    the project at ``dst`` ('' where it has none: a copy, or Copier's temporary copies)."""
    if not isinstance(fields_text, str) or not component:
        return ""
    directory = Path(str(dst)) / "components" / str(component) / MIGRATIONS
    before = established(directory)
    if before is None:
        return ""
    return change_error(before, fields_text, str(entity or ""), str(component)) or (
        readded_error(directory, before, fields_text, str(component))
    )


def retired_columns(directory: Path) -> dict[str, str]:
    """Columns a removed field left in the table (its values kept) that no later
    migration drops: column name -> the file that retired the field."""
    retired: dict[str, str] = {}
    previous: set[str] | None = None
    for path in migration_files(directory):
        text = path.read_text(encoding="utf-8")
        statements = "\n".join(
            line for line in text.splitlines() if not line.lstrip().startswith("--")
        )
        for name in [name for name in retired if _drops_column(statements, name)]:
            del retired[name]
        spec = next(
            (
                line.removeprefix(FIELDS_LINE).strip()
                for line in text.splitlines()
                if line.startswith(FIELDS_LINE)
            ),
            None,
        )
        if spec is None:
            continue
        try:
            names = {f.name for f in parse_fields(spec)}
        except FieldsError:
            continue  # a hand-edited line; the next readable one says what is established
        for name in (previous or set()) - names:
            retired[name] = path.name
        for name in names:
            retired.pop(name, None)
        previous = names
    return retired


def _drops_column(statements: str, name: str) -> bool:
    pattern = rf'DROP\s+COLUMN\s+(?:IF\s+EXISTS\s+)?(?:"{re.escape(name)}"|{re.escape(name)}\b)'
    return re.search(pattern, statements, re.IGNORECASE) is not None


def readded_error(directory: Path, before: str, fields_text: str, table: str) -> str:
    """Why a field cannot come back under a name whose old column is still there, or ''.

    ``ADD COLUMN`` would fail on it, and reusing it would bring back values stored
    under older rules: the column has to be dropped (reviewed, by hand) first."""
    try:
        old = {f.name for f in parse_fields(before)}
        new = [f.name for f in parse_fields(fields_text)]
    except FieldsError:
        return ""
    retired = retired_columns(directory)
    for name in new:
        if name not in old and name in retired:
            return (
                f"field {name!r} was removed in {retired[name]} and its column still holds "
                f"the old values: drop it first in a migration of your own "
                f'(ALTER TABLE "{table}" DROP COLUMN "{name}";) or give the field another name'
            )
    return ""


def next_migrations(
    component: str, entity: str, old_text: str, new_text: str, version: int
) -> list[Migration]:
    """The files that take the table from ``old_text`` to ``new_text`` (none: no change).

    Up to three files, numbered from ``version``: changes that take a short lock
    (in one transaction), the concurrent builds and validations (no transaction),
    then the unique constraints attached to their new indexes.
    """
    old, new = _parse_pair(old_text, new_text, entity, component)
    table = component
    t = _q(table)
    backfill: list[str] = []  # before any ALTER TABLE: row locks only
    locked: list[str] = []  # one transaction, each statement quick under its lock
    concurrent: list[str] = []  # no transaction: builds and scans that let writes through
    attach: list[str] = []  # one transaction: unique indexes become constraints
    notes: list[str] = []

    for name, f in old.items():
        if name in new:
            continue
        c = _q(name)
        if f.unique:
            locked.append(f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {_q(f.index_name)};")
        for check in _checks(f):
            locked.append(f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {_q(check)};")
        if f.has_default:
            locked.append(f"ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT;")
        if not f.optional:
            locked.append(f"ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL;")
        if f.index:
            concurrent.append(f"DROP INDEX CONCURRENTLY IF EXISTS {_q(f.index_name)};")
        if f.sortable:
            concurrent.append(f"DROP INDEX CONCURRENTLY IF EXISTS {_q(f.keyset_index_name)};")
        notes.append(
            f"Field {name!r} left fields: its column stays, NULL allowed, so that no data is "
            f"lost. Once no code reads it, drop it in a new migration: "
            f"ALTER TABLE {t} DROP COLUMN {c};"
        )

    for name, f in new.items():
        c = _q(name)
        before = old.get(name)
        old_checks: dict[str, str] = {} if before is None else _checks(before)
        if before is None and f.has_backfill:
            # The stored rows get the value at once, without a rewrite or a scan (a
            # constant default is kept in the catalog); then it stops being a default.
            value = f.type.sql_literal(f.backfill)
            locked.append(f"ALTER TABLE {t} ADD COLUMN {c} {f.type.sql} NOT NULL DEFAULT {value};")
            locked.append(f"ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT;")
        elif before is None:
            locked.append(f"ALTER TABLE {t} ADD COLUMN {f.sql_added_column};")
        else:
            if before.sql_default != f.sql_default:
                locked.append(
                    f"ALTER TABLE {t} ALTER COLUMN {c} SET{f.sql_default};"
                    if f.has_default
                    else f"ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT;"
                )
            if f.optional and not before.optional:
                locked.append(f"ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL;")
            if before.optional and not f.optional:
                # SET NOT NULL scans the table under an exclusive lock unless a valid
                # CHECK already proves it: validate one first, without blocking writes.
                check = _q(f"{name}_not_null")
                value = f.backfill if f.has_backfill else f.default
                backfill.append(
                    f"UPDATE {t} SET {c} = {f.type.sql_literal(value)} WHERE {c} IS NULL;"
                )
                locked.append(
                    f"ALTER TABLE {t} ADD CONSTRAINT {check} CHECK ({c} IS NOT NULL) NOT VALID;"
                )
                concurrent.append(f"ALTER TABLE {t} VALIDATE CONSTRAINT {check};")
                # Proven by the validated check: PostgreSQL skips the scan.
                attach.append("-- squawk-ignore adding-not-nullable-field")
                attach.append(f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;")
                attach.append(f"ALTER TABLE {t} DROP CONSTRAINT {check};")
        new_checks = _checks(f)
        for check, sql in old_checks.items():
            if new_checks.get(check) != sql:
                locked.append(f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {_q(check)};")
        for check, sql in new_checks.items():
            if old_checks.get(check) != sql:
                locked.append(
                    f"ALTER TABLE {t} ADD CONSTRAINT {_q(check)} CHECK ({sql}) NOT VALID;"
                )
                concurrent.append(f"ALTER TABLE {t} VALIDATE CONSTRAINT {_q(check)};")
        was_unique = before is not None and before.unique
        was_index = before is not None and before.index
        index = _q(f.index_name)
        if was_unique and not f.unique:
            locked.append(f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {index};")
        if was_index and not f.index:
            concurrent.append(f"DROP INDEX CONCURRENTLY IF EXISTS {index};")
        if f.index and not was_index:
            concurrent.append(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {index} ON {t} ({c});")
        if f.unique and not was_unique:
            concurrent.append(
                f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {index} ON {t} ({c});"
            )
            attach.append(f"ALTER TABLE {t} ADD CONSTRAINT {index} UNIQUE USING INDEX {index};")
        was_sortable = before is not None and before.sortable
        if f.sortable and not was_sortable:
            concurrent.append(_keyset_index(f, concurrently=True))
        if was_sortable and not f.sortable:
            concurrent.append(f"DROP INDEX CONCURRENTLY IF EXISTS {_q(f.keyset_index_name)};")

    # A concurrent drop of the index a new one reuses the name of comes first.
    concurrent.sort(key=lambda s: not s.startswith("DROP INDEX"))
    steps = [
        (backfill + locked, False, "", "changes that hold the table's lock only briefly"),
        (concurrent, True, "_concurrently", "indexes built, rules checked, writes let through"),
        (attach, False, "_constraints", "constraints attached to what was built and checked"),
    ]
    steps = [step for step in steps if step[0]]
    spec = _spec(list(new.values()))
    out = []
    for i, (statements, no_transaction, suffix, what) in enumerate(steps):
        last = i == len(steps) - 1
        part = f" (part {i + 1} of {len(steps)})" if len(steps) > 1 else ""
        lines = _header(
            f"{table}: {what}{part}.",
            fields=spec if last else None,
            extra=(notes if i == 0 else [])
            + (
                [
                    "Run outside a transaction, one statement at a time; each is safe",
                    "to run again after a failure.",
                ]
                if no_transaction
                else []
            ),
        )
        if no_transaction:
            lines.append("-- hexforge: no-transaction")
        out.append(
            Migration(
                f"{version + i:04d}_{_slug(old, new)}{suffix}.sql",
                "\n".join([*lines, "", *statements]) + "\n",
            )
        )
    return out


def keyset_migration(
    component: str, entity: str, fields_text: str, version: int
) -> list[Migration]:
    """The keyset indexes of the sortable fields of ``fields_text``, built concurrently,
    for a component whose migrations predate them (none: it has no sortable field)."""
    sortable = [f for f in parse_fields(fields_text, entity, component) if f.sortable]
    if not sortable:
        return []
    lines = _header(
        f"{component}: the keyset indexes lists sort by (SPEC section 8).",
        fields=None,
        extra=[
            "Each holds a sortable field as lists compare it (text by code point), then id,",
            "so that any page of a sorted list is one index range scan.",
            "Run outside a transaction, one statement at a time; each is safe",
            "to run again after a failure.",
        ],
    )
    lines += [KEYSET_LINE, "-- hexforge: no-transaction", ""]
    lines += [_keyset_index(f, concurrently=True) for f in sortable]
    return [Migration(f"{version:04d}_keyset_indexes.sql", "\n".join(lines) + "\n")]


def _slug(old: dict[str, Field], new: dict[str, Field]) -> str:
    """What the step does, for the file name: the fields added and retired, when short."""
    parts = [f"add_{n}" for n in new if n not in old]
    parts += [f"retire_{n}" for n in old if n not in new]
    joined = "_".join(parts)
    return joined if parts and len(joined) <= 40 else "change_fields"


# --------------------------------------------------------------------------- the project


def write_pending(
    project: Path, component: str, entity: str, fields_text: str, *, adopt: bool
) -> list[Path]:
    """Write the component's next migration files for ``fields_text``; return them.

    Never rewrites a file: new versions only. ``adopt``: the component's table may
    already exist (an update of a component from before migrations).
    """
    directory = project / "components" / component / MIGRATIONS
    before = established(directory)
    if before is None:
        if migration_files(directory):
            return []  # files the user wrote by hand: theirs to extend
        planned = [first_migration(component, entity, fields_text, adopt=adopt)]
        if adopt:
            planned += keyset_migration(component, entity, fields_text, 2)
    else:
        version = next_version(directory)
        planned = []
        if not has_keyset_indexes(directory):
            planned = keyset_migration(component, entity, before, version)
        planned += next_migrations(component, entity, before, fields_text, version + len(planned))
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for migration in planned:
        path = directory / migration.name
        with path.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(migration.sql)
        written.append(path)
    return written


def main(project: Path, component: str, *, adopt: bool) -> None:
    """After a render: write the migrations the component's answered fields need."""
    from ruamel.yaml import YAML  # needed next to Copier (copier_hooks.py checks)

    answers_path = project / "components" / component / ".copier-answers.yml"
    answers = YAML(typ="safe", pure=True).load(answers_path.read_text(encoding="utf-8")) or {}
    written = write_pending(
        project, component, str(answers["entity_name"]), str(answers["fields"]), adopt=adopt
    )
    for path in written:
        print(f"hexforge: wrote migration {path.relative_to(project).as_posix()}")
