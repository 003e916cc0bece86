"""hexforge.transactions: the unit every generated write runs in (SPEC §15).

On a real PostgreSQL cluster: a unit that a concurrent one made unsafe runs again
and both land as if one came after the other; one that keeps failing gives up with
Contention and writes nothing; a refusal raised inside a unit rolls it back and is
not retried; a unit inside a unit joins it. The twin's Serial runs units one at a
time and lets a unit re-enter itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from hexforge import transactions
from tests.project import test_migrate
from tests.project.test_migrate import Cluster

pytestmark = pytest.mark.postgres

# test_migrate's "cluster" fixture: one throwaway cluster for the module.
shared_cluster = test_migrate.cluster


@pytest.fixture
def dsn(shared_cluster: Cluster) -> str:
    url = shared_cluster.new_database()
    shared_cluster.query(
        url, "CREATE TABLE counter (n integer NOT NULL); INSERT INTO counter VALUES (0)"
    )
    return url


class Refused(Exception):
    """A rule's refusal raised inside a unit."""


def on_pool(
    dsn: str, test: Callable[[AsyncConnectionPool[Any]], Awaitable[None]], max_size: int = 4
) -> None:
    async def main() -> None:
        async with AsyncConnectionPool(dsn, min_size=1, max_size=max_size, open=False) as pool:
            await test(pool)

    asyncio.run(main())


async def read(pool: AsyncConnectionPool[Any], sql: str) -> Any:
    async with transactions.connection(pool) as connection:
        row = await (await connection.execute(sql)).fetchone()
    assert row is not None
    return row[0]


def test_two_units_that_read_then_write_one_row_both_land_one_after_the_other(
    dsn: str,
) -> None:
    runs = 0

    async def test(pool: AsyncConnectionPool[Any]) -> None:
        both_read = asyncio.Barrier(2)

        async def increment() -> None:
            nonlocal runs
            runs += 1
            seen = await read(pool, "SELECT n FROM counter")
            if runs <= 2:  # the first two runs read before either writes
                await both_read.wait()
            async with transactions.connection(pool) as connection:
                await connection.execute("UPDATE counter SET n = %s", (seen + 1,))

        await asyncio.gather(
            transactions.serializable(pool, increment), transactions.serializable(pool, increment)
        )
        assert await read(pool, "SELECT n FROM counter") == 2

    on_pool(dsn, test)
    assert runs == 3  # the loser ran again, from the start, and read 1


def test_a_unit_aborted_every_time_gives_up_with_contention_and_writes_nothing(
    dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transactions, "ATTEMPTS", 3)
    runs = 0

    async def test(pool: AsyncConnectionPool[Any]) -> None:
        async def doomed() -> None:
            nonlocal runs
            runs += 1
            async with transactions.connection(pool) as connection:
                await connection.execute("UPDATE counter SET n = n + 1")
            raise psycopg.errors.SerializationFailure("could not serialize access")

        with pytest.raises(transactions.Contention, match="after 3 runs"):
            await transactions.serializable(pool, doomed)
        assert await read(pool, "SELECT n FROM counter") == 0

    on_pool(dsn, test)
    assert runs == 3


def test_a_refusal_inside_a_unit_rolls_it_back_and_is_not_retried(dsn: str) -> None:
    runs = 0

    async def test(pool: AsyncConnectionPool[Any]) -> None:
        async def refuse() -> None:
            nonlocal runs
            runs += 1
            async with transactions.connection(pool) as connection:
                await connection.execute("UPDATE counter SET n = 7")
            raise Refused

        with pytest.raises(Refused):
            await transactions.serializable(pool, refuse)
        assert await read(pool, "SELECT n FROM counter") == 0

    on_pool(dsn, test)
    assert runs == 1


def test_a_unit_is_serializable_and_a_unit_inside_it_joins_it(dsn: str) -> None:
    async def test(pool: AsyncConnectionPool[Any]) -> None:
        async def inner() -> tuple[Any, Any]:
            return await read(pool, "SELECT txid_current()"), await read(
                pool, "SHOW transaction_isolation"
            )

        async def outer() -> tuple[Any, Any, Any]:
            mine = await read(pool, "SELECT txid_current()")
            return mine, *await transactions.serializable(pool, inner)

        mine, joined, isolation = await transactions.serializable(pool, outer)
        assert (joined, isolation) == (mine, "serializable")
        # Outside a unit, the pool's connections are back at the default level.
        assert await read(pool, "SHOW transaction_isolation") == "read committed"

    on_pool(dsn, test)


def test_a_unit_whose_work_asks_for_a_rollback_writes_nothing_and_says_so(dsn: str) -> None:
    async def test(pool: AsyncConnectionPool[Any]) -> None:
        async def write_then_roll_back() -> None:
            async with transactions.statement(pool) as connection:
                await connection.execute("UPDATE counter SET n = 4")
            raise psycopg.Rollback

        with pytest.raises(RuntimeError, match="rolled back"):
            await transactions.serializable(pool, write_then_roll_back)
        assert await read(pool, "SELECT n FROM counter") == 0

    on_pool(dsn, test)


