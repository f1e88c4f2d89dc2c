"""hybridmem's vector store on SQLite from the standard library: the embedded
default's vector role.

One file (``vectors.sqlite3`` in the data directory by default); embeddings as
float32 BLOBs, exact cosine ranking in numpy, erasure to the byte when a delete
returns. Configure with ``[vector] provider = "sqlite"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hybridmem.errors import MigrationRequiredError
from hybridmem.registry import AdapterPlugin, parse_options
from hybridmem_sqlite.vector import SQLiteVectorStore

__all__ = ["SQLiteVectorOptions", "SQLiteVectorStore", "plugin"]


class SQLiteVectorOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The database file; a relative path is under the data directory.
    path: Path | None = None
    #: Memory for the vectors of the scopes searched most recently; 0 turns it off
    #: (every search then reads its scope's vectors from the file).
    search_cache_mb: int = Field(default=256, ge=0)
    #: "full": a commit is on disk before it returns (survives power loss);
    #: "normal": survives a crashed process, not a lost machine.
    synchronous: Literal["full", "normal"] = "full"
    #: How long a write waits for another process's write lock.
    busy_timeout_ms: int = Field(default=10_000, ge=0)


def _refuse_kuzu_vectors(data_dir: Path, path: Path) -> None:
    """A data directory whose vectors are in the Kuzu file of earlier defaults must
    not open an empty SQLite file beside it: every memory would read as vectorless."""
    kuzu_file = data_dir / "vectors.kuzu"
    if kuzu_file.exists() and not path.exists():
        raise MigrationRequiredError(
            "SQLite vector store",
            str(path),
            f"this data directory keeps its vectors in {kuzu_file.name} (the Kuzu vector"
            ' store, the earlier default): set [vector] provider = "kuzu" to keep it,'
            " or move the store to SQLite with `hybridmem export` under that setting and"
            " `hybridmem import` into a new data directory (docs/embedded-default.md)",
        )


def _vector(options: Mapping[str, Any], data_dir: Path) -> SQLiteVectorStore:
    opts = parse_options(SQLiteVectorOptions, options, "vector", "sqlite")
    path = opts.path or Path("vectors.sqlite3")
    if not path.is_absolute():
        path = data_dir / path
    if opts.path is None:
        _refuse_kuzu_vectors(data_dir, path)
    return SQLiteVectorStore(path, opts.search_cache_mb, opts.synchronous, opts.busy_timeout_ms)


plugin = AdapterPlugin(provider="sqlite", vector=_vector)
