"""add_many's items: checked one batch at a time, then built like add()'s memory.

An item is a mapping with the keys of ``add()``'s arguments (``text`` required)
plus ``created_at`` / ``updated_at`` for imports that keep a memory's times, and
``expires_at``. Unlike ``add()``, an item may carry an ``expires_at`` already
past: an import can hold a memory that expired in transit; it is stored
invisible, and ``purge_expired()`` erases it.
A batch is checked whole before any of it is written; an error names the item
by its position in the whole input (``items[1234]``).
"""

from __future__ import annotations

import itertools
import math
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from hybridmem.errors import ValidationError
from hybridmem.models import (
    NO_OPERATION,
    AddManyResult,
    AddProgress,
    AddProgressCallback,
    Scope,
)
from hybridmem.records import MemoryNode, NewMemory, VectorRecord, parse_memory_graph
from hybridmem.validation import (
    check_embedding,
    check_memory_id,
    check_metadata,
    check_text,
    scope_from,
)

#: An item's keys, in the order an export writes them.
ITEM_KEYS = (
    "memory_id",
    "text",
    "embedding",
    "user_id",
    "agent_id",
    "run_id",
    "metadata",
    "entities",
    "relations",
    "created_at",
    "updated_at",
    "expires_at",
)
ITEM_FIELDS = frozenset(ITEM_KEYS)
#: A batch is one journaled operation and one write per store: bounded so that a
#: batch's records fit comfortably in memory and in one store transaction.
MAX_BATCH_SIZE = 10_000

Embed = Callable[[Sequence[str]], list[list[float]]]

#: The furthest a memory's expiry may lie ahead: bounds ``ttl`` and ``expires_at``
#: (and keeps them inside every store's date range).
MAX_TTL = timedelta(days=36_525)
#: The earliest ``expires_at`` an item may carry (an import's, already past).
EARLIEST_EXPIRY = datetime(1970, 1, 1, tzinfo=UTC)


def new_memory(
    text: str,
    vector: list[float],
    scope: Scope,
    metadata: dict[str, Any],
    entities: Sequence[Mapping[str, str]],
    relations: Sequence[Mapping[str, str]],
    memory_id: str | None,
    times: tuple[datetime, datetime] | None = None,
    expires_at: datetime | None = None,
) -> NewMemory:
    """The records of one memory, with its ids decided: shared by add() and add_many()."""
    chosen = memory_id is not None
    memory_id = memory_id or str(uuid.uuid4())
    stamp = datetime.now(UTC)
    created, updated = times or (stamp, stamp)
    node = MemoryNode(memory_id, scope.user_id, scope.agent_id, scope.run_id, created, updated)
    graph = parse_memory_graph(node, entities, relations)
    record = replace(
        VectorRecord.new(memory_id, text, vector, scope, created, metadata),
        updated_at=updated,
        expires_at=expires_at,
    )
    return NewMemory(record, graph, caller_id=chosen)


class AddManyTally:
    """add_many's result, summed batch by batch (in-process) or request by request
    (the HTTP clients), reporting progress after each."""

    def __init__(self, items: object, progress: AddProgressCallback | None) -> None:
        self.result = AddManyResult()
        self._total = len(items) if isinstance(items, Sized) else None
        self._progress = progress

    def record(self, part: AddManyResult) -> None:
        total = self.result
        total.ids.extend(part.ids)
        total.added += part.added
        total.unchanged += part.unchanged
        total.batches += part.batches
        total.operation_ids.extend(part.operation_ids)
        total.elapsed_seconds += part.elapsed_seconds
        self._report("adding")

    def finish(self) -> AddManyResult:
        self._report("done")
        return self.result

    def _report(self, phase: Literal["adding", "done"]) -> None:
        if self._progress is None:
            return
        ops = self.result.operation_ids
        self._progress(
            AddProgress(
                operation_id=ops[-1] if ops else NO_OPERATION,
                phase=phase,
                done=len(self.result.ids),
                total=self._total,
            )
        )


def shift_item_index(message: str, offset: int) -> str:
    """``items[i]: …`` as ``items[i + offset]: …``: for a part of a longer input."""
    match = _ITEM_INDEX.match(message)
    if match is None or offset == 0:
        return message
    return f"items[{int(match.group(1)) + offset}]{message[match.end() :]}"


_ITEM_INDEX = re.compile(r"^items\[(\d+)\]")


