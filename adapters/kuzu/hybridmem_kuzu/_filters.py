"""The filter function Kuzu queries call: ``hm_filter(metadata, created_at, updated_at, filters)``.

Kuzu stores metadata as a JSON string and has no JSON functions without
downloading an extension, so the core's one evaluator (``Filters.matches``)
runs as a registered function inside the query: rows are filtered where they
are read, before ORDER BY and LIMIT, and only the scope's rows are read.
"""

from __future__ import annotations

import json
from functools import lru_cache

from hybridmem.filters import Filters
from hybridmem_kuzu._time import from_text

FILTER_FUNCTION = "hm_filter"


@lru_cache(maxsize=256)
def _parsed(text: str) -> Filters:
    return Filters.from_json(text)


def stored_row_matches(filters: Filters, metadata: str, created_at: str, updated_at: str) -> bool:
    """``filters`` on a row's stored text: what the query's function and the search
    cache both evaluate. A row that cannot be decoded matches nothing: it is left out
    of the read (its decoder would refuse it anyway) rather than failing the query."""
    try:
        found = json.loads(metadata), from_text(created_at), from_text(updated_at)
    except (ValueError, TypeError):
        return False
    return filters.matches(*found)


def matches_row(metadata: str, created_at: str, updated_at: str, filters: str) -> bool:
    return stored_row_matches(_parsed(filters), metadata, created_at, updated_at)


def filter_params(filters: Filters) -> dict[str, object]:
    return {"filters": filters.to_json()}
