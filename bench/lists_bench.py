"""The `lists` section of bench/run.py: list pages against get-by-id on PostgreSQL, at
10^4, 10^5 and 10^6 rows, beside the offset API they replace.

    .venv/bin/python bench/run.py --only lists [--lists-sizes 10000 100000 1000000]

Two projects are rendered with the copier CLI, each with the component `orders`
(FIELDS below; `customer` has an index):

- after:  the template measured (the working tree, or bench/run.py's --template-ref);
- before: the template at BEFORE_REF (ca77fa1), whose list was LIMIT/OFFSET with a
          count(*) on every page.

Each project gets a database in one throwaway cluster (tests/clusters.py, started by
the generated projects' own components/conftest.py), its schema from its own
`tools/migrate.py up`, and the same rows (one seed: the same ids and values), loaded
with COPY and grown size by size, with VACUUM ANALYZE after each step. At each size a
process with the generated project's venv imports the project's app
(app.main.create_app on that database) and drives it through httpx's ASGI transport,
all in that one process (`python bench/lists_bench.py measure ...`):

- get by id: a random id of the table each time (the baseline of every ratio);
- after:  the first page and a deep page (99% of the way through), in the default
          order and sorted by the indexed `customer`; the deep page's cursor comes
          from walking the list there with the largest page, as a client would;
- before: the first page, offset n/2 and offset 0.99n (the default order).

Each round runs every case once, in an order that turns from round to round, so load
from other work on the machine falls on all of them; figures are medians over the
rounds (ROUNDS, or as many as BUDGET_S allows, at least MIN_ROUNDS: the offset pages
take seconds at 10^6 rows). Targets: every page of the new list within 2x the
get-by-id of the same process at every size, and the deep page within 2x the first
(flat with depth). Ratios, not milliseconds: the machine's load moves between sizes.

This module's top level imports the standard library only: bench/run.py imports it
in hexforge's venv, and its `measure` and `load` commands run in the generated
project's venv (httpx, psycopg, the project's app).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

BEFORE_REF = "ca77fa1"  # main before the keyset lists: LIMIT/OFFSET and count(*)
COMPONENT = "orders"
TABLE = "orders"
URL_PATH = "/orders"
FIELDS = "customer:str:index, total:decimal, placed_on:date, paid:bool, note:str?"
COLUMNS = ("id", "version", "customer", "total", "placed_on", "paid", "note")
SORTED_BY = "customer"  # the indexed sort
SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 5_000)
ROUNDS = 100
QUICK_ROUNDS = 5
MIN_ROUNDS = 5
BUDGET_S = 60.0  # per process: the offset pages at 10^6 rows take seconds a round
PAGE = 20  # the default page size: what a client gets without asking
WALK_PAGE = 100  # the largest page, to reach the deep cursor in fewest requests
DEPTH = 0.99
TARGET = 2.0  # every list page <= 2x get-by-id
SEED = 14  # the number: any fixed seed gives both projects the same rows


# ----------------------------------------------------------------------- the rows


def rows(seed: int, start: int, stop: int) -> Iterator[tuple[object, ...]]:
    """Rows start..stop-1 of the benchmark's table, the same for every run of `seed`:
    random ids, customers from a few thousand names (so the sort has ties, broken by
    id), a third of the notes NULL."""
    for number in range(start, stop):
        pick = random.Random(seed * 1_000_003 + number)
        ident = uuid.UUID(int=pick.getrandbits(128), version=4)
        customer = f"{pick.choice(SYLLABLES)}{pick.choice(SYLLABLES)} {pick.randrange(4000)}"
        if pick.random() < 0.3:
            customer = customer.capitalize()
        total = Decimal(pick.randrange(1, 10_000_000)).scaleb(-2)
        placed_on = date(2015, 1, 1) + timedelta(days=pick.randrange(4000))
        note = None if pick.random() < 0.33 else f"note {number}"
        yield (ident, 1, customer, total, placed_on, pick.random() < 0.5, note)


SYLLABLES = ["al", "bo", "ca", "de", "é", "fi", "gu", "ha", "Ka", "lo", "mi", "nu", "ö", "pa"]


def load(database_url: str, seed: int, start: int, stop: int) -> float:
    """COPY rows start..stop-1 into the table, then VACUUM ANALYZE; seconds taken."""
    import psycopg
    from psycopg import sql

    began = time.perf_counter()
    table = sql.Identifier(TABLE)
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in COLUMNS)
    with psycopg.connect(database_url, autocommit=True) as connection:
        with connection.cursor() as cursor:
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(table, columns)
            with cursor.copy(statement) as copy:
                for row in rows(seed, start, stop):
                    copy.write_row(row)
        # Statistics and the visibility map, as a table that has lived a while has.
        connection.execute(sql.SQL("VACUUM ANALYZE {}").format(table))
    return time.perf_counter() - began


# ------------------------------------------------------- measuring, in the project


@dataclass
class Case:
    name: str
    params: dict[str, str]  # the list's query parameters (get by id: none)


async def _ids(database_url: str, count: int, seed: int) -> list[str]:
    import psycopg
    from psycopg import sql

    statement = sql.SQL("SELECT id FROM {} ORDER BY random() LIMIT %s")
    async with await psycopg.AsyncConnection.connect(database_url) as connection:
        await connection.execute("SELECT setseed(%s)", (seed / 2**31,))
        cursor = await connection.execute(statement.format(sql.Identifier(TABLE)), (count,))
        return [str(row[0]) for row in await cursor.fetchall()]


async def _walk_to(client: Any, sort: dict[str, str], depth: int) -> tuple[str, dict[str, Any]]:
    """The cursor of the page that starts about `depth` rows in (rounded down to a
    whole number of walking pages): walked there page by page, as a client would.
    Returns it with the walk's depth, requests and seconds."""
    cursor: str | None = None
    seen = requests = 0
    began = time.perf_counter()
    while seen + WALK_PAGE <= depth:
        params = {**sort, "limit": str(WALK_PAGE), **({"cursor": cursor} if cursor else {})}
        response = await client.get(URL_PATH, params=params)
        requests += 1
        if response.status_code != 200:
            raise SystemExit(f"lists: walking with {sort} got {response.text}")
        body = response.json()
        seen += len(body["items"])
        cursor = body.get("next_cursor")
        if cursor is None:
            raise SystemExit(f"lists: the walk ended after {seen} rows, before {depth}")
    if cursor is None:
        raise SystemExit(f"lists: no cursor at depth {depth}")
    return cursor, {"depth": seen, "requests": requests, "seconds": time.perf_counter() - began}


