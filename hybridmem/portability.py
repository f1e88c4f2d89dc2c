"""Export and read back a store's memories as a streaming, versioned JSONL file.

One JSON object a line: a ``header``, a ``memory`` line per memory (text,
embedding, scope, metadata, timestamps, and the entities and relations exactly
as ``HybridStore.add`` takes them), the ``history`` events whose text is still
held, and an ``end`` line with the counts, so that a truncated file is an error
rather than a smaller store.

Export reads the store a batch at a time through the ports; memory stays
bounded by the batch size whatever the store holds. History lines come after
every memory line, so they wait in a spooled temporary file meanwhile.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TextIO

from hybridmem.errors import StoreError, ValidationError
from hybridmem.models import AddManyResult, AddProgressCallback, HistoryEvent, Scope
from hybridmem.records import (
    EntityRecord,
    MemoryNode,
    RelationWithNames,
    VectorRecord,
    normalise_name,
    parse_memory_graph,
    relation_id,
)
from hybridmem.store import HybridStore
from hybridmem.validation import ITEM_KEYS, check_batch_size, check_item

__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "ITEM_KEYS",
    "MemoryBatch",
    "check_export",
    "import_export",
    "iter_export",
    "memory_batches",
    "read_export",
    "write_export",
]

EXPORT_FORMAT = "hybridmem-export"
#: 2: memory lines carry ``expires_at`` (a version-1 reader would drop it and
#: import an expiring memory as permanent, so it must refuse the file). Version-1
#: files are still read: their memories never expire.
EXPORT_VERSION = 2


#: History lines stay in memory up to this size, then spill to a temporary file.
_SPOOL_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class MemoryBatch:
    """One batch of memories with their graph, as read from the ports."""

    records: list[VectorRecord]
    entities: dict[str, list[EntityRecord]]
    relations: dict[str, list[RelationWithNames]]

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.records]


# -- export ---------------------------------------------------------------------------


def iter_export(
    store: HybridStore,
    scope: Scope,
    *,
    batch_size: int = 500,
    include_history: bool = True,
) -> Iterator[dict[str, Any]]:
    """The export's lines as JSON-ready dicts: header, memories, history, end."""
    check_batch_size(batch_size)
    # An expired memory is invisible to every read, export included (its history too).
    batches = memory_batches(store, scope, batch_size, alive_at=datetime.now(UTC))
    # The header names the dimension; without a recorded embedder only the
    # first memory tells it, so the first batch is read before the header.
    first = next(batches, None)
    yield _header(store, scope, first)
    memories = history = 0
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES, mode="w+", encoding="utf-8") as spool:
        for batch in _chain(first, batches):
            for record in batch.records:
                yield memory_line(
                    record, batch.entities.get(record.id, []), batch.relations.get(record.id, [])
                )
                memories += 1
                if include_history:
                    history += _spool_history(store, record.id, spool)
        spool.seek(0)
        for line in spool:
            yield json.loads(line)
    yield {"type": "end", "memories": memories, "history": history}


def write_export(
    store: HybridStore,
    out: TextIO,
    scope: Scope,
    *,
    batch_size: int = 500,
    include_history: bool = True,
) -> dict[str, int]:
    """Write the export to ``out``, one compact JSON object a line; the end line's counts."""
    counts = {"memories": 0, "history": 0}
    for line in iter_export(store, scope, batch_size=batch_size, include_history=include_history):
        out.write(dumps(line))
        out.write("\n")
        if line["type"] == "end":
            counts = {"memories": line["memories"], "history": line["history"]}
    return counts


def dumps(line: dict[str, Any]) -> str:
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def _chain(first: MemoryBatch | None, rest: Iterator[MemoryBatch]) -> Iterator[MemoryBatch]:
    if first is None:
        return
    yield first
    yield from rest


def memory_batches(
    store: HybridStore, scope: Scope, batch_size: int, *, alive_at: datetime | None = None
) -> Iterator[MemoryBatch]:
    """The memories in ``scope``, a batch of the store's ids at a time (batches with
    none of the scope skipped), with their graph. The ports have no scope cursor,
    so a scope is found by reading every id. With ``alive_at``, the memories
    expired by then are left out (export); without, they are kept (migrate copies
    them, to stay invisible and be purged on the other side)."""
    for ids in store.vector.iter_ids(batch_size):
        order = {memory_id: index for index, memory_id in enumerate(ids)}
        records = [
            r
            for r in store.vector.get(ids)
            if scope.matches(r.scope) and (alive_at is None or not r.expired(alive_at))
        ]
        if not records:
            continue
        records.sort(key=lambda r: order.get(r.id, len(order)))
        kept = [r.id for r in records]
        yield MemoryBatch(
            records, store.graph.memory_entities(kept), store.graph.memory_relations(kept)
        )


