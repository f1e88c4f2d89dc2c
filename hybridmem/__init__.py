"""hybridmem: a graph-plus-vector hybrid store for AI-agent memory backends.

``HybridStore``, ``AsyncHybridStore`` and ``HybridMemConfig`` load on first use,
so that importing a part that needs no store (``hybridmem.client``,
``hybridmem.models``) does not load the coordinator, the journal or SQLite.
"""

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from hybridmem.errors import (
    AuthenticationError,
    ClaimTimeoutError,
    ConfigurationError,
    DimensionMismatchError,
    FileLockedError,
    HybridMemError,
    InvalidScopeError,
    LeaseLostError,
    MissingScopeError,
    NotFoundError,
    PermissionDeniedError,
    StoreBusyError,
    StoreError,
    StoreUnavailableError,
    UnreadableRecordError,
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

try:
    #: The installed distribution's version, written once in pyproject.toml.
    __version__ = version("hybridmem")
except PackageNotFoundError:  # a source tree on sys.path, not installed
    __version__ = "0.0.0+unknown"

if TYPE_CHECKING:
    from hybridmem.async_store import AsyncHybridStore
    from hybridmem.config import HybridMemConfig
    from hybridmem.store import HybridStore

__all__ = [
    "AsyncHybridStore",
    "AuthenticationError",
    "ClaimTimeoutError",
    "ConfigurationError",
    "DeleteProgress",
    "DeleteResult",
    "DimensionMismatchError",
    "Entity",
    "FileLockedError",
    "HistoryEvent",
    "HybridMemConfig",
    "HybridMemError",
    "HybridStore",
    "InvalidScopeError",
    "LeaseLostError",
    "Memory",
    "MissingScopeError",
    "Neighborhood",
    "NotFoundError",
    "PermissionDeniedError",
    "ReconcileReport",
    "Relation",
    "Scope",
    "SearchHit",
    "StoreBusyError",
    "StoreError",
    "StoreUnavailableError",
    "UnreadableRecordError",
    "ValidationError",
    "__version__",
]


# Loaded on first use (PEP 562): name -> module that defines it.
_LAZY = {
    "AsyncHybridStore": "hybridmem.async_store",
    "HybridMemConfig": "hybridmem.config",
    "HybridStore": "hybridmem.store",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hybridmem' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
