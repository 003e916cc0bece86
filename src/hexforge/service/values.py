"""Validators the generated request models share (bodies and list queries alike)."""

from __future__ import annotations

from datetime import UTC, datetime


def in_utc(value: datetime) -> datetime:
    """The instant in UTC, refused (422) where UTC has no date for it (years 1 to 9999):
    ``9999-12-31T23:59:59-14:00`` is year 10000 in UTC, which PostgreSQL would store
    and psycopg could then not read back, and the twin could not sort."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the years 1 to 9999 in UTC") from None


def json_integer(value: object) -> object:
    """An integer as JSON Schema counts one: ``7`` or ``7.0``, never ``true`` or ``"7"``
    (which Pydantic's lax mode would take); a fraction is refused by the int itself."""
    if isinstance(value, bool | str | bytes):
        raise ValueError("must be a JSON integer")
    return value
