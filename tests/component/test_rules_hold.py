"""Business rules that hold under concurrency (SPEC §15), as issue 24 asks them shown.

A project gets bookings (a room, a start, an end) and products (a stock, with a
`reserve` use case). The user writes two rules and touches no generated line: in
bookings' domain/invariants.py, "two bookings of one room may not overlap" (a rule
that reads other rows, then lets the write happen); in products'
domain/use_cases/reserve.py, "never reserve more than the stock" (a rule that
only changes and returns the product), and tells the tests' factory to make
bookings an hour long. Every gate passes. Served on PostgreSQL and
on the in-memory twin, racing requests cannot break either rule: 20 concurrent
bookings of one slot give one 201 and nineteen 409s; 30 concurrent reservations of
one item against a stock of 10 give ten 200s, twenty 409s and a stock of 0.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest

from tests.component.gates import gate_env, run_gates
from tests.component.test_openapi_fuzz import serving
from tests.component.test_update import postgres_server
from tests.component.test_use_cases import request
from tests.helpers import commit_all, copier_copy, git, init_repo, run, wait_until_up

pytestmark = pytest.mark.slow

INVARIANT = '''\
"""Bookings: two bookings of one room may not overlap."""

from __future__ import annotations

from hexforge.actor import Actor

from components.bookings.domain.exceptions import BookingConflict, InvalidBooking
from components.bookings.domain.model import Booking
from components.bookings.domain.query import BookingFilter, BookingQuery
from components.bookings.domain.view import BookingView


async def check_booking(candidate: Booking, view: BookingView, actor: Actor) -> None:
    """A booking ends after it starts and overlaps no other booking of its room."""
    if candidate.ends_at <= candidate.starts_at:
        raise InvalidBooking("ends_at must come after starts_at")
    same_room = BookingQuery(limit=50, filters=(BookingFilter("room", any_of=(candidate.room,)),))
    async for other in view.find(same_room):
        if (
            other.id != candidate.id
            and other.starts_at < candidate.ends_at
            and candidate.starts_at < other.ends_at
        ):
            raise BookingConflict(
                f"room {candidate.room} is booked from {other.starts_at} to {other.ends_at}"
            )
'''

RESERVE = '''\
"""Reserve: take some of the stock, never more than there is."""

from __future__ import annotations

from dataclasses import replace

from hexforge.actor import Actor

from components.products.domain.commands import ReserveProduct
from components.products.domain.exceptions import ProductConflict
from components.products.domain.model import Product


def reserve(product: Product, command: ReserveProduct, actor: Actor) -> Product:
    """Take ``command.quantity`` from the stock; 409 when fewer are left."""
    if product.stock < command.quantity:
        raise ProductConflict(f"only {product.stock} left, {command.quantity} asked")
    return replace(product, stock=product.stock - command.quantity)
'''

# The tests' drafts, made to keep the invariant: each ends an hour after it starts.
FACTORY = '''\
"""How the tests build bookings: an hour long, so that the invariant accepts them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from components.bookings.domain.model import BookingDraft
from components.bookings.tests.samples import sample_values


def make_draft(index: int = 0, **changes: Any) -> BookingDraft:
    """The draft of set ``index``, an hour long, with ``changes`` over it."""
    values = sample_values(index)
    values["ends_at"] = values["starts_at"] + timedelta(hours=1)
    return BookingDraft(**{**values, **changes})
'''

SLOT = {"room": "blue", "starts_at": "2027-03-01T10:00:00Z", "ends_at": "2027-03-01T11:00:00Z"}


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory, template_v1: Path) -> Path:
    project = init_repo(tmp_path_factory.mktemp("rules") / "clinic")
    copier_copy(
        template_v1,
        project,
        {
            "kind": "component",
            "component_name": "bookings",
            "entity_name": "Booking",
            "fields": "room:str:index:max_length=40, starts_at:datetime:index, ends_at:datetime",
        },
    )
    copier_copy(
        template_v1,
        project,
        {
            "kind": "component",
            "component_name": "products",
            "entity_name": "Product",
            "fields": "sku:str:unique:max_length=40, stock:int:ge=0:default=0",
            "usecases": "reserve(quantity:int:gt=0)",
        },
    )
    commit_all(project, "bookings and products, as hexforge renders them")
    (project / "components/bookings/domain/invariants.py").write_text(INVARIANT)
    (project / "components/bookings/tests/factories.py").write_text(FACTORY)
    (project / "components/products/domain/use_cases/reserve.py").write_text(RESERVE)
    commit_all(project, "the two rules")
    return project


def test_the_rules_are_written_without_editing_a_generated_line_and_every_gate_passes(
    clinic: Path, generated_venv: Path
) -> None:
    changed = git(clinic, "diff", "--name-only", "HEAD~1", "HEAD").split()
    assert changed == [
        "components/bookings/domain/invariants.py",
        "components/bookings/tests/factories.py",
        "components/products/domain/use_cases/reserve.py",
    ]
    run_gates(clinic, generated_venv)


def together(count: int, url: str, body: Any) -> list[tuple[int, Any]]:
    """``count`` POSTs of ``body`` to ``url``, all sent at once."""
    start = threading.Barrier(count)

    def post(_: int) -> tuple[int, Any]:
        start.wait()
        return request(url, "POST", body)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(post, range(count)))


def race(url: str) -> dict[str, Any]:
    wait_until_up(url)
    bookings = together(20, f"{url}/bookings", SLOT)
    _, created = request(f"{url}/products", "POST", {"sku": "A-1", "stock": 10})
    item = f"{url}/products/{created['id']}"
    reserved = together(30, f"{item}/reserve", {"quantity": 1})
    _, listed = request(f"{url}/bookings?room=blue", "GET")
    return {
        "bookings": Counter(status for status, _ in bookings),
        "booking problems": {answer["type"] for status, answer in bookings if status == 409},
        "stored bookings": len(listed["items"]),
        "reservations": Counter(status for status, _ in reserved),
        "stock": request(item, "GET")[1]["stock"],
    }


@pytest.mark.parametrize("adapter", ["memory", "postgres"])
def test_racing_requests_cannot_break_a_rule(
    clinic: Path, generated_venv: Path, adapter: str
) -> None:
    database = postgres_server(clinic) if adapter == "postgres" else nullcontext(None)
    with database as dsn, serving(clinic, generated_venv, dsn) as url:
        outcome = race(url)

    assert outcome == {
        "bookings": Counter({201: 1, 409: 19}),
        "booking problems": {"urn:problem:BookingConflict"},
        "stored bookings": 1,
        "reservations": Counter({200: 10, 409: 20}),
        "stock": 0,
    }


FACTORY_CHECK = """
import json

from components.products.tests.factories import make_draft, make_entity, make_payload

entity = make_entity(1, stock=3)
print(json.dumps({
    "payload": make_payload(2, stock=4),
    "entity": [entity.version, entity.stock, entity.sku == make_draft(1).sku],
    "distinct": len({make_draft(index).sku for index in range(6)}),
}))
"""


def test_the_factory_gives_valid_drafts_entities_and_payloads_field_by_field(
    clinic: Path, generated_venv: Path
) -> None:
    output = run(
        ["python", "-c", FACTORY_CHECK], clinic, env=gate_env(generated_venv, clinic)
    ).stdout

    built = json.loads(output)
    assert built["payload"]["stock"] == 4 and isinstance(built["payload"]["sku"], str)
    assert built["entity"] == [1, 3, True]
    assert built["distinct"] == 6  # sku is unique: six drafts, six values
