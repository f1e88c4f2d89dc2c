"""The collection's properties, the scope filters on them, and how a VectorRecord
maps to a Weaviate object and back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from weaviate.classes.config import DataType, Property, Tokenization
from weaviate.classes.query import Filter

from hybridmem.models import Scope
from hybridmem.records import VectorRecord
from hybridmem_weaviate._filters import UPDATED_KEY, metadata_properties

# Weaviate tokenizes text by word and lower-cases it by default: a filter on
# user_id = "alice" would also match "Alice", "alice smith", "alice@example.com".
# FIELD tokenization keeps case and punctuation but still trims surrounding white
# space (" alice" matched "alice" here), so filters compare a hex encoding of the
# id's UTF-8 bytes, which has nothing to trim, fold or split. The id itself is
# stored beside it, unindexed, to be read back as is.
KEY = {"user_id": "user_key", "agent_id": "agent_key", "run_id": "run_key"}


def scope_key(value: str) -> str:
    """The filterable form of a scope id: its UTF-8 bytes in hex, prefixed."""
    return "k" + value.encode("utf-8").hex()


def _key_property(name: str) -> Property:
    return Property(
        name=name,
        data_type=DataType.TEXT,
        tokenization=Tokenization.FIELD,
        index_filterable=True,
        index_searchable=False,
    )


def _stored_property(name: str, data_type: DataType = DataType.TEXT) -> Property:
    return Property(name=name, data_type=data_type, index_filterable=False, index_searchable=False)


SCHEMA = [
    _stored_property("text"),
    _stored_property("hash"),
    _stored_property("metadata"),
    _stored_property("user_id"),
    _stored_property("agent_id"),
    _stored_property("run_id"),
    _key_property("user_key"),
    _key_property("agent_key"),
    _key_property("run_key"),
    # Filterable: list_scope pages through a scope newest first by created_at.
    Property(name="created_at", data_type=DataType.DATE, index_filterable=True),
    _stored_property("updated_at", DataType.DATE),
    # Filters on updated_at (the property above is stored, not indexed).
    Property(name=UPDATED_KEY, data_type=DataType.DATE, index_filterable=True),
]
# When a memory stops being visible; absent (not null) when it never expires.
EXPIRES = "expires_at"
EXPIRES_PROPERTY = Property(name=EXPIRES, data_type=DataType.DATE, index_filterable=True)
SCHEMA.append(EXPIRES_PROPERTY)


#: What record_from reads: a read asks for these only. The filter copies (scope
#: keys, updated_index, a property per metadata key) would double what every hit
#: sends and decodes.
RECORD_PROPERTIES = [
    "text",
    "hash",
    "metadata",
    "user_id",
    "agent_id",
    "run_id",
    "created_at",
    "updated_at",
    EXPIRES,
]


def alive_filter(at: datetime) -> Any:
    """Objects not expired at ``at``. "Not (expires_at <= at)" rather than
    "expires_at > at": an object without the property (it never expires, or was
    written before expiry existed) fails the comparison, so the negation keeps it."""
    return Filter.not_(Filter.by_property(EXPIRES).less_or_equal(at))


def scope_filter(scope: Scope) -> Any:
    filters = [
        Filter.by_property(KEY[name]).equal(scope_key(value)) for name, value in scope.terms()
    ]
    return filters[0] if len(filters) == 1 else Filter.all_of(filters)


def stamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value))


def record_from(obj: Any) -> VectorRecord:
    p = obj.properties
    vector = obj.vector.get("default") if isinstance(obj.vector, dict) else obj.vector
    return VectorRecord(
        id=str(obj.uuid),
        embedding=[float(x) for x in (vector or [])],
        text=p.get("text") or "",
        hash=p.get("hash") or "",
        user_id=p.get("user_id"),
        agent_id=p.get("agent_id"),
        run_id=p.get("run_id"),
        created_at=stamp(p.get("created_at")),
        updated_at=stamp(p.get("updated_at")),
        metadata=json.loads(p.get("metadata") or "{}"),
        expires_at=stamp(p[EXPIRES]) if p.get(EXPIRES) is not None else None,
    )


def object_id(obj: Any) -> object:
    return obj.uuid


def scored(obj: Any) -> tuple[VectorRecord, float]:
    return record_from(obj), 1.0 - float(obj.metadata.distance or 0.0)


def object_properties(r: VectorRecord) -> dict[str, Any]:
    """The properties of ``r``'s object (the metadata properties must exist first)."""
    properties: dict[str, Any] = {
        "text": r.text,
        "hash": r.hash,
        "metadata": json.dumps(r.metadata),
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        UPDATED_KEY: r.updated_at,
        **metadata_properties(r.metadata),
    }
    if r.expires_at is not None:
        properties[EXPIRES] = r.expires_at
    for name, value in r.scope.terms():
        properties[name] = value
        properties[KEY[name]] = scope_key(value)
    return properties
