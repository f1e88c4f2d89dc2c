"""One Kuzu database file, its single connection, and the lock that serialises it.

Kuzu allows one read-write ``Database`` per path per process and one write
transaction at a time, so every call goes through one lock; reads share it
because a Connection is not safe to use from two threads at once.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hybridmem.errors import FileLockedError, StoreError, StoreUnavailableError
from hybridmem_kuzu._engine import (
    DEFAULT_ENGINE,
    ENGINES,
    check_written_by,
    default_buffer_pool_mb,
    load_engine,
    migration_advice,
)
from hybridmem_kuzu._heap import scrub_freed_memory

__all__ = ["ENGINES", "KuzuDatabase", "KuzuFileStore", "load_engine"]

log = logging.getLogger("hybridmem_kuzu")

# Kuzu plans ``UNWIND $rows AS x MATCH (n {id: x.id})`` (and MERGE alike) as a
# hash join over a scan of the whole table; only a single ``{id: $id}``
# parameter reaches the primary-key index. Measured on 0.11.3: a lookup call
# costs ~0.4 ms, a scanned row ~0.35 us, and unwinding a list of structs costs
# ~30x more than a plain list. So a batch runs as one UNWIND (of a plain list
# when it needs one field) while the table is small next to it, and as one
# primary-key call per row otherwise: no batch costs more than its rows'
# lookups, so cost follows the batch, not the store.
LOOKUP_COST_IN_SCANNED_ROWS = 1000
# A batch this small always runs as lookups: an UNWIND plan costs ~8 ms even over a
# small table once it walks adjacency (a one-memory delete's relation step took
# 9.3 ms as UNWIND and 2.4 ms as a lookup at 30k memories), a lookup ~1-2 ms.
FEW_ROWS = 4
_ROW_FIELD = re.compile(r"\bx\.(\w+)")
_EDGE_MERGE = re.compile(r"MERGE\s*\([^)]*\)\s*<?-\[")
# Prepared statements kept per connection: preparing (parse, bind, plan) costs
# 0.5-1.5 ms a statement on 0.11.3, as much as running a small one.
PREPARED_CACHE_SIZE = 256
# Not kept prepared: transaction control (nothing to plan) and schema changes,
# after which (or after rolling one back) kept plans may be stale.
_TRANSACTION = re.compile(r"^\s*(BEGIN|COMMIT)\b", re.I)
_SCHEMA_CHANGE = re.compile(r"^\s*(ROLLBACK|CREATE\s+(NODE|REL)|DROP|ALTER)\b", re.I)
# A statement that may write: outside a transaction it runs inside one of its own,
# so its rows are read before COMMIT (whose checkpoint may fail, see below).
_WRITES = re.compile(r"\b(CREATE|MERGE|SET|DELETE|COPY)\b", re.I)
# LadybugDB commits, then checkpoints (when the WAL has grown past its threshold);
# a checkpoint that cannot get pages fails after the commit: the write is in the
# WAL, durable, visible, and replayed on the next open. Not a failed write.
CHECKPOINT_FAILED_AFTER_COMMIT = (
    "Transaction committed successfully, but the post-commit checkpoint"
)
# Kuzu's default checkpoint_threshold: the WAL size past which it checkpoints.
KUZU_CHECKPOINT_WAL_BYTES = 16 * 2**20
# Kuzu 0.11.3's checkpoint failed for want of page cache once the file reached
# 2.9-3.0x the pool (hub-shaped writes, pools of 16 and 32 MB, checkpointing every
# quarter pool of WAL) and 4.2-6.5x in benchmarks/scale.py runs (256 MB, 2 GB), and
# a file whose checkpoint failed segfaulted on reopen. Writes stop at 2x, before.
KUZU_MAX_FILE_TO_POOL = 2.0


_PARAMETER = re.compile(r"\$(\w+)")


def used(query: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters ``query`` refers to: Kuzu refuses any other."""
    names = set(_PARAMETER.findall(query))
    return {name: value for name, value in params.items() if name in names}


