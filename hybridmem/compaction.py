"""``store.compact()``: rewrite the embedded files with only live data, so erased
bytes leave the disk's files (see docs/erasure-design.md, "Erasure to the byte").

Neither embedded engine zeroes the pages an erasure frees, so an erased text,
metadata value, entity name or scope id stays readable in the graph and vector
files until they are rewritten. A compaction claims the whole store (it waits
for every operation in flight, and every later one waits for it), journals
itself, and then:

1. copies the live records of each file-backed role into a blank twin file
   beside it (``<file>.compacting``), and checks the counts: in bulk where the
   role can (``BulkRewritableStore``: SQLite's ``VACUUM INTO``, LadybugDB/Kuzu's
   ``COPY … TO`` Parquet files in ``<twin>.export`` and ``COPY … FROM`` them),
   else record by record through the ports;
2. writes ``compaction.json`` in the data directory, naming each twin and the
   file it replaces: the commit point;
3. swaps each twin in (the adapter closes its file, removes its WAL, renames
   the twin over it and opens it again), then removes the marker;
4. scrubs the journal: scope ids no live memory holds become digests, then
   VACUUM and a truncated WAL (``hybridmem.journal_scrub``).

A crash before the marker leaves the old files whole: reopening removes the
twins (rolled back). A crash after it leaves each file old or new, both whole
(a rename is atomic) and holding the same live records: reopening swaps in the
twins that remain (completed). Ids, history and expiries live in the journal,
which the rewrite does not touch but for the scrub.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self, runtime_checkable

from hybridmem.errors import StoreUnavailableError
from hybridmem.faults import resolve
from hybridmem.journal import Journal, PendingOperation
from hybridmem.journal_port import JournalPort
from hybridmem.journal_scrub import SCOPE_COLUMNS, scrub
from hybridmem.models import (
    CompactionProgress,
    CompactionProgressCallback,
    CompactionReport,
    RecoveredOperation,
)
from hybridmem.ports import GraphStore, VectorStore
from hybridmem.records import EntityRecord, MemoryGraph, MemoryNode

if TYPE_CHECKING:
    from hybridmem.operations.context import OperationContext
    from hybridmem.store import HybridStore

log = logging.getLogger("hybridmem.compaction")

#: In the data directory while twins wait to be swapped in.
MARKER = "compaction.json"
TWIN_SUFFIX = ".compacting"
#: Beside a twin while a bulk copy exports into it (``hybridmem_kuzu._rewrite``).
EXPORT_SUFFIX = ".export"
#: Fault points, in order (tests kill the process at each).
FAULT_POINTS = ("compact.journaled", "compact.copied", "compact.committed", "compact.swapped")


@runtime_checkable
class RewritableStore(Protocol):
    """A store role kept in one local file that a compaction can rewrite."""

    @property
    def file_path(self) -> Path: ...

    def blank_twin(self, path: Path) -> Self: ...

    def checkpoint_file(self) -> None: ...

    def swap_in(self, replacement: Path) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class BulkRewritableStore(RewritableStore, Protocol):
    """A rewritable role that copies its live records into the twin itself, in bulk
    (the engine's own export and load, not the port's statements)."""

    def bulk_copyable(self, twin: Path) -> bool: ...

    def copy_live(self, twin: Path) -> dict[str, int]:
        """Write the live records into a new file at ``twin``, complete and closed;
        the rows per table (each checked against the twin)."""
        ...

    def live_scopes(self) -> list[tuple[str | None, str | None, str | None]]:
        """The distinct (user_id, agent_id, run_id) of the live records."""
        ...


class LiveScopes:
    """The scope ids live memories hold, per column: what the scrub keeps."""

    def __init__(self) -> None:
        self.values: set[tuple[str, str]] = set()

    def add(self, user_id: str | None, agent_id: str | None, run_id: str | None) -> None:
        for column, value in zip(SCOPE_COLUMNS, (user_id, agent_id, run_id), strict=True):
            if value is not None:
                self.values.add((column, value))


def _twin_path(store: RewritableStore) -> Path:
    return store.file_path.with_name(store.file_path.name + TWIN_SUFFIX)


def _sidecars(path: Path) -> list[Path]:
    # Kuzu/LadybugDB's (.wal, .shadow) and SQLite's (-wal, -shm: the SQLite vector store).
    return [Path(f"{path}{suffix}") for suffix in (".wal", ".shadow", "-wal", "-shm")]


def _remove_file(path: Path) -> None:
    for part in (path, *_sidecars(path)):
        part.unlink(missing_ok=True)
    # A bulk copy's export files (live records only), named for the twin.
    shutil.rmtree(Path(f"{path}{EXPORT_SUFFIX}"), ignore_errors=True)


def _roles_of(graph: object, vector: object) -> list[tuple[str, RewritableStore]]:
    return [
        (name, role)
        for name, role in (("graph", graph), ("vector", vector))
        if isinstance(role, RewritableStore)
    ]


def _roles(store: HybridStore) -> list[tuple[str, RewritableStore]]:
    return _roles_of(store.graph, store.vector)


def _marker(roles: Sequence[tuple[str, RewritableStore]]) -> Path | None:
    """Beside the first rewritten file (the data directory, unless a path is set)."""
    return roles[0][1].file_path.parent / MARKER if roles else None


def store_bytes(store: HybridStore) -> int:
    """Bytes of the store's local files: each file-backed role and the journal, with WALs."""
    paths = [role.file_path for _, role in _roles(store)]
    if isinstance(store.journal, Journal):
        paths.append(store.journal.path)
        paths.append(Path(f"{store.journal.path}-wal"))
    total = 0
    for path in paths:
        for part in (path, *_sidecars(path)):
            if part.exists():
                total += part.stat().st_size
    return total


