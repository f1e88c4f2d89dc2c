"""Facts a store records about itself: today one, the embedder that made its vectors.

A store opened with another embedder would rank new queries against vectors of
a different model, silently; it is refused instead. The record lives where the
journal lives: ``StoreMeta`` keeps it in the SQLite file of the data directory
(the per-process journal's file); a shared journal offers one of its own
(``HoldsStoreMeta``), in the shared coordination state, so that two hosts with
different embedders are refused too and the data directory holds none of it.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

from hybridmem.errors import ConfigurationError

_SCHEMA = "CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


class StoreMetaPort(Protocol):
    def embedder(self) -> tuple[str, int] | None:
        """The recorded embedder's name and dimension; None before the first."""
        ...

    def check_embedder(self, name: str, dimension: int) -> None:
        """Raise ConfigurationError naming both when the store recorded another."""
        ...

    def record_embedder(self, name: str, dimension: int) -> None:
        """Record the embedder on first use; afterwards only check it."""
        ...

    def forget_embedder(self) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class HoldsStoreMeta(Protocol):
    """A journal that keeps the store's facts itself (a shared journal)."""

    store_meta: StoreMetaPort


def refuse_other_embedder(recorded: tuple[str, int] | None, name: str, dimension: int) -> None:
    if recorded is not None and recorded != (name, dimension):
        raise ConfigurationError(
            f"this store was created with embedder {recorded[0]!r} ({recorded[1]} dimensions)"
            f" but is opened with {name!r} ({dimension} dimensions); configure"
            f" [embedder] as it was, or use a new data directory"
        )


class StoreMeta:
    """``StoreMetaPort`` in a table of the data directory's SQLite journal file."""

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
        refuse_other_embedder(self.embedder(), name, dimension)

    def record_embedder(self, name: str, dimension: int) -> None:
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
