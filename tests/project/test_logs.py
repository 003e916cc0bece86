"""The access line of each request: in JSON written without structlog's chain, so it
must say exactly what the chain says; below INFO nothing; in console format through
structlog. And the request ids the middleware makes."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hexforge.service import logs
from hexforge.service.middleware import new_request_id

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


@pytest.fixture
def bound() -> Iterator[None]:
    """A request in progress: its id, and a value the application bound for it."""
    token = logs.request_id.set("abc-123")
    structlog.contextvars.bind_contextvars(tenant="acme")
    try:
        yield
    finally:
        structlog.contextvars.clear_contextvars()
        logs.request_id.reset(token)


def both_lines(capsys: pytest.CaptureFixture[str], *values: Any) -> list[dict[str, Any]]:
    """The access line written by access_line and by structlog's chain, parsed."""
    logs.configure("INFO", "json")
    capsys.readouterr()
    logs.access_line("INFO", "json")(*values)
    method, route, status, duration_ms = values
    structlog.get_logger().bind(logger=logs.ACCESS_LOGGER).info(
        "request", method=method, route=route, status=status, duration_ms=duration_ms
    )
    # Split where a log reader does: a value may hold U+2028 or U+0085, which JSON
    # leaves as they are and str.splitlines would split on.
    lines = capsys.readouterr().err.removesuffix("\n").split("\n")
    assert len(lines) == 2
    return [json.loads(line) for line in lines]


@pytest.mark.usefixtures("bound")
def test_the_json_access_line_is_the_one_structlogs_chain_writes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    direct, chained = both_lines(capsys, "GET", "/orders/{order_id}", 404, 1.25)
    assert list(direct) == list(chained)  # the same keys, in the same order
    assert TIMESTAMP.fullmatch(direct.pop("timestamp"))
    assert TIMESTAMP.fullmatch(chained.pop("timestamp"))
    assert direct == chained
    assert direct == {
        "logger": "hexforge.access",
        "method": "GET",
        "route": "/orders/{order_id}",
        "status": 404,
        "duration_ms": 1.25,
        "event": "request",
        "tenant": "acme",
        "request_id": "abc-123",
        "level": "info",
    }


# capsys is read out by each example (both_lines), so sharing it is safe.
@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    bound_value=st.one_of(
        st.integers(min_value=-(2**80), max_value=2**80),
        st.text(),  # lone surrogates included
        st.floats(),
    ),
    route=st.text(),
)
def test_any_bound_value_and_route_still_give_one_json_line(
    capsys: pytest.CaptureFixture[str], bound_value: Any, route: str
) -> None:
    structlog.contextvars.bind_contextvars(extra=bound_value)
    try:
        direct, chained = both_lines(capsys, "POST", route, 201, 0.5)
    finally:
        structlog.contextvars.clear_contextvars()
    direct.pop("timestamp")
    chained.pop("timestamp")
    assert direct == chained or json.dumps(direct) == json.dumps(chained)  # NaN != NaN


def test_below_info_no_access_line_is_written(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("WARNING", "json")
    logs.access_line("WARNING", "json")("GET", "/orders", 200, 1.0)
    assert capsys.readouterr().err == ""


@pytest.mark.usefixtures("bound")
def test_in_console_format_the_line_is_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("INFO", "console")
    capsys.readouterr()
    logs.access_line("INFO", "console")("DELETE", "/orders/{order_id}", 204, 3.5)
    (line,) = capsys.readouterr().err.splitlines()
    assert not line.startswith("{")
    for part in ("request", "DELETE", "/orders/{order_id}", "204", "abc-123", "acme"):
        assert part in line


def test_request_ids_are_32_hex_digits_and_do_not_repeat() -> None:
    made = [new_request_id() for _ in range(10_000)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", made_id) for made_id in made)
    assert len(set(made)) == len(made)


def test_a_forked_worker_makes_other_ids_than_its_parent() -> None:
    # uvicorn --workers and gunicorn fork: each worker must draw its own ids.
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child process
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read) as pipe:
        in_child = pipe.read()
    assert re.fullmatch(r"[0-9a-f]{32}", in_child)
    assert in_child != new_request_id()


class CountingText(io.StringIO):
    """A target stream that counts the writes it gets."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


@given(lines=st.lists(st.text(alphabet=st.characters(blacklist_characters="\n")), max_size=20))
def test_lines_logged_on_the_loop_go_out_together_at_the_end_of_the_turn(
    lines: list[str],
) -> None:
    target = CountingText()
    stream = logs.TurnStream(target)

    async def one_turn() -> None:
        for line in lines:
            stream.write(f"{line}\n")
            stream.flush()  # what logging's handler does after each line
        assert target.getvalue() == ""
        await asyncio.sleep(0)  # the turn ends

    asyncio.run(one_turn())
    assert target.getvalue() == "".join(f"{line}\n" for line in lines)
    assert target.writes == (1 if lines else 0)


def test_a_line_from_off_the_loop_goes_out_at_once_after_the_pending_ones() -> None:
    target = CountingText()
    stream = logs.TurnStream(target)

    async def serve() -> None:
        stream.write("on the loop\n")
        await asyncio.to_thread(stream.write, "from a worker thread\n")
        assert target.getvalue() == "on the loop\nfrom a worker thread\n"
        stream.write("later\n")
        await asyncio.sleep(0)

    asyncio.run(serve())
    assert target.getvalue() == "on the loop\nfrom a worker thread\nlater\n"


def test_what_a_stopped_loop_left_pending_goes_out_with_the_next_write() -> None:
    target = CountingText()
    stream = logs.TurnStream(target)
    loop = asyncio.new_event_loop()

    def write_and_stop() -> None:
        stream.write("last line of the loop\n")
        loop.stop()  # before the turn that would write it out

    loop.call_soon(write_and_stop)
    loop.run_forever()
    loop.close()
    assert target.getvalue() == ""

    async def next_loop() -> None:
        stream.write("next\n")
        await asyncio.sleep(0)

    asyncio.run(next_loop())
    assert target.getvalue() == "last line of the loop\nnext\n"
    stream.write("at exit\n")  # off any loop: at once
    assert target.getvalue().endswith("next\nat exit\n")


def test_lines_for_a_closed_stream_are_dropped_without_an_error() -> None:
    target = CountingText()
    stream = logs.TurnStream(target)
    loop = asyncio.new_event_loop()

    def write_and_stop() -> None:
        stream.write("for a reader that left\n")
        loop.stop()

    loop.call_soon(write_and_stop)
    loop.run_forever()
    loop.close()
    target.close()
    stream.flush()  # at exit: no ValueError from the closed target
    stream.write("and later\n")
    assert target.writes == 2  # both tried, both dropped
