"""Memories ↔ LangGraph items: the value, the texts an item is embedded from, expiry."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

from langgraph.store.base import Item, SearchItem
from langgraph.store.base.embed import get_text_at_path, tokenize_path

from hybridmem.models import Memory
from langgraph_hybridmem.namespaces import ITEM_KEY, NAMESPACE_KEY, RESERVED_PREFIX

EXPIRES_KEY = "_lg_expires"
TTL_KEY = "_lg_ttl"
#: Set on items put with ``index=False`` (or with no text at the indexed fields):
#: they are stored and filtered, but never ranked by vector.
UNINDEXED_KEY = "_lg_unindexed"
#: The expiry of items without TTL: far future, and exact as a float64.
NEVER = 2.0**52

Fields = list[tuple[str, Any]]


def index_fields(fields: list[str] | None) -> Fields:
    return [(f, f if f == "$" else tokenize_path(f)) for f in (fields or ["$"])]


def indexed_texts(value: dict[str, Any], fields: Fields) -> list[str]:
    """The texts of ``value`` at ``fields``, as LangGraph's stores extract them."""
    texts: list[str] = []
    for path, tokens in fields:
        if path == "$":
            texts.append(json.dumps(value, sort_keys=True, ensure_ascii=False))
        else:
            texts.extend(get_text_at_path(value, tokens))
    return texts


def alive(memory: Memory) -> bool:
    return float(memory.metadata.get(EXPIRES_KEY, NEVER)) > time.time()


def alive_filter(filters: dict[str, Any]) -> dict[str, Any]:
    """``filters`` that also hide items whose expiry is only in metadata (written
    before items used hybridmem's own expiry) once it has passed."""
    return {**filters, EXPIRES_KEY: {"$gt": time.time()}}


def core_ttl(minutes: float | None) -> timedelta | None:
    return None if minutes is None else timedelta(minutes=float(minutes))


def value_of(memory: Memory) -> dict[str, Any]:
    return {k: v for k, v in memory.metadata.items() if not k.startswith(RESERVED_PREFIX)}


def to_item(memory: Memory) -> Item:
    return Item(
        value=value_of(memory),
        key=str(memory.metadata[ITEM_KEY]),
        namespace=tuple(memory.metadata[NAMESPACE_KEY]),
        created_at=memory.created_at,
        updated_at=memory.updated_at,
    )


def to_search_item(memory: Memory, score: float | None) -> SearchItem:
    return SearchItem(
        namespace=tuple(memory.metadata[NAMESPACE_KEY]),
        key=str(memory.metadata[ITEM_KEY]),
        value=value_of(memory),
        created_at=memory.created_at,
        updated_at=memory.updated_at,
        score=score,
    )
