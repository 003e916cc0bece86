"""A clean, realistic hexagonal component, as hexforge generates it, for the audit.

The tests plant one violation at a time into a copy of it; the benchmark copies it
hundreds of times. It deliberately uses every idiom the audit must accept: a
`__future__` import, `TYPE_CHECKING` blocks, dataclass options, enums, `NewType`,
`datetime.time` (not `time.time`), docstring and `...` bodies in ports, an
`ABCMeta` metaclass, a port inheriting another port, `outbound.Port` bases, and
docstrings that mention "adapters" and "outbound" (so the cheap text pre-checks
send those files through the real parser).
"""

from __future__ import annotations

from pathlib import Path

COMPONENT: dict[str, str] = {}

COMPONENT[
    "__init__.py"
] = '''"""Orders: the public API of the component (what other code may import)."""

from components.orders.domain.model import Order, OrderDraft, OrderId, OrderStatus
from components.orders.domain.service import OrderService

__all__ = ["Order", "OrderDraft", "OrderId", "OrderService", "OrderStatus"]
'''

COMPONENT["README.md"] = """# orders

Create, read, list, update and delete `Order` records.

## Ports

- inbound: `OrderUseCases` (ports/inbound.py)
- outbound: `OrderRepository`, `Clock`, `IdGenerator` (ports/outbound.py)

## Tests

    pytest components/orders -m unit
    pytest components/orders -m integration

```mermaid
flowchart LR
    api[adapters/inbound/api_handler] --> svc[domain/service]
    svc --> port[ports/outbound]
    pg[adapters/outbound/postgres_repo] -.implements.-> port
    mem[adapters/outbound/memory_repo] -.implements.-> port
```
"""

COMPONENT[
    "domain/__init__.py"
] = '''"""Domain layer of orders: entities, rules and use cases; no infrastructure."""
'''

COMPONENT["domain/model.py"] = '''"""Order entity and value objects.

Pure Python: no I/O, no clock and no randomness. Times and ids are passed in by
the service, which gets them from the Clock and IdGenerator ports.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, NewType
from uuid import UUID

from .exceptions import InvalidOrderError

if TYPE_CHECKING:
    from collections.abc import Mapping

OrderId = NewType("OrderId", UUID)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CUTOFF = time(17, 0)
MAX_NOTE_LENGTH = 500


class OrderStatus(enum.StrEnum):
    """Where an order is in its life."""

    DRAFT = "draft"
    PLACED = "placed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True, kw_only=True)
class Money:
    """An amount in one currency."""

    amount: Decimal
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise InvalidOrderError(f"amount must not be negative, got {self.amount}")

    def add(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise InvalidOrderError("cannot add amounts in different currencies")
        return Money(amount=self.amount + other.amount, currency=self.currency)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderDraft:
    """What a caller provides to create an order."""

    customer: str
    total: Decimal
    placed_on: date
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderChanges:
    """A partial update: None means "leave as it is"."""

    customer: str | None = None
    total: Decimal | None = None
    placed_on: date | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """An order placed by a customer."""

    id: OrderId
    customer: str
    total: Decimal
    placed_on: date
    note: str | None = None
    status: OrderStatus = OrderStatus.DRAFT
    created_at: datetime = EPOCH
    tags: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def create(cls, draft: OrderDraft, *, order_id: OrderId, at: datetime) -> Order:
        order = cls(
            id=order_id,
            customer=draft.customer.strip(),
            total=draft.total,
            placed_on=draft.placed_on,
            note=draft.note,
            created_at=at,
        )
        order.validate()
        return order

    def validate(self) -> None:
        if not self.customer:
            raise InvalidOrderError("customer must not be empty")
        if self.total < Decimal("0"):
            raise InvalidOrderError("total must not be negative")
        if self.note is not None and len(self.note) > MAX_NOTE_LENGTH:
            raise InvalidOrderError(f"note is longer than {MAX_NOTE_LENGTH} characters")

    def apply(self, changes: OrderChanges) -> Order:
        updated = replace(
            self,
            customer=self.customer if changes.customer is None else changes.customer.strip(),
            total=self.total if changes.total is None else changes.total,
            placed_on=self.placed_on if changes.placed_on is None else changes.placed_on,
            note=self.note if changes.note is None else changes.note,
        )
        updated.validate()
        return updated

    def place(self, *, at: datetime) -> Order:
        if self.status is not OrderStatus.DRAFT:
            raise InvalidOrderError(f"only a draft can be placed, this one is {self.status}")
        return replace(self, status=OrderStatus.PLACED, created_at=at)

    def is_due(self, today: date) -> bool:
        return self.placed_on <= today

    def ships_same_day(self) -> bool:
        return self.created_at.time() < CUTOFF

    def as_record(self) -> Mapping[str, object]:
        return {
            "id": self.id,
            "customer": self.customer,
            "total": self.total,
            "placed_on": self.placed_on,
            "note": self.note,
            "status": self.status.value,
        }


@dataclass(frozen=True, slots=True)
class OrderPage:
    """One page of a listing, with the total count for paging."""

    items: tuple[Order, ...]
    total: int
    limit: int
    offset: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total
'''

