"""hybridmem graph store on Neo4j 5 over Bolt: ``[graph] provider = "neo4j"``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hybridmem.registry import AdapterPlugin, parse_options
from hybridmem_neo4j.coordination import SharedNeo4jGraphStore
from hybridmem_neo4j.graph import Neo4jGraphStore
from hybridmem_neo4j.names import DEFAULT_LABEL_PREFIX, LABEL_PREFIX_PATTERN

__all__ = ["Neo4jGraphStore", "Neo4jOptions", "plugin"]


class Neo4jOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uri: str = "bolt://127.0.0.1:7687"
    user: str = "neo4j"
    password: SecretStr = SecretStr("")
    database: str = "neo4j"
    #: Seconds to wait for a connection; an outage should fail fast.
    connection_timeout: float = Field(default=5.0, gt=0)
    #: Seconds the driver may retry a transaction on transient errors.
    retry_seconds: float = Field(default=5.0, ge=0)
    #: Goes into every label, relationship type, constraint and index name this
    #: store uses (``Hybridmem_Memory``, ``Hybridmem_RELATES``), so stores and other
    #: applications can share one database without seeing each other's data.
    label_prefix: str = Field(default=DEFAULT_LABEL_PREFIX, pattern=LABEL_PREFIX_PATTERN)
    #: Keep the journal, history, expiry index, claims and embedder record in this
    #: database (under the label prefix), shared by every process on every host that
    #: opens this configuration. ``false`` keeps them in the data directory's SQLite
    #: file and in process: for a store only ever opened by one process at a time.
    shared_journal: bool = True
    #: Seconds a process's lease lasts unrenewed (renewed every third of it): how
    #: long after a crash before another process takes its operations over.
    lease_seconds: float = Field(default=15.0, ge=1.0, le=3600.0)
    #: Seconds a claim waits for a conflicting claim of another process before
    #: ClaimTimeoutError.
    claim_timeout_seconds: float = Field(default=60.0, gt=0, le=86_400.0)
    #: Seconds the server lets one of the graph's write transactions (an add's, a
    #: batch delete's) run before it ends it and frees its locks: how long a process
    #: that stalls inside one can block the others.
    write_timeout_seconds: float = Field(default=60.0, ge=1.0, le=86_400.0)


def _graph(options: Mapping[str, Any], data_dir: Path) -> Neo4jGraphStore:
    opts = parse_options(Neo4jOptions, options, "graph", "neo4j")
    args = (opts.uri, opts.user, opts.password.get_secret_value(), opts.database)
    common: dict[str, Any] = {
        "connection_timeout": opts.connection_timeout,
        "retry_seconds": opts.retry_seconds,
        "label_prefix": opts.label_prefix,
        "write_timeout": opts.write_timeout_seconds,
    }
    if opts.shared_journal:
        return SharedNeo4jGraphStore(
            *args,
            lease_seconds=opts.lease_seconds,
            claim_timeout=opts.claim_timeout_seconds,
            **common,
        )
    return Neo4jGraphStore(*args, **common)


plugin = AdapterPlugin(provider="neo4j", graph=_graph)
