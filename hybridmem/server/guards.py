"""What every route checks before it runs, and how routes use the caller's key:
one value per query parameter, no unknown query parameter, and the caller's scope
for a call by id."""

from __future__ import annotations

from urllib.parse import unquote, unquote_to_bytes

from fastapi import Request
from fastapi.routing import APIRoute

from hybridmem.errors import ValidationError
from hybridmem.models import HistoryEvent, Memory, OperationInfo, Scope
from hybridmem.server.auth import Principal
from hybridmem.server.dependencies import ScopeQuery


def single_valued(request: Request) -> None:
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


def known_parameters(request: Request) -> None:
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


def scope_of(record: Memory | HistoryEvent | OperationInfo) -> Scope:
    return Scope(user_id=record.user_id, agent_id=record.agent_id, run_id=record.run_id)


def caller_scope(principal: Principal, query: ScopeQuery) -> Scope:
    """The caller's scope for a call by id: what the query names, with a bound key's
    parts added. The store checks it under the memory's claim, and answers a memory
    outside it exactly like an unknown id."""
    return principal.narrow(query, fill_empty=True)
