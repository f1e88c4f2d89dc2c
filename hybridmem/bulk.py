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
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal

from hybridmem.errors import ValidationError
from hybridmem.ids import chosen_id, new_id
from hybridmem.models import (
    NO_OPERATION,
    AddManyResult,
    AddProgress,
    AddProgressCallback,
    Scope,
)
from hybridmem.records import MemoryNode, NewMemory, VectorRecord, parse_memory_graph
from hybridmem.validation import EARLIEST_INSTANT, check_item

# langchain-hybridmem imports check_batch_size from here; it lives in hybridmem.validation.
from hybridmem.validation import check_batch_size as check_batch_size

Embed = Callable[[Sequence[str]], list[list[float]]]

#: The earliest ``expires_at`` an item may carry (an import's, already past).
EARLIEST_EXPIRY = EARLIEST_INSTANT


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
    """The records of one memory, with its ids decided: shared by add() and add_many().

    A caller's ``memory_id`` is a name within the scope (``hybridmem.ids``): it is
    kept when it is already an id of this scope, else the scope's id of that name."""
    chosen = memory_id is not None
    memory_id = chosen_id(scope, memory_id) if memory_id is not None else new_id(scope)
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
