"""Integration support: mem0 memories found by mem0 id over HTTP.

mem0 asks for a memory by its own id alone; in-process, the mem0 integration
finds its scope through the vector store's :class:`~hybridmem.mem0_lookup.Mem0Lookup`
capability. ``POST /mem0/lookup`` is that capability for a client of the server,
so a memory one process wrote is found from any other, and an erased one from
none. It reaches across scopes: only an unbound (admin) key may call it. Only
records carrying the mem0 marker are ever answered (the capability's guarantee).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hybridmem.errors import ConfigurationError
from hybridmem.mem0_lookup import MAX_LOOKUP_IDS, Mem0Location, Mem0Lookup, locations
from hybridmem.server.dependencies import PrincipalDep, StoreDep
from hybridmem.server.errors import error_response
from hybridmem.validation import MAX_ID_LENGTH
from hybridmem.wire import ErrorBody, ErrorDetail

router = APIRouter()

#: A vector store without the capability: the server cannot answer, whoever asks.
UNSUPPORTED_STATUS = 501

Mem0Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH)]


class Mem0LookupRequest(BaseModel):
    # Unknown fields are refused: a misspelt "user_id" must not pass as a filter.
    model_config = ConfigDict(extra="forbid", strict=True)

    ids: list[Mem0Id] = Field(min_length=1, max_length=MAX_LOOKUP_IDS)


def unsupported_message(vector: object) -> str:
    return (
        f"the server's vector store ({type(vector).__name__}) cannot find mem0 memories"
        " by id (no Mem0Lookup capability): use a vector provider that has it"
        " (sqlite, kuzu, weaviate)"
    )


@router.post(
    "/mem0/lookup",
    operation_id="mem0_lookup",
    tags=["integrations"],
    response_model=list[Mem0Location],
    responses={
        UNSUPPORTED_STATUS: {
            "model": ErrorBody,
            "description": "the store's vector provider cannot find mem0 memories by id",
        }
    },
)
def mem0_lookup(body: Mem0LookupRequest, store: StoreDep, principal: PrincipalDep) -> Any:
    """Where the live mem0 memories of ``ids`` are (integration support for
    ``langchain_hybridmem.HybridMemMem0VectorStore`` over a client): each found
    one's mem0 id, hybridmem id and scope, in no particular order; unknown, erased
    and expired ones are left out. Spans every scope: 403 for a bound key."""
    principal.require_unrestricted("mem0_lookup")
    vector = store.vector
    if not isinstance(vector, Mem0Lookup):
        detail = ErrorDetail(type=ConfigurationError.__name__, message=unsupported_message(vector))
        return error_response(UNSUPPORTED_STATUS, ErrorBody(error=detail))
    return locations(vector.mem0_records(list(dict.fromkeys(body.ids))), datetime.now(UTC))
