"""The operations routes: an operation's record, and the store-wide maintenance
(reset, reconcile, purge_expired, recover, compact, stats) only an unrestricted key
may run."""

from __future__ import annotations

from fastapi import APIRouter

from hybridmem.errors import NotFoundError, ValidationError
from hybridmem.models import (
    CompactionReport,
    DeleteResult,
    OperationInfo,
    ReconcileReport,
    RecoveredOperation,
)
from hybridmem.server.dependencies import PrincipalDep, StoreDep
from hybridmem.server.guards import scope_of
from hybridmem.server.schemas import PurgeExpiredRequest, ReconcileRequest, ResetRequest

router = APIRouter()


@router.get("/operations/{operation_id}", operation_id="operation", tags=["operations"])
def operation(operation_id: str, store: StoreDep, principal: PrincipalDep) -> OperationInfo:
    info = store.operation(operation_id)
    principal.check_visible(scope_of(info) if info else None, f"operation {operation_id}")
    if info is None:
        raise NotFoundError(f"operation {operation_id} not found")
    return info


@router.post("/reset", operation_id="reset", tags=["operations"])
def reset(body: ResetRequest, store: StoreDep, principal: PrincipalDep) -> dict[str, int]:
    """Wipe both stores. The body must say ``{"confirm": true}``."""
    principal.require_unrestricted("reset")
    if not body.confirm:
        raise ValidationError(
            'invalid confirm: reset wipes both stores; send {"confirm": true} to do it'
        )
    return store.reset()


@router.post("/reconcile", operation_id="reconcile", tags=["operations"])
def reconcile(
    store: StoreDep, principal: PrincipalDep, body: ReconcileRequest | None = None
) -> ReconcileReport:
    principal.require_unrestricted("reconcile")
    return store.reconcile(fix=body.fix if body is not None else False)


@router.post("/memories/purge-expired", operation_id="purge_expired", tags=["operations"])
def purge_expired(
    store: StoreDep, principal: PrincipalDep, body: PurgeExpiredRequest | None = None
) -> DeleteResult:
    """Erase every memory whose expiry has passed, in every scope, from both stores
    (and their texts from history): a journaled erasure like delete_all. Expired
    memories are invisible to reads already; this frees what they hold."""
    principal.require_unrestricted("purge_expired")
    del body  # only refused when it names anything
    return store.purge_expired()


@router.post("/recover", operation_id="recover", tags=["operations"])
def recover(store: StoreDep, principal: PrincipalDep) -> list[RecoveredOperation]:
    principal.require_unrestricted("recover")
    return store.recover()


@router.post("/compact", operation_id="compact", tags=["operations"])
def compact(store: StoreDep, principal: PrincipalDep) -> CompactionReport:
    """Rewrite the store's embedded files with only live data and scrub erased scope
    ids from a local journal (``HybridStore.compact``). Answers when it is done: it
    waits for the operations in flight first, and is not cut short by a client that
    goes away (a sync route's thread runs to the end; a dead process leaves it to
    ``recover()``). With no embedded file and a journal in Neo4j, nothing is
    rewritten: ``files`` is empty and every count 0."""
    principal.require_unrestricted("compact")
    return store.compact()


@router.get("/stats", operation_id="stats", tags=["operations"])
def stats(store: StoreDep, principal: PrincipalDep) -> dict[str, int]:
    principal.require_unrestricted("stats")
    return store.stats()
