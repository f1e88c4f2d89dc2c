"""A graph store and a vector store on LadybugDB (the maintained fork of Kuzu;
Kuzu 0.11.3 stays selectable with engine = "kuzu"). The graph store is the
embedded default's; the vector store was the earlier default (now SQLite,
hybridmem_sqlite) and serves stores that keep vectors.kuzu.

Each lives in its own database file under the data directory, so the vector
side can be swapped for a server without touching the graph file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hybridmem.registry import AdapterPlugin, parse_options
from hybridmem_kuzu._engine import DEFAULT_ENGINE, default_buffer_pool_mb
from hybridmem_kuzu.graph import KuzuGraphStore
from hybridmem_kuzu.vector import KuzuVectorStore

__all__ = ["KuzuGraphStore", "KuzuOptions", "KuzuVectorOptions", "KuzuVectorStore", "plugin"]


class KuzuOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: A database path; relative paths are under the data directory.
    path: Path | None = None
    #: LadybugDB by default; "kuzu" for Kuzu 0.11.3 (archived), e.g. for a store it wrote.
    engine: Literal["kuzu", "ladybug"] = DEFAULT_ENGINE
    #: How a batch reaches its rows: "auto" (cheaper of primary-key lookups and one
    #: scan), or forced "lookup" / "scan".
    batch_plan: Literal["auto", "lookup", "scan"] = "auto"
    #: The engine's page cache for this file: by default an eighth of the machine's
    #: (or container's) memory, 256 MB to 16 GB (see ``_engine.POOL_SHARE``).
    buffer_pool_mb: int = Field(default_factory=default_buffer_pool_mb, ge=16)


class KuzuVectorOptions(KuzuOptions):
    #: Memory for the scopes' vectors that unfiltered searches rank in memory;
    #: a scope larger than this is ranked inside Kuzu instead. 0 turns it off.
    search_cache_mb: int = Field(default=256, ge=0)


def _path(option: Path | None, data_dir: Path, default: str) -> Path:
    path = option or Path(default)
    return path if path.is_absolute() else data_dir / path


def _graph(options: Mapping[str, Any], data_dir: Path) -> KuzuGraphStore:
    opts = parse_options(KuzuOptions, options, "graph", "kuzu")
    path = _path(opts.path, data_dir, "graph.kuzu")
    return KuzuGraphStore(path, opts.engine, opts.batch_plan, opts.buffer_pool_mb)


def _vector(options: Mapping[str, Any], data_dir: Path) -> KuzuVectorStore:
    opts = parse_options(KuzuVectorOptions, options, "vector", "kuzu")
    path = _path(opts.path, data_dir, "vectors.kuzu")
    return KuzuVectorStore(
        path, opts.engine, opts.batch_plan, opts.buffer_pool_mb, opts.search_cache_mb
    )


plugin = AdapterPlugin(provider="kuzu", graph=_graph, vector=_vector)
