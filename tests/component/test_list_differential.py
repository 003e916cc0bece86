"""Lists (SPEC section 8) give the same pages in memory and on PostgreSQL, for any data
and any query, whatever the database's collation; walking every page returns every
row once.

One component with a mixed field list is rendered with the copier CLI into a temp git
repository. Its app (``app.main.create_app``) runs three times in this process:

- ``memory``: the in-memory twin (a fresh app for every example);
- ``postgres``: the default test cluster (initdb's locale from the environment,
  C.UTF-8 here: text in bytewise order);
- ``icu``: a cluster created with an ICU collation (en-US: 'a' < 'B' < 'b').

Both PostgreSQL databases get their schema from the project's ``tools/migrate.py up``.
The app's code comes from the generated project; its libraries (FastAPI, psycopg,
httpx) from the generated project's venv, put on ``sys.path`` after this suite's own.

Hypothesis draws the rows (text with case, accents, the empty string, any NUL-free
unicode; values from small pools, so that ties are common and the id tie-breaker
decides; NULLs) and the queries (equality and range filters, sorts ascending and
descending, page sizes), and every app must answer every page alike while the walk
follows ``next_cursor`` to the end.

Ids: the API makes them (the repositories' ``next_id``, a random UUID), so two apps
fed the same rows would give them different ids, and rows level on every sort key
would come in different orders: their pages could not be compared. Mapping rows by
content is not enough for that reason. So the test makes the ids the same instead:
it replaces the ``uuid4`` of the component's adapter modules by one that hands out
the id the test chose for the row being created, creates each row in every app in
turn, and checks that each app answered with that id. The ids are random UUIDs
drawn by hypothesis, so the tie-breaker still sees arbitrary ids, and every page of
every app can be compared as it is, ids included.

Besides agreeing with each other, the pages must be the contract's: the rows the
filters match, each once, in the documented order (the sort keys, NULLs last when
ascending and first when descending, text by code point, then id in the direction of
the last key), computed here in plain Python from the rows the test made.

Rows inserted while a client walks the pages: the cursor is a position in the order
(keyset pagination), so a row inserted *ahead* of the last row returned is returned
later in the walk, one inserted *behind* it never is, and no row is returned twice or
skipped. The walk with inserts must equal exactly that.

HEXFORGE_LIST_EXAMPLES sets the number of examples of each property (default 40,
about a minute on 2 cores; a few hundred for a thorough run).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import importlib
import json
import os
import sys
import sysconfig
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.clusters import ClusterUnavailable, database_url, psql, start_cluster
from tests.helpers import commit_all, copier_copy, init_repo, run

pytestmark = pytest.mark.slow  # renders a project, starts two clusters

COMPONENT = "members"
BASE = f"/{COMPONENT}"
TIERS = ("gold", "silver", "bronze")
EXAMPLES = int(os.environ.get("HEXFORGE_LIST_EXAMPLES", "40"))


@dataclass(frozen=True)
class Spec:
    """A field of the component and what SPEC section 8 makes of it."""

    declared: str  # as the `fields` answer writes it

    @property
    def name(self) -> str:
        return self.declared.split(":")[0]

    @property
    def kind(self) -> str:  # str int decimal date bool enum
        return self.declared.split(":")[1].rstrip("?").split("[")[0]

    @property
    def optional(self) -> bool:
        return self.declared.split(":")[1].endswith("?")

    @property
    def sortable(self) -> bool:
        """Sorts need an index: declared ``index`` or ``unique``."""
        return bool({"index", "unique"} & set(self.declared.split(":")[2:]))

    @property
    def ranged(self) -> bool:
        """``__gte`` / ``__lte``: the ordered types (text, enums, booleans by equality)."""
        return self.kind in {"int", "decimal", "date"}


SPECS = (
    Spec("name:str:index"),
    Spec("nick:str?:index"),
    Spec("rank:int:index"),
    Spec("price:decimal"),
    Spec("born:date:index"),
    Spec("active:bool"),
    Spec(f"tier:enum[{'|'.join(TIERS)}]:index"),
    Spec("code:str:unique"),
)
FIELDS = ", ".join(spec.declared for spec in SPECS)
BY_NAME = {spec.name: spec for spec in SPECS}
SORTABLE = ["id", *(spec.name for spec in SPECS if spec.sortable)]


# -- values: to JSON and query strings, and back ---------------------------------------


def to_json(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    return str(value) if isinstance(value, Decimal) else value


def to_query(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(to_json(value))


def from_item(item: dict[str, Any], name: str) -> object:
    """A field of an API item as a Python value the contract's order compares."""
    value = item[name]
    if value is None or name == "id":
        return value if value is None else uuid.UUID(value)
    kind = BY_NAME[name].kind
    if kind == "decimal":
        return Decimal(str(value))
    if kind == "date":
        return date.fromisoformat(value)
    return value


