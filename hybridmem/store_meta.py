"""Facts a store records about itself, beside the journal in its SQLite file.

Today one fact: the embedder (name and dimension) that made its vectors from
text. A store opened with another embedder would rank new queries against
vectors of a different model, silently; it is refused instead.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from hybridmem.errors import ConfigurationError

_SCHEMA = "CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


class StoreMeta:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.execute(_SCHEMA)

    def embedder(self) -> tuple[str, int] | None:
        with self._lock:
            rows = dict(
                self._db.execute(
                    "SELECT key, value FROM store_meta"
                    " WHERE key IN ('embedder_name', 'embedder_dimension')"
                ).fetchall()
            )
        if "embedder_name" not in rows:
            return None
        return rows["embedder_name"], int(rows["embedder_dimension"])

    def check_embedder(self, name: str, dimension: int) -> None:
        """Raise ConfigurationError naming both when the store recorded another embedder."""
        recorded = self.embedder()
        if recorded is not None and recorded != (name, dimension):
            raise ConfigurationError(
                f"this store was created with embedder {recorded[0]!r} ({recorded[1]} dimensions)"
                f" but is opened with {name!r} ({dimension} dimensions); configure"
                f" [embedder] as it was, or use a new data directory"
            )

    def record_embedder(self, name: str, dimension: int) -> None:
        """Record the embedder on first use; afterwards only check it."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT OR IGNORE INTO store_meta VALUES ('embedder_name', ?)", (name,)
                )
                self._db.execute(
                    "INSERT OR IGNORE INTO store_meta VALUES ('embedder_dimension', ?)",
                    (str(dimension),),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        self.check_embedder(name, dimension)

    def forget_embedder(self) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM store_meta WHERE key IN ('embedder_name', 'embedder_dimension')"
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
