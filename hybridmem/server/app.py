"""The REST server: HybridStore's operations over HTTP, and nothing more.

Endpoints are plain ``def`` functions: FastAPI runs them in its thread pool, so a
long delete_all never blocks the event loop (HybridStore is thread-safe). Every
error leaves as the one JSON shape of :mod:`hybridmem.wire`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import unquote, unquote_to_bytes

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Send
from starlette.types import Scope as AsgiScope

from hybridmem import __version__
from hybridmem.bulk import shift_item_index
from hybridmem.config import ApiKeyConfig, ServerConfig
from hybridmem.errors import (
    HybridMemError,
    NotFoundError,
    RequestTooLargeError,
    StoreError,
    ValidationError,
)
from hybridmem.models import (
    NO_OPERATION,
    AddManyResult,
    DeleteResult,
    Entity,
    HistoryEvent,
    Memory,
    Neighborhood,
    OperationInfo,
    ReconcileReport,
    RecoveredOperation,
    Relation,
    Scope,
    SearchHit,
)
from hybridmem.server.auth import KeyRing, Principal
from hybridmem.server.schemas import (
    SCOPE_ID_SCHEMA,
    AddManyRequest,
    AddRequest,
    Health,
    PurgeExpiredRequest,
    ReconcileRequest,
    ResetRequest,
    SearchRequest,
    UpdateRequest,
)
from hybridmem.store import ConfigSource, HybridStore
from hybridmem.validation import MAX_LIMIT, MAX_OFFSET
from hybridmem.wire import ERROR_STATUSES, ErrorBody, ErrorDetail, error_body

log = logging.getLogger("hybridmem.server")

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


def _single_valued(request: Request) -> None:
    """``?user_id=a&user_id=b`` would silently mean ``b``: for an erasure, refuse it.
    Bytes that are not UTF-8 would be decoded to U+FFFD, so two different ids
    could name one scope: refuse them too."""
    raw: bytes = request.scope["query_string"]
    for pair in raw.split(b"&"):
        raw_name, _, raw_value = pair.partition(b"=")
        try:
            unquote_to_bytes(raw_value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            label = unquote(raw_name.decode("latin-1"), errors="replace")
            raise ValidationError(f"invalid {label}: not UTF-8") from None
    for name in request.query_params:
        if len(request.query_params.getlist(name)) > 1:
            raise ValidationError(f"invalid {name}: given more than once")


def _declared_query(route: APIRoute) -> tuple[str, ...]:
    """The query parameters a route declares, its dependencies' included."""
    names: list[str] = []
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        names += [field.alias for field in dependant.query_params]
        pending += dependant.dependencies
    return tuple(dict.fromkeys(names))


def _known_parameters(request: Request) -> None:
    """A misspelt ``dryrun`` or ``agnt_id`` would be ignored, turning a preview into an
    erasure or an agent's erasure into its user's: every route refuses what it does not take."""
    route = request.scope.get("route")
    declared = _declared_query(route) if isinstance(route, APIRoute) else ()
    unknown = [name for name in request.query_params if name not in declared]
    if unknown:
        first = unknown[0] if unknown[0].isidentifier() else repr(unknown[0])
        takes = ", ".join(declared) if declared else "no query parameters"
        raise ValidationError(
            f"invalid {first}: unknown query parameter{'s' if len(unknown) > 1 else ''}"
            f" {', '.join(map(repr, unknown))} (this route takes {takes})"
        )


router = APIRouter(
    dependencies=[Depends(_single_valued), Depends(_known_parameters)],
    responses={
        code: {"model": ErrorBody, "description": description}
        for code, description in zip(
            ERROR_STATUSES,
            (
                "no scope filter given",
                "missing or unknown API key",
                "the API key's scope does not allow this",
                "no such record (or outside the API key's scope)",
                "the request body is larger than the server's max_body_bytes",
                "invalid input, or an unknown query parameter; `parameter` names it",
                "internal error (no details are sent)",
                "a store failed; `store` and `address` name it",
                "a store is unavailable; `store` and `address` name it",
            ),
            strict=True,
        )
    },
)


def _scope_of(record: Memory | HistoryEvent | OperationInfo) -> Scope:
    return Scope(user_id=record.user_id, agent_id=record.agent_id, run_id=record.run_id)


def _within(principal: Principal, query: ScopeQuery) -> Scope:
    """The caller's scope for a call by id: what the query names, with a bound key's
    parts added. The store checks it under the memory's claim, and answers a memory
    outside it exactly like an unknown id."""
    return principal.narrow(query, fill_empty=True)


# -- memories ---------------------------------------------------------------------------


@router.post("/memories", status_code=201, operation_id="add", tags=["memories"])
def add(body: AddRequest, store: StoreDep, principal: PrincipalDep) -> Memory:
    scope = principal.narrow(body, fill_empty=False)
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


@router.delete("/memories", operation_id="delete_all", tags=["memories"])
def delete_all(
    store: StoreDep,
    principal: PrincipalDep,
    query: ScopeDep,
    dry_run: bool = False,
) -> DeleteResult:
    """Erase everything the scope owns from both stores. No filter: 400, touches nothing."""
    scope = principal.narrow(query, fill_empty=False)
    return store.delete_all(
        user_id=scope.user_id, agent_id=scope.agent_id, run_id=scope.run_id, dry_run=dry_run
    )


