"""Every error leaves as the one JSON shape of :mod:`hybridmem.wire`: the handlers,
and the error responses every route documents."""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hybridmem.errors import HybridMemError, StoreError
from hybridmem.wire import ERROR_STATUSES, ErrorBody, ErrorDetail, error_body

log = logging.getLogger("hybridmem.server")

#: The error statuses every API route documents (the probes document their own).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
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
}


def error_response(status: int, body: ErrorBody) -> JSONResponse:
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status)


def _allowed_methods(request: Request) -> list[str] | None:
    """The methods of the documented path the request's path is an instance of; where
    several match, the most specific (``/memories/batch``, not ``/memories/{memory_id}``),
    as the OpenAPI document says. None when no documented path matches."""
    path = request.scope["path"]
    matching = [
        (template.count("{"), methods)
        for template, methods in request.app.openapi()["paths"].items()
        if _pattern(template).fullmatch(path)
    ]
    if not matching:
        return None
    fewest = min(count for count, _ in matching)
    return sorted(
        method.upper()
        for count, methods in matching
        if count == fewest
        for method in methods
        if method.upper() in _METHODS
    )


_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"})


@functools.cache
def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)))


def install_error_handlers(app: FastAPI) -> None:
    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        status, body = error_body(exc)
        if status >= 500 and not isinstance(exc, StoreError):
            log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return error_response(status, body)

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
        return error_response(422, ErrorBody(error=detail))

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        kind = {401: "AuthenticationError", 403: "PermissionDeniedError", 404: "NotFoundError"}
        detail = ErrorDetail(type=kind.get(exc.status_code, "HybridMemError"), message=exc.detail)
        response = error_response(exc.status_code, ErrorBody(error=detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names only the methods of the first route matching the path;
            # each method is a route of its own here, so list them all.
            allowed = _allowed_methods(request)
            if allowed is not None:
                response.headers["Allow"] = ", ".join(allowed)
        return response

    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    # HybridMemError and ValueError are answered by the exception middleware; the
    # Exception handler runs in Starlette's outermost middleware, which answers
    # with our 500 body and then re-raises so the server logs the traceback.
    for kind in (HybridMemError, ValueError, Exception):
        app.add_exception_handler(kind, on_error)
