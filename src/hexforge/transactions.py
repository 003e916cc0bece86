"""One transaction per write: the unit a business rule that reads and then writes
runs in, on PostgreSQL and in the in-memory twin, with the same outcomes.

PostgreSQL runs each unit at ``SERIALIZABLE``: whatever the unit read (a row, a
range a rule scanned) cannot change under it before it commits; when a
concurrent unit made the result impossible to serialize, PostgreSQL aborts one
of them (SQLSTATE 40001, or 40P01 for a deadlock) and it is run again from the
start, up to ``ATTEMPTS`` times with a short random pause. The repository's
methods find the unit's connection through :func:`statement` (or
:func:`connection`), so a rule's reads and the final write share one snapshot;
outside a unit, :func:`statement` runs each statement in autocommit.

The in-memory twin runs its units one at a time (:class:`Serial`): the outcome
of any interleaving of serializable transactions is that of some serial order,
which is what a lock gives by construction.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection, AsyncTransaction, IsolationLevel
from psycopg.errors import DeadlockDetected, SerializationFailure
from psycopg_pool import AsyncConnectionPool

T = TypeVar("T")

# Runs of one unit before it gives up; a unit loses a round only to one that
# commits, so under N contenders the last one needs at most N rounds.
ATTEMPTS = 32
# The longest pause between two runs, in seconds (each pause is random below
# a bound that doubles from 1 ms).
MAX_PAUSE_S = 0.05


class Contention(Exception):
    """A unit was aborted by concurrent ones ``ATTEMPTS`` times: the service answers
    503 with Retry-After, and nothing was written."""


# The unit running in this task, if any.
_unit: ContextVar[_Unit | None] = ContextVar("hexforge_unit", default=None)


class _Unit:
    """One run of a unit on ``pool``. It takes its connection and begins its
    transaction at its first statement, so that a unit whose work reads nothing can
    give its last write a connection of its own, in autocommit (:func:`serializable`'s
    ``then``)."""

    __slots__ = ("held", "pool", "transaction")

    def __init__(self, pool: AsyncConnectionPool[Any]) -> None:
        self.pool = pool
        self.held: AsyncConnection[Any] | None = None
        self.transaction: AsyncTransaction | None = None

    async def begin(self) -> AsyncConnection[Any]:
        """The unit's connection, in its SERIALIZABLE transaction, begun now if it was
        not: psycopg's Transaction sends BEGIN ISOLATION LEVEL SERIALIZABLE at once, so
        that a transaction block the work opens on this connection is a savepoint
        inside the unit and not a commit of its own."""
        if self.held is not None:
            return self.held
        held: AsyncConnection[Any] = await self.pool.getconn()
        try:
            await held.set_isolation_level(IsolationLevel.SERIALIZABLE)
            transaction = AsyncTransaction(held)
            await transaction.__aenter__()
        except BaseException:
            await _give_back(self.pool, held, held.set_isolation_level(None))
            raise
        self.held, self.transaction = held, transaction
        return held


class _Joined:
    """The connection of the unit in progress, begun if it was not, for one block."""

    __slots__ = ("_unit",)

    def __init__(self, unit: _Unit) -> None:
        self._unit = unit

    async def __aenter__(self) -> AsyncConnection[Any]:
        return await self._unit.begin()

    async def __aexit__(self, *_: object) -> None:
        return None


def connection(
    pool: AsyncConnectionPool[Any],
) -> AbstractAsyncContextManager[AsyncConnection[Any]]:
    """The connection of the unit in progress on ``pool``, else one of the pool's
    (committed when the block ends, as a statement outside any unit is). The pool's
    own context manager is given as it is: every query goes through here, and a
    generator around it cost a few microseconds a query."""
    unit = _unit.get()
    if unit is not None and unit.pool is pool:
        return _Joined(unit)
    return pool.connection()


def statement(
    pool: AsyncConnectionPool[Any],
) -> AbstractAsyncContextManager[AsyncConnection[Any]]:
    """The connection for statements that each stand alone: the unit's when one is in
    progress on ``pool`` (they join it), else one of the pool's in autocommit, where
    every statement is its own transaction.

    One statement is as atomic either way; autocommit saves psycopg's BEGIN and
    COMMIT, two round trips of a read's three. Statements that must land together
    belong in a unit, or in :func:`connection`'s block."""
    unit = _unit.get()
    if unit is not None and unit.pool is pool:
        return _Joined(unit)
    return _Autocommit(pool)


