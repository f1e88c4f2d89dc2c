"""What a compaction (``hybridmem.compaction``) needs of a Kuzu file store.

Neither engine zeroes freed pages, so erased values stay in the file until it
is rewritten: the compaction copies the live records into a blank twin file,
then swaps it in here. The swap holds the database lock, so a read waiting on
it goes on against the new file; the old file's WAL is removed before the new
file takes its name (a WAL replayed onto another file would corrupt it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Self

from hybridmem_kuzu._database import KuzuDatabase

#: Files an engine keeps beside its database file while it is open.
SIDECAR_SUFFIXES = (".wal", ".shadow")


def sidecars(path: Path) -> list[Path]:
    return [Path(f"{path}{suffix}") for suffix in SIDECAR_SUFFIXES]


def fsync_directory(path: Path) -> None:
    """Make a rename in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class KuzuFileRewrite:
    """Mixed into both Kuzu stores: the file, a blank twin of it, and the swap."""

    _db: KuzuDatabase

    def _prepare(self) -> None:
        raise NotImplementedError

    @property
    def file_path(self) -> Path:
        return self._db.path

    def blank_twin(self, path: Path) -> Self:
        """An empty store of the same kind, engine and options, in its own file."""
        raise NotImplementedError

    def checkpoint_file(self) -> None:
        """Write the WAL into the file, so the file alone holds every record."""
        self._db.rows("CHECKPOINT")

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
