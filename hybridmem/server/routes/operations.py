"""The operations routes: an operation's record, and the store-wide maintenance
(reset, reconcile, purge_expired, recover, compact, stats) only an unrestricted key
may run."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from hybridmem.errors import NotFoundError, ValidationError
from hybridmem.models import (
    CompactionReport,
    DeleteResult,
    OperationInfo,
    ReconcileReport,
    RecoveredOperation,
)
from hybridmem.server.dependencies import PrincipalDep, StoreDep
from hybridmem.server.erasures import Background, accepted_response
from hybridmem.server.guards import scope_of
from hybridmem.server.schemas import PurgeExpiredRequest, ReconcileRequest, ResetRequest

router = APIRouter()

#: How long GET /compactions/{id} waits for the end of a compaction this process runs.
REPORT_WAIT_SECONDS = 60.0


@router.get("/operations/{operation_id}", operation_id="operation", tags=["operations"])
def operation(
    request: Request, operation_id: str, store: StoreDep, principal: PrincipalDep
) -> OperationInfo:
    """The journal's record of an operation, in every worker (the record is the
    journal's). A delete_all this server answered 202 ``queued`` for is pending
    already; a queued compaction is 404 until it begins. The worker that ran an
    operation answers its error instead when it failed before it was journaled."""
    info = store.operation(operation_id)
    principal.check_visible(scope_of(info) if info else None, f"operation {operation_id}")
    if info is None:
        ran = request.app.state.started.get(operation_id)
        if ran is not None and ran.error is not None:
            principal.check_visible(ran.scope, f"operation {operation_id}")
            raise ran.error
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


@router.post(
    "/compact",
    operation_id="compact",
    tags=["operations"],
    response_model=CompactionReport,
    responses=accepted_response("compacting"),
)
def compact(request: Request, store: StoreDep, principal: PrincipalDep) -> Any:
    """Rewrite the store's embedded files with only live data and scrub erased scope
    ids from a local journal (``HybridStore.compact``). It first waits for the
    operations in flight; one that outlasts ``[server] erasure_wait_seconds`` answers
    202 and goes on, as delete_all does. A client that goes away never cuts it short;
    a dead process leaves it to ``recover()``. With no embedded file and a journal in
    Neo4j, nothing is rewritten: ``files`` is empty and every count 0."""
    principal.require_unrestricted("compact")
    compaction = request.app.state.started.run(
        Background("compact", lambda progress: store.compact(progress=progress))
    )
    return compaction.answer(store, request.app.state.erasure_wait_seconds)


@router.get("/compactions/{operation_id}", operation_id="compaction", tags=["operations"])
def compaction(
    request: Request, operation_id: str, store: StoreDep, principal: PrincipalDep
) -> CompactionReport:
    """The report of a finished compaction: whole from the worker that ran it; from
    the journal's record elsewhere (its counts; no file paths nor sizes, which only
    that worker saw — with ``serve --workers N`` no file is rewritten)."""
    principal.require_unrestricted("compaction")
    ran = request.app.state.started.get(operation_id)
    if ran is not None and ran.kind == "compact":
        # The journal says done before the compaction scrubs it and measures the files.
        ran.wait(REPORT_WAIT_SECONDS)
        if ran.error is not None:
            raise ran.error
        if isinstance(ran.result, CompactionReport):
            return ran.result
    info = store.operation(operation_id)
    if info is None or info.kind != "compact" or info.state != "done":
        raise NotFoundError(f"finished compaction {operation_id} not found")
    counts = {k: v for k, v in info.counts.items() if k in _REPORT_COUNTS}
    return CompactionReport.model_validate({"operation_id": operation_id, **counts})


_REPORT_COUNTS = ("memory_nodes", "vectors", "entities", "relations")


@router.get("/stats", operation_id="stats", tags=["operations"])
def stats(store: StoreDep, principal: PrincipalDep) -> dict[str, int]:
    principal.require_unrestricted("stats")
    return store.stats()