def test_a_transaction_block_inside_a_unit_is_part_of_it(dsn: str) -> None:
    # A repository may open its own block for a multi-statement write; inside a
    # unit, even as the unit's first statement, it must not commit on its own.
    async def test(pool: AsyncConnectionPool[Any]) -> None:
        async def write_then_refuse() -> None:
            async with transactions.connection(pool) as connection, connection.transaction():
                await connection.execute("UPDATE counter SET n = 1")
            raise Refused

        with pytest.raises(Refused):
            await transactions.serializable(pool, write_then_refuse)
        assert await read(pool, "SELECT n FROM counter") == 0

    on_pool(dsn, test)


def test_after_a_unit_the_connection_is_idle_and_at_the_default_level(dsn: str) -> None:
    async def test(pool: AsyncConnectionPool[Any]) -> None:
        async def refuse() -> None:
            await read(pool, "SELECT n FROM counter")
            raise Refused

        async def write() -> None:
            async with transactions.connection(pool) as connection:
                await connection.execute("UPDATE counter SET n = 5")

        await transactions.serializable(pool, write)
        with pytest.raises(Refused):
            await transactions.serializable(pool, refuse)
        # One connection in the pool: the one each unit ran on.
        async with pool.connection() as connection:
            assert connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            assert connection.isolation_level is None
            row = await (await connection.execute("SHOW transaction_isolation")).fetchone()
            assert row == ("read committed",)
        assert await read(pool, "SELECT n FROM counter") == 5

    on_pool(dsn, test, max_size=1)


async def lent_back(pool: AsyncConnectionPool[Any]) -> tuple[bool, Any, int]:
    """What the one connection of ``pool`` is like when lent out next: its autocommit,
    its transaction status and what it reads."""
    async with pool.connection() as connection:
        status = connection.info.transaction_status
        row = await (await connection.execute("SELECT n FROM counter")).fetchone()
        assert row is not None
        return connection.autocommit, status, row[0]


IDLE = psycopg.pq.TransactionStatus.IDLE


def test_outside_a_unit_each_statement_commits_on_its_own(dsn: str) -> None:
    async def test(pool: AsyncConnectionPool[Any]) -> None:
        async with transactions.statement(pool) as connection:
            await connection.execute("UPDATE counter SET n = 7")
            # No transaction left open: the write has landed already.
            assert connection.info.transaction_status == IDLE
            assert await read_elsewhere(dsn) == 7
            with pytest.raises(psycopg.errors.DivisionByZero):
                await connection.execute("UPDATE counter SET n = 1 / 0")
            # The failed statement took nothing with it, and the block goes on.
            row = await (await connection.execute("SELECT n FROM counter")).fetchone()
            assert row == (7,)
        assert await lent_back(pool) == (False, IDLE, 7)

    on_pool(dsn, test, max_size=1)


async def read_elsewhere(dsn: str) -> Any:
    async with await psycopg.AsyncConnection.connect(dsn) as other:
        row = await (await other.execute("SELECT n FROM counter")).fetchone()
    assert row is not None
    return row[0]


def test_a_statement_inside_a_unit_joins_it(dsn: str) -> None:
    async def test(pool: AsyncConnectionPool[Any]) -> None:
        async def write_then_refuse() -> None:
            async with transactions.statement(pool) as connection:
                await connection.execute("UPDATE counter SET n = 3")
                assert not connection.autocommit
            async with transactions.statement(pool) as connection:
                row = await (await connection.execute("SELECT n FROM counter")).fetchone()
            assert row == (3,)  # the unit's own write, not yet committed
            raise Refused

        with pytest.raises(Refused):
            await transactions.serializable(pool, write_then_refuse)
        assert await lent_back(pool) == (False, IDLE, 0)

    on_pool(dsn, test, max_size=1)


def test_a_statement_cancelled_mid_query_never_lends_a_connection_in_autocommit(
    dsn: str,
) -> None:
    async def test(pool: AsyncConnectionPool[Any]) -> None:
        async def slow() -> None:
            async with transactions.statement(pool) as connection:
                await connection.execute("SELECT pg_sleep(30)")

        with pytest.raises(TimeoutError):
            await asyncio.wait_for(slow(), timeout=0.3)
        # The pool's one connection is a usable one, out of autocommit.
        assert await lent_back(pool) == (False, IDLE, 0)

    on_pool(dsn, test, max_size=1)


def test_a_transaction_left_open_in_a_statement_block_is_not_lent_out(dsn: str) -> None:
    async def test(pool: AsyncConnectionPool[Any]) -> None:
        async with transactions.statement(pool) as connection:
            await connection.execute("BEGIN")
            await connection.execute("UPDATE counter SET n = 9")
        # Rolled back with its connection, and the one lent next is out of autocommit.
        assert await lent_back(pool) == (False, IDLE, 0)

    on_pool(dsn, test, max_size=1)


