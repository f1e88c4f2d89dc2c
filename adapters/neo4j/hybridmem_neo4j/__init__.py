"""hybridmem graph store on Neo4j 5 over Bolt: ``[graph] provider = "neo4j"``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hybridmem.registry import AdapterPlugin, parse_options
from hybridmem_neo4j.graph import Neo4jGraphStore

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


def _graph(options: Mapping[str, Any], data_dir: Path) -> Neo4jGraphStore:
    opts = parse_options(Neo4jOptions, options, "graph", "neo4j")
    return Neo4jGraphStore(
        opts.uri,
        opts.user,
        opts.password.get_secret_value(),
        opts.database,
        connection_timeout=opts.connection_timeout,
        retry_seconds=opts.retry_seconds,
    )


plugin = AdapterPlugin(provider="neo4j", graph=_graph)