def _header(store: HybridStore, scope: Scope, first: MemoryBatch | None) -> dict[str, Any]:
    recorded = _recorded_embedder(store)
    if recorded is not None:
        dimension: int | None = recorded[1]
    elif first is not None:
        dimension = len(first.records[0].embedding)
    else:
        dimension = None
    return {
        "type": "header",
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": datetime.now(UTC).isoformat(),
        "scope": scope.parts(),
        "embedder": (None if recorded is None else {"name": recorded[0], "dimension": recorded[1]}),
        "dimension": dimension,
    }


def _recorded_embedder(store: HybridStore) -> tuple[str, int] | None:
    """The embedder the store recorded (None when vectors came
    only from callers)."""
    return store.meta.embedder()


def _spool_history(store: HybridStore, memory_id: str, spool: IO[str]) -> int:
    """Write the memory's history events that still hold their text; how many."""
    written = 0
    for event in store.journal.history(memory_id):
        if event.erased_by is None:
            spool.write(dumps(history_line(event)))
            spool.write("\n")
            written += 1
    return written


def history_line(event: HistoryEvent) -> dict[str, Any]:
    return {"type": "history", **event.model_dump(mode="json")}


def memory_line(
    record: VectorRecord,
    entities: Sequence[EntityRecord],
    relations: Sequence[RelationWithNames],
) -> dict[str, Any]:
    """A memory as an export line; its entities and relations re-add to the same ids."""
    entity_list, relation_list = add_arguments(record, entities, relations)
    return {
        "type": "memory",
        "id": record.id,
        "text": record.text,
        "embedding": list(record.embedding),
        "user_id": record.user_id,
        "agent_id": record.agent_id,
        "run_id": record.run_id,
        "metadata": record.metadata,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "expires_at": record.expires_at.isoformat() if record.expires_at else None,
        "entities": entity_list,
        "relations": relation_list,
    }


