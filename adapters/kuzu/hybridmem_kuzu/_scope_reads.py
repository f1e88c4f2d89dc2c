"""The Kuzu vector store's scope reads: the WHERE clause of a filtered scope read,
and a narrow listing of a scope's ids, metadata and times (no vector).

A listing of full records costs most in returning each record's embedding: 1,000
records of 16 floats took ~17 ms without ORDER BY and ~55 ms with it on a loaded
machine, against ~1 ms for their metadata and creation times (LadybugDB 0.11.3),
then as much again to decode the vectors in Python. A caller that reads only
metadata (the LangGraph store's namespace index) reads it here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hybridmem.filters import Filters
from hybridmem.records import decode_rows
from hybridmem_kuzu._database import KuzuDatabase
from hybridmem_kuzu._filters import FILTER_FUNCTION, filter_params
from hybridmem_kuzu._time import from_text, to_text

#: A record as the narrow listing returns it: id, metadata, created_at.
MetadataRow = tuple[str, dict[str, Any], datetime]


def with_filters(
    clause: str, params: dict[str, str], filters: Filters | None
) -> tuple[str, dict[str, object]]:
    """A scope's MATCH clause (``scope_match``'s, of ``v:Vec``) narrowed to what
    ``filters`` keep (expiry and conditions), and its parameters."""
    bound: dict[str, object] = dict(params)
    # After WITH v, as scope_match's own predicates: see there why.
    if filters is not None and filters.alive_at is not None:
        joiner = " AND " if " WHERE " in clause else " WITH v WHERE "
        clause += f"{joiner}(v.expires_at IS NULL OR v.expires_at > $alive_at)"
        bound["alive_at"] = to_text(filters.alive_at)
    if filters is not None and filters.conditions:
        joiner = " AND " if " WHERE " in clause else " WITH v WHERE "
        clause += f"{joiner}{FILTER_FUNCTION}(v.metadata, v.created_at, v.updated_at, $filters)"
        bound.update(filter_params(filters))
    return clause, bound


def _metadata_row(row: Sequence[Any]) -> MetadataRow:
    # row: created_at, id, metadata (as the query collects them).
    metadata = json.loads(row[2])
    if not isinstance(metadata, dict):
        raise ValueError("metadata is not a JSON object")
    return row[1], metadata, from_text(row[0])


def _decoded(store: str, page: list[list[Any]]) -> list[MetadataRow]:
    """The page's rows decoded; a damaged row is logged and left out (``decode_rows``).
    The metadata strings are parsed as one JSON array (one C-level parse, not one
    per row: 0.25 ms against 3 ms for 1,000), unless a row is damaged."""
    try:
        texts = [row[2] for row in page]
        if not all(isinstance(text, str) for text in texts):
            raise TypeError("a metadata value is not text")
        metadata = json.loads("[" + ",".join(texts) + "]")
        # A row that is not one JSON object would change the count or the types.
        if len(metadata) != len(page) or not all(isinstance(m, dict) for m in metadata):
            raise ValueError("a metadata value is not one JSON object")
        return [
            (row[1], found, from_text(row[0])) for row, found in zip(page, metadata, strict=True)
        ]
    except (ValueError, TypeError):
        return decode_rows(store, page, _metadata_row, lambda row: row[1])


def _newest_first(row: list[Any]) -> tuple[bool, str]:
    return row[0] is not None, row[0] or ""


def list_metadata(
    db: KuzuDatabase,
    store: str,
    scope: tuple[str, dict[str, object]],
    limit: int | None,
    offset: int,
) -> list[MetadataRow]:
    """The records of ``scope`` (a clause and its parameters) as (id, metadata,
    created_at), newest first (created_at, then id: ``list_scope``'s order),
    skipping ``offset``, at most ``limit``.

    The whole scope comes as one collected list (rows cost the Python driver ~2 us
    each to fetch: 1,000 in 1 ms instead of 2-5 ms), sorted here: ``collect`` keeps
    no order. A page is read as rows, ordered and cut in the query: LadybugDB 0.11.3
    ignores an ORDER BY before an aggregation, so SKIP / LIMIT then would cut an
    unordered stream."""
    clause, bound = scope[0], dict(scope[1])
    if limit is None and offset == 0:
        rows = db.rows(f"{clause} RETURN collect([v.created_at, v.id, v.metadata])", bound)
        page: list[list[Any]] = list(rows[0][0]) if rows and rows[0][0] else []
        # id ascending within one created_at, created_at descending (stable sorts).
        page.sort(key=lambda row: row[1] or "")
        page.sort(key=_newest_first, reverse=True)
        return _decoded(store, page)
    query = f"{clause} RETURN v.created_at, v.id, v.metadata ORDER BY v.created_at DESC, v.id"
    query += " SKIP $offset"
    bound["offset"] = offset
    if limit is not None:
        query += " LIMIT $limit"
        bound["limit"] = limit
    return _decoded(store, db.rows(query, bound))
