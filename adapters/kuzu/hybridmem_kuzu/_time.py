"""Timestamps as fixed-width UTC ISO strings: they round-trip exactly and sort as text."""

from __future__ import annotations

from datetime import UTC, datetime


def to_text(value: datetime) -> str:
    """Always 32 characters, the year zero-padded to four digits: ``strftime("%Y")``
    writes year 999 as "999", which neither sorts as text nor reads back."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def from_text(value: str) -> datetime:
    return datetime.fromisoformat(value)
