"""The graph routes: entities, neighbors and relations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hybridmem.errors import ValidationError
from hybridmem.models import Entity, Neighborhood, Relation
from hybridmem.server.dependencies import PrincipalDep, ScopeDep, ScopeId, StoreDep
from hybridmem.validation import MAX_LIMIT

router = APIRouter()


@router.get("/entities", operation_id="entities", tags=["graph"])
def entities(store: StoreDep, principal: PrincipalDep, user_id: ScopeId = None) -> list[Entity]:
    return store.entities(user_id=principal.entity_namespace(user_id))


@router.get("/neighbors", operation_id="neighbors", tags=["graph"])
def neighbors(
    store: StoreDep,
    principal: PrincipalDep,
    name: Annotated[str, Query(min_length=1, max_length=1024)],
    user_id: ScopeId = None,
    depth: Annotated[int, Query(ge=1, le=3)] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> Neighborhood:
    namespace = principal.entity_namespace(user_id)
    if namespace is None:
        raise ValidationError("neighbors needs user_id: entities live in a user's namespace")
    return store.neighbors(name, user_id=namespace, depth=depth, limit=limit)


@router.get("/relations", operation_id="relations", tags=["graph"])
def relations(
    store: StoreDep,
    principal: PrincipalDep,
    query: ScopeDep,
) -> list[Relation]:
    scope = principal.narrow(query, fill_empty=True)
    return store.relations(user_id=scope.user_id, agent_id=scope.agent_id, run_id=scope.run_id)
