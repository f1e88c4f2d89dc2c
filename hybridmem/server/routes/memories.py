"""The memories routes: add, add_many, get_all, delete_all, get, update, delete,
history, search and embed."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from hybridmem.bulk import shift_item_index
from hybridmem.errors import NotFoundError, ValidationError
from hybridmem.models import (
    NO_OPERATION,
    AddManyResult,
    DeleteResult,
    HistoryEvent,
    Memory,
    ProgressCallback,
    SearchHit,
)
from hybridmem.server.dependencies import PrincipalDep, ScopeDep, StoreDep
from hybridmem.server.erasures import Background, accepted_response
from hybridmem.server.guards import caller_scope
from hybridmem.server.schemas import (
    AddManyRequest,
    AddRequest,
    EmbedRequest,
    SearchRequest,
    UpdateRequest,
)
from hybridmem.validation import MAX_LIMIT, MAX_OFFSET, scope_from

router = APIRouter()


@router.post("/memories", status_code=201, operation_id="add", tags=["memories"])
def add(body: AddRequest, store: StoreDep, principal: PrincipalDep) -> Memory:
    scope = principal.narrow(body, fill_empty=False)
    principal.check_metadata(body.metadata)
    return store.add(
        body.text,
        embedding=body.embedding,
        user_id=scope.user_id,
        agent_id=scope.agent_id,
        run_id=scope.run_id,
        metadata=body.metadata,
        entities=[e.model_dump() for e in body.entities] if body.entities is not None else None,
        relations=[r.model_dump() for r in body.relations] if body.relations is not None else None,
        memory_id=body.memory_id,
        expires_at=body.expires_at,
        ttl=body.ttl,
    )


@router.post("/memories/batch", operation_id="add_many", tags=["memories"])
def add_many(body: AddManyRequest, store: StoreDep, principal: PrincipalDep) -> AddManyResult:
    """Many memories, one journaled operation per ``batch_size`` items, all or
    nothing per batch (see ``HybridStore.add_many``). Each item's scope is narrowed
    by the API key like add's."""
    items = []
    for item in body.items:
        scope = principal.narrow(item, fill_empty=False)
        principal.check_metadata(item.metadata)
        fields = item.model_dump(exclude_none=True, exclude={"user_id", "agent_id", "run_id"})
        items.append({**fields, **scope.parts()})
    try:
        return store.add_many(items, batch_size=body.batch_size)
    except ValidationError as exc:
        raise ValidationError(shift_item_index(str(exc), body.first_index)) from None


@router.get("/memories", operation_id="get_all", tags=["memories"])
def get_all(
    store: StoreDep,
    principal: PrincipalDep,
    query: ScopeDep,
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT)] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    filters: Annotated[str | None, Query(description="hybridmem.filters as JSON")] = None,
    entity: Annotated[str | None, Query(description="memories mentioning this entity")] = None,
) -> list[Memory]:
    scope = principal.narrow(query, fill_empty=False)
    return store.get_all(
        user_id=scope.user_id,
        agent_id=scope.agent_id,
        run_id=scope.run_id,
        limit=limit,
        offset=offset,
        filters=_json_filters(filters),
        entity=entity,
    )


def _json_filters(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise ValidationError("invalid filters: not a JSON object") from None


@router.delete(
    "/memories",
    operation_id="delete_all",
    tags=["memories"],
    response_model=DeleteResult,
    responses=accepted_response("erasing"),
)
def delete_all(
    request: Request,
    store: StoreDep,
    principal: PrincipalDep,
    query: ScopeDep,
    dry_run: bool = False,
) -> Any:
    """Erase everything the scope owns from both stores. No filter: 400, touches nothing.
    An erasure that outlasts ``[server] erasure_wait_seconds``, running or still
    waiting for another's claim, answers 202 and goes on."""
    scope = principal.narrow(query, fill_empty=False)
    if dry_run or scope.is_empty():
        # A preview answers at once; no filter is refused by the store (400).
        return store.delete_all(
            user_id=scope.user_id, agent_id=scope.agent_id, run_id=scope.run_id, dry_run=dry_run
        )
    scope_from(scope.user_id, scope.agent_id, scope.run_id)  # a bad id: 422 before a thread

    def erase(progress: ProgressCallback) -> DeleteResult:
        return store.delete_all(
            user_id=scope.user_id, agent_id=scope.agent_id, run_id=scope.run_id, progress=progress
        )

    erasure = request.app.state.started.run(Background("delete_all", erase, scope))
    return erasure.answer(store, request.app.state.erasure_wait_seconds)


@router.get("/memories/{memory_id}", operation_id="get", tags=["memories"])
def get(memory_id: str, store: StoreDep, principal: PrincipalDep, query: ScopeDep) -> Memory:
    within = caller_scope(principal, query)
    memory = store.get(
        memory_id, user_id=within.user_id, agent_id=within.agent_id, run_id=within.run_id
    )
    if memory is None:
        raise NotFoundError(f"memory {memory_id} not found")
    return memory


@router.patch("/memories/{memory_id}", operation_id="update", tags=["memories"])
def update(
    memory_id: str, body: UpdateRequest, store: StoreDep, principal: PrincipalDep, query: ScopeDep
) -> Memory:
    within = caller_scope(principal, query)
    principal.check_metadata(body.metadata)
    return store.update(
        memory_id,
        text=body.text,
        embedding=body.embedding,
        metadata=body.metadata,
        expires_at=body.expires_at,
        ttl=body.ttl,
        user_id=within.user_id,
        agent_id=within.agent_id,
        run_id=within.run_id,
    )


@router.delete("/memories/{memory_id}", operation_id="delete", tags=["memories"])
def delete(
    memory_id: str, store: StoreDep, principal: PrincipalDep, query: ScopeDep
) -> DeleteResult:
    within = caller_scope(principal, query)
    result = store.delete(
        memory_id, user_id=within.user_id, agent_id=within.agent_id, run_id=within.run_id
    )
    if not within.is_empty() and result.operation_id == NO_OPERATION:
        # A scoped caller gets one answer for another scope's id and an unknown one.
        raise NotFoundError(f"memory {memory_id} not found")
    return result


@router.get("/memories/{memory_id}/history", operation_id="history", tags=["memories"])
def history(
    memory_id: str, store: StoreDep, principal: PrincipalDep, query: ScopeDep
) -> list[HistoryEvent]:
    within = caller_scope(principal, query)
    events = store.history(
        memory_id, user_id=within.user_id, agent_id=within.agent_id, run_id=within.run_id
    )
    if not events and not within.is_empty():
        # A scoped caller gets the same 404 for an id that never existed as for
        # another scope's: an empty 200 would tell the two apart.
        raise NotFoundError(f"memory {memory_id} not found")
    return events


@router.post("/search", operation_id="search", tags=["memories"])
def search(body: SearchRequest, store: StoreDep, principal: PrincipalDep) -> list[SearchHit]:
    scope = principal.narrow(body, fill_empty=False)
    return store.search(
        body.query,
        embedding=body.embedding,
        user_id=scope.user_id,
        agent_id=scope.agent_id,
        run_id=scope.run_id,
        limit=body.limit,
        filters=body.filters,
        graph=body.graph,
        entities=body.entities,
    )


@router.post("/embed", operation_id="embed", tags=["memories"])
def embed(body: EmbedRequest, store: StoreDep, principal: PrincipalDep) -> list[list[float]]:
    # Any caller may embed: it reads nothing stored.
    return store.embed(body.texts)
