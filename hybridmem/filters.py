"""Filters on metadata and timestamps: parsed and validated once, translated by each adapter.

Shape (mem0's and LangGraph's): ``{"key": value}`` or ``{"key": {"$op": value, …}}``,
ANDed across keys and across the operators of one key. Keys are metadata keys,
except ``created_at`` and ``updated_at``, which name the record's timestamps.

* ``$eq $ne $in $nin`` compare strings, numbers and booleans. A boolean never
  equals a number (JSON keeps them apart; Python's ``True == 1`` does not apply).
* ``$gt $gte $lt $lte`` compare numbers, or timestamps (a datetime or an ISO 8601
  string; a naive one is UTC).
* A record without the key (or holding a list or an object under it) matches
  only ``$ne`` and ``$nin``, as in MongoDB.

The one ``Filters`` value is what every adapter receives: Kuzu evaluates
``Filters.matches`` inside its query, Weaviate translates the conditions to its
native filters; both before the limit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hybridmem.errors import ValidationError

OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin")
RANGE_OPERATORS = frozenset({"$gt", "$gte", "$lt", "$lte"})
TIMESTAMP_FIELDS = frozenset({"created_at", "updated_at"})
MAX_KEYS = 32
MAX_LIST = 1000
MAX_KEY_LENGTH = 256
#: Numbers beyond 2**53 lose precision as float64, which some stores keep.
MAX_EXACT_NUMBER = 2**53

Scalar = str | int | float | bool
Value = Scalar | datetime


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    #: One value, or a tuple of values for ``$in`` / ``$nin``.
    value: Value | tuple[Value, ...]

    @property
    def on_timestamp(self) -> bool:
        return self.field in TIMESTAMP_FIELDS

    def matches(self, found: Any) -> bool:
        if self.op in ("$ne", "$nin"):
            positive = Condition(self.field, "$eq" if self.op == "$ne" else "$in", self.value)
            return not positive.matches(found)
        if self.op == "$eq":
            return _same(found, self.value)
        if self.op == "$in":
            assert isinstance(self.value, tuple)
            return any(_same(found, v) for v in self.value)
        if not _comparable(found, self.value):
            return False
        if self.op == "$gt":
            return bool(found > self.value)
        if self.op == "$gte":
            return bool(found >= self.value)
        if self.op == "$lt":
            return bool(found < self.value)
        return bool(found <= self.value)


def _kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, datetime):
        return "datetime"
    return None


def _same(found: Any, wanted: Any) -> bool:
    kind = _kind(found)
    return kind is not None and kind == _kind(wanted) and bool(found == wanted)


def _comparable(found: Any, wanted: Any) -> bool:
    kind = _kind(found)
    return kind in ("number", "datetime") and kind == _kind(wanted)


@dataclass(frozen=True)
class Filters:
    """Conditions ANDed together, and the instant at which records must be alive.

    ``alive_at`` is not a caller's filter: the store sets it on every read so that
    a memory whose ``expires_at`` is at or before it matches nothing (expired
    memories are invisible at once, before the limit). It is left out of
    ``to_json``, so the text form of the caller's conditions stays the same from
    one read to the next (Kuzu caches what it parses)."""

    conditions: tuple[Condition, ...]
    alive_at: datetime | None = None

    def alive(self, expires_at: datetime | None) -> bool:
        """True when a record expiring at ``expires_at`` (None: never) is visible."""
        return self.alive_at is None or expires_at is None or expires_at > self.alive_at

    def matches(
        self, metadata: Mapping[str, Any], created_at: datetime, updated_at: datetime
    ) -> bool:
        stamps = {"created_at": created_at, "updated_at": updated_at}
        for condition in self.conditions:
            if condition.on_timestamp:
                found: Any = stamps[condition.field]
            else:
                found = metadata.get(condition.field, _MISSING)
            if not condition.matches(found):
                return False
        return True

    def to_json(self) -> str:
        """A JSON form that ``from_json`` reads back (timestamps as ISO strings)."""
        return json.dumps(
            [[c.field, c.op, _encode(c.value)] for c in self.conditions], sort_keys=True
        )

    @classmethod
    def from_json(cls, text: str) -> Filters:
        return cls(
            tuple(
                Condition(field, op, _decode(field, value)) for field, op, value in json.loads(text)
            )
        )


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


def _encode(value: Value | tuple[Value, ...]) -> Any:
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value.isoformat() if isinstance(value, datetime) else value


def _decode(field: str, value: Any) -> Value | tuple[Value, ...]:
    if isinstance(value, list):
        return tuple(_decode(field, v) for v in value)  # type: ignore[misc]
    if field in TIMESTAMP_FIELDS:
        return datetime.fromisoformat(value)
    return value  # type: ignore[no-any-return]


def with_alive_at(filters: Filters | None, at: datetime) -> Filters:
    """``filters`` (or none) that also hide what has expired at ``at``."""
    return Filters(filters.conditions if filters is not None else (), alive_at=at)


def parse_filters(value: object) -> Filters | None:
    """Validate ``filters`` and return its one parsed form (None when empty).

    Raises ValidationError naming the key and operator at fault."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValidationError("invalid filters: must be a dict of key -> value or {'$op': value}")
    if len(value) > MAX_KEYS:
        raise ValidationError(f"invalid filters: at most {MAX_KEYS} keys")
    conditions: list[Condition] = []
    for key, spec in value.items():
        field = _check_key(key)
        if isinstance(spec, Mapping):
            if not spec:
                raise ValidationError(f"invalid filters[{field!r}]: an empty operator dict")
            for op, operand in spec.items():
                conditions.append(_condition(field, op, operand))
        else:
            conditions.append(_condition(field, "$eq", spec))
    return Filters(tuple(conditions)) if conditions else None


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not key.strip():
        raise ValidationError("invalid filters: every key must be a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError(f"invalid filters: key longer than {MAX_KEY_LENGTH} characters")
    if key.startswith("$"):
        raise ValidationError(
            f"invalid filters: key {key[:40]!r} starts with '$'; keys are ANDed, there is no"
            f" $and/$or, and operators go inside a key: {{'key': {{'$gt': 1}}}}"
        )
    if any(ord(char) < 32 for char in key):
        raise ValidationError("invalid filters: a key contains a control character")
    return key


def _condition(field: str, op: object, operand: object) -> Condition:
    where = f"filters[{field!r}]"
    if op not in OPERATORS:
        raise ValidationError(
            f"invalid {where}: unknown operator {str(op)[:40]!r}; use one of {', '.join(OPERATORS)}"
        )
    assert isinstance(op, str)
    if op in ("$in", "$nin"):
        if isinstance(operand, (str, bytes)) or not isinstance(operand, Sequence):
            raise ValidationError(f"invalid {where}[{op!r}]: must be a list")
        if not operand or len(operand) > MAX_LIST:
            raise ValidationError(f"invalid {where}[{op!r}]: must hold 1 to {MAX_LIST} values")
        return Condition(field, op, tuple(_scalar(field, op, v) for v in operand))
    return Condition(field, op, _scalar(field, op, operand))


def _scalar(field: str, op: str, operand: object) -> Value:
    where = f"invalid filters[{field!r}][{op!r}]"
    if field in TIMESTAMP_FIELDS:
        return _timestamp(where, operand)
    if isinstance(operand, bool) or isinstance(operand, str):
        if op in RANGE_OPERATORS:
            raise ValidationError(f"{where}: range operators compare numbers or timestamps")
        if isinstance(operand, str) and "\x00" in operand:
            raise ValidationError(f"{where}: contains a NUL character")
        return operand
    if isinstance(operand, (int, float)):
        if not math.isfinite(operand) or abs(operand) > MAX_EXACT_NUMBER:
            raise ValidationError(f"{where}: numbers must be finite and within ±2**53")
        return operand
    raise ValidationError(
        f"{where}: must be a string, number or boolean, not {type(operand).__name__}"
    )


def _timestamp(where: str, operand: object) -> datetime:
    if isinstance(operand, datetime):
        stamp = operand
    elif isinstance(operand, str):
        try:
            stamp = datetime.fromisoformat(operand)
        except ValueError:
            raise ValidationError(
                f"{where}: {operand[:40]!r} is not an ISO 8601 timestamp"
            ) from None
    else:
        raise ValidationError(f"{where}: must be a datetime or an ISO 8601 string")
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
