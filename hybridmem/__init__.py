"""hybridmem: a graph-plus-vector hybrid store for AI-agent memory backends."""

from hybridmem.async_store import AsyncHybridStore
from hybridmem.config import HybridMemConfig
from hybridmem.errors import (
    AuthenticationError,
    ConfigurationError,
    DimensionMismatchError,
    HybridMemError,
    InvalidScopeError,
    MissingScopeError,
    NotFoundError,
    PermissionDeniedError,
    StoreError,
    StoreUnavailableError,
    ValidationError,
)
from hybridmem.models import (
    DeleteProgress,
    DeleteResult,
    Entity,
    HistoryEvent,
    Memory,
    Neighborhood,
    ReconcileReport,
    Relation,
    Scope,
    SearchHit,
)
from hybridmem.store import HybridStore

__all__ = [
    "AsyncHybridStore",
    "AuthenticationError",
    "ConfigurationError",
    "DeleteProgress",
    "DeleteResult",
    "DimensionMismatchError",
    "Entity",
    "HistoryEvent",
    "HybridMemConfig",
    "HybridMemError",
    "HybridStore",
    "InvalidScopeError",
    "Memory",
    "MissingScopeError",
    "Neighborhood",
    "NotFoundError",
    "PermissionDeniedError",
    "ReconcileReport",
    "Relation",
    "Scope",
    "SearchHit",
    "StoreError",
    "StoreUnavailableError",
    "ValidationError",
]
