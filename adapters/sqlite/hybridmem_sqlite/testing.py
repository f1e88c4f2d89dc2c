"""The SQLite vector store as the pair suites of ``hybridmem.testing`` open it.

Registered under the ``hybridmem.testing`` entry point: the backend ``sqlite``
(vector role, no server, a fresh file per test) and the pair ``kuzu+sqlite``:
the embedded default, a production pair.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from hybridmem.testing.pair_registry import Registration, SectionRequest, TestBackend, TestPair
from hybridmem_sqlite.vector import SQLiteVectorStore


def _section(role: str, request: SectionRequest) -> dict[str, Any]:
    return {"provider": "sqlite"}


class SQLiteVectorWitness:
    """Reads the file through its own connection, bypassing the adapter."""

    def __init__(self, vector: Any) -> None:
        self._path = vector.file_path

    def vector_ids(self) -> set[str]:
        conn = sqlite3.connect(self._path)
        try:
            return {row[0] for row in conn.execute("SELECT id FROM vec")}
        finally:
            conn.close()


registration = Registration(
    backends=(
        TestBackend(
            name="sqlite",
            provider="sqlite",
            section=_section,
            vector_witness=SQLiteVectorWitness,
            stores=(SQLiteVectorStore,),
        ),
    ),
    pairs=(TestPair("kuzu+sqlite", production=True),),
)