def _report(progress: CompactionProgressCallback | None, phase: Any, done: int, total: int) -> None:
    if progress is not None:
        progress(CompactionProgress(phase=phase, done=done, total=total))


def _copy_graph(
    source: Any,
    twin: Any,
    batch: int,
    live: LiveScopes,
    progress: CompactionProgressCallback | None,
) -> tuple[int, int, int]:
    """Every memory node with its entities and relations; (nodes, entities, relations)."""
    total = int(source.stats()["memory_nodes"])
    nodes_done = 0
    entity_ids: set[str] = set()
    relations = 0
    for ids in source.iter_memory_ids(batch):
        nodes: list[MemoryNode] = source.memory_nodes(ids)
        entities: dict[str, list[EntityRecord]] = source.memory_entities(ids)
        related = source.memory_relations(ids)
        graphs = []
        for node in nodes:
            live.add(node.user_id, node.agent_id, node.run_id)
            mine = {e.id: e for e in entities.get(node.id, [])}
            asserted = tuple(r.record for r in related.get(node.id, []))
            entity_ids.update(mine)
            relations += len(asserted)
            graphs.append(MemoryGraph(node, tuple(mine.values()), asserted))
        twin.add_memories(graphs, fresh=True)
        nodes_done += len(nodes)
        _report(progress, "graph", nodes_done, total)
    return nodes_done, len(entity_ids), relations


def _copy_vectors(
    source: Any,
    twin: Any,
    batch: int,
    live: LiveScopes,
    progress: CompactionProgressCallback | None,
) -> int:
    total = int(source.count())
    done = 0
    for ids in source.iter_ids(batch):
        records = source.get(ids)
        for record in records:
            live.add(record.scope.user_id, record.scope.agent_id, record.scope.run_id)
        twin.upsert(records, fresh=True)
        done += len(records)
        _report(progress, "vector", done, total)
    return done


def _check(what: str, expected: int, found: int) -> None:
    if expected != found:
        raise RuntimeError(
            f"compaction stopped before the swap, nothing changed: the copy holds {found}"
            f" {what}, the store {expected}"
        )


def _bulk_copy(role: BulkRewritableStore, path: Path, live: LiveScopes) -> bool:
    """Copy ``role``'s live records into ``path`` in bulk; False (nothing left at
    ``path``) when it cannot, and the records go through the ports instead: an
    engine's export is one more code path that may refuse a data shape (Kuzu
    0.11.3 wrote a Parquet file it could not read back)."""
    try:
        role.copy_live(path)
    except Exception as exc:
        _remove_file(path)
        if isinstance(exc, StoreUnavailableError | OSError):
            # The port would meet the same closed file or full disk.
            raise
        log.warning(
            "compaction: the bulk copy of %s failed (%s); copying record by record",
            role.file_path,
            exc,
        )
        return False
    for parts in role.live_scopes():
        live.add(*parts)
    return True


