"""LangGraph's search filters on item values, with JSON's equality.

The semantics are those of LangGraph's stores (``InMemoryStore``'s
``_compare_values``, PostgresStore's JSONB):

* ``{"field": value}`` is equality on any JSON value: a scalar, ``None``, a list
  (same length, elements compared in order) or a dict (every key of the filter's
  dict matches, recursively: containment);
* ``{"field": {"$op": operand, …}}`` ANDs operators: ``$eq`` and ``$ne`` (deep
  equality), ``$gt $gte $lt $lte`` (numbers);
* a missing field compares as ``None``.

Equality is LangGraph's (``InMemoryStore`` compares with Python's ``==``):
``True`` equals ``1`` and ``False`` equals ``0``, ``1`` is ``1.0``. Range operators
compare numbers only: a value that is not a number (a string, a boolean, a
missing field) does not match, where ``InMemoryStore`` converts it with
``float()`` or raises.

Filter fields are the value's fields only: ``created_at`` is a field of the
value, never the record's timestamp. :func:`pushdown` gives the part of a filter
that hybridmem's own filters evaluate exactly the same way, so it runs in the
store before the limit; :func:`matches` is the whole rule, run on what the
store returns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hybridmem.filters import MAX_EXACT_NUMBER, MAX_KEY_LENGTH, TIMESTAMP_FIELDS

RANGE = {"$gt", "$gte", "$lt", "$lte"}
OPERATORS = RANGE | {"$eq", "$ne"}


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def json_equal(found: Any, wanted: Any) -> bool:
    """Deep equality as LangGraph's stores compare: Python's ``==`` on JSON values
    (``True == 1``, ``1 == 1.0``; a tuple is a list)."""
    if isinstance(found, tuple):
        found = list(found)
    if isinstance(wanted, tuple):
        wanted = list(wanted)
    return bool(found == wanted)


def _compare(found: Any, wanted: Any) -> bool:
    if isinstance(wanted, Mapping):
        if any(isinstance(k, str) and k.startswith("$") for k in wanted):
            return all(_apply(found, op, operand) for op, operand in wanted.items())
        if not isinstance(found, Mapping):
            return False
        return all(_compare(found.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, (list, tuple)):
        return (
            isinstance(found, (list, tuple))
            and len(found) == len(wanted)
            and all(_compare(f, w) for f, w in zip(found, wanted, strict=True))
        )
    return json_equal(found, wanted)


def _apply(found: Any, op: str, operand: Any) -> bool:
    if op == "$eq":
        return json_equal(found, operand)
    if op == "$ne":
        return not json_equal(found, operand)
    if not _is_number(found):
        return False
    if op == "$gt":
        return bool(found > operand)
    if op == "$gte":
        return bool(found >= operand)
    if op == "$lt":
        return bool(found < operand)
    return bool(found <= operand)


def check(filter: Mapping[str, Any]) -> None:
    """Refuse what no item could be compared with: unknown operators, a range
    operator on something that is not a number, or an operator dict that mixes
    operators and fields."""
    if not isinstance(filter, Mapping):
        raise ValueError("filter must be a dict of field -> value or {'$op': value}")
    for field, spec in filter.items():
        _check_spec(str(field), spec)


def _check_spec(where: str, spec: Any) -> None:
    if isinstance(spec, Mapping):
        ops = [k for k in spec if isinstance(k, str) and k.startswith("$")]
        if ops and len(ops) != len(spec):
            raise ValueError(f"filter[{where!r}]: mixes operators and fields: {list(spec)}")
        for op, operand in spec.items():
            if not ops:
                _check_spec(f"{where}.{op}", operand)
            elif op not in OPERATORS:
                raise ValueError(
                    f"filter[{where!r}]: unsupported operator {op!r};"
                    f" use one of {', '.join(sorted(OPERATORS))}"
                )
            elif op in RANGE and not (_is_number(operand) and math.isfinite(operand)):
                raise ValueError(f"filter[{where!r}][{op!r}]: must be a finite number")
    elif isinstance(spec, (list, tuple)):
        for i, element in enumerate(spec):
            _check_spec(f"{where}[{i}]", element)


def matches(value: Mapping[str, Any], filter: Mapping[str, Any] | None) -> bool:
    """Does the item value ``value`` pass ``filter``?"""
    return not filter or all(_compare(value.get(k), spec) for k, spec in filter.items())


def _exact_scalar(value: Any) -> bool:
    """A value hybridmem's filters compare exactly as :func:`json_equal` does."""
    if isinstance(value, str):
        return "\x00" not in value
    # Booleans, and the numbers equal to them (0, 1), are not: LangGraph's True
    # equals 1, hybridmem's filters keep them apart.
    return (
        _is_number(value)
        and math.isfinite(value)
        and value not in (0, 1)
        and abs(value) <= MAX_EXACT_NUMBER
    )


def _pushable_key(key: object) -> bool:
    return (
        isinstance(key, str)
        and bool(key.strip())
        and len(key) <= MAX_KEY_LENGTH
        and key not in TIMESTAMP_FIELDS
        and not key.startswith("$")
        and not any(ord(c) < 32 for c in key)
    )


def pushdown(filter: Mapping[str, Any] | None) -> tuple[dict[str, Any], bool]:
    """The part of ``filter`` hybridmem evaluates exactly as :func:`matches`, and
    whether that part is the whole filter (then the store may page)."""
    pushed: dict[str, Any] = {}
    whole = True
    for key, spec in (filter or {}).items():
        if not _pushable_key(key):
            whole = False
        elif isinstance(spec, Mapping):
            ops = {
                op: operand
                for op, operand in spec.items()
                if (op in ("$eq", "$ne") and _exact_scalar(operand))
                or (op in RANGE and _exact_scalar(operand) and not isinstance(operand, bool))
            }
            whole = whole and len(ops) == len(spec)
            if ops:
                pushed[key] = ops
        elif _exact_scalar(spec):
            pushed[key] = spec
        else:
            whole = False
    return pushed, whole
