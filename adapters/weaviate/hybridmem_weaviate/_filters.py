"""Metadata filters on Weaviate: typed, filterable properties per metadata key.

Weaviate cannot filter inside a JSON string, nor (in 1.36) on nested object
properties. So each scalar metadata value is also written to a property named
after a digest of its key and its kind (``m_<sha1(key)[:24]>_s|n|b``: names
are fixed-length and never spell a caller's value), created explicitly with
the right index before the first object that needs it. Strings are stored as
the hex of their UTF-8 bytes on FIELD tokenization, like scope ids, so
equality is exact (no trimming, folding or splitting). ``updated_at`` is also
written to a filterable ``updated_index`` date. Records written before a key's
property existed are not found by filters on it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from weaviate.classes.config import DataType, Property, Tokenization
from weaviate.classes.query import Filter

from hybridmem.filters import RANGE_OPERATORS, Condition, Filters

UPDATED_KEY = "updated_index"
_KINDS = {
    "str": ("s", DataType.TEXT),
    "number": ("n", DataType.NUMBER),
    "bool": ("b", DataType.BOOL),
}


def _kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "str"
    return None


def property_name(key: str, kind: str) -> str:
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:24]
    return f"m_{digest}_{_KINDS[kind][0]}"


def stored_value(value: Any) -> Any:
    return "k" + value.encode("utf-8").hex() if isinstance(value, str) else value


def metadata_properties(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The filterable properties one record's metadata adds."""
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        kind = _kind(value)
        if kind is not None:
            out[property_name(key, kind)] = stored_value(value)
    return out


def property_for(name: str) -> Property:
    """The schema of a metadata property, from its name's kind suffix."""
    suffix = name.rsplit("_", 1)[1]
    data_type = next(dt for s, dt in _KINDS.values() if s == suffix)
    return Property(
        name=name,
        data_type=data_type,
        tokenization=Tokenization.FIELD if data_type == DataType.TEXT else None,
        index_filterable=True,
        index_searchable=False,
        index_range_filters=data_type == DataType.NUMBER,
    )


def referenced(filters: Filters) -> set[str]:
    """The metadata property names a filter may read."""
    names: set[str] = set()
    for c in filters.conditions:
        if c.on_timestamp:
            continue
        values = c.value if isinstance(c.value, tuple) else (c.value,)
        names.update(property_name(c.field, k) for k in map(_kind, values) if k is not None)
    return names


class _Never(Exception):
    """The filter can match nothing (a property no record has): skip the query."""


def translate(filters: Filters, existing: set[str]) -> Any | None:
    """A Weaviate filter for ``filters``; None when it is always true. Raises
    _Never when it can match nothing. ``existing`` are the collection's property
    names: filtering on a missing property is an error in Weaviate."""
    parts = [p for p in (_condition(c, existing) for c in filters.conditions) if p is not None]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else Filter.all_of(parts)


def _condition(condition: Condition, existing: set[str]) -> Any | None:
    negate = condition.op in ("$ne", "$nin")
    values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
    if condition.on_timestamp:
        prop = Filter.by_property("created_at" if condition.field == "created_at" else UPDATED_KEY)
        return _compare(prop, condition.op, values)
    alternatives = []
    for value in values:
        kind = _kind(value)
        assert kind is not None
        name = property_name(condition.field, kind)
        if name not in existing:
            continue
        alternatives.append(
            _compare(Filter.by_property(name), condition.op, (stored_value(value),))
        )
    if not alternatives:
        if negate:
            return None  # nothing holds that value: "not equal" is always true
        raise _Never
    return (
        alternatives[0]
        if len(alternatives) == 1
        else (Filter.all_of(alternatives) if negate else Filter.any_of(alternatives))
    )


def _compare(prop: Any, op: str, values: tuple[Any, ...]) -> Any:
    if op in RANGE_OPERATORS:
        method = {
            "$gt": "greater_than",
            "$gte": "greater_or_equal",
            "$lt": "less_than",
            "$lte": "less_or_equal",
        }[op]
        return getattr(prop, method)(values[0])
    if op == "$eq":
        return prop.equal(values[0])
    if op == "$ne":
        return Filter.not_(prop.equal(values[0]))
    if op == "$in":
        return prop.contains_any(list(values))
    return Filter.not_(prop.contains_any(list(values)))


Never = _Never