COMPONENT[
    "domain/exceptions.py"
] = '''"""Errors the orders domain raises; adapters translate them (404, 409, 422)."""


class OrderError(Exception):
    """Base class of every orders domain error."""


class InvalidOrderError(OrderError):
    """The data breaks a business rule."""


class OrderNotFoundError(OrderError):
    """No order has this id."""

    def __init__(self, order_id: object) -> None:
        super().__init__(f"order {order_id} not found")
        self.order_id = order_id


class OrderConflictError(OrderError):
    """An order with this id already exists."""
'''

COMPONENT["domain/rules.py"] = '''"""Business rules that span more than one order."""

from __future__ import annotations

from decimal import Decimal

from .exceptions import InvalidOrderError
from .model import Order, OrderDraft

MAX_TOTAL = Decimal("1000000")
PAGE_LIMIT_MAX = 200


def check_draft(draft: OrderDraft) -> None:
    if draft.total > MAX_TOTAL:
        raise InvalidOrderError(f"total above {MAX_TOTAL} needs a manual review")


def check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= PAGE_LIMIT_MAX:
        raise InvalidOrderError(f"limit must be between 1 and {PAGE_LIMIT_MAX}")
    if offset < 0:
        raise InvalidOrderError("offset must not be negative")


def total_of(orders: list[Order]) -> Decimal:
    return sum((order.total for order in orders), Decimal("0"))
'''

COMPONENT["domain/service.py"] = '''"""Use cases of orders.

The service only knows port interfaces; which adapters sit behind them is decided
by the composition root (app/main.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.orders.domain.exceptions import OrderNotFoundError
from components.orders.domain.model import Order, OrderChanges, OrderDraft, OrderId, OrderPage
from components.orders.domain.rules import check_draft, check_page
from components.orders.ports.inbound import OrderUseCases

if TYPE_CHECKING:
    from components.orders.ports.outbound import Clock, IdGenerator, OrderRepository


class OrderService(OrderUseCases):
    """Implements the inbound port on top of the outbound ports."""

    def __init__(self, repository: OrderRepository, clock: Clock, ids: IdGenerator) -> None:
        self._repository = repository
        self._clock = clock
        self._ids = ids

    async def create(self, draft: OrderDraft) -> Order:
        check_draft(draft)
        order = Order.create(draft, order_id=self._ids.new_id(), at=self._clock.now())
        return await self._repository.add(order)

    async def get(self, order_id: OrderId) -> Order:
        order = await self._repository.get(order_id)
        if order is None:
            raise OrderNotFoundError(order_id)
        return order

    async def list(self, *, limit: int = 50, offset: int = 0) -> OrderPage:
        check_page(limit, offset)
        return await self._repository.list(limit=limit, offset=offset)

    async def update(self, order_id: OrderId, changes: OrderChanges) -> Order:
        current = await self.get(order_id)
        return await self._repository.update(current.apply(changes))

    async def delete(self, order_id: OrderId) -> None:
        if not await self._repository.delete(order_id):
            raise OrderNotFoundError(order_id)
'''

COMPONENT[
    "ports/__init__.py"
] = '''"""Ports of orders: the contracts between the domain and the outside world."""
'''

