"""The REST wire contract shared by the server and the client: errors as JSON and back.

One table decides which exception travels as which HTTP status, so an error
raised in the server arrives in the HTTP client as the same exception type,
with the same message and attributes, as an in-process caller would get.
It imports no web framework, nothing of the server package and nothing of the
core runtime (coordinator, journal): the HTTP client uses it too.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from hybridmem import errors


class ErrorDetail(BaseModel):
    #: The exception class name (``MissingScopeError``, ``StoreUnavailableError``, …).
    type: str
    message: str
    #: The offending parameter, for validation errors that name one.
    parameter: str | None = None
    #: The store and its address, for store errors.
    store: str | None = None
    address: str | None = None


class ErrorBody(BaseModel):
    """Every error response of the server has this shape."""

    error: ErrorDetail


#: Most specific first: the first class an exception is an instance of decides.
STATUS_OF: tuple[tuple[type[errors.HybridMemError], int], ...] = (
    (errors.MissingScopeError, 400),
    (errors.AuthenticationError, 401),
    (errors.PermissionDeniedError, 403),
    (errors.NotFoundError, 404),
    (errors.RequestTooLargeError, 413),
    (errors.ValidationError, 422),
    (errors.StoreUnavailableError, 503),
    (errors.StoreError, 502),
)

#: Every status an operation may answer with besides its success status.
ERROR_STATUSES = (400, 401, 403, 404, 413, 422, 500, 502, 503)

#: Every error class of hybridmem.errors by name: the client rebuilds what the server names.
_TYPES: dict[str, type[errors.HybridMemError]] = {
    name: cls
    for name, cls in vars(errors).items()
    if isinstance(cls, type) and issubclass(cls, errors.HybridMemError)
}

_BY_STATUS: dict[int, type[errors.HybridMemError]] = {
    400: errors.ValidationError,
    401: errors.AuthenticationError,
    403: errors.PermissionDeniedError,
    404: errors.NotFoundError,
    413: errors.RequestTooLargeError,
    422: errors.ValidationError,
}

# The validators all phrase their messages as "invalid <parameter>: <reason>".
_PARAMETER = re.compile(r"^invalid ([A-Za-z_][\w.\[\]]*): ")


def error_body(exc: BaseException) -> tuple[int, ErrorBody]:
    """The status and JSON body for an exception raised while serving a request."""
    if isinstance(exc, errors.HybridMemError):
        status = next((code for cls, code in STATUS_OF if isinstance(exc, cls)), 500)
        detail = ErrorDetail(type=type(exc).__name__, message=str(exc))
    elif isinstance(exc, ValueError):
        # Plain ValueErrors are invalid input in-process too (ValidationError subclasses it).
        status, detail = 422, ErrorDetail(type="ValidationError", message=str(exc))
    else:
        # Never the exception's text: it may carry internals; the server logs it.
        status, detail = 500, ErrorDetail(type="HybridMemError", message="internal server error")
    if isinstance(exc, errors.InvalidScopeError):
        detail.parameter = exc.parameter
    elif isinstance(exc, ValueError) and (match := _PARAMETER.match(detail.message)):
        detail.parameter = match.group(1)
    if isinstance(exc, errors.StoreError):
        detail.store, detail.address = exc.store, exc.address
    return status, ErrorBody(error=detail)


def error_from_response(status: int, payload: Any, fallback_address: str) -> errors.HybridMemError:
    """The exception a server error response stands for, rebuilt with the same message.

    A body that is not ours (a proxy's error page) still maps by status.
    """
    try:
        detail = ErrorBody.model_validate(payload).error
    except ValueError:
        text = str(payload)[:500] if payload else f"HTTP {status}"
        if status in (502, 503, 504):
            return errors.StoreUnavailableError("hybridmem server", fallback_address, text)
        return _BY_STATUS.get(status, errors.HybridMemError)(text)
    cls = _TYPES.get(detail.type) or _BY_STATUS.get(status, errors.HybridMemError)
    # Built without __init__: the subclasses' constructors format their own message,
    # and the server's message must arrive unchanged.
    exc = cls.__new__(cls)
    Exception.__init__(exc, detail.message)
    if isinstance(exc, errors.InvalidScopeError):
        exc.parameter = detail.parameter or ""
        exc.reason = detail.message.removeprefix(f"invalid {exc.parameter}: ")
    if isinstance(exc, errors.StoreError):
        exc.store = detail.store or "unknown store"
        exc.address = detail.address or fallback_address
        exc.detail = detail.message.removeprefix(f"{exc.store} at {exc.address}: ")
    return exc