def _stage(
    store: HybridStore,
    report: CompactionReport,
    live: LiveScopes,
    progress: CompactionProgressCallback | None,
) -> list[tuple[RewritableStore, Path]]:
    """Copy each file-backed role into its twin; the twins, complete and closed."""
    staged: list[tuple[RewritableStore, Path]] = []
    batch = store.config.batch_size
    for name, role in _roles(store):
        path = _twin_path(role)
        _remove_file(path)
        role.checkpoint_file()
        # Typed as the role's port (a GraphStore or VectorStore) by the branch below.
        source: Any = role
        bulk = isinstance(role, BulkRewritableStore) and role.bulk_copyable(path)
        if bulk:
            _report(progress, name, 0, 1)
            bulk = _bulk_copy(source, path, live)
        twin: Any = role.blank_twin(path)
        try:
            if name == "graph":
                stats: dict[str, int] = {}
                if not bulk:
                    nodes, entities, relations = _copy_graph(source, twin, batch, live, progress)
                    stats = twin.stats()
                    _check("memory nodes", nodes, stats["memory_nodes"])
                    _check("relations", relations, stats["relations"])
                    _check("entities", entities, stats["entities"])
                # A bulk copy counted each table against its export itself.
                stats = stats or twin.stats()
                _check("memory nodes", int(source.stats()["memory_nodes"]), stats["memory_nodes"])
                report.memory_nodes = stats["memory_nodes"]
                report.entities, report.relations = stats["entities"], stats["relations"]
            else:
                copied = 0 if bulk else _copy_vectors(source, twin, batch, live, progress)
                report.vectors = int(twin.count())
                if not bulk:
                    _check("vectors", copied, report.vectors)
                _check("vectors", int(source.count()), report.vectors)
        finally:
            twin.close()
        if bulk:
            _report(progress, name, 1, 1)
        if any(part.exists() for part in _sidecars(path)):
            raise RuntimeError(f"compaction stopped before the swap: {path} kept a WAL after close")
        staged.append((role, path))
    return staged


def _write_marker(marker: Path, staged: Sequence[tuple[RewritableStore, Path]]) -> Path:
    temporary = marker.with_name(MARKER + ".tmp")
    pairs = [{"twin": str(path), "file": str(role.file_path)} for role, path in staged]
    with temporary.open("w", encoding="utf-8") as out:
        json.dump({"swap": pairs}, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, marker)
    _fsync_directory(marker.parent)
    return marker


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap(
    roles: Sequence[tuple[str, RewritableStore]], marker: Path, fault: Callable[[str], None]
) -> None:
    """Swap in every twin the marker names that is still there, then drop the marker."""
    pairs = json.loads(marker.read_text(encoding="utf-8"))["swap"]
    by_file = {str(role.file_path): role for _, role in roles}
    for pair in pairs:
        twin = Path(pair["twin"])
        role = by_file.get(pair["file"])
        if role is None:
            raise RuntimeError(f"{marker} names {pair['file']}, which this store does not open")
        if twin.exists():
            role.swap_in(twin)
            fault("compact.swapped")
    marker.unlink()
    _fsync_directory(marker.parent)


def _live_through_ports(
    graph: GraphStore,
    vector: VectorStore,
    batch: int,
    live: LiveScopes,
    skip: frozenset[str] = frozenset(),
) -> None:
    """The scope ids of the live records of each role not in ``skip`` (a rewritten
    role's were gathered as it was copied)."""
    if "vector" not in skip:
        for ids in vector.iter_ids(batch):
            for record in vector.get(ids):
                live.add(record.scope.user_id, record.scope.agent_id, record.scope.run_id)
    if "graph" not in skip:
        for ids in graph.iter_memory_ids(batch):
            for memory_id in ids:
                node = graph.get_memory_node(memory_id)
                if node is not None:
                    live.add(node.user_id, node.agent_id, node.run_id)


def _scrub_journal(graph: GraphStore, vector: VectorStore, journal: JournalPort, batch: int) -> int:
    """The journal's part alone (a compaction resumed after its swap)."""
    if not isinstance(journal, Journal):
        return 0
    live = LiveScopes()
    _live_through_ports(graph, vector, batch, live)
    return scrub(journal.path, live.values)


def _resume_files(
    roles: Sequence[tuple[str, RewritableStore]],
) -> Literal["completed", "rolled_back", "none"]:
    marker = _marker(roles)
    if marker is not None and marker.exists():
        _swap(roles, marker, resolve(None))
        return "completed"
    leftovers = [_twin_path(role) for _, role in roles]
    found = [path for path in leftovers if path.exists()]
    for path in leftovers:
        _remove_file(path)
    return "rolled_back" if found else "none"