def _signature(value: Any) -> Any:
    """What a parameter's value tells Kuzu's binder about its type, coarsely: an
    empty list or a NULL binds differently from a filled one, so a statement is
    prepared once per signature of its parameters."""
    if value is None:
        return None
    if isinstance(value, list):
        return ("list", _signature(value[0])) if value else ("list",)
    if isinstance(value, dict):
        return tuple((key, _signature(item)) for key, item in value.items())
    return type(value)


class KuzuDatabase:
    def __init__(
        self,
        path: Path,
        store_name: str,
        engine: str = DEFAULT_ENGINE,
        batch_plan: str = "auto",
        buffer_pool_mb: int | None = None,
    ) -> None:
        self.path = path
        #: "auto" picks per batch; "lookup" / "scan" force one plan (tests cover both).
        self.batch_plan = batch_plan
        self.store_name = store_name
        self.engine = engine
        self.buffer_pool_mb = buffer_pool_mb or default_buffer_pool_mb()
        self._lock = threading.RLock()
        self._module = load_engine(engine)
        # Kuzu's COMMIT checkpoints, and a checkpoint that fails there fails the
        # COMMIT although the transaction is committed (measured on 0.11.3): the
        # journal would undo a write that stands. So on Kuzu the adapter
        # checkpoints itself, before a write starts (see ``_checkpoint_if_due``).
        self._explicit_checkpoints = engine == "kuzu"
        check_written_by(path, engine, store_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._estimates: dict[str, int] = {}
        self._prepared: OrderedDict[tuple[str, Any], Any] = OrderedDict()
        self._open()

    def _open(self) -> None:
        """Open the file (again, after ``close``: a compaction swapped it)."""
        # Before the engine allocates: it writes stale heap into its files (_heap).
        scrub_freed_memory()
        try:
            # The engine's own default pool is ~80% of RAM: far too greedy for a
            # library that lives inside an agent backend.
            self._db = self._module.Database(
                str(self.path),
                buffer_pool_size=self.buffer_pool_mb * 2**20,
                auto_checkpoint=not self._explicit_checkpoints,
            )
            self._conn = self._module.Connection(self._db)
        except RuntimeError as exc:
            raise self._translate(exc) from None
        self._closed = False
        #: Open explicit transactions (``transaction`` nests through the RLock).
        self._depth = 0
        self._estimates.clear()

    @property
    def lock(self) -> threading.RLock:
        """Held across a caller's own sequence of statements (it is re-entrant)."""
        return self._lock

    def _translate(self, exc: BaseException) -> StoreError:
        text = str(exc)
        if "lock" in text.lower():
            # Another process has the file open read-write.
            return FileLockedError(
                self.store_name,
                str(self.path),
                f"{text}; another process has this file open, and a Kuzu file admits one"
                " read-write process: stop it, or run `hybridmem serve` on this data"
                " directory (the CLI and `hybridmem mcp` then go through it)",
            )
        if "buffer pool is full" in text:
            # Seen at COMMIT (a checkpoint) near 214k memories with 256 MB: scope nodes
            # shared by many memories (an agent's) make a large adjacency to rewrite.
            text += (
                f"; raise buffer_pool_mb (now {self.buffer_pool_mb}) in this store's"
                " [graph] or [vector] section: the engine needs more page cache as the"
                " store grows"
            )
            if self._explicit_checkpoints:
                text += (
                    "; Kuzu's need grows faster than the store (it failed near 214k memories"
                    " with 256 MB, 600k with 2 GB): move it to LadybugDB, "
                    + migration_advice("kuzu", "ladybug")
                )
        return StoreError(self.store_name, str(self.path), text)

    def rows(self, query: str, params: Mapping[str, Any] | None = None) -> list[list[Any]]:
        with self._lock:
            if self._closed:
                raise StoreUnavailableError(self.store_name, str(self.path), "store is closed")
            if (
                self._depth == 0
                and _WRITES.search(query)
                and not _TRANSACTION.match(query)
                and not _SCHEMA_CHANGE.match(query)
            ):
                with self.transaction():
                    return self._run(query, params)
            return self._run(query, params)

    def _run(self, query: str, params: Mapping[str, Any] | None) -> list[list[Any]]:
        bound = dict(params or {})
        try:
            result = self._conn.execute(self._statement(query, bound), bound)
            return result.get_all()  # type: ignore[no-any-return,union-attr]
        except RuntimeError as exc:
            if CHECKPOINT_FAILED_AFTER_COMMIT in str(exc):
                self._checkpoint_failed(exc)
                return []
            raise self._translate(exc) from None

    def _checkpoint_failed(self, exc: RuntimeError) -> None:
        """Only a COMMIT reaches here (writes outside a transaction get one of their
        own), so no rows are lost: the write stands, and the journal must not undo it."""
        log.warning(
            "%s at %s: the write committed (it is in the WAL, durable and visible), but the"
            " checkpoint after it failed: %s. It is retried after each later commit and"
            " on the next open; raise buffer_pool_mb (now %d) in this store's [graph] or"
            " [vector] section so it can complete, or the WAL keeps growing",
            self.store_name,
            self.path,
            exc,
            self.buffer_pool_mb,
        )

    def _statement(self, query: str, params: dict[str, Any]) -> Any:
        """``query`` prepared on this connection for parameters like ``params``
        (kept, least recently used dropped first), or the text when not kept."""
        if _TRANSACTION.match(query):
            return query
        if _SCHEMA_CHANGE.match(query):
            self._prepared.clear()
            return query
        key = (query, tuple((name, _signature(v)) for name, v in params.items()))
        prepared = self._prepared.get(key)
        if prepared is not None:
            self._prepared.move_to_end(key)
            return prepared
        with warnings.catch_warnings():
            # 0.11 calls separate prepare + execute deprecated; it is what saves
            # the planning on every call, and execute() takes a prepared statement.
            warnings.simplefilter("ignore", DeprecationWarning)
            prepared = self._conn.prepare(query)
        if not prepared.is_success():
            # The error as execute() reports it.
            return query
        self._prepared[key] = prepared
        if len(self._prepared) > PREPARED_CACHE_SIZE:
            self._prepared.popitem(last=False)
        return prepared

    def create_function(self, name: str, udf: Any, params: Sequence[str], returns: str) -> None:
        """Register a Python function callable from this database's queries."""
        with self._lock:
            try:
                self._conn.create_function(name, udf, list(params), returns)
            except RuntimeError as exc:
                raise self._translate(exc) from None

    def scalar(self, query: str, params: Mapping[str, Any] | None = None) -> int:
        found = self.rows(query, params)
        return int(found[0][0]) if found else 0

    def estimate(self, table: str) -> int:
        """Rows in a node table: counted once, then kept up to date by ``adjust``."""
        with self._lock:
            if table not in self._estimates:
                self._estimates[table] = self.scalar(f"MATCH (n:{table}) RETURN count(n)")
            return self._estimates[table]

    def forget_estimates(self) -> None:
        with self._lock:
            self._estimates.clear()

    def adjust(self, table: str, delta: int) -> None:
        with self._lock:
            if table in self._estimates:
                self._estimates[table] = max(0, self._estimates[table] + delta)

    def each(
        self,
        body: str,
        rows: Sequence[Mapping[str, Any]],
        table: str,
        params: Mapping[str, Any] | None = None,
    ) -> list[list[Any]]:
        """Run ``body`` (written over a row variable ``x``) for every row; the rows
        of all runs, concatenated. ``table`` is the node table the body looks up."""
        if not rows:
            return []
        extra = dict(params or {})
        fields = sorted(set(_ROW_FIELD.findall(body)))
        if self.batch_plan == "scan" or (
            self.batch_plan == "auto"
            and len(rows) > FEW_ROWS
            and len(rows) * LOOKUP_COST_IN_SCANNED_ROWS >= self.estimate(table)
        ):
            if len(fields) == 1:
                plain = _ROW_FIELD.sub("xv", body)
                values = [row[fields[0]] for row in rows]
                return self.rows(f"UNWIND $values AS xv {plain}", {**extra, "values": values})
            if _EDGE_MERGE.search(body):
                return self.rows(f"UNWIND $rows AS x {body}", {**extra, "rows": list(rows)})
            # Fields read as ``x.f`` inside the body are filters applied after a cross
            # product of the rows with the table (0.11.3): 2,000 entity MERGEs took
            # 1.8 s into 60k entities and 4.8 s into 200k. Projected to plain
            # variables first they are hash-joined: 0.2 s at either size. (An edge
            # MERGE after such a WITH fails to bind on 0.11.3, so those keep x.f.)
            carried = ", ".join(f"x.{f} AS x_{f}" for f in fields)
            projected = _ROW_FIELD.sub(r"x_\1", body)
            return self.rows(
                f"UNWIND $rows AS x WITH {carried} {projected}", {**extra, "rows": list(rows)}
            )
        single = _ROW_FIELD.sub(r"$\1", body)
        out: list[list[Any]] = []
        for row in rows:
            out.extend(self.rows(single, {**extra, **{k: row[k] for k in fields}}))
        return out

    def each_count(
        self,
        body: str,
        rows: Sequence[Mapping[str, Any]],
        table: str,
        params: Mapping[str, Any] | None = None,
    ) -> int:
        """``each`` for a body that ends in ``RETURN count(*)``: the total."""
        return sum(int(row[0]) for row in self.each(body, rows, table, params))

    def create_edges(
        self,
        rel: str,
        source: tuple[str, str, str],
        target: tuple[str, str, str],
        rows: Sequence[Mapping[str, Any]],
        properties: Sequence[str] = (),
    ) -> None:
        """CREATE a ``rel`` edge for each row between the ``source`` and ``target``
        nodes, each given as (node table, key property, row field); a row whose
        endpoint is missing creates nothing. Only for edges that cannot exist yet
        (their source is new in this transaction). Duplicate rows make one edge.

        Kuzu (0.11.3) plans ``UNWIND $rows AS x MATCH (a {k: x.a}), (b {k: x.b})``
        as a cross product of both tables filtered afterwards: 2,000 edges between
        two tables of 30k nodes took 21 s and grew with their square, so ingest
        slowed as the store grew. Projecting the keys first and matching one
        endpoint per clause gives hash joins: 0.09 s at 30k, 0.14 s at 100k.
        (MERGE cannot follow those WITH clauses on 0.11.3, hence CREATE; COPY is
        faster still, but rolling back a transaction that held a COPY into a rel
        table lost that table's other edges.)"""
        fields = (source[2], target[2], *properties)
        unique = list({tuple(row[f] for f in fields): row for row in rows}.values())
        if not unique:
            return
        (source_table, source_key, a), (target_table, target_key, b) = source, target
        carried = ", ".join(f"x.{f} AS x_{f}" for f in fields)
        kept = ", ".join(("s", *(f"x_{f}" for f in (b, *properties))))
        props = ", ".join(f"{p}: x_{p}" for p in properties)
        self.rows(
            f"UNWIND $rows AS x WITH {carried}"
            f" MATCH (s:{source_table} {{{source_key}: x_{a}}}) WITH {kept}"
            f" MATCH (t:{target_table} {{{target_key}: x_{b}}})"
            f" CREATE (s)-[:{rel} {{{props}}}]->(t)",
            {"rows": unique},
        )

    def existing(self, table: str, key: str, values: Sequence[str]) -> set[str]:
        """Which of ``values`` are primary keys (``key``) of ``table``."""
        found = self.each(
            f"MATCH (n:{table} {{{key}: x.v}}) RETURN n.{key}",
            [{"v": v} for v in dict.fromkeys(values)],
            table,
        )
        return {row[0] for row in found}

    def iter_ids(self, table: str, batch_size: int) -> Iterator[list[str]]:
        """Every primary key of ``table`` (a fixed label), in keyset-paginated batches."""
        last = ""
        while True:
            rows = self.rows(
                f"MATCH (n:{table}) WHERE n.id > $last RETURN n.id ORDER BY n.id LIMIT $n",
                {"last": last, "n": batch_size},
            )
            if not rows:
                return
            batch = [row[0] for row in rows]
            yield batch
            last = batch[-1]

    def unused(self, probes: Sequence[str], keys: Sequence[str]) -> list[str]:
        """The keys for which every probe (a query over ``$key`` ending in LIMIT 1)
        finds nothing. LIMIT 1 stops at the first neighbour; EXISTS reads them all."""
        return [key for key in keys if not any(self.rows(p, {"key": key}) for p in probes)]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside commit together or not at all."""
        with self._lock:
            if self._depth == 0:
                self._checkpoint_if_due()
            self.rows("BEGIN TRANSACTION")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                try:
                    self.rows("ROLLBACK")
                except StoreError:
                    pass
                raise
            self._depth -= 1
            self.rows("COMMIT")

    def _checkpoint_if_due(self) -> None:
        """On Kuzu, before a write starts: refuse it once the file has outgrown its
        page cache, else checkpoint when the WAL has passed the threshold."""
        if not self._explicit_checkpoints or self._closed:
            return
        pool = self.buffer_pool_mb * 2**20
        try:
            size = self.path.stat().st_size
            wal = os.path.getsize(f"{self.path}.wal")
        except OSError:
            return
        if size + wal > KUZU_MAX_FILE_TO_POOL * pool:
            self._refuse(
                f"the file ({(size + wal) // 2**20} MB with its WAL) has outgrown it", size + wal
            )
        # Uncheckpointed writes hold about their WAL size of page cache: a small
        # pool checkpoints sooner than Kuzu's own threshold.
        if wal < min(KUZU_CHECKPOINT_WAL_BYTES, pool // 4):
            return
        try:
            self._conn.execute("CHECKPOINT")
        except RuntimeError as exc:
            # Past the ratio above this was not seen; a file whose checkpoint failed
            # segfaulted on reopen (0.11.3), so say plainly what to do.
            self._refuse(f"a checkpoint failed ({exc})", size + wal)

    def _refuse(self, why: str, file_bytes: int) -> None:
        enough = int(file_bytes * 2 / KUZU_MAX_FILE_TO_POOL) // 2**20 + 1
        raise StoreError(
            self.store_name,
            str(self.path),
            f"write refused, nothing written: Kuzu needs more page cache than"
            f" buffer_pool_mb = {self.buffer_pool_mb} to checkpoint this file safely: {why}."
            f" Reads still work. Raise buffer_pool_mb in this store's [graph] and [vector]"
            f" sections (to {enough} or more for room to grow), or move the store to"
            f" LadybugDB: {migration_advice('kuzu', 'ladybug')}",
        )

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._prepared.clear()
            self._conn.close()
            self._db.close()

    def reopen(self) -> None:
        """Open the file at ``path`` again after ``close`` (under the caller's lock)."""
        with self._lock:
            check_written_by(self.path, self.engine, self.store_name)
            self._open()


class KuzuFileStore:
    """What both Kuzu stores share: one database file of their own, opened with the
    adapter's options; a subclass creates its tables in ``_prepare``."""

    name: str

    def __init__(
        self,
        path: Path,
        engine: str = DEFAULT_ENGINE,
        batch_plan: str = "auto",
        buffer_pool_mb: int | None = None,
    ) -> None:
        self.address = str(path)
        self._db = KuzuDatabase(path, self.name, engine, batch_plan, buffer_pool_mb)
        self._prepare()

    def _prepare(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._db.close()