class _Autocommit:
    """A pool connection in autocommit for one block, given back out of it.

    Neither switch is a round trip: psycopg only records the mode, and refuses to
    change it while a transaction is open."""

    __slots__ = ("_held", "_pool")

    def __init__(self, pool: AsyncConnectionPool[Any]) -> None:
        self._pool = pool

    async def __aenter__(self) -> AsyncConnection[Any]:
        held: AsyncConnection[Any] = await self._pool.getconn()
        await held.set_autocommit(True)
        self._held = held
        return held

    async def __aexit__(self, *_: object) -> None:
        await _give_back(self._pool, self._held, self._held.set_autocommit(False))


async def _give_back(
    pool: AsyncConnectionPool[Any], held: AsyncConnection[Any], restore: Awaitable[None]
) -> None:
    """Give ``held`` back to ``pool`` once ``restore`` has set back what this module
    changed on it (autocommit, the isolation level); closed instead when it cannot (a
    transaction the caller began and left open, a broken connection), so that the
    pool replaces it rather than lend it out changed, where a caller's writes would
    no longer land together or would run SERIALIZABLE unawares."""
    try:
        await restore
    except psycopg.Error:
        await held.close()
    await pool.putconn(held)


async def serializable(
    pool: AsyncConnectionPool[Any],
    work: Callable[[], Awaitable[T]],
    then: Callable[[T], Awaitable[object]] | None = None,
) -> T:
    """Run ``work``, then ``then`` with its result, in one SERIALIZABLE transaction on
    ``pool``, again from the start when PostgreSQL aborts it for a concurrent one;
    :class:`Contention` after ``ATTEMPTS`` runs. Inside a unit already, both join it.

    ``then`` is the unit's last write (a create's insert): one statement, or a block
    of its own (:func:`connection`). When ``work`` ran no statement, nothing was read
    that the write could be unsafe against: it runs alone, in autocommit, one round
    trip where BEGIN, the write and COMMIT were three; two statements of it would
    then each commit on their own. A unit begins its transaction at its first
    statement, and a unit that runs none holds no connection."""
    unit = _unit.get()
    if unit is not None and unit.pool is pool:
        return await _both(work, then)
    for attempt in range(ATTEMPTS):
        try:
            return await _attempt(pool, work, then)
        except (SerializationFailure, DeadlockDetected):
            if attempt + 1 < ATTEMPTS:
                await asyncio.sleep(random.uniform(0, min(MAX_PAUSE_S, 0.001 * 2**attempt)))
    raise Contention(f"gave up after {ATTEMPTS} runs aborted by concurrent writes")


async def _attempt(
    pool: AsyncConnectionPool[Any],
    work: Callable[[], Awaitable[T]],
    then: Callable[[T], Awaitable[object]] | None,
) -> T:
    """One run of a unit; its connection, if it took one, goes back to the pool at
    the default level.

    The connection is taken and given back without the pool's context manager, and
    the block is psycopg's Transaction itself rather than ``connection.transaction()``:
    both wrap what is done here in a generator, together about 14 µs of CPU a unit
    (a create served costs about 400)."""
    unit = _Unit(pool)
    token = _unit.set(unit)
    inside = True
    try:
        try:
            result = await work()
            if unit.transaction is None:
                # No statement so far: the last write runs on its own, in autocommit.
                _unit.reset(token)
                inside = False
            if then is not None:
                await then(result)
        except BaseException as error:
            rolled_back = unit.transaction is not None and await unit.transaction.__aexit__(
                type(error), error, error.__traceback__
            )
            if rolled_back or isinstance(error, psycopg.Rollback):
                # psycopg.Rollback, which the block swallows once it has rolled back:
                # there is no result to return.
                raise RuntimeError("the unit's work raised psycopg.Rollback: rolled back") from None
            raise
        if unit.transaction is not None:
            await unit.transaction.__aexit__(None, None, None)  # COMMIT
        return result
    finally:
        if inside:
            _unit.reset(token)
        if unit.held is not None:
            # The work's own outcome is what the caller sees, whatever the give-back.
            await _give_back(pool, unit.held, unit.held.set_isolation_level(None))


# The Serial units the running task is inside of (their ids), for re-entry.
_inside: ContextVar[frozenset[int]] = ContextVar("hexforge_serial", default=frozenset())


class Serial:
    """The in-memory twin's units: one at a time, a unit inside another joining it."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    async def run(
        self, work: Callable[[], Awaitable[T]], then: Callable[[T], Awaitable[object]] | None = None
    ) -> T:
        """``work``, then ``then`` with its result, as one unit."""
        inside = _inside.get()
        if id(self) in inside:
            return await _both(work, then)
        async with self._lock:
            token = _inside.set(inside | {id(self)})
            try:
                return await _both(work, then)
            finally:
                _inside.reset(token)


async def _both(
    work: Callable[[], Awaitable[T]], then: Callable[[T], Awaitable[object]] | None
) -> T:
    result = await work()
    if then is not None:
        await then(result)
    return result