@router.get("/memories/{memory_id}", operation_id="get", tags=["memories"])
def get(memory_id: str, store: StoreDep, principal: PrincipalDep, query: ScopeDep) -> Memory:
    within = _within(principal, query)
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
    within = _within(principal, query)
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
    within = _within(principal, query)
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
    within = _within(principal, query)
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


# -- the graph side ---------------------------------------------------------------------


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


# -- operations and maintenance ---------------------------------------------------------


@router.get("/operations/{operation_id}", operation_id="operation", tags=["operations"])
def operation(operation_id: str, store: StoreDep, principal: PrincipalDep) -> OperationInfo:
    info = store.operation(operation_id)
    principal.check_visible(_scope_of(info) if info else None, f"operation {operation_id}")
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


# -- probes -----------------------------------------------------------------------------

probes = APIRouter(tags=["probes"], dependencies=[Depends(_known_parameters)])


@probes.get("/healthz", operation_id="healthz")
def healthz(store: StoreDep) -> Health:
    """The process answers. Says nothing about the stores (see /readyz); reports the
    operations recovery set aside (read from the journal, not from a store)."""
    return Health(status="ok", set_aside_operations=len(store.journal.set_aside()))


@probes.get(
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


# -- the app ----------------------------------------------------------------------------


def _error_response(status: int, body: ErrorBody) -> JSONResponse:
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status)


class _BodyCap:
    """413 for a request body over ``[server] max_body_bytes``, before any of it is parsed
    (without it a 20 MB text was stored). The body is read up to the cap, then replayed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap: int = scope["app"].state.max_body_bytes
        declared = Headers(scope=scope).get("content-length", "")
        messages: list[Message] = []
        size = int(declared) if declared.isdigit() else 0
        while size <= cap:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += 0 if declared.isdigit() else len(message.get("body", b""))
            if not message.get("more_body", False):
                break
        if size > cap:
            status, body = error_body(
                RequestTooLargeError(
                    f"the request body is larger than {cap} bytes (the server's max_body_bytes)"
                )
            )
            await _error_response(status, body)(scope, receive, send)
            return
        replay = iter(messages)

        async def replayed() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, replayed, send)


def _install_error_handlers(app: FastAPI) -> None:
    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        status, body = error_body(exc)
        if status >= 500 and not isinstance(exc, StoreError):
            log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return _error_response(status, body)

    async def on_invalid_request(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        # ("query", "limit") → "limit"; ("body", "entities", 0, "name") → "entities[0].name"
        parameter = ""
        for part in first["loc"][1:]:
            parameter += f"[{part}]" if isinstance(part, int) else f".{part}"
        parameter = parameter.lstrip(".") or str(first["loc"][0] if first["loc"] else "body")
        detail = ErrorDetail(
            type="ValidationError",
            message=f"invalid {parameter}: {first['msg']}",
            parameter=parameter,
        )
        return _error_response(422, ErrorBody(error=detail))

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        kind = {401: "AuthenticationError", 403: "PermissionDeniedError", 404: "NotFoundError"}
        detail = ErrorDetail(type=kind.get(exc.status_code, "HybridMemError"), message=exc.detail)
        response = _error_response(exc.status_code, ErrorBody(error=detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names only the methods of the first route matching the path;
            # each method is a route of its own here, so list them all.
            methods = {
                method
                for route in request.app.routes
                if isinstance(route, APIRoute) and route.path_regex.match(request.url.path)
                for method in route.methods or ()
            }
            response.headers["Allow"] = ", ".join(sorted(methods))
        return response

    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    # HybridMemError and ValueError are answered by the exception middleware; the
    # Exception handler runs in Starlette's outermost middleware, which answers
    # with our 500 body and then re-raises so the server logs the traceback.
    for kind in (HybridMemError, ValueError, Exception):
        app.add_exception_handler(kind, on_error)


def create_app(
    store_or_config: HybridStore | ConfigSource = None,
    *,
    server: ServerConfig | None = None,
    api_keys: Sequence[ApiKeyConfig] | None = None,
) -> FastAPI:
    """The ASGI app over a HybridStore.

    Given a store, the app uses it and leaves closing it to the caller; given a
    config (object, dict, TOML path or None for the environment), the app opens
    the store on startup and closes it on shutdown. ``server`` defaults to the
    store config's ``[server]`` section; ``api_keys`` overrides its keys.
    """
    owned: HybridStore | None = None
    given = store_or_config if isinstance(store_or_config, HybridStore) else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal owned
        if given is None:
            owned = HybridStore.from_config(store_or_config)  # type: ignore[arg-type]
            _configure(app, owned)
        try:
            yield
        finally:
            if owned is not None:
                owned.close()

    def _configure(app: FastAPI, store: HybridStore) -> None:
        settings = server or store.config.server
        app.state.store = store
        app.state.keyring = KeyRing(api_keys if api_keys is not None else settings.api_keys)
        app.state.max_body_bytes = settings.max_body_bytes

    app = FastAPI(
        title="hybridmem",
        summary="Graph-plus-vector memory store for AI agents, with scoped erasure",
        version=__version__,
        lifespan=lifespan,
        # No 307 from /memories/ to /memories: a DELETE that follows it (307 keeps
        # the method) would turn "delete the memory with an empty id" into delete_all.
        redirect_slashes=False,
    )
    if given is not None:
        _configure(app, given)
    _install_error_handlers(app)
    app.add_middleware(_BodyCap)
    app.include_router(router)
    app.include_router(probes)
    return app