# -- the contract, in plain Python ------------------------------------------------------


@dataclass(frozen=True)
class Query:
    filters: tuple[tuple[str, str, tuple[object, ...]], ...]  # (field, op, values)
    sort: tuple[tuple[str, bool], ...]  # (field, descending)
    limit: int
    count: bool = False

    def params(self) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = []
        for name, op, values in self.filters:
            key = name if op == "eq" else f"{name}__{op}"
            params += [(key, to_query(value)) for value in values]
        if self.sort:
            params.append(("sort", ",".join(("-" if d else "") + f for f, d in self.sort)))
        if self.count:
            params.append(("count", "true"))
        return [*params, ("limit", str(self.limit))]

    def matches(self, item: dict[str, Any]) -> bool:
        for name, op, values in self.filters:
            value = from_item(item, name)
            if value is None:  # NULL matches no filter
                return False
            if op == "eq" and value not in values:
                return False
            if op == "gte" and value < values[0]:  # type: ignore[operator]
                return False
            if op == "lte" and value > values[0]:  # type: ignore[operator]
                return False
        return True

    @property
    def order(self) -> tuple[tuple[str, bool], ...]:
        """The sort keys, then id in the direction of the last key."""
        if self.sort and self.sort[-1][0] == "id":
            return self.sort
        return (*self.sort, ("id", self.sort[-1][1] if self.sort else False))

    def compare(self, left: dict[str, Any], right: dict[str, Any]) -> int:
        """As the contract orders two items: NULLs last ascending, first descending;
        text by code point (Python's str order); UUIDs by value (their bytes)."""
        for name, descending in self.order:
            mine, theirs = from_item(left, name), from_item(right, name)
            if mine == theirs:
                continue
            if mine is None or theirs is None:
                ascending = 1 if mine is None else -1
            else:
                ascending = -1 if mine < theirs else 1  # type: ignore[operator]
            return -ascending if descending else ascending
        return 0

    def expected(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(filter(self.matches, items), key=functools.cmp_to_key(self.compare))


# -- hypothesis: rows and queries -------------------------------------------------------

# Text that collations disagree about: case, accents, ligatures, the empty string,
# spaces and punctuation (which ICU weighs last), digits, non-Latin scripts.
TRICKY = ["", " ", "a", "A", "b", "B", "á", "Á", "e", "é", "É", "ß", "ss", "æ", "ae", "ö"]
TRICKY += ["o", "z", "Z", "a b", "ab", "aB", "Ab", "a-b", "_", "1", "10", "9", "日本", "🙂"]
text = st.one_of(
    st.sampled_from(TRICKY),
    st.lists(st.sampled_from(TRICKY), min_size=2, max_size=3).map("".join),
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=6),
)
# The API takes integers JSON carries exactly (|n| < 2**53).
integers = st.one_of(st.integers(-3, 3), st.integers(-(2**53 - 1), 2**53 - 1))
# Fixed-point decimals of a few scales (1.5, 1.50 and 1.500 are equal: a tie).
decimals = st.builds(
    lambda digits, places: Decimal(digits).scaleb(-places),
    st.integers(-(10**8), 10**8),
    st.integers(0, 3),
)
dates = st.dates(date(1900, 1, 1), date(2100, 12, 31))
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "str": text,
    "int": integers,
    "decimal": decimals,
    "date": dates,
    "bool": st.booleans(),
    "enum": st.sampled_from(TIERS),
}


@st.composite
def pools(draw: st.DrawFn) -> dict[str, list[object]]:
    """A few values per field, for rows and filters alike: rows share values often."""
    chosen: dict[str, list[object]] = {}
    for spec in SPECS:
        values: list[object] = draw(st.lists(VALUES[spec.kind], min_size=1, max_size=4))
        if spec.optional:
            values.append(None)
        chosen[spec.name] = values
    return chosen