async def write_n(pool: AsyncConnectionPool[Any], value: int) -> tuple[bool, Any]:
    """A unit's last write: sets the counter; whether it ran in autocommit, and in
    which transaction."""
    async with transactions.statement(pool) as connection:
        await connection.execute("UPDATE counter SET n = %s", (value,))
        row = await (await connection.execute("SELECT txid_current()")).fetchone()
        assert row is not None
        return connection.autocommit, row[0]


def test_the_last_write_of_a_unit_that_ran_no_statement_runs_alone_in_autocommit(
    dsn: str,
) -> None:
    async def test(pool: AsyncConnectionPool[Any]) -> None:
        seen: list[tuple[bool, Any]] = []

        async def decide() -> int:
            return 6  # a rule that reads nothing

        async def last(value: int) -> None:
            seen.append(await write_n(pool, value))

        assert await transactions.serializable(pool, decide, last) == 6
        assert seen[0][0] is True
        assert await read_elsewhere(dsn) == 6
        assert await lent_back(pool) == (False, IDLE, 6)

    on_pool(dsn, test, max_size=1)


def test_the_last_write_of_a_unit_that_read_joins_its_transaction(dsn: str) -> None:
    async def test(pool: AsyncConnectionPool[Any]) -> None:
        seen: list[tuple[bool, Any]] = []

        async def read_first() -> tuple[int, Any]:
            return await read(pool, "SELECT n FROM counter") + 1, await read(
                pool, "SELECT txid_current()"
            )

        async def last(decided: tuple[int, Any]) -> None:
            seen.append(await write_n(pool, decided[0]))

        value, txid = await transactions.serializable(pool, read_first, last)
        assert (value, seen) == (1, [(False, txid)])
        assert await lent_back(pool) == (False, IDLE, 1)

    on_pool(dsn, test, max_size=1)


def test_a_last_write_that_fails_after_a_read_takes_the_units_writes_with_it(dsn: str) -> None:
    async def test(pool: AsyncConnectionPool[Any]) -> None:
        async def write_first() -> int:
            await write_n(pool, 3)
            return 1

        async def refuse(_: int) -> None:
            raise Refused

        with pytest.raises(Refused):
            await transactions.serializable(pool, write_first, refuse)
        assert await lent_back(pool) == (False, IDLE, 0)

    on_pool(dsn, test, max_size=1)


def test_units_whose_last_write_depends_on_a_read_still_land_one_after_the_other(
    dsn: str,
) -> None:
    runs = 0

    async def test(pool: AsyncConnectionPool[Any]) -> None:
        both_read = asyncio.Barrier(2)

        async def read_n() -> int:
            nonlocal runs
            runs += 1
            seen: int = await read(pool, "SELECT n FROM counter")
            if runs <= 2:
                await both_read.wait()
            return seen

        async def increment(seen: int) -> None:
            await write_n(pool, seen + 1)

        await asyncio.gather(
            transactions.serializable(pool, read_n, increment),
            transactions.serializable(pool, read_n, increment),
        )
        assert await read(pool, "SELECT n FROM counter") == 2

    on_pool(dsn, test)
    assert runs == 3


def test_a_unit_that_runs_no_statement_takes_no_connection(dsn: str) -> None:
    async def test(pool: AsyncConnectionPool[Any]) -> None:
        async with pool.connection():  # the pool's only connection, held elsewhere
            assert (
                await asyncio.wait_for(
                    transactions.serializable(pool, lambda: asyncio.sleep(0, result="done")), 1
                )
                == "done"
            )

    on_pool(dsn, test, max_size=1)


def test_the_twin_runs_units_one_at_a_time_and_a_unit_may_reenter() -> None:
    serial = transactions.Serial()
    trace: list[str] = []

    async def unit(name: str) -> str:
        trace.append(f"{name} in")
        await asyncio.sleep(0.01)  # a chance for the other to interleave, if it could
        inner = await serial.run(lambda: asyncio.sleep(0, result=f"{name} inner"))
        trace.append(f"{name} out")
        return inner

    async def main() -> list[str]:
        return list(
            await asyncio.gather(serial.run(lambda: unit("a")), serial.run(lambda: unit("b")))
        )

    assert asyncio.run(main()) == ["a inner", "b inner"]
    assert trace == ["a in", "a out", "b in", "b out"]


def test_the_twins_unit_holds_its_last_write_too() -> None:
    serial = transactions.Serial()
    trace: list[str] = []

    async def work(name: str) -> str:
        trace.append(f"{name} work")
        await asyncio.sleep(0.01)
        return name

    async def then(name: str) -> None:
        await asyncio.sleep(0.01)
        trace.append(f"{name} then")

    async def main() -> None:
        await asyncio.gather(
            serial.run(lambda: work("a"), then), serial.run(lambda: work("b"), then)
        )

    asyncio.run(main())
    assert trace == ["a work", "a then", "b work", "b then"]
