"""The operations routes: an operation's record, and the store-wide maintenance
(reset, reconcile, purge_expired, recover, stats) only an unrestricted key may run."""

from __future__ import annotations

from fastapi import APIRouter

from hybridmem.errors import NotFoundError, ValidationError
from hybridmem.models import DeleteResult, OperationInfo, ReconcileReport, RecoveredOperation
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


@router.get("/stats", operation_id="stats", tags=["operations"])
def stats(store: StoreDep, principal: PrincipalDep) -> dict[str, int]:
    principal.require_unrestricted("stats")
    return store.stats()
