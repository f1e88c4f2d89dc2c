"""hybridmem graph store on Neo4j 5 over Bolt: ``[graph] provider = "neo4j"``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic import ValidationError as PydanticValidationError

from hybridmem.errors import ConfigurationError
from hybridmem.registry import AdapterPlugin
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
    try:
        opts = Neo4jOptions(**dict(options))
    except PydanticValidationError as exc:
        problems = "; ".join(
            f"graph.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigurationError(f"invalid neo4j options: {problems}") from None
    return Neo4jGraphStore(
        opts.uri,
        opts.user,
        opts.password.get_secret_value(),
        opts.database,
        connection_timeout=opts.connection_timeout,
        retry_seconds=opts.retry_seconds,
    )


plugin = AdapterPlugin(provider="neo4j", distribution="hybridmem-neo4j", graph=_graph)
