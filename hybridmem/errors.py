"""The error tree every adapter translates its driver errors into.

Callers catch these and never a driver's own exceptions, so that swapping an
adapter by configuration cannot change what a caller has to handle.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hybridmem.ownership import Owner


class HybridMemError(Exception):
    """Base of every error hybridmem raises on purpose."""


class ConfigurationError(HybridMemError):
    """The configuration is invalid or names an adapter that is not installed."""


class ValidationError(HybridMemError, ValueError):
    """An argument is invalid. Subclasses ValueError so plain callers can catch that."""


class InvalidScopeError(ValidationError):
    """A scope id (user_id, agent_id or run_id) is invalid; the message names it."""

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"invalid {parameter}: {reason}")
        self.parameter = parameter
        self.reason = reason


class RequestTooLargeError(ValidationError):
    """A request body is larger than the server's ``max_body_bytes`` (HTTP 413)."""


class MissingScopeError(ValidationError):
    """No scope id was given where at least one is required."""


class StoreError(HybridMemError):
    """A store failed in a way that is not the caller's fault."""

    def __init__(self, store: str, address: str, detail: str) -> None:
        super().__init__(f"{store} at {address}: {detail}")
        self.store = store
        self.address = address
        self.detail = detail


class StoreUnavailableError(StoreError):
    """A store cannot be reached. The journaled operation stays pending for recover()."""

    def __init__(self, store: str, address: str, detail: str = "unavailable") -> None:
        super().__init__(store, address, f"unavailable ({detail})")


class DimensionMismatchError(ValidationError):
    """An embedding's length differs from the dimension the vector store holds."""


class NotFoundError(HybridMemError, KeyError):
    """The named record does not exist."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"


class AuthenticationError(HybridMemError):
    """The server wants an API key and the request had none, or an unknown one (HTTP 401)."""


class PermissionDeniedError(HybridMemError):
    """The API key is valid but bound to a scope this request reaches outside of (HTTP 403)."""


class ForeignDataError(StoreError):
    """A store holds, under this store's own names (labels, collection), a record that
    hybridmem did not write; the message names it. Nothing was changed."""


class MigrationRequiredError(StoreError):
    """The store holds data in the layout of an earlier hybridmem; the message names
    the command that migrates it. The store refuses to open until then."""


class ClaimTimeoutError(HybridMemError):
    """Another process held a conflicting claim (a lease in the shared coordination
    state) for longer than the configured wait; the message names its kind and
    scope. Nothing was written: the operation did not start."""


class LeaseLostError(HybridMemError):
    """This process's lease ran out (it stalled past ``[graph] lease_seconds``) and
    another process took its operation over; the operation is that process's now,
    and this one stopped before recording anything of it as its own. Retry: the
    store is consistent."""


class UnreadableRecordError(StoreError):
    """A stored memory cannot be decoded: a timestamp, its metadata or another field
    is in a form no reader parses (written by something other than hybridmem, or
    damaged). Only a read that asked for this memory by id fails with it; reads of
    many memories leave it out and log it, and delete erases it as any other."""

    def __init__(self, store: str, memory_id: str, reason: str) -> None:
        super().__init__(
            store,
            f"memory {memory_id}",
            f"cannot be read ({reason}); delete it, or repair the stored record",
        )
        self.memory_id = memory_id
        self.reason = reason


class StoreBusyError(StoreUnavailableError):
    """The data directory's embedded file is held by a running ``hybridmem serve``;
    the message says how to reach it instead."""

    def __init__(self, data_dir: Path, owner: Owner) -> None:
        super().__init__(
            "hybridmem data directory",
            str(data_dir),
            f"held by hybridmem serve (pid {owner.pid}) at {owner.url}; an embedded Kuzu file"
            " admits one process. The hybridmem CLI and `hybridmem mcp` go through that"
            f" server by themselves; from Python use HybridMemClient({owner.url!r},"
            f" api_key=<the api_key in {owner.path}>), or stop the server first",
        )
        self.owner = owner


class FileLockedError(StoreUnavailableError):
    """Another process has an embedded store's file open read-write (Kuzu's file lock)."""
