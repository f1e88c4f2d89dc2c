"""The REST server: HybridStore's operations over HTTP, and nothing more.

Endpoints are plain ``def`` functions: FastAPI runs them in its thread pool, so a
long delete_all never blocks the event loop (HybridStore is thread-safe). Every
error leaves as the one JSON shape of :mod:`hybridmem.wire`.

This module builds the app; the parts are modules of their own: ``dependencies``
(store, caller, query scope), ``guards`` (checks every route runs, the caller's
scope), ``middleware`` (the body cap), ``errors`` (handlers and documented error
responses) and ``routes/`` (memories, graph, operations, mem0 integration
support, probes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI

from hybridmem import __version__
from hybridmem.config import ApiKeyConfig, ServerConfig
from hybridmem.server.auth import KeyRing
from hybridmem.server.erasures import Started
from hybridmem.server.errors import ERROR_RESPONSES, install_error_handlers
from hybridmem.server.guards import known_parameters, single_valued
from hybridmem.server.middleware import BodyCap
from hybridmem.server.routes import graph, mem0, memories, operations, probes
from hybridmem.store import ConfigSource, HybridStore


def api_router() -> APIRouter:
    """Every API route, behind the guards every one runs, documenting the errors."""
    router = APIRouter(
        dependencies=[Depends(single_valued), Depends(known_parameters)],
        responses=ERROR_RESPONSES,
    )
    for group in (memories, graph, operations, mem0):
        router.include_router(group.router)
    return router


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
        app.state.erasure_wait_seconds = settings.erasure_wait_seconds
        app.state.started = Started()

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
    install_error_handlers(app)
    app.add_middleware(BodyCap)
    app.include_router(api_router())
    app.include_router(probes.router)
    return app
