"""hybridmem vector store on Weaviate: ``[vector] provider = "weaviate"``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from hybridmem.registry import AdapterPlugin, parse_options
from hybridmem_weaviate.inserts import (
    DEFAULT_EF_CONSTRUCTION,
    DEFAULT_INSERT_BATCH,
    DEFAULT_INSERT_CONCURRENCY,
    DEFAULT_MAX_CONNECTIONS,
)
from hybridmem_weaviate.tenancy import WeaviateTenantVectorStore
from hybridmem_weaviate.vector import WeaviateVectorStore

__all__ = ["WeaviateOptions", "WeaviateTenantVectorStore", "WeaviateVectorStore", "plugin"]


class WeaviateOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    http_port: int = 8080
    grpc_port: int = 50051
    #: A Weaviate class name (capitalised), fixed by configuration.
    collection: str = Field(default="HybridMemory", pattern=r"^[A-Z][A-Za-z0-9_]{0,99}$")
    api_key: SecretStr | None = None
    #: Reads and writes. Erasures always run at ALL, and only while every replica of
    #: every shard is in the cluster (otherwise they stay pending for recover()).
    consistency_level: Literal["ONE", "QUORUM", "ALL"] = "ALL"
    #: For a collection this adapter creates; an existing one keeps its own.
    replication_factor: int = Field(default=1, ge=1)
    timeout_seconds: float = Field(default=10.0, gt=0)
    #: Objects per query; lowered automatically to the server's QUERY_MAXIMUM_RESULTS.
    page_size: int = Field(default=1000, ge=1, le=10_000)
    #: One tenant per user_id: delete_all(user_id=...) drops the tenant in one call.
    #: Fixed when the collection is made; reads without a user_id visit every tenant.
    multi_tenancy: bool = False
    #: HNSW construction for a collection this adapter creates (an existing one
    #: keeps its own; Weaviate cannot change them). Lower builds faster, at the
    #: recall@10 measured beside the speed in docs/benchmarks.md.
    ef_construction: int = Field(default=DEFAULT_EF_CONSTRUCTION, ge=4, le=4096)
    max_connections: int = Field(default=DEFAULT_MAX_CONNECTIONS, ge=4, le=512)
    #: HNSW search breadth; -1 lets Weaviate size it from the limit (ef >= 100).
    ef: int = Field(default=-1, ge=-1, le=100_000)
    #: Objects per insert request, and requests in flight at once for one batch.
    insert_batch: int = Field(default=DEFAULT_INSERT_BATCH, ge=1, le=100_000)
    insert_concurrency: int = Field(default=DEFAULT_INSERT_CONCURRENCY, ge=1, le=32)

    @model_validator(mode="after")
    def _tenancy_is_unreplicated(self) -> WeaviateOptions:
        if self.multi_tenancy and self.replication_factor > 1:
            raise ValueError("multi_tenancy = true supports replication_factor = 1 only")
        return self


def _vector(options: Mapping[str, Any], data_dir: Path) -> WeaviateVectorStore:
    opts = parse_options(WeaviateOptions, options, "vector", "weaviate")
    kind = WeaviateTenantVectorStore if opts.multi_tenancy else WeaviateVectorStore
    return kind(
        opts.host,
        opts.http_port,
        opts.grpc_port,
        opts.collection,
        api_key=opts.api_key.get_secret_value() if opts.api_key else None,
        consistency_level=opts.consistency_level,
        replication_factor=opts.replication_factor,
        timeout_seconds=opts.timeout_seconds,
        page_size=opts.page_size,
        ef_construction=opts.ef_construction,
        max_connections=opts.max_connections,
        ef=opts.ef,
        insert_batch=opts.insert_batch,
        insert_concurrency=opts.insert_concurrency,
    )


plugin = AdapterPlugin(provider="weaviate", vector=_vector)
