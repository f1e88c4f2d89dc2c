"""mem0 memories by mem0 id across scopes (``hybridmem.mem0_lookup``), on SQLite.

A partial index on the record's own ``_mem0_key`` (an integer digest of the
mem0 id, written into the metadata by the integration): only mem0 memories have
an entry, a lookup is an index search, and the entry goes with its row. The
index holds digests, not ids, for the reason ``_rows`` gives: an index's
interior pages keep copies of keys after their rows are gone.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import _GeneratorContextManager
from typing import TYPE_CHECKING

from hybridmem.mem0_lookup import MEM0_KEY, matching, mem0_key
from hybridmem.records import VectorRecord, decode_rows
from hybridmem_sqlite._rows import FIELDS, decode, row_id

# json_valid first: json_extract raises on a damaged row's text, and an index
# expression that raises would make that row impossible to update or delete.
_EXPRESSION = f"(CASE WHEN json_valid(metadata) THEN json_extract(metadata, '$.{MEM0_KEY}') END)"
#: Run with the schema on every open (a compaction's blank twin too).
MEM0_INDEX = (
    f"CREATE INDEX IF NOT EXISTS vec_mem0_key ON vec({_EXPRESSION}) WHERE {_EXPRESSION} IS NOT NULL"
)
_CHUNK = 500


def _chunks(values: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


class SQLiteMem0Lookup:
    """Mixed into ``SQLiteVectorStore``: the ``Mem0Lookup`` capability."""

    name: str
    _lock: threading.RLock

    if TYPE_CHECKING:  # provided by SQLiteFile

        @property
        def _db(self) -> sqlite3.Connection: ...

        def _guard(self) -> _GeneratorContextManager[None]: ...

    def mem0_records(self, mem0_ids: Sequence[str]) -> list[VectorRecord]:
        keys = sorted({mem0_key(i) for i in mem0_ids})
        rows: list[tuple[object, ...]] = []
        with self._lock, self._guard():
            for chunk in _chunks(keys):
                marks = ",".join("?" * len(chunk))
                query = f"SELECT {FIELDS} FROM vec WHERE {_EXPRESSION} IN ({marks})"  # noqa: S608
                rows.extend(self._db.execute(query, list(chunk)).fetchall())
        return matching(decode_rows(self.name, rows, decode, row_id), mem0_ids)