@st.composite
def row_sets(draw: st.DrawFn, pool: dict[str, list[object]], max_rows: int) -> list[Row]:
    count = draw(st.integers(0, max_rows))
    ids = draw(st.lists(st.uuids(version=4), min_size=count, max_size=count, unique=True))
    codes = draw(st.lists(text, min_size=count, max_size=count, unique=True))
    rows = []
    for ident, code in zip(ids, codes, strict=True):
        values = {
            spec.name: draw(st.sampled_from(pool[spec.name]))
            for spec in SPECS
            if spec.name != "code"
        }
        rows.append(Row(ident, {**values, "code": code}))
    return rows


@st.composite
def queries(draw: st.DrawFn, pool: dict[str, list[object]], rows: Sequence[Row]) -> Query:
    """Filters on up to two fields, with values the rows hold (so that they match
    some) or any of the type; a sort of up to three keys; a page size, mostly small."""
    filters: list[tuple[str, str, tuple[object, ...]]] = []
    for spec in draw(st.lists(st.sampled_from(SPECS), max_size=2, unique=True)):
        held = [row.values[spec.name] for row in rows] or pool[spec.name]
        present = [value for value in held if value is not None]
        some = st.sampled_from(present) | VALUES[spec.kind] if present else VALUES[spec.kind]
        if spec.ranged and draw(st.booleans()):
            for op in draw(st.sampled_from([["gte"], ["lte"], ["gte", "lte"]])):
                filters.append((spec.name, op, (draw(some),)))
        else:
            filters.append((spec.name, "eq", tuple(draw(st.lists(some, min_size=1, max_size=3)))))
    names = draw(st.lists(st.sampled_from(SORTABLE), max_size=3, unique=True))
    sort = tuple((name, draw(st.booleans())) for name in names)
    limit = draw(st.one_of(st.integers(1, 4), st.integers(1, 100)))
    return Query(tuple(filters), sort, limit, count=draw(st.booleans()))


# -- the apps ---------------------------------------------------------------------------


@dataclass
class Row:
    id: uuid.UUID
    values: dict[str, object]

    def body(self) -> dict[str, object]:
        return {name: to_json(value) for name, value in self.values.items()}


class IdSource:
    """Stands in for ``uuid4`` in the component's adapters: hands out ``next``."""

    def __init__(self) -> None:
        self.next: uuid.UUID | None = None

    def __call__(self) -> uuid.UUID:
        if self.next is None:
            raise AssertionError("an id was asked for outside Apps.create")
        return self.next


class AppClient:
    """One app, its lifespan entered (the PostgreSQL pool opened), behind an httpx
    client on its ASGI transport; requests run on the test's one event loop."""

    def __init__(self, runner: asyncio.Runner, app: Any) -> None:
        import httpx

        self.runner = runner
        self.lifespan = app.router.lifespan_context(app)
        runner.run(self.lifespan.__aenter__())
        transport = httpx.ASGITransport(app=app)
        self.http = httpx.AsyncClient(transport=transport, base_url="http://test")

    def get(self, url: str, params: list[tuple[str, str]]) -> Any:
        return self.runner.run(self.http.get(url, params=params))

    def post(self, url: str, json: object) -> Any:
        return self.runner.run(self.http.post(url, json=json))

    def close(self) -> None:
        self.runner.run(self.http.aclose())
        self.runner.run(self.lifespan.__aexit__(None, None, None))


@dataclass
class Apps:
    """The three apps; the in-memory one is made anew by ``reset``."""

    generated: ModuleType  # the project's app.main
    urls: dict[str, str]  # app name -> PostgreSQL database, for the PostgreSQL apps
    ids: IdSource
    runner: asyncio.Runner = field(default_factory=asyncio.Runner)
    clients: dict[str, AppClient] = field(default_factory=dict)

    def start(self) -> None:
        for name, url in self.urls.items():
            self.clients[name] = AppClient(
                self.runner, self.generated.create_app(self.generated.Settings(database_url=url))
            )

    def reset(self) -> None:
        """Empty every app: a new in-memory app, emptied tables."""
        import psycopg

        old = self.clients.pop("memory", None)
        if old is not None:
            old.close()
        memory = AppClient(
            self.runner, self.generated.create_app(self.generated.Settings(database_url=None))
        )
        self.clients = {"memory": memory, **self.clients}
        for url in self.urls.values():
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute(f'TRUNCATE "{COMPONENT}"')

    def stop(self) -> None:
        for client in self.clients.values():
            client.close()
        self.clients.clear()
        self.runner.close()

    def create(self, row: Row) -> None:
        """The row in every app, with its own id everywhere."""
        for name, client in self.clients.items():
            self.ids.next = row.id
            try:
                response = client.post(BASE, json=row.body())
            finally:
                self.ids.next = None
            assert response.status_code == 201, f"{name}: {response.text}"
            assert response.json()["id"] == str(row.id), f"{name} did not use the test's id"

    def get(self, params: list[tuple[str, str]]) -> dict[str, Any]:
        """The same request to every app: each one's response."""
        return {name: client.get(BASE, params=params) for name, client in self.clients.items()}


