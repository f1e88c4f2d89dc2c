"""What a compaction (``hybridmem.compaction``) needs of a Kuzu file store.

Neither engine zeroes freed pages, so erased values stay in the file until it
is rewritten: the compaction copies the live records into a blank twin file,
then swaps it in here. The swap holds the database lock, so a read waiting on
it goes on against the new file; the old file's WAL is removed before the new
file takes its name (a WAL replayed onto another file would corrupt it).

The copy is a bulk one: each live table is exported with ``COPY (query) TO`` a
Parquet file in a directory beside the twin (``<twin>.export``), then loaded
into the blank twin with ``COPY <table> FROM`` in one transaction, and every
table's rows are counted in the twin. Through the port's statements, a memory
at a time, the same copy ran 374 live memories/s (2026-12-05, 100k); see
docs/embedded-default.md for the bulk copy's rate. The export files hold only
live records and are removed when the copy ends, or by the compaction's
rollback after a crash (they are named for the twin).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Self

from hybridmem_kuzu._database import KuzuDatabase

#: Files an engine keeps beside its database file while it is open.
SIDECAR_SUFFIXES = (".wal", ".shadow")
#: The directory of a bulk copy's Parquet files, beside the twin.
EXPORT_SUFFIX = ".export"


class LiveTable:
    """One table of a bulk copy: what is exported from the live store into it,
    and how its rows are counted in the twin."""

    def __init__(self, table: str, export: str, *, rel: bool = False) -> None:
        self.table = table
        self.export = export
        self.count = (
            f"MATCH ()-[r:{table}]->() RETURN count(r)"
            if rel
            else f"MATCH (n:{table}) RETURN count(n)"
        )


def sidecars(path: Path) -> list[Path]:
    return [Path(f"{path}{suffix}") for suffix in SIDECAR_SUFFIXES]


def export_dir(twin: Path) -> Path:
    return twin.with_name(twin.name + EXPORT_SUFFIX)


def fsync_directory(path: Path) -> None:
    """Make a rename in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _literal(path: Path) -> str:
    """``path`` as a Cypher string literal; COPY takes no parameter for its file."""
    text = str(path)
    if "'" in text or "\\" in text:
        raise ValueError(f"a bulk copy cannot name {text!r} in a COPY statement")
    return f"'{text}'"


class KuzuFileRewrite:
    """Mixed into both Kuzu stores: the file, a blank twin of it, the bulk copy of
    its live tables, and the swap."""

    _db: KuzuDatabase

    def _prepare(self) -> None:
        raise NotImplementedError

    @property
    def file_path(self) -> Path:
        return self._db.path

    def blank_twin(self, path: Path) -> Self:
        """An empty store of the same kind, engine and options, in its own file."""
        raise NotImplementedError

    def live_tables(self) -> Sequence[LiveTable]:
        """The tables a bulk copy moves, nodes before the rels between them."""
        raise NotImplementedError

    def _live_scopes_query(self) -> str:
        """A query of the distinct (user_id, agent_id, run_id) of live records."""
        raise NotImplementedError

    def live_scopes(self) -> list[tuple[str | None, str | None, str | None]]:
        """The distinct scope parts of the live records (what the journal keeps)."""
        if not self._has_tables():
            return []
        return [(row[0], row[1], row[2]) for row in self._db.rows(self._live_scopes_query())]

    def _has_tables(self) -> bool:
        """False for a store whose tables are created on its first write, before it."""
        return True

    def _ready_twin(self, twin: Self) -> None:
        """Create what the twin needs before the copy (beyond its fixed tables)."""

    def checkpoint_file(self) -> None:
        """Write the WAL into the file, so the file alone holds every record."""
        self._db.rows("CHECKPOINT")

    def bulk_copyable(self, twin: Path) -> bool:
        """Whether ``copy_live`` can name the twin's export files in COPY."""
        try:
            _literal(export_dir(twin))
        except ValueError:
            return False
        return True

    def copy_live(self, twin: Path) -> dict[str, int]:
        """Fill a new file at ``twin`` with this store's live tables and close it;
        the rows of each table, counted again in the twin (a mismatch raises)."""
        exports = export_dir(twin)
        shutil.rmtree(exports, ignore_errors=True)
        exports.mkdir()
        try:
            tables = self.live_tables() if self._has_tables() else ()
            exported: dict[str, int] = {}
            for table in tables:
                file = _literal(exports / f"{table.table}.parquet")
                self._db.rows(f"COPY ({table.export}) TO {file}")
                exported[table.table] = self._db.scalar(f"LOAD FROM {file} RETURN count(*)")
            copy = self.blank_twin(twin)
            try:
                if tables:
                    self._ready_twin(copy)
                with copy._db.transaction():
                    for table in tables:
                        if exported[table.table]:
                            file = _literal(exports / f"{table.table}.parquet")
                            copy._db.rows(f"COPY {table.table} FROM {file}")
                for table in tables:
                    found = copy._db.scalar(table.count)
                    if found != exported[table.table]:
                        raise RuntimeError(
                            f"the bulk copy of {table.table} holds {found} rows,"
                            f" the export {exported[table.table]}"
                        )
            finally:
                copy._db.close()
        finally:
            shutil.rmtree(exports, ignore_errors=True)
        return exported

    def swap_in(self, replacement: Path) -> None:
        """Replace this store's file by ``replacement`` (a complete file of the same
        engine, closed, without a WAL) and open it in its place."""
        db = self._db
        with db.lock:
            db.close()
            for stale in sidecars(db.path):
                stale.unlink(missing_ok=True)
            os.replace(replacement, db.path)
            fsync_directory(db.path.parent)
            db.reopen()
            self._prepare()
        return None