async def measure_app(
    project: Path, database_url: str, api: str, rounds: int, size: int
) -> dict[str, Any]:
    """Every case of `api` ("after" or "before") timed `rounds` times, taking turns
    (fewer when they take over BUDGET_S seconds, but at least MIN_ROUNDS)."""
    import httpx

    sys.path.insert(0, str(project))
    os.environ.pop("DATABASE_URL", None)  # app.main builds a module-level app too
    from app.main import create_app

    try:
        from app.settings import Settings  # hexforge 0.9 on: the app takes its settings
    except ImportError:
        app = create_app(database_url)
    else:
        app = create_app(Settings(database_url=database_url, log_level="WARNING"))
    result: dict[str, Any] = {"size": size, "api": api, "walks": {}}
    ids = await _ids(database_url, rounds + 1, SEED)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            get = Case("get by id", {})
            cases = [get]
            depth = int(size * DEPTH)
            page = {"limit": str(PAGE)}
            if api == "after":
                for label, sort in (
                    ("default order", {}),
                    (f"sort={SORTED_BY}", {"sort": SORTED_BY}),
                ):
                    cursor, result["walks"][label] = await _walk_to(client, sort, depth)
                    cases.append(Case(f"first page, {label}", {**sort, **page}))
                    cases.append(Case(f"deep page, {label}", {**sort, **page, "cursor": cursor}))
            else:
                for label, offset in (("first page", 0), ("offset n/2", size // 2)):
                    cases.append(Case(label, {**page, "offset": str(offset)}))
                deep = min(depth, size - PAGE)  # a full page, like the others
                cases.append(Case("offset 0.99n", {**page, "offset": str(deep)}))
            samples: dict[str, list[float]] = {case.name: [] for case in cases}
            began_rounds = time.perf_counter()
            for index in range(rounds + 1):  # round 0 warms up: not counted
                spent = time.perf_counter() - began_rounds
                if index > MIN_ROUNDS and spent > BUDGET_S:
                    break
                shift = index % len(cases)
                for case in cases[shift:] + cases[:shift]:
                    url = f"{URL_PATH}/{ids[index]}" if case is get else URL_PATH
                    began = time.perf_counter()
                    response = await client.get(url, params=case.params)
                    seconds = time.perf_counter() - began
                    if response.status_code != 200:
                        raise SystemExit(f"lists: {case.name} got {response.text}")
                    if case is not get and len(response.json()["items"]) != PAGE:
                        raise SystemExit(f"lists: {case.name} did not return a full page")
                    if index:
                        samples[case.name].append(seconds)
    result["samples"] = samples
    return result


# ------------------------------------------------- orchestrating, in hexforge's venv


@dataclass
class Project:
    api: str  # "after" or "before"
    path: Path
    database_url: str
    measured: list[dict[str, Any]] = field(default_factory=list)


def render_project(template: Path, dest: Path) -> Path:
    from tests.helpers import commit_all, copier_copy, init_repo

    project = init_repo(dest)
    data = {"kind": "component", "component_name": COMPONENT, "fields": FIELDS}
    copier_copy(template, project, data, vcs_ref="v1")
    commit_all(project, "the benchmark's component")
    return project


def in_project(venv: Path, project: Path, *args: str) -> str:
    """Run ``python args...`` in the project with its venv, as its gates do; stdout."""
    from tests.component.gates import gate_env

    env = {**os.environ, **gate_env(venv, project)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [str(venv / "bin" / "python"), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        said = (result.stdout + result.stderr)[-3000:]
        raise SystemExit(f"lists: `python {' '.join(args[:2])}` failed in {project}:\n{said}")
    return result.stdout


def in_venv(venv: Path, project: Path, *args: str) -> str:
    """This module's command ``args`` (load, measure) in the project's venv."""
    return in_project(venv, project, str(Path(__file__).resolve()), *args)


def migrate(venv: Path, project: Path, database_url: str) -> None:
    in_project(venv, project, "tools/migrate.py", "up", "--database-url", database_url)


def median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000


def bench_lists(
    after_template: Path,
    before_template: Path,
    workspace: Path,
    venv: Path,
    sizes: Sequence[int],
    rounds: int,
    row: Callable[..., Any],
    progress: Callable[[str], None],
) -> tuple[list[Any], list[str], list[str]]:
    """Rows for bench/run.py's table, notes, and the detail tables (markdown)."""
    from tests.clusters import database_url, psql, start_cluster

    cluster = start_cluster()
    try:
        projects = []
        for api, template in (("after", after_template), ("before", before_template)):
            progress(f"lists: rendering the {api} project, its database and schema")
            path = render_project(template, workspace / f"lists-{api}")
            psql(cluster.dsn, f"CREATE DATABASE lists_{api}")
            url = database_url(cluster, f"lists_{api}")
            migrate(venv, path, url)
            projects.append(Project(api, path, url))
        loaded = 0
        load_seconds: dict[int, float] = {}
        for size in sorted(sizes):
            for project in projects:
                progress(f"lists: {project.api}: COPY rows {loaded}..{size - 1}")
                out = in_venv(
                    venv, project.path, "load", project.database_url, str(loaded), str(size)
                )
                if project.api == "after":
                    load_seconds[size] = json.loads(out)["seconds"]
            loaded = size
            for project in projects:
                progress(f"lists: {project.api}: {size} rows, {rounds} rounds")
                out = in_venv(
                    venv,
                    project.path,
                    "measure",
                    project.database_url,
                    project.api,
                    str(rounds),
                    str(size),
                )
                project.measured.append(json.loads(out))
    finally:
        cluster.stop()
    after, before = projects
    return report(after.measured, before.measured, rounds, load_seconds, row)


def report(
    after: list[dict[str, Any]],
    before: list[dict[str, Any]],
    rounds: int,
    load_seconds: dict[int, float],
    row: Callable[..., Any],
) -> tuple[list[Any], list[str], list[str]]:
    rows: list[Any] = []
    notes: list[str] = []
    lines = [
        "**Lists on PostgreSQL: median ms per request (ratio to get-by-id of the same run)**",
        "",
    ]
    pages = [name for name in after[0]["samples"] if name != "get by id"]
    old_pages = [name for name in before[0]["samples"] if name != "get by id"]
    header = ["rows", "get by id", *pages, *(f"before: {name}" for name in old_pages)]
    lines += ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    for new, old in zip(after, before, strict=True):
        size = new["size"]
        get = median_ms(new["samples"]["get by id"])
        old_get = median_ms(old["samples"]["get by id"])
        cells = [f"{size:,}", f"{get:.2f} (before: {old_get:.2f})"]
        for name in pages:
            ms = median_ms(new["samples"][name])
            cells.append(f"{ms:.2f} ({ms / get:.2f}x)")
            rows.append(
                row(
                    f"lists: {name}, {size:,} rows",
                    None,
                    "get by id, same run",
                    None,
                    ms / get,
                    f"≤ {TARGET:.0f}x",
                    ms / get <= TARGET,
                    f"{ms:.2f} ms vs {get:.2f} ms; {len(new['samples'][name])} rounds",
                )
            )
        for name in old_pages:
            ms = median_ms(old["samples"][name])
            cells.append(f"{ms:.2f} ({ms / old_get:.2f}x)")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Growth with the table (median ms at each size, smallest → largest):")
    lines.append("")
    for name in pages:
        curve = " → ".join(f"{median_ms(m['samples'][name]):.2f}" for m in after)
        lines.append(f"- {name}: {curve}")
    for name in old_pages:
        curve = " → ".join(f"{median_ms(m['samples'][name]):.2f}" for m in before)
        lines.append(f"- before, {name}: {curve}")
    walks = [
        f"{label} to row {w['depth']:,} of {m['size']:,}: {w['requests']} requests in"
        f" {w['seconds']:.1f} s"
        for m in after
        for label, w in m["walks"].items()
    ]
    if walks:
        lines += ["", "Walks to the deep cursor (pages of 100): " + "; ".join(walks) + "."]
    sizes = " → ".join(f"{m['size']:,}" for m in after)
    for name in pages:
        if not name.startswith("deep page, "):
            continue
        first_name = name.replace("deep page", "first page")
        ratios = [
            median_ms(m["samples"][name]) / median_ms(m["samples"][first_name]) for m in after
        ]
        rows.append(
            row(
                f"lists: {name} / first page, rows {sizes}",
                None,
                target=f"flat with depth: ≤ {TARGET:.0f}x at every size",
                met=max(ratios) <= TARGET,
                note=" → ".join(f"{ratio:.2f}x" for ratio in ratios),
            )
        )
    for name in old_pages:
        ratios = [
            median_ms(m["samples"][name]) / median_ms(m["samples"]["get by id"]) for m in before
        ]
        rows.append(
            row(
                f"lists, before: {name} / get by id, rows {sizes}",
                None,
                note=" → ".join(f"{ratio:.1f}x" for ratio in ratios),
            )
        )
    notes.append(
        "lists: one process drives the project's app through httpx's ASGI transport on a"
        " throwaway PostgreSQL cluster (fsync off); pages of"
        f" {PAGE} rows; rows loaded by COPY ("
        + ", ".join(f"{size:,} in {s:.1f} s" for size, s in sorted(load_seconds.items()))
        + f"); `before` is the template at {BEFORE_REF} (LIMIT/OFFSET, count(*) per page);"
        f" up to {rounds} rounds, each process stopping after {BUDGET_S:.0f} s"
        f" (at least {MIN_ROUNDS} rounds)."
    )
    return rows, notes, ["\n".join(lines)]


# ------------------------------------------------------------------------ commands


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="bench/run.py's lists section, in a project")
    commands = parser.add_subparsers(dest="command", required=True)
    load_parser = commands.add_parser("load", help="COPY rows start..stop-1")
    load_parser.add_argument("database_url")
    load_parser.add_argument("start", type=int)
    load_parser.add_argument("stop", type=int)
    measure_parser = commands.add_parser("measure", help="time the app's requests; JSON out")
    measure_parser.add_argument("database_url")
    measure_parser.add_argument("api", choices=("after", "before"))
    measure_parser.add_argument("rounds", type=int)
    measure_parser.add_argument("size", type=int)
    args = parser.parse_args(argv)
    if args.command == "load":
        seconds = load(args.database_url, SEED, args.start, args.stop)
        print(json.dumps({"seconds": seconds}))
        return 0
    result = asyncio.run(
        measure_app(Path.cwd(), args.database_url, args.api, args.rounds, args.size)
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
