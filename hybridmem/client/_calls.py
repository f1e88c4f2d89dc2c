"""Request building and response decoding, shared by the sync and the async client.

Each function takes the arguments of the HybridStore method of the same name,
validates what can be validated locally with the shared validators (so a bad
scope fails before any request, with the in-process message), and returns a
:class:`Call`: what to send and how to read the answer. The two clients only do
the I/O — the way httpx keeps its logic in ``BaseClient``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter

from hybridmem.bulk import AddManyTally, batches
from hybridmem.errors import StoreUnavailableError, ValidationError
from hybridmem.filters import parse_filters
from hybridmem.mem0_lookup import MAX_LOOKUP_IDS, Mem0Location
from hybridmem.models import (
    AddManyResult,
    AddProgressCallback,
    CompactionReport,
    DeleteProgress,
    DeleteResult,
    Entity,
    ErasureAccepted,
    HistoryEvent,
    Memory,
    Neighborhood,
    OperationInfo,
    ProgressCallback,
    ReconcileReport,
    RecoveredOperation,
    Relation,
    SearchHit,
)
from hybridmem.validation import (
    MAX_ID_LENGTH,
    NO_FILTER_MESSAGE,
    check_batch_size,
    check_depth,
    check_embedding,
    check_expiry,
    check_id,
    check_item,
    check_limit,
    check_memory_id,
    check_metadata,
    check_text,
    check_texts,
    scope_from,
)
from hybridmem.wire import error_from_response

T = TypeVar("T")

DEFAULT_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    result: TypeAdapter[T]
    params: dict[str, Any] | None = None
    body: Any = None
    #: 404 means "no such record": the in-process method returns None for it.
    none_if_missing: bool = False
    #: delete_all's callback: HTTP carries no progress, so it is called once, at the end.
    progress: ProgressCallback | None = None
    #: The status is the answer (ready()): the body is not read.
    body_ignored: bool = False
    #: A 202 means "goes on, follow it" (delete_all, compact): decode raises Accepted.
    followed: bool = False


def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


_MEMORY: TypeAdapter[Memory] = _adapter(Memory)
_OPTIONAL_MEMORY: TypeAdapter[Memory | None] = _adapter(Memory | None)
_MEMORIES: TypeAdapter[list[Memory]] = _adapter(list[Memory])
_HITS: TypeAdapter[list[SearchHit]] = _adapter(list[SearchHit])
_VECTORS: TypeAdapter[list[list[float]]] = _adapter(list[list[float]])
_DELETE: TypeAdapter[DeleteResult] = _adapter(DeleteResult)
_COUNTS: TypeAdapter[dict[str, int]] = _adapter(dict[str, int])
_RECONCILE: TypeAdapter[ReconcileReport] = _adapter(ReconcileReport)
_RECOVERED: TypeAdapter[list[RecoveredOperation]] = _adapter(list[RecoveredOperation])
_ENTITIES: TypeAdapter[list[Entity]] = _adapter(list[Entity])
_RELATIONS: TypeAdapter[list[Relation]] = _adapter(list[Relation])
_HISTORY: TypeAdapter[list[HistoryEvent]] = _adapter(list[HistoryEvent])
_OPERATION: TypeAdapter[OperationInfo | None] = _adapter(OperationInfo | None)
_NEIGHBORHOOD: TypeAdapter[Neighborhood] = _adapter(Neighborhood)
_NOTHING: TypeAdapter[None] = _adapter(None)
_ADD_MANY: TypeAdapter[AddManyResult] = _adapter(AddManyResult)
_REPORT: TypeAdapter[CompactionReport] = _adapter(CompactionReport)


def _memory_path(memory_id: str, suffix: str = "") -> str:
    return f"/memories/{check_memory_id(memory_id)}{suffix}"


def _items(value: Sequence[Mapping[str, str]] | None) -> Any:
    # Mappings become dicts for JSON; anything else goes as is and the server's
    # validators reject it with the in-process message.
    if isinstance(value, (list, tuple)):
        return [dict(item) if isinstance(item, Mapping) else item for item in value]
    return value


# -- one function per HybridStore method ---------------------------------------------------


def add(
    text: str,
    *,
    embedding: Sequence[float] | None = None,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    entities: Sequence[Mapping[str, str]] | None = None,
    relations: Sequence[Mapping[str, str]] | None = None,
    memory_id: str | None = None,
    expires_at: datetime | str | None = None,
    ttl: float | timedelta | None = None,
) -> Call[Memory]:
    scope = scope_from(user_id, agent_id, run_id)
    # Checked here for the in-process message; the server decides again by its clock.
    check_expiry(expires_at, ttl, at=datetime.now(UTC))
    body = {
        "text": check_text(text),
        # Without one, the server's configured embedder embeds the text.
        "embedding": check_embedding(embedding) if embedding is not None else None,
        **scope.parts(),
        "metadata": check_metadata(metadata) if metadata is not None else None,
        "entities": _items(entities),
        "relations": _items(relations),
        "memory_id": check_memory_id(memory_id) if memory_id is not None else None,
        "expires_at": expires_at.isoformat() if isinstance(expires_at, datetime) else expires_at,
        "ttl": ttl.total_seconds() if isinstance(ttl, timedelta) else ttl,
    }
    return Call("POST", "/memories", _MEMORY, body=body)


#: Items per request when add_many is given no batch_size (the server default's size).
ITEMS_PER_REQUEST = 1000


class AddMany:
    """add_many over HTTP: the input sent ``batch_size`` items per request (read one
    request at a time, so an iterator is never held whole), the answers summed."""

    def __init__(
        self,
        items: Iterable[Mapping[str, Any]],
        batch_size: int | None,
        progress: AddProgressCallback | None,
    ) -> None:
        self._size = check_batch_size(batch_size) if batch_size is not None else None
        self._items = items
        self.tally = AddManyTally(items, progress)

    def calls(self) -> Iterator[Call[AddManyResult]]:
        for chunk in batches(self._items, self._size or ITEMS_PER_REQUEST):
            for index, item in chunk:
                check_item(index, item)
            body = {
                "items": [_json_item(item) for _, item in chunk],
                "batch_size": self._size,
                "first_index": chunk[0][0],
            }
            yield Call("POST", "/memories/batch", _ADD_MANY, body=body)


def _json_item(item: Mapping[str, Any]) -> dict[str, Any]:
    out = {key: value for key, value in item.items() if value is not None}
    for key in ("entities", "relations"):
        if key in out:
            out[key] = _items(out[key])
    for key in ("created_at", "updated_at", "expires_at"):
        if isinstance(out.get(key), datetime):
            out[key] = out[key].isoformat()
    return out


def update(
    memory_id: str,
    *,
    text: str | None = None,
    embedding: Sequence[float] | None = None,
    metadata: Mapping[str, Any] | None = None,
    expires_at: datetime | str | None = None,
    ttl: float | timedelta | None = None,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
) -> Call[Memory]:
    check_expiry(expires_at, ttl, at=datetime.now(UTC))
    body = {
        "text": check_text(text) if text is not None else None,
        "embedding": check_embedding(embedding) if embedding is not None else None,
        "metadata": check_metadata(metadata) if metadata is not None else None,
        "expires_at": expires_at.isoformat() if isinstance(expires_at, datetime) else expires_at,
        "ttl": ttl.total_seconds() if isinstance(ttl, timedelta) else ttl,
    }
    params = _within(user_id, agent_id, run_id)
    return Call("PATCH", _memory_path(memory_id), _MEMORY, body=body, params=params)


def delete(
    memory_id: str,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
) -> Call[DeleteResult]:
    params = _within(user_id, agent_id, run_id)
    return Call("DELETE", _memory_path(memory_id), _DELETE, params=params)


def _within(user_id: object, agent_id: object, run_id: object) -> dict[str, Any]:
    """A by-id call's scope (the caller's), as query parameters."""
    return dict(scope_from(user_id, agent_id, run_id, required_message=None).parts())


def delete_all(
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> Call[DeleteResult]:
    scope = scope_from(user_id, agent_id, run_id, required_message=NO_FILTER_MESSAGE)
    params: dict[str, Any] = {**scope.parts(), "dry_run": "true" if dry_run else "false"}
    # A preview answers at once; an erasure may be answered 202 and followed.
    if dry_run:
        return Call("DELETE", "/memories", _DELETE, params=params)
    return Call("DELETE", "/memories", _DELETE, params=params, progress=progress, followed=True)


def purge_expired(*, progress: ProgressCallback | None = None) -> Call[DeleteResult]:
    return Call("POST", "/memories/purge-expired", _DELETE, progress=progress)


def reset() -> Call[dict[str, int]]:
    # Calling reset() is the explicit act, as in-process; the body says so to the server.
    return Call("POST", "/reset", _COUNTS, body={"confirm": True})


def reconcile(*, fix: bool = False) -> Call[ReconcileReport]:
    return Call("POST", "/reconcile", _RECONCILE, body={"fix": fix})


def recover() -> Call[list[RecoveredOperation]]:
    return Call("POST", "/recover", _RECOVERED)


def compact() -> Call[CompactionReport]:
    return Call("POST", "/compact", _REPORT, followed=True)


def get(
    memory_id: str,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
) -> Call[Memory | None]:
    params = _within(user_id, agent_id, run_id)
    return Call(
        "GET", _memory_path(memory_id), _OPTIONAL_MEMORY, params=params, none_if_missing=True
    )


def get_all(
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    filters: Mapping[str, Any] | None = None,
    entity: str | None = None,
) -> Call[list[Memory]]:
    params = scope_from(user_id, agent_id, run_id).parts()
    if limit is not None:
        params["limit"] = str(check_limit(limit))
    if offset:
        params["offset"] = str(offset)
    if filters is not None:
        parse_filters(filters)
        # A query string has no types: the filter travels as one JSON value.
        params["filters"] = json.dumps(dict(filters), default=_timestamp)
    if entity is not None:
        params["entity"] = entity
    return Call("GET", "/memories", _MEMORIES, params=dict(params))


def search(
    query: str | Sequence[float] | None = None,
    *,
    embedding: Sequence[float] | None = None,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
    limit: int = 10,
    filters: Mapping[str, Any] | None = None,
    graph: bool = False,
    entities: Sequence[str] | None = None,
) -> Call[list[SearchHit]]:
    if isinstance(query, str):
        query_value: Any = check_text(query, "query")
    else:
        query_value = check_embedding(query) if query is not None else None
    body = {
        "query": query_value,
        "embedding": check_embedding(embedding) if embedding is not None else None,
        **scope_from(user_id, agent_id, run_id).parts(),
        "limit": check_limit(limit),
        "filters": json.loads(json.dumps(dict(filters), default=_timestamp))
        if filters is not None and parse_filters(filters) is not None
        else None,
        "graph": graph,
        "entities": list(entities) if entities is not None else None,
    }
    return Call("POST", "/search", _HITS, body={k: v for k, v in body.items() if v is not None})


def embed(texts: Sequence[str]) -> Call[list[list[float]]]:
    return Call("POST", "/embed", _VECTORS, body={"texts": check_texts(texts)})


def neighbors(name: str, *, user_id: str, depth: int = 1, limit: int = 100) -> Call[Neighborhood]:
    # Checked here for the in-process message (the server's query check words it otherwise).
    check_depth(depth)
    params = {
        "name": name,
        "user_id": check_id("user_id", user_id),
        "depth": str(depth),
        "limit": str(check_limit(limit)),
    }
    return Call("GET", "/neighbors", _NEIGHBORHOOD, params=params)


def _timestamp(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def entities(*, user_id: str | None = None) -> Call[list[Entity]]:
    params = {"user_id": check_id("user_id", user_id)} if user_id is not None else None
    return Call("GET", "/entities", _ENTITIES, params=params)


def relations(
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
) -> Call[list[Relation]]:
    scope = scope_from(user_id, agent_id, run_id, required_message=None)
    return Call("GET", "/relations", _RELATIONS, params=dict(scope.parts()))


def history(
    memory_id: str,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
) -> Call[list[HistoryEvent]]:
    params = _within(user_id, agent_id, run_id)
    return Call("GET", _memory_path(memory_id, "/history"), _HISTORY, params=params)


def operation(operation_id: str) -> Call[OperationInfo | None]:
    path = f"/operations/{quote(operation_id, safe='')}"
    return Call("GET", path, _OPERATION, none_if_missing=True)


def ready() -> Call[None]:
    return Call("GET", "/readyz", _NOTHING, body_ignored=True)


def stats() -> Call[dict[str, int]]:
    return Call("GET", "/stats", _COUNTS)


_LOCATIONS: TypeAdapter[list[Mem0Location]] = _adapter(list[Mem0Location])


def mem0_lookup(mem0_ids: Sequence[str]) -> Iterator[Call[list[Mem0Location]]]:
    """Integration support (``POST /mem0/lookup``): the requests finding the ids,
    ``MAX_LOOKUP_IDS`` per request; none for no id."""
    if isinstance(mem0_ids, str):
        raise ValidationError("invalid ids: a sequence of mem0 ids, not one string")
    wanted = list(dict.fromkeys(mem0_ids))
    for position, mem0_id in enumerate(wanted):
        if not isinstance(mem0_id, str) or not 1 <= len(mem0_id) <= MAX_ID_LENGTH:
            raise ValidationError(
                f"invalid ids[{position}]: a mem0 id is a string of 1 to {MAX_ID_LENGTH}"
                f" characters, got {mem0_id!r:.80}"
            )
    for start in range(0, len(wanted), MAX_LOOKUP_IDS):
        body = {"ids": wanted[start : start + MAX_LOOKUP_IDS]}
        yield Call("POST", "/mem0/lookup", _LOCATIONS, body=body)


# -- shared by both I/O shells -------------------------------------------------------------


def request_kwargs(call: Call[Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"params": call.params}
    if call.body is not None:
        kwargs["json"] = call.body
    return kwargs


class Accepted(Exception):
    """The server answered 202: the operation goes on there (``accepted``); the
    client follows it (``hybridmem.client._following``)."""

    def __init__(self, accepted: ErasureAccepted) -> None:
        super().__init__(accepted.url)
        self.accepted = accepted


def decode(call: Call[T], response: httpx.Response) -> T:
    """The method's return value, or the exception the server reported."""
    if response.status_code == 202 and call.followed:
        raise Accepted(ErasureAccepted.model_validate_json(response.content))
    if response.status_code == 404 and call.none_if_missing:
        return call.result.validate_python(None)
    if response.is_error:
        try:
            payload: Any = response.json()
        except ValueError:
            payload = response.text
        raise error_from_response(response.status_code, payload, str(response.url))
    if call.body_ignored:
        return call.result.validate_python(None)
    value = call.result.validate_json(response.content)
    if call.progress is not None and isinstance(value, DeleteResult):
        call.progress(
            DeleteProgress(
                operation_id=value.operation_id,
                phase="done",
                done=value.memories,
                total=value.memories,
            )
        )
    return value


def unreachable(base_url: str, exc: httpx.TransportError) -> StoreUnavailableError:
    """The server itself down or timing out: to the client, a store that is unavailable."""
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return StoreUnavailableError("hybridmem server", base_url, detail)


def headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}
