"""What a route is handed: the store, the caller (a Principal from the API key) and
the scope named in the query string."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from hybridmem.server.auth import KeyRing, Principal
from hybridmem.server.schemas import SCOPE_ID_SCHEMA
from hybridmem.store import HybridStore

_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="the API key")

ScopeId = Annotated[str | None, Query(json_schema_extra=SCOPE_ID_SCHEMA)]


@dataclass
class ScopeQuery:
    """``?user_id=&agent_id=&run_id=``: validated by the store's validators, not here."""

    user_id: ScopeId = None
    agent_id: ScopeId = None
    run_id: ScopeId = None


def _store(request: Request) -> HybridStore:
    store: HybridStore = request.app.state.store
    return store


def _principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    keyring: KeyRing = request.app.state.keyring
    return keyring.authenticate(bearer.credentials if bearer is not None else api_key)


StoreDep = Annotated[HybridStore, Depends(_store)]
ScopeDep = Annotated[ScopeQuery, Depends()]
PrincipalDep = Annotated[Principal, Depends(_principal)]