def check_batch_size(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BATCH_SIZE:
        raise ValidationError(f"invalid batch_size: must be an integer from 1 to {MAX_BATCH_SIZE}")
    return value


def _datetime(parameter: str, value: object) -> datetime:
    """A datetime, or ISO 8601 text read as one."""
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError(f"invalid {parameter}: {text[:80]!r} is not ISO 8601") from None
    if not isinstance(value, datetime):
        raise ValidationError(f"invalid {parameter}: must be ISO 8601 text or a datetime")
    return value


def check_timestamp(parameter: str, value: object) -> datetime:
    """An aware datetime, or ISO 8601 text with an offset; kept in UTC."""
    value = _datetime(parameter, value)
    if value.tzinfo is None:
        raise ValidationError(f"invalid {parameter}: needs a UTC offset (e.g. +00:00)")
    return value.astimezone(UTC)


def check_expiry(
    expires_at: object = None,
    ttl: object = None,
    *,
    at: datetime,
    allow_past: bool = False,
) -> datetime | None:
    """The expiry of a memory written at ``at``: ``expires_at`` (a datetime or ISO
    8601 text; naive is UTC) or ``ttl`` (seconds > 0, or a timedelta), at most one,
    at most 100 years ahead. ``add()`` refuses an ``expires_at`` not after ``at``
    (already expired); add_many's items pass ``allow_past``. None: never expires."""
    if expires_at is not None and ttl is not None:
        raise ValidationError("give at most one of expires_at and ttl")
    if ttl is not None:
        if isinstance(ttl, timedelta):
            seconds = ttl.total_seconds()
        elif isinstance(ttl, bool) or not isinstance(ttl, (int, float)):
            raise ValidationError(
                f"invalid ttl: must be a number of seconds or a timedelta, not {type(ttl).__name__}"
            )
        else:
            seconds = float(ttl)
        if not math.isfinite(seconds) or not 0 < seconds <= MAX_TTL.total_seconds():
            raise ValidationError(
                f"invalid ttl: must be more than 0 and at most {MAX_TTL.total_seconds():.0f}"
                " seconds (100 years)"
            )
        return at + timedelta(seconds=seconds)
    if expires_at is None:
        return None
    given = _datetime("expires_at", expires_at)
    stamp = (given if given.tzinfo else given.replace(tzinfo=UTC)).astimezone(UTC)
    if stamp > at + MAX_TTL:
        raise ValidationError("invalid expires_at: more than 100 years ahead")
    if stamp < EARLIEST_EXPIRY:
        raise ValidationError("invalid expires_at: before 1970")
    if not allow_past and stamp <= at:
        raise ValidationError(
            f"invalid expires_at: {stamp.isoformat()} is not in the future (already expired)"
        )
    return stamp


def batches(
    items: Iterable[Mapping[str, Any]], size: int
) -> Iterator[list[tuple[int, Mapping[str, Any]]]]:
    """The items with their positions, ``size`` at a time, without reading ahead."""
    numbered = enumerate(items)
    while chunk := list(itertools.islice(numbered, size)):
        yield chunk


def prepare_batch(chunk: Sequence[tuple[int, Mapping[str, Any]]], embed: Embed) -> list[NewMemory]:
    """Check every item of ``chunk``, embed the texts that came without a vector
    (one embedder call for the batch), and build the memories."""
    checked = [check_item(index, item) for index, item in chunk]
    missing = [i for i, fields in enumerate(checked) if fields["embedding"] is None]
    if missing:
        vectors = embed([checked[i]["text"] for i in missing])
        for i, vector in zip(missing, vectors, strict=True):
            checked[i]["embedding"] = vector
    built = []
    seen: set[str] = set()
    for (index, _), fields in zip(chunk, checked, strict=True):
        memory = _built(index, fields)
        if memory.record.id in seen:
            raise ValidationError(f"items[{index}]: memory_id {memory.record.id} is repeated")
        seen.add(memory.record.id)
        built.append(memory)
    return built


def check_item(index: int, item: object) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise ValidationError(f"items[{index}]: must be a dict with at least 'text'")
    unknown = sorted(str(key) for key in item if key not in ITEM_FIELDS)
    if unknown:
        raise ValidationError(
            f"items[{index}]: unknown field {unknown[0]!r};"
            f" allowed: {', '.join(sorted(ITEM_FIELDS))}"
        )
    try:
        created = item.get("created_at")
        updated = item.get("updated_at")
        times = None
        if created is not None or updated is not None:
            first = (
                check_timestamp("created_at", created) if created is not None else datetime.now(UTC)
            )
            last = check_timestamp("updated_at", updated) if updated is not None else first
            if last < first:
                raise ValidationError("invalid updated_at: earlier than created_at")
            times = (first, last)
        embedding = item.get("embedding")
        memory_id = item.get("memory_id")
        expires_at = check_expiry(item.get("expires_at"), at=datetime.now(UTC), allow_past=True)
        return {
            "scope": scope_from(item.get("user_id"), item.get("agent_id"), item.get("run_id")),
            "text": check_text(item.get("text")),
            "metadata": check_metadata(item.get("metadata")),
            "embedding": check_embedding(embedding) if embedding is not None else None,
            "memory_id": check_memory_id(memory_id) if memory_id is not None else None,
            "entities": item.get("entities") or (),
            "relations": item.get("relations") or (),
            "times": times,
            "expires_at": expires_at,
        }
    except ValidationError as exc:
        raise ValidationError(f"items[{index}]: {exc}") from None


def _built(index: int, fields: dict[str, Any]) -> NewMemory:
    try:
        return new_memory(
            fields["text"],
            fields["embedding"],
            fields["scope"],
            fields["metadata"],
            fields["entities"],
            fields["relations"],
            fields["memory_id"],
            fields["times"],
            fields["expires_at"],
        )
    except ValidationError as exc:
        raise ValidationError(f"items[{index}]: {exc}") from None
