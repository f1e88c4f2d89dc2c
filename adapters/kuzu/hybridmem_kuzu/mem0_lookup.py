"""mem0 memories by mem0 id across scopes (``hybridmem.mem0_lookup``), on Kuzu.

Kuzu's only index is the primary key, so a mem0 memory links to one more scope
node (``VScope``), keyed by the digest of its mem0 id, written by ``upsert`` in
the record's own transaction (:func:`lookup_keys`). A lookup is a primary-key
read of that node and its adjacency; deleting the record deletes the node once
no record links to it, as for every scope node, and a compaction's copy (made
through ``upsert``) links it again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hybridmem.mem0_lookup import indexed_key, matching, mem0_key
from hybridmem.records import VectorRecord, decode_rows

if TYPE_CHECKING:
    from hybridmem_kuzu._database import KuzuDatabase

# \x1f never occurs in a scope id, and "m" is no scope part's prefix ("u", "a", "r").
_PREFIX = "m\x1f"


def _node_key(key: int) -> str:
    return f"{_PREFIX}{key:x}"


def lookup_keys(metadata: Mapping[str, Any]) -> list[str]:
    """The extra scope-node key of a record: one for a live mem0 memory, else none."""
    key = indexed_key(metadata)
    return [] if key is None else [_node_key(key)]


class KuzuMem0Lookup:
    """Mixed into ``KuzuVectorStore``: the ``Mem0Lookup`` capability."""

    name: str
    _db: KuzuDatabase
    _dimension: int | None

    def mem0_records(self, mem0_ids: Sequence[str]) -> list[VectorRecord]:
        from hybridmem_kuzu.vector import _FIELDS, _record, _row_id

        if not mem0_ids or self._dimension is None:
            return []
        keys = [{"key": _node_key(k)} for k in sorted({mem0_key(i) for i in mem0_ids})]
        rows = self._db.each(
            f"MATCH (s:VScope {{key: x.key}})<-[:VIN_SCOPE]-(v:Vec) RETURN {_FIELDS}",
            keys,
            "VScope",
        )
        return matching(decode_rows(self.name, rows, _record, _row_id), mem0_ids)
