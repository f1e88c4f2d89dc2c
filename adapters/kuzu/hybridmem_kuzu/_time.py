"""Timestamps as fixed-width UTC ISO strings: they round-trip exactly and sort as text."""

from __future__ import annotations

from datetime import UTC, datetime


def to_text(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def from_text(value: str) -> datetime:
    return datetime.fromisoformat(value)