def generated_site_packages(venv: Path) -> str:
    paths = {"base": str(venv), "platbase": str(venv)}
    return sysconfig.get_path("purelib", scheme="venv", vars=paths)


@contextlib.contextmanager
def imported_project(project: Path, venv: Path) -> Iterator[ModuleType]:
    """The project's app.main, importable here: the project first on sys.path, the
    generated venv's libraries after this suite's own; undone afterwards."""
    site_packages = generated_site_packages(venv)
    assert Path(site_packages).is_dir(), f"the generated venv has no {site_packages}"
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    sys.path.insert(0, str(project))
    sys.path.append(site_packages)
    os.environ.pop("DATABASE_URL", None)  # app.main builds a module-level app as well
    try:
        yield importlib.import_module("app.main")
    finally:
        sys.path[:] = saved_path
        for name in set(sys.modules) - saved_modules:
            if name.split(".")[0] in {"app", "components", "tools"}:
                del sys.modules[name]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, template_v1: Path) -> Path:
    project = init_repo(tmp_path_factory.mktemp("lists") / "club")
    data = {"kind": "component", "component_name": COMPONENT, "fields": FIELDS}
    copier_copy(template_v1, project, data)
    commit_all(project, "the members component")
    return project


@pytest.fixture(scope="module")
def clusters() -> Iterator[dict[str, Any]]:
    """The default test cluster and the ICU one (PostgreSQL is required: no skip)."""
    started: dict[str, Any] = {}
    try:
        started["postgres"] = start_cluster()
        started["icu"] = start_cluster(icu=True)
    except ClusterUnavailable as error:
        for cluster in started.values():
            cluster.stop()
        pytest.fail(str(error))
    try:
        yield started
    finally:
        for cluster in started.values():
            cluster.stop()


@pytest.fixture(scope="module")
def apps(project: Path, generated_venv: Path, clusters: dict[str, Any]) -> Iterator[Apps]:
    from tests.component.gates import gate_env

    urls = {}
    for name, cluster in clusters.items():
        psql(cluster.dsn, "CREATE DATABASE lists")
        urls[name] = database_url(cluster, "lists")
        python = str(generated_venv / "bin" / "python")
        env = gate_env(generated_venv, project)
        run([python, "tools/migrate.py", "up", "--database-url", urls[name]], project, env=env)
    ids = IdSource()
    with imported_project(project, generated_venv) as generated:
        adapters = [
            importlib.import_module(f"components.{COMPONENT}.adapters.outbound.{module}")
            for module in ("memory_repo", "postgres_repo")
        ]
        saved = [getattr(adapter, "uuid4") for adapter in adapters]  # noqa: B009
        for adapter in adapters:
            setattr(adapter, "uuid4", ids)  # noqa: B010
        apps = Apps(generated, urls, ids)
        try:
            apps.start()
            yield apps
        finally:
            apps.stop()
            for adapter, original in zip(adapters, saved, strict=True):
                setattr(adapter, "uuid4", original)  # noqa: B010


# -- walking ----------------------------------------------------------------------------


def same_everywhere(responses: dict[str, Any], what: str) -> dict[str, Any]:
    """The one body every app answered (200), after checking they all agree."""
    bodies = {}
    for name, response in responses.items():
        assert response.status_code == 200, f"{name}, {what}: {response.text}"
        body = response.json()
        bodies[name] = {**body, "next_cursor": body["next_cursor"] is not None}
    memory = bodies["memory"]
    for name, body in bodies.items():
        assert body == memory, f"{what}: {name} differs from memory:\n{body}\n{memory}"
    return dict(responses["memory"].json())