COMPONENT[
    "ports/inbound.py"
] = '''"""Driving port: what callers (HTTP handlers, jobs, other components) may ask for."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from components.orders.domain.model import (
        Order,
        OrderChanges,
        OrderDraft,
        OrderId,
        OrderPage,
    )


class OrderUseCases(ABC):
    """The use cases of the orders component."""

    @abstractmethod
    async def create(self, draft: OrderDraft) -> Order:
        """Create an order from a draft and return it with its new id."""

    @abstractmethod
    async def get(self, order_id: OrderId) -> Order:
        """Return the order, or raise OrderNotFoundError."""

    @abstractmethod
    async def list(self, *, limit: int = 50, offset: int = 0) -> OrderPage:
        """Return one page of orders, oldest first."""

    @abstractmethod
    async def update(self, order_id: OrderId, changes: OrderChanges) -> Order:
        """Apply a partial update and return the new state."""

    @abstractmethod
    async def delete(self, order_id: OrderId) -> None:
        """Delete the order, or raise OrderNotFoundError."""
'''

COMPONENT["ports/outbound.py"] = '''"""Driven ports: what the domain needs from infrastructure.

Every port here has a PostgreSQL or system adapter and an in-memory twin in
adapters/outbound/memory_repo.py.
"""

from __future__ import annotations

import abc
from abc import ABC, ABCMeta, abstractmethod
from datetime import datetime

from components.orders.domain.model import Order, OrderId, OrderPage


class ReadOnlyOrderRepository(ABC):
    """Reading orders."""

    @abstractmethod
    async def get(self, order_id: OrderId) -> Order | None:
        """Return the order with this id, or None."""

    @abstractmethod
    async def list(self, *, limit: int, offset: int) -> OrderPage:
        """Return one page of orders, oldest first."""
        ...


class OrderRepository(ReadOnlyOrderRepository):
    """Reading and writing orders."""

    @abstractmethod
    async def add(self, order: Order) -> Order:
        """Store a new order; raise OrderConflictError when the id exists."""

    @abstractmethod
    async def update(self, order: Order) -> Order:
        """Replace a stored order; raise OrderNotFoundError when it is missing."""

    @abstractmethod
    async def delete(self, order_id: OrderId) -> bool:
        """Delete an order; return whether it existed."""


class Clock(abc.ABC):
    """The current time, so the domain stays deterministic."""

    @abc.abstractmethod
    def now(self) -> datetime: ...


class IdGenerator(metaclass=ABCMeta):
    """New order ids."""

    @abstractmethod
    def new_id(self) -> OrderId:
        """Return an id never returned before."""
'''

COMPONENT[
    "adapters/__init__.py"
] = '''"""Adapters of orders: HTTP in, storage and system services out."""
'''

COMPONENT["adapters/inbound/__init__.py"] = '''"""Driving adapters of orders."""
'''

COMPONENT[
    "adapters/inbound/api_handler.py"
] = '''"""HTTP API of orders: a FastAPI router with Pydantic DTOs at the edge.

The handler talks to the OrderUseCases port only; it never reaches the outbound
adapters, which the composition root wires behind the service.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from components.orders.domain.exceptions import (
    InvalidOrderError,
    OrderConflictError,
    OrderNotFoundError,
)
from components.orders.domain.model import Order, OrderChanges, OrderDraft, OrderId
from components.orders.ports.inbound import OrderUseCases


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer: str = Field(min_length=1)
    total: Decimal
    placed_on: date
    note: str | None = None


class OrderPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer: str | None = None
    total: Decimal | None = None
    placed_on: date | None = None
    note: str | None = None


class OrderOut(BaseModel):
    id: UUID
    customer: str
    total: Decimal
    placed_on: date
    note: str | None
    status: str
    created_at: datetime

    @classmethod
    def from_domain(cls, order: Order) -> OrderOut:
        return cls(
            id=order.id,
            customer=order.customer,
            total=order.total,
            placed_on=order.placed_on,
            note=order.note,
            status=order.status.value,
            created_at=order.created_at,
        )


class OrderPageOut(BaseModel):
    items: list[OrderOut]
    total: int
    limit: int
    offset: int


def get_use_cases() -> OrderUseCases:
    raise NotImplementedError("the composition root overrides this dependency")


UseCases = Annotated[OrderUseCases, Depends(get_use_cases)]

router = APIRouter(prefix="/orders", tags=["orders"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_order(body: OrderIn, use_cases: UseCases) -> OrderOut:
    try:
        order = await use_cases.create(OrderDraft(**body.model_dump()))
    except InvalidOrderError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(error)) from error
    except OrderConflictError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
    return OrderOut.from_domain(order)


@router.get("/{order_id}")
async def get_order(order_id: UUID, use_cases: UseCases) -> OrderOut:
    try:
        return OrderOut.from_domain(await use_cases.get(OrderId(order_id)))
    except OrderNotFoundError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from error


@router.get("")
async def list_orders(
    use_cases: UseCases,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> OrderPageOut:
    page = await use_cases.list(limit=limit, offset=offset)
    return OrderPageOut(
        items=[OrderOut.from_domain(order) for order in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.patch("/{order_id}")
async def update_order(order_id: UUID, body: OrderPatch, use_cases: UseCases) -> OrderOut:
    try:
        order = await use_cases.update(OrderId(order_id), OrderChanges(**body.model_dump()))
    except OrderNotFoundError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from error
    except InvalidOrderError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(error)) from error
    return OrderOut.from_domain(order)


@router.delete("/{order_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_order(order_id: UUID, use_cases: UseCases) -> Response:
    try:
        await use_cases.delete(OrderId(order_id))
    except OrderNotFoundError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from error
    return Response(status_code=status.HTTP_204_NO_CONTENT)
'''

