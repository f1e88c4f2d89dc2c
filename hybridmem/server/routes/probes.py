"""The probes: /healthz (the process answers) and /readyz (both stores answer).
They take no API key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from hybridmem.errors import StoreError
from hybridmem.server.auth import KeyRing
from hybridmem.server.dependencies import StoreDep
from hybridmem.server.guards import known_parameters
from hybridmem.server.schemas import Health
from hybridmem.wire import ErrorBody, error_body

router = APIRouter(tags=["probes"], dependencies=[Depends(known_parameters)])


@router.get("/healthz", operation_id="healthz")
def healthz(store: StoreDep) -> Health:
    """The process answers. Says nothing about the stores (see /readyz); reports the
    operations recovery set aside (read from the journal, not from a store)."""
    return Health(status="ok", set_aside_operations=len(store.journal.set_aside()))


@router.get(
    "/readyz",
    operation_id="readyz",
    responses={503: {"model": ErrorBody, "description": "a store is unavailable"}},
)
def readyz(request: Request, store: StoreDep) -> Any:
    """Both stores answer a lookup. Open to probes without a key; then no address is shown."""
    try:
        store.ready()
    except StoreError as exc:
        status, body = error_body(exc)
        keyring: KeyRing = request.app.state.keyring
        if keyring.enabled:
            body.error.address = None
            body.error.message = f"{exc.store} is unavailable"
        return JSONResponse(body.model_dump(exclude_none=True), status_code=status)
    return Health(status="ready")
