"""One Kuzu database file, its single connection, and the lock that serialises it.

Kuzu allows one read-write ``Database`` per path per process and one write
transaction at a time, so every call goes through one lock; reads share it
because a Connection is not safe to use from two threads at once.
"""

from __future__ import annotations

import importlib
import re
import sys
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from hybridmem.errors import ConfigurationError, StoreError, StoreUnavailableError
from hybridmem.ownership import FileLockedError

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


#: engine option -> importable module. Both expose Kuzu's Python API.
ENGINES = {"kuzu": "kuzu", "ladybug": "ladybug"}


def load_engine(engine: str) -> ModuleType:
    module = ENGINES.get(engine)
    if module is None:
        raise ConfigurationError(
            f"unknown Kuzu engine {engine!r}; choose one of {', '.join(sorted(ENGINES))}"
        )
    # Both register the same native types: loading the second one fails deep in
    # pybind11, so say plainly what is wrong instead.
    others = [name for key, name in ENGINES.items() if key != engine and name in sys.modules]
    if others and module not in sys.modules:
        raise ConfigurationError(
            f"engine {engine!r} cannot be loaded: {others[0]!r} is already loaded in this "
            "process, and the two cannot share one; use one engine per process"
        )
    try:
        return importlib.import_module(module)
    except ImportError:
        package = "kuzu" if engine == "kuzu" else "hybridmem-kuzu[ladybug]"
        raise ConfigurationError(f"engine {engine!r} is not installed; install {package}") from None


class KuzuDatabase:
    def __init__(
        self,
        path: Path,
        store_name: str,
        engine: str = "kuzu",
        batch_plan: str = "auto",
        buffer_pool_mb: int = 256,
    ) -> None:
        self.path = path
        #: "auto" picks per batch; "lookup" / "scan" force one plan (tests cover both).
        self.batch_plan = batch_plan
        self.store_name = store_name
        self.buffer_pool_mb = buffer_pool_mb
        self._lock = threading.RLock()
        self._module = load_engine(engine)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Kuzu's default pool is ~80% of RAM: far too greedy for a library
            # that lives inside an agent backend.
            self._db = self._module.Database(str(path), buffer_pool_size=buffer_pool_mb * 2**20)
            self._conn = self._module.Connection(self._db)
        except RuntimeError as exc:
            raise self._translate(exc) from None
        self._closed = False
        self._estimates: dict[str, int] = {}
        self._prepared: OrderedDict[tuple[str, Any], Any] = OrderedDict()

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
                " [graph] or [vector] section: Kuzu needs more page cache as the store grows"
            )
        return StoreError(self.store_name, str(self.path), text)

    def rows(self, query: str, params: Mapping[str, Any] | None = None) -> list[list[Any]]:
        with self._lock:
            if self._closed:
                raise StoreUnavailableError(self.store_name, str(self.path), "store is closed")
            bound = dict(params or {})
            try:
                result = self._conn.execute(self._statement(query, bound), bound)
                return result.get_all()  # type: ignore[no-any-return,union-attr]
            except RuntimeError as exc:
                raise self._translate(exc) from None

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
            self.rows("BEGIN TRANSACTION")
            try:
                yield
            except BaseException:
                try:
                    self.rows("ROLLBACK")
                except StoreError:
                    pass
                raise
            self.rows("COMMIT")

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._prepared.clear()
            self._conn.close()
            self._db.close()


class KuzuFileStore:
    """What both Kuzu stores share: one database file of their own, opened with the
    adapter's options; a subclass creates its tables in ``_prepare``."""

    name: str

    def __init__(
        self,
        path: Path,
        engine: str = "kuzu",
        batch_plan: str = "auto",
        buffer_pool_mb: int = 256,
    ) -> None:
        self.address = str(path)
        self._db = KuzuDatabase(path, self.name, engine, batch_plan, buffer_pool_mb)
        self._prepare()

    def _prepare(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._db.close()