COMPONENT["adapters/outbound/__init__.py"] = '''"""Driven adapters of orders."""
'''

COMPONENT[
    "adapters/outbound/postgres_repo.py"
] = '''"""OrderRepository on PostgreSQL with psycopg 3 (async), parameterised SQL only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from psycopg import AsyncConnection
from psycopg.errors import UniqueViolation
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from components.orders.domain.exceptions import OrderConflictError, OrderNotFoundError
from components.orders.domain.model import Order, OrderId, OrderPage, OrderStatus
from components.orders.ports.outbound import Clock, IdGenerator, OrderRepository

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id UUID PRIMARY KEY,
    customer TEXT NOT NULL,
    total NUMERIC NOT NULL,
    placed_on DATE NOT NULL,
    note TEXT,
    status TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
)
"""

COLUMNS = "id, customer, total, placed_on, note, status, created_at"


async def create_schema(connection: AsyncConnection[Any]) -> None:
    await connection.execute(SCHEMA)


def _to_order(row: dict[str, Any]) -> Order:
    return Order(
        id=OrderId(row["id"]),
        customer=row["customer"],
        total=row["total"],
        placed_on=row["placed_on"],
        note=row["note"],
        status=OrderStatus(row["status"]),
        created_at=row["created_at"],
    )


class PostgresOrderRepository(OrderRepository):
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def add(self, order: Order) -> Order:
        async with self._pool.connection() as connection:
            try:
                await connection.execute(
                    f"INSERT INTO orders ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (
                        order.id,
                        order.customer,
                        order.total,
                        order.placed_on,
                        order.note,
                        order.status.value,
                        order.created_at,
                    ),
                )
            except UniqueViolation as error:
                raise OrderConflictError(f"order {order.id} already exists") from error
        return order

    async def get(self, order_id: OrderId) -> Order | None:
        async with self._pool.connection() as connection:
            cursor = connection.cursor(row_factory=dict_row)
            await cursor.execute(f"SELECT {COLUMNS} FROM orders WHERE id = %s", (order_id,))
            row = await cursor.fetchone()
        return None if row is None else _to_order(row)

    async def list(self, *, limit: int, offset: int) -> OrderPage:
        async with self._pool.connection() as connection:
            cursor = connection.cursor(row_factory=dict_row)
            await cursor.execute(
                f"SELECT {COLUMNS} FROM orders ORDER BY created_at, id LIMIT %s OFFSET %s",
                (limit, offset),
            )
            rows = await cursor.fetchall()
            await cursor.execute("SELECT count(*) AS n FROM orders")
            count = await cursor.fetchone()
        total = 0 if count is None else int(count["n"])
        return OrderPage(tuple(_to_order(r) for r in rows), total, limit, offset)

    async def update(self, order: Order) -> Order:
        async with self._pool.connection() as connection:
            cursor = await connection.execute(
                "UPDATE orders SET customer = %s, total = %s, placed_on = %s, note = %s,"
                " status = %s WHERE id = %s",
                (
                    order.customer,
                    order.total,
                    order.placed_on,
                    order.note,
                    order.status.value,
                    order.id,
                ),
            )
            if cursor.rowcount == 0:
                raise OrderNotFoundError(order.id)
        return order

    async def delete(self, order_id: OrderId) -> bool:
        async with self._pool.connection() as connection:
            cursor = await connection.execute("DELETE FROM orders WHERE id = %s", (order_id,))
            return cursor.rowcount > 0


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)


class RandomIdGenerator(IdGenerator):
    def new_id(self) -> OrderId:
        return OrderId(uuid4())
'''