def walk(
    apps: Apps, query: Query, between: Callable[[int, dict[str, Any]], None] | None = None
) -> list[list[dict[str, Any]]]:
    """Every page of the query in every app, in step: each app follows its own
    cursors; ``between(page_number, last_item)`` runs after each page that has a next."""
    pages: list[list[dict[str, Any]]] = []
    cursors: dict[str, str | None] = dict.fromkeys(apps.clients)
    while True:
        responses = {}
        for name, client in apps.clients.items():
            cursor = cursors[name]
            params = query.params() + ([("cursor", cursor)] if cursor else [])
            responses[name] = client.get(BASE, params=params)
        body = same_everywhere(responses, f"page {len(pages) + 1} of {query.params()}")
        items = body["items"]
        pages.append(items)
        if body["next_cursor"] is None:
            return pages
        assert len(items) == query.limit, "a page before the last one is not full"
        assert len(pages) <= 1000, "the walk does not end"
        cursors = {name: response.json()["next_cursor"] for name, response in responses.items()}
        if between is not None:
            between(len(pages), items[-1])


def ids(items: Sequence[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


# -- the premise: the ICU cluster does not sort bytewise ---------------------------------


def test_the_icu_cluster_sorts_text_by_language_not_by_bytes(clusters: dict[str, Any]) -> None:
    words = ["b", "B", "a", "A", "é", "e", "Z", ""]
    values = ", ".join(f"('{word}')" for word in words)
    sql = f"SELECT string_agg(w, '|' ORDER BY w) FROM (VALUES {values}) AS t(w);"
    sql += "SELECT 'a' < 'B', datlocprovider FROM pg_database WHERE datname = 'postgres'"

    rows = psql(clusters["icu"].dsn, sql)

    assert rows[0][0].split("|") == ["", "a", "A", "b", "B", "e", "é", "Z"]
    assert rows[0][0].split("|") != sorted(words)  # not code point order, not bytes
    assert rows[1] == ["t", "i"]  # 'a' < 'B'; the provider is ICU


# -- the properties ---------------------------------------------------------------------

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(data=st.data())
def test_every_page_is_the_same_in_memory_and_on_both_clusters(
    apps: Apps, data: st.DataObject
) -> None:
    pool = data.draw(pools(), label="pool")
    rows = data.draw(row_sets(pool, max_rows=24), label="rows")
    query = data.draw(queries(pool, rows), label="query")
    apps.reset()
    for row in rows:
        apps.create(row)
    everything = same_everywhere(apps.get([("limit", "100")]), "all rows")["items"]

    pages = walk(apps, query)

    walked = [item for page in pages for item in page]
    assert ids(walked) == ids(query.expected(everything))
    assert len(set(ids(walked))) == len(walked)
    first = same_everywhere(apps.get(query.params()), "the first page again")
    if query.count:
        assert first["total"] == len(walked)
    else:
        assert "total" not in first or first["total"] is None


@SETTINGS
@given(data=st.data())
def test_rows_inserted_between_pages_come_once_if_ahead_and_never_if_behind(
    apps: Apps, data: st.DataObject
) -> None:
    pool = data.draw(pools(), label="pool")
    rows = data.draw(row_sets(pool, max_rows=30), label="rows")
    split = data.draw(st.integers(0, len(rows)), label="rows there at the start")
    initial, late = rows[:split], rows[split:]
    query = data.draw(queries(pool, rows), label="query")
    apps.reset()
    for row in initial:
        apps.create(row)
    at_start = same_everywhere(apps.get([("limit", "100")]), "the rows at the start")["items"]
    inserted: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (item, last item before)

    def insert_some(page: int, last: dict[str, Any]) -> None:
        for _ in range(data.draw(st.integers(0, 3), label=f"inserts after page {page}")):
            if late:
                row = late.pop(0)
                apps.create(row)
                item = same_everywhere(apps.get([("code", str(row.values["code"]))]), "new")
                inserted.append((item["items"][0], last))

    pages = walk(apps, query, insert_some)

    walked = [item for page in pages for item in page]
    assert len(set(ids(walked))) == len(walked), "a row came twice"
    ahead = [item for item, last in inserted if query.compare(item, last) > 0]
    assert ids(walked) == ids(query.expected([*at_start, *ahead]))


# -- refusals ---------------------------------------------------------------------------

BAD_QUERIES = [
    ([("nope", "1")], "nope"),
    ([("nope__gte", "1")], "nope"),
    ([("sort", "nope")], "nope"),
    ([("sort", "price")], "price"),  # no index: not sortable
    ([("sort", "active")], "active"),
    ([("sort", "-")], "sort"),
    ([("sort", "name,")], "sort"),
    ([("rank", "one")], "rank"),
    ([("rank", str(2**63))], "rank"),
    ([("rank__lte", "1.5")], "rank__lte"),
    ([("price", "1,5")], "price"),
    ([("price", "NaN")], "price"),
    ([("born__gte", "2024-02-30")], "born__gte"),
    ([("active", "maybe")], "active"),
    ([("tier", "platinum")], "tier"),
    ([("name__gte", "a")], "name"),  # text filters by equality only
    ([("name", "a\x00b")], "name"),
    ([("limit", "0")], "limit"),
    ([("limit", "101")], "limit"),
    ([("count", "perhaps")], "count"),
    ([("cursor", "not a cursor")], "cursor"),
    ([("cursor", base64.urlsafe_b64encode(b'{"after": [1]}').decode())], "cursor"),
]


@pytest.fixture
def filled(apps: Apps) -> Apps:
    """The apps with five rows: enough for cursors of several sorts and filters."""
    apps.reset()
    for number in range(5):
        values: dict[str, object] = {
            "name": f"n{number % 2}",
            "nick": None if number % 2 else "nick",
            "rank": number,
            "price": Decimal(number).scaleb(-1),
            "born": date(2000, 1, 1 + number),
            "active": bool(number % 2),
            "tier": TIERS[number % 3],
            "code": f"c{number}",
        }
        apps.create(Row(uuid.UUID(int=number + 1, version=4), values))
    return apps


@pytest.mark.parametrize(("params", "named"), BAD_QUERIES)
def test_a_bad_query_gets_422_naming_the_parameter(
    filled: Apps, params: list[tuple[str, str]], named: str
) -> None:
    for name, response in filled.get(params).items():
        assert response.status_code == 422, f"{name}: {params} -> {response.text}"
        assert named in json.dumps(response.json()["detail"]), f"{name}: {response.text}"


def first_cursor(apps: Apps, params: list[tuple[str, str]]) -> dict[str, str]:
    """Each app's cursor after a first page of one item."""
    responses = apps.get([*params, ("limit", "1")])
    cursors = {}
    for name, response in responses.items():
        assert response.status_code == 200, response.text
        cursors[name] = response.json()["next_cursor"]
        assert cursors[name], f"{name}: no next page"
    return cursors


FOREIGN = [
    # (where the cursor was made, where it is used)
    ([("sort", "name")], [("sort", "-name")]),
    ([("sort", "name")], []),
    ([], [("sort", "rank")]),
    ([("sort", "rank,born")], [("sort", "rank")]),
    ([("rank__gte", "1")], [("rank__gte", "2")]),
    ([("rank__gte", "1")], []),
    ([], [("active", "true")]),
    ([("tier", "gold"), ("tier", "silver")], [("tier", "gold")]),
]


@pytest.mark.parametrize(("made", "used"), FOREIGN)
def test_a_cursor_of_another_sort_or_filter_gets_422(
    filled: Apps, made: list[tuple[str, str]], used: list[tuple[str, str]]
) -> None:
    cursors = first_cursor(filled, made)
    for name, client in filled.clients.items():
        response = client.get(BASE, params=[*used, ("cursor", cursors[name])])
        assert response.status_code == 422, f"{name}: {made} -> {used}: {response.text}"
        assert "cursor" in json.dumps(response.json()["detail"])


SAME_DIGIT = {"-": "+", "+": "-", "_": "/", "/": "_"}


@SETTINGS
@given(spot=st.floats(0, 1, exclude_max=True), replacement=st.characters(codec="ascii"))
def test_a_tampered_cursor_gets_422(filled: Apps, spot: float, replacement: str) -> None:
    params = [("sort", "-rank")]
    cursors = first_cursor(filled, params)
    for name, client in filled.clients.items():
        cursor = cursors[name]
        # The last two characters may only carry base64 padding bits: change the others,
        # each into a character that means something else ('-' and '+', '_' and '/'
        # are one digit in the two base64 alphabets a lenient decoder accepts).
        at = int(spot * (len(cursor) - 2))
        if replacement in {cursor[at], SAME_DIGIT.get(cursor[at])}:
            continue
        tampered = cursor[:at] + replacement + cursor[at + 1 :]
        response = client.get(BASE, params=[*params, ("cursor", tampered)])
        assert response.status_code == 422, f"{name}: {tampered!r}: {response.text}"