def compact(
    store: HybridStore, progress: CompactionProgressCallback | None = None
) -> CompactionReport:
    """Rewrite the store's local files with only live data; see the module docstring."""
    started = time.monotonic()
    # The store's own claims and fault hook: a compaction is one of its operations.
    context = store._coordinator.context
    roles = _roles(store)
    marker = _marker(roles)
    with context.locks.everything():
        _resume_files(roles)
        before = store_bytes(store)
        op_id = store.journal.begin("compact")
        report = CompactionReport(operation_id=op_id, bytes_before=before)
        context.fault("compact.journaled")
        live = LiveScopes()
        staged: list[tuple[RewritableStore, Path]] = []
        try:
            staged = _stage(store, report, live, progress)
            context.fault("compact.copied")
            if marker is not None and staged:
                _write_marker(marker, staged)
                context.fault("compact.committed")
                _report(progress, "swapping", 0, len(staged))
                _swap(roles, marker, context.fault)
                _report(progress, "swapping", len(staged), len(staged))
            report.files = [str(role.file_path) for role, _ in staged]
            rewritten = frozenset(name for name, _ in _roles(store))
            _live_through_ports(store.graph, store.vector, store.config.batch_size, live, rewritten)
            _report(progress, "journal", 0, 1)
            store.journal.finish(op_id, _counts(report))
            if isinstance(store.journal, Journal):
                report.scope_ids_scrubbed = scrub(store.journal.path, live.values)
                report.journal_scrubbed = True
        except Exception as exc:
            if marker is None or not marker.exists():
                for _, path in staged:
                    _remove_file(path)
            store.journal.fail(op_id, f"{type(exc).__name__}: {exc}")
            raise
        report.bytes_after = store_bytes(store)
        report.elapsed_seconds = round(time.monotonic() - started, 6)
        _report(progress, "done", 1, 1)
        return report


def _counts(report: CompactionReport) -> dict[str, int]:
    return {
        "memory_nodes": report.memory_nodes,
        "vectors": report.vectors,
        "entities": report.entities,
        "relations": report.relations,
        "files": len(report.files),
    }


def finish_interrupted(store: HybridStore) -> list[RecoveredOperation]:
    """Finish or roll back a compaction a crash interrupted (each pending one is
    closed). ``HybridStore.recover()`` runs it before the other operations'
    recovery, which may write to the files."""
    roles = _roles(store)
    marker = _marker(roles)
    leftovers = (marker is not None and marker.exists()) or any(
        _twin_path(role).exists() for _, role in roles
    )
    if not leftovers and not any(op.kind == "compact" for op in store.journal.pending()):
        # Nothing to finish: no claim of everything (a shared journal's is a lease
        # that would wait for every other process's operations).
        return []
    context = store._coordinator.context
    with context.locks.everything():
        outcome = _resume_files(roles)
        closed: list[RecoveredOperation] = []
        for op in store.journal.pending():
            if op.kind == "compact":
                done = _close(store.graph, store.vector, store.journal, op, outcome)
                closed.append(RecoveredOperation(operation_id=op.id, kind="compact", outcome=done))
        return closed


def _close(
    graph: GraphStore,
    vector: VectorStore,
    journal: JournalPort,
    op: PendingOperation,
    outcome: Literal["completed", "rolled_back", "none"],
) -> Literal["completed", "rolled_back"]:
    """Close a pending compaction; one whose files were swapped in is finished with
    the journal's scrub (its twins removed: rolled back, to run again)."""
    if outcome == "completed":
        journal.finish(op.id, {"completed": 1})
        _scrub_journal(graph, vector, journal, 1000)
        return "completed"
    journal.finish(op.id, {"rolled_back": 1})
    return "rolled_back"


# -- the recovery registry's interface (hybridmem.operations.recovery.RECOVERY) ------


def claim(ctx: OperationContext, op: PendingOperation) -> AbstractContextManager[None]:
    """A compaction claims the whole store, on resume too."""
    return ctx.locks.everything()


def resume(ctx: OperationContext, op: PendingOperation) -> Literal["completed", "rolled_back"]:
    """Swap in the twins if the marker was written (completed), else remove them."""
    outcome = _resume_files(_roles_of(ctx.graph, ctx.vector))
    return _close(ctx.graph, ctx.vector, ctx.journal, op, outcome)