def add_arguments(
    record: VectorRecord,
    entities: Sequence[EntityRecord],
    relations: Sequence[RelationWithNames],
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The ``entities`` and ``relations`` arguments of ``add`` that give this graph.

    Relations go back to the order they were added in (a relation's id is
    ``relation_id(memory_id, index)``). ``add`` resolves a relation's endpoint
    to the first listed entity of that name, so the entities relations point at
    are listed before others of the same name. The result is checked by
    computing the ids ``add`` would give; a graph ``add`` cannot reproduce
    raises StoreError rather than exporting something else."""
    by_index = {relation_id(record.id, i): i for i in range(len(relations))}
    ordered = sorted(relations, key=lambda r: by_index.get(r.record.id, len(relations)))
    ends = {r.record.source_id for r in ordered} | {r.record.target_id for r in ordered}
    listed = sorted(entities, key=lambda e: (e.id not in ends, normalise_name(e.name)))
    entity_list = [{"name": e.name, "type": e.type} for e in listed]
    relation_list = [
        {"source": source, "target": target, "type": r.type} for r, source, target in ordered
    ]
    _check_reproducible(record, entities, ordered, entity_list, relation_list)
    return entity_list, relation_list


def _check_reproducible(
    record: VectorRecord,
    entities: Sequence[EntityRecord],
    relations: Sequence[RelationWithNames],
    entity_list: list[dict[str, str]],
    relation_list: list[dict[str, str]],
) -> None:
    node = MemoryNode.new(record.id, record.scope, record.created_at)
    try:
        graph = parse_memory_graph(node, entity_list, relation_list)
    except ValidationError as exc:
        raise _irreproducible(record.id, str(exc)) from None
    if {e.id for e in graph.entities} != {e.id for e in entities}:
        raise _irreproducible(record.id, "its entities do not re-add to the same ids")
    stored = [(r.record.id, r.record.source_id, r.record.target_id) for r in relations]
    again = [(r.id, r.source_id, r.target_id) for r in graph.relations]
    if stored != again:
        raise _irreproducible(record.id, "its relations do not re-add to the same ids")


def _irreproducible(memory_id: str, why: str) -> StoreError:
    return StoreError(
        "graph store",
        "export",
        f"memory {memory_id} cannot be exported faithfully: {why}"
        " (its graph was not written by HybridStore.add; run reconcile or inspect it)",
    )


# -- reading an export ----------------------------------------------------------------


def import_export(
    store: HybridStore,
    path: Path,
    *,
    batch_size: int | None = None,
    progress: AddProgressCallback | None = None,
) -> AddManyResult:
    """Add the memories of the export file at ``path``: the whole file is checked
    first (``check_export``), then read again and written. A file refused for any
    line, a truncated one included, leaves the store as it was; memory stays
    bounded by a batch whatever the file's size."""
    with path.open(encoding="utf-8") as lines:
        check_export(lines)
    with path.open(encoding="utf-8") as lines:
        return store.add_many(read_export(lines), batch_size=batch_size, progress=progress)


def check_export(lines: Iterable[str]) -> int:
    """One pass over a whole export that writes nothing and keeps no memory: raises
    the ValidationError ``read_export`` would, wherever in the file; the number of
    memories."""
    return sum(1 for _ in read_export(lines))


def read_export(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Validate an export as it streams and yield an ``add_many`` item per memory.

    Raises ValidationError naming the line: a file of another format or a newer
    version, a malformed line or field, an unknown line type, embeddings of another
    dimension than the header's (or the first memory's), an end line whose counts
    differ from the lines read, and a missing end line ("truncated export"). A
    consumer sees every memory before the last two are detected: to write nothing
    from a refused file, pass over it with ``check_export`` first (``import_export``
    and ``hybridmem import`` do)."""
    reader = _Reader()
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        item = reader.line(number, raw)
        if item is not None:
            yield item
    reader.finish()


class _Reader:
    """The state of one pass over an export: what was seen so far."""

    def __init__(self) -> None:
        self.header_seen = False
        self.ended_at: int | None = None
        self.memories = 0
        self.history = 0
        self.last_line = 0
        #: Every memory's embedding has this length: the header's, else the first's.
        self.dimension: int | None = None

    def line(self, number: int, raw: str) -> dict[str, Any] | None:
        self.last_line = number
        if self.ended_at is not None:
            raise ValidationError(f"line {number}: data after the end line (line {self.ended_at})")
        value = _parse(number, raw)
        kind = value.get("type")
        if not self.header_seen:
            if kind != "header":
                raise ValidationError(
                    f"line {number}: not a {EXPORT_FORMAT} file: the first line must be"
                    f" its header, found type {kind!r}"
                )
            _check_header(number, value)
            self.header_seen = True
            dimension = value.get("dimension")
            if isinstance(dimension, int) and not isinstance(dimension, bool):
                self.dimension = dimension
            return None
        if kind == "memory":
            self.memories += 1
            item = memory_item(number, value)
            self._check_dimension(number, len(item["embedding"]))
            return item
        if kind == "history":
            self.history += 1
            return None
        if kind == "end":
            self._check_end(number, value)
            self.ended_at = number
            return None
        if kind == "header":
            raise ValidationError(f"line {number}: a second header (the first is line 1)")
        raise ValidationError(f"line {number}: unknown line type {kind!r}")

    def _check_dimension(self, number: int, found: int) -> None:
        """One file, one vector space: a memory of another dimension would be refused
        by the store only when its batch is written, after earlier batches were."""
        if self.dimension is None:
            self.dimension = found
        elif found != self.dimension:
            raise ValidationError(
                f"line {number}: the embedding has {found} dimensions; the export's"
                f" memories have {self.dimension}"
            )

    def _check_end(self, number: int, value: dict[str, Any]) -> None:
        for field, seen in (("memories", self.memories), ("history", self.history)):
            given = value.get(field)
            if isinstance(given, bool) or not isinstance(given, int):
                raise ValidationError(f"line {number}: end.{field} must be an integer")
            if given != seen:
                raise ValidationError(
                    f"line {number}: the end line counts {given} {field} lines but {seen} were read"
                )

    def finish(self) -> None:
        if not self.header_seen:
            raise ValidationError(f"empty export: no {EXPORT_FORMAT} header")
        if self.ended_at is None:
            raise ValidationError(
                f"truncated export: no end line after line {self.last_line}"
                f" ({self.memories} memories read)"
            )


def _parse(number: int, raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ValidationError(f"line {number}: not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ValidationError(f"line {number}: must be a JSON object")
    return value


def _check_header(number: int, value: dict[str, Any]) -> None:
    found = value.get("format")
    if found != EXPORT_FORMAT:
        raise ValidationError(
            f"line {number}: not a {EXPORT_FORMAT} file (header format is {found!r})"
        )
    version = value.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValidationError(f"line {number}: header.version must be a positive integer")
    if version > EXPORT_VERSION:
        raise ValidationError(
            f"line {number}: export version {version} is newer than this hybridmem reads"
            f" (up to {EXPORT_VERSION}); upgrade hybridmem to import it"
        )


def memory_item(number: int, value: dict[str, Any]) -> dict[str, Any]:
    """A memory line as an ``add_many`` item, checked by add_many's own item checks
    and graph parser; errors name the line and the field."""
    item = {
        "memory_id": value.get("id"),
        "text": value.get("text"),
        "embedding": value.get("embedding"),
        "user_id": value.get("user_id"),
        "agent_id": value.get("agent_id"),
        "run_id": value.get("run_id"),
        "metadata": value.get("metadata", {}),
        "entities": value.get("entities", []),
        "relations": value.get("relations", []),
        "created_at": value.get("created_at"),
        "updated_at": value.get("updated_at"),
        # Absent in version 1: such a memory never expires.
        "expires_at": value.get("expires_at"),
    }
    try:
        for field in ("memory_id", "embedding", "created_at", "updated_at"):
            if item[field] is None:
                raise ValidationError(f"invalid {field}: missing")
        checked = check_item(0, item)
        node = MemoryNode.new(checked["memory_id"], checked["scope"], datetime.now(UTC))
        parse_memory_graph(node, item["entities"], item["relations"])
    except ValidationError as exc:
        message = str(exc).removeprefix("items[0]: ")
        raise ValidationError(f"line {number}: {message}") from None
    return item