COMPONENT[
    "adapters/outbound/memory_repo.py"
] = '''"""In-memory twins of the outbound ports, with the same behaviour as PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from components.orders.domain.exceptions import OrderConflictError, OrderNotFoundError
from components.orders.domain.model import Order, OrderId, OrderPage
from components.orders.ports import outbound
from components.orders.ports.outbound import OrderRepository


class InMemoryOrderRepository(OrderRepository):
    def __init__(self) -> None:
        self._orders: dict[OrderId, Order] = {}

    async def add(self, order: Order) -> Order:
        if order.id in self._orders:
            raise OrderConflictError(f"order {order.id} already exists")
        self._orders[order.id] = order
        return order

    async def get(self, order_id: OrderId) -> Order | None:
        return self._orders.get(order_id)

    async def list(self, *, limit: int, offset: int) -> OrderPage:
        ordered = sorted(self._orders.values(), key=lambda o: (o.created_at, o.id))
        return OrderPage(tuple(ordered[offset : offset + limit]), len(ordered), limit, offset)

    async def update(self, order: Order) -> Order:
        if order.id not in self._orders:
            raise OrderNotFoundError(order.id)
        self._orders[order.id] = order
        return order

    async def delete(self, order_id: OrderId) -> bool:
        return self._orders.pop(order_id, None) is not None


class FixedClock(outbound.Clock):
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2024, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


class SequentialIdGenerator(outbound.IdGenerator):
    """Ids 00000000-0000-0000-0000-000000000001, ...02, ... in order."""

    def __init__(self) -> None:
        self._next = 1

    def new_id(self) -> OrderId:
        value = OrderId(UUID(int=self._next))
        self._next += 1
        return value
'''

COMPONENT["tests/__init__.py"] = ""

COMPONENT[
    "tests/conftest.py"
] = '''"""Fixtures of the orders tests: the service on its in-memory adapters."""

from __future__ import annotations

import pytest

from components.orders.adapters.outbound.memory_repo import (
    FixedClock,
    InMemoryOrderRepository,
    SequentialIdGenerator,
)
from components.orders.domain.service import OrderService


@pytest.fixture
def service() -> OrderService:
    return OrderService(InMemoryOrderRepository(), FixedClock(), SequentialIdGenerator())
'''

COMPONENT["tests/unit/__init__.py"] = ""

COMPONENT["tests/unit/test_model.py"] = """from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from components.orders.domain.exceptions import InvalidOrderError
from components.orders.domain.model import Order, OrderDraft, OrderId, OrderStatus

pytestmark = pytest.mark.unit

AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def make() -> Order:
    draft = OrderDraft(customer=" Ada ", total=Decimal("10.50"), placed_on=date(2024, 5, 1))
    return Order.create(draft, order_id=OrderId(UUID(int=1)), at=AT)


def test_create_strips_customer() -> None:
    assert make().customer == "Ada"


def test_place_moves_a_draft_to_placed() -> None:
    assert make().place(at=AT).status is OrderStatus.PLACED


def test_negative_total_is_rejected() -> None:
    draft = OrderDraft(customer="Ada", total=Decimal("-1"), placed_on=date(2024, 5, 1))
    with pytest.raises(InvalidOrderError):
        Order.create(draft, order_id=OrderId(UUID(int=1)), at=AT)
"""

COMPONENT["tests/integration/__init__.py"] = ""

COMPONENT["tests/integration/test_repository.py"] = """from __future__ import annotations

import pytest

from components.orders.adapters.outbound.memory_repo import InMemoryOrderRepository

pytestmark = pytest.mark.integration


async def test_empty_repository_lists_nothing() -> None:
    page = await InMemoryOrderRepository().list(limit=10, offset=0)
    assert page.items == ()
"""

COMPONENT["tests/regression/.gitkeep"] = ""


def write_component(
    components_dir: Path, name: str = "orders", files: dict[str, str] | None = None
) -> Path:
    """Write the component as components_dir/<name>/ and return that directory.

    Imports name the component through its package path, so the copy is renamed by
    rewriting `components.orders` (and the relative root, when the components folder
    has another name).
    """
    root = components_dir / name
    prefix = f"{components_dir.name}.{name}"
    for relative, text in (COMPONENT if files is None else files).items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace("components.orders", prefix), encoding="utf-8")
    return root
