"""The journal in Neo4j: operations, history and the expiry index every process shares.

The same contract as ``hybridmem.journal.Journal`` (the SQLite file of one
data directory), kept in the graph server under the store's label prefix, so
that every process on every host that opens the same configuration sees the
same operations, the same history and the same time index. Each method is one
write (or read) transaction; every value is a parameter; every lookup is an
index seek (operations by id and by (state, seq), history by memory id and by
scope part, expiry rows by memory id and by expires_at).

Every operation records its owner (the process lease of ``leases.SharedState``).
``pending()`` answers the operations this process may take over: its own, and
those whose owner's lease has run out (or whose owner is gone), so ``recover()``
never touches the work of a live process. ``pending(op_id)``, which ``recover()``
calls under the operation's claim, takes the operation over (its owner becomes
this process). Every later write of an operation (``note_batch``, ``checkpoint``,
``finish``) is fenced: it happens only while the operation's owner is still this
process, so a process that stalled past its lease and was taken over gets
``LeaseLostError`` instead of recording its work a second time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from neo4j import ManagedTransaction

from hybridmem.errors import LeaseLostError
from hybridmem.journal import (
    MAX_RECOVERY_ATTEMPTS,
    HistoryEntry,
    PendingOperation,
    now,
)
from hybridmem.journal_port import SharedJournalPath
from hybridmem.models import HistoryEvent, OperationInfo, OperationKind, Scope
from hybridmem.operation_ids import operation_id
from hybridmem.store_meta import StoreMetaPort
from hybridmem_neo4j.journal_claimed import (
    ClaimedOperations,
    JoinableGraph,
    begin_cypher,
    operation_params,
)
from hybridmem_neo4j.journal_expiry import ExpiryIndex
from hybridmem_neo4j.journal_intake import Neo4jJournalIntake
from hybridmem_neo4j.leases import LeaseClaims, SharedState
from hybridmem_neo4j.shared_meta import SharedStoreMeta

_OPERATION_FIELDS = (
    "o.id AS id, o.kind AS kind, o.state AS state, o.user_id AS user_id,"
    " o.agent_id AS agent_id, o.run_id AS run_id, o.memory_id AS memory_id,"
    " o.counts AS counts, o.error AS error, o.created_at AS created_at,"
    " o.updated_at AS updated_at"
)
#: A history row an erasure still has to write (rows erased before are skipped:
#: a delete_all's last pass over its scope then writes nothing it did already).
_NOT_ERASED = "(h.erased_by IS NULL OR h.old_text IS NOT NULL OR h.new_text IS NOT NULL)"
_PENDING_FIELDS = (
    "o.id AS id, o.kind AS kind, o.user_id AS user_id, o.agent_id AS agent_id,"
    " o.run_id AS run_id, o.memory_id AS memory_id, o.payload AS payload, o.counts AS counts"
)
_HISTORY_FIELDS = (
    "h.id AS id, h.kind AS kind, h.memory_id AS memory_id, h.operation_id AS operation_id,"
    " h.old_text AS old_text, h.new_text AS new_text, h.hash AS hash, h.user_id AS user_id,"
    " h.agent_id AS agent_id, h.run_id AS run_id, h.counts AS counts,"
    " h.erased_by AS erased_by, h.created_at AS created_at"
)


#: The time an erasure of a scope or of everything may hold its transaction open.
LONG_TRANSACTION_SECONDS = 600.0
#: The owner of ``o`` is this process, or its lease has run out (``w``: its owner node).
_MAY_TAKE_OVER = "(o.owner = $me OR w IS NULL OR w.deadline <= timestamp())"


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    row["counts"] = json.loads(row["counts"]) if row["counts"] else None
    return row


class Neo4jJournal(ExpiryIndex, ClaimedOperations):
    """``hybridmem.journal_port.JournalPort`` on the shared state of one store, with
    its optional ``BeginsClaimed`` and ``FinishesGraphWrites`` (``journal_claimed``):
    ``claims`` are the store's, ``graph`` the graph store in the same database."""

    def __init__(
        self,
        state: SharedState,
        local: Path,
        *,
        claims: LeaseClaims | None = None,
        graph: JoinableGraph | None = None,
    ) -> None:
        self.path: Path = SharedJournalPath.of(local, self)
        self._state = state
        self._bolt = state.bolt
        self._n = state.names
        #: The store's embedder record, shared as the journal is (``HoldsStoreMeta``).
        self.store_meta: StoreMetaPort = SharedStoreMeta(state.bolt, state.names)
        #: Takes a data directory's SQLite journal in (``TakesMovedJournal``).
        self.intake = Neo4jJournalIntake(state)
        self._init_claimed(claims, graph)

    # -- operations ---------------------------------------------------------------

    def begin(
        self,
        kind: OperationKind,
        *,
        scope: Scope | None = None,
        memory_id: str | None = None,
        payload: dict[str, Any] | None = None,
        expiring: Sequence[tuple[str, Scope, datetime]] = (),
    ) -> str:
        op_id = operation_id(kind)  # one the caller reserved, if any
        params = operation_params(self._me, op_id, kind, scope, memory_id, payload)
        query = begin_cypher(self._n)

        def work(tx: ManagedTransaction) -> None:
            self._counted(tx, query, params)
            self._index(tx, expiring)

        self._bolt.write(work)
        return op_id

    @property
    def lease_seconds(self) -> float:
        """How long an operation stays this process's without renewal (``Leased``)."""
        return self._state.lease_ms / 1000

    @property
    def _me(self) -> str:
        return self._state.owner_id

    def _fenced(self, tx: ManagedTransaction, op_id: str, query: str, **params: Any) -> None:
        """Run ``query`` (which matches ``o``, the operation, ``WHERE o.owner = $me``
        and returns ``count(o)``) as the transaction's last statement; none matched:
        raise, which rolls back the whole transaction."""
        if tx.run(query, {**params, "id": op_id, "me": self._me}).single(strict=True)[0] == 0:
            raise LeaseLostError(
                f"operation {op_id} is no longer this process's: its lease ran out"
                f" ({self._state.lease_ms / 1000:g} s without renewal) and another process"
                " took the operation over; nothing more of it was recorded here"
            )

    def _set(self, op_id: str, assignments: str, params: dict[str, Any]) -> None:
        query = (
            f"MATCH (o:{self._n.operation} {{id: $id}}) WHERE o.owner = $me"
            f" SET {assignments}, o.updated_at = $stamp RETURN count(o)"
        )
        self._bolt.write(
            lambda tx: self._fenced(tx, op_id, query, **params, stamp=now().isoformat())
        )

    def fail(self, op_id: str, error: str) -> None:
        # A note only: on an operation taken over by another process, none is written.
        query = (
            f"MATCH (o:{self._n.operation} {{id: $id}}) WHERE o.owner = $me"
            " SET o.error = $error, o.updated_at = $stamp"
        )
        params = {"id": op_id, "me": self._me, "error": error[:2000], "stamp": now().isoformat()}
        self._bolt.write(lambda tx: tx.run(query, params).consume())

    def withdraw(self, op_id: str) -> bool:
        # Only while it is still this process's: one taken over is the taker's.
        query = (
            f"MATCH (o:{self._n.operation} {{id: $id}})"
            " WHERE o.owner = $me AND o.state = 'pending'"
            " DETACH DELETE o RETURN count(*)"
        )
        params = {"id": op_id, "me": self._me}
        return bool(self._bolt.write(lambda tx: tx.run(query, params).single(strict=True)[0]))

    def recovery_failed(self, op_id: str, error: str) -> bool:
        n = self._n
        query = (
            f"MATCH (o:{n.operation} {{id: $id}}) WHERE o.state = 'pending'"
            f" OPTIONAL MATCH (w:{n.owner} {{id: o.owner}}) WITH o, w WHERE {_MAY_TAKE_OVER}"
            " SET o.attempts = coalesce(o.attempts, 0) + 1, o.error = $error,"
            " o.updated_at = $stamp"
            " SET o.state = CASE WHEN o.attempts >= $max THEN 'set_aside' ELSE o.state END"
            " RETURN o.state"
        )
        params = {
            "id": op_id,
            "me": self._me,
            "error": error[:2000],
            "stamp": now().isoformat(),
            "max": MAX_RECOVERY_ATTEMPTS,
        }
        rows = self._bolt.write(lambda tx: tx.run(query, params).values())
        return bool(rows) and rows[0][0] == "set_aside"

    def set_aside(self) -> list[OperationInfo]:
        query = (
            f"MATCH (o:{self._n.operation}) WHERE o.state = 'set_aside'"
            f" RETURN {_OPERATION_FIELDS} ORDER BY o.seq"
        )
        rows = self._bolt.read(lambda tx: tx.run(query).data())
        return [OperationInfo.model_validate(_decoded(r)) for r in rows]

    def retry_set_aside(self) -> int:
        query = (
            f"MATCH (o:{self._n.operation}) WHERE o.state = 'set_aside'"
            " SET o.state = 'pending', o.attempts = 0, o.updated_at = $stamp"
            " RETURN count(o)"
        )
        stamp = now().isoformat()
        return int(self._bolt.write(lambda tx: tx.run(query, stamp=stamp).single(strict=True)[0]))

    def checkpoint(
        self,
        op_id: str,
        counts: dict[str, int],
        *,
        events: Sequence[HistoryEntry] = (),
        erase_ids: Sequence[str] = (),
    ) -> None:
        query = (
            f"MATCH (o:{self._n.operation} {{id: $id}}) WHERE o.owner = $me"
            " SET o.counts = $counts, o.payload = null, o.updated_at = $stamp RETURN count(o)"
        )

        def work(tx: ManagedTransaction) -> None:
            self._write_history(tx, op_id, events)
            self._erase(tx, op_id, erase_ids)
            # The batch noted by note_batch() is now counted: forget it.
            self._fenced(tx, op_id, query, counts=json.dumps(counts), stamp=now().isoformat())

        self._bolt.write(work)

    def note_batch(
        self, op_id: str, memory_ids: Sequence[str], scopes: Sequence[Scope] = ()
    ) -> None:
        payload: dict[str, Any] = {"batch": list(memory_ids)}
        if scopes:
            payload["scopes"] = [[s.user_id, s.agent_id, s.run_id] for s in scopes]
        self._set(op_id, "o.payload = $payload", {"payload": json.dumps(payload)})

    def finish(
        self,
        op_id: str,
        counts: dict[str, int] | None = None,
        *,
        events: Sequence[HistoryEntry] = (),
        erase_ids: Sequence[str] = (),
        erase_scope: Scope | None = None,
        erase_everything: bool = False,
    ) -> None:
        """Mark done, drop the payload (it may hold text), and write history — atomically.
        An operation begun under its claim (``begin_claimed``) releases it here too."""
        n = self._n
        claim_id = self._claim_to_release(op_id)

        def erasing(tx: ManagedTransaction) -> None:
            if erase_scope is not None and not erase_scope.is_empty():
                self._erase_scope(tx, op_id, erase_scope)
            if not erase_everything:
                return
            # reset(): every row of this store's history, operations and time index.
            tx.run(
                f"MATCH (h:{n.history}) WHERE h.memory_id IS NOT NULL"
                " SET h.old_text = null, h.new_text = null,"
                " h.erased_by = coalesce(h.erased_by, $op)",
                op=op_id,
            ).consume()
            tx.run(
                f"MATCH (o:{n.operation}) WHERE o.id <> $op AND o.payload IS NOT NULL"
                " SET o.payload = null",
                op=op_id,
            ).consume()
            tx.run(f"MATCH (x:{n.expiry}) DELETE x").consume()

        # An erasure of a scope or of everything may null many history rows: it gets
        # longer than the lease a transaction is otherwise allowed.
        long = erase_everything or erase_scope is not None
        self._bolt.write(
            lambda tx: self._finish_work(
                tx, op_id, counts, events, erase_ids, claim_id, erasing if long else None
            ),
            timeout=max(LONG_TRANSACTION_SECONDS, self._bolt.transaction_timeout) if long else None,
        )
        self._claim_released(op_id, claim_id)

    def _finish_work(
        self,
        tx: ManagedTransaction,
        op_id: str,
        counts: dict[str, int] | None,
        events: Sequence[HistoryEntry],
        erase_ids: Sequence[str],
        claim_id: str | None,
        erasing: Callable[[ManagedTransaction], None] | None = None,
    ) -> None:
        """History, erasures by id (and ``erasing``'s), the fenced mark of done, and
        the release of the operation's claim."""
        n = self._n
        self._write_history(tx, op_id, events)
        self._erase(tx, op_id, erase_ids)
        if erasing is not None:
            erasing(tx)
        self._fenced(
            tx,
            op_id,
            f"MATCH (o:{n.operation} {{id: $id}}) WHERE o.owner = $me"
            " SET o.state = 'done', o.payload = null, o.error = null,"
            " o.counts = coalesce($counts, o.counts), o.updated_at = $stamp"
            f" WITH o CALL () {{ OPTIONAL MATCH (c:{n.claim} {{id: $claim}}) DELETE c }}"
            " RETURN count(o)",
            counts=json.dumps(counts) if counts is not None else None,
            stamp=now().isoformat(),
            claim=claim_id,
        )

    def _erase_scope(self, tx: ManagedTransaction, op_id: str, scope: Scope) -> None:
        # Property and parameter names from Scope.terms() (a fixed set); values are parameters.
        terms = [name for name, _ in scope.terms()]
        history = " AND ".join(f"h.{name} = ${name}" for name in terms)
        expiry = " AND ".join(f"x.{name} = ${name}" for name in terms)
        tx.run(
            f"MATCH (h:{self._n.history}) WHERE {history} AND h.memory_id IS NOT NULL"
            f" AND {_NOT_ERASED} SET h.old_text = null, h.new_text = null,"
            " h.erased_by = coalesce(h.erased_by, $op)",
            {**scope.parts(), "op": op_id},
        ).consume()
        tx.run(f"MATCH (x:{self._n.expiry}) WHERE {expiry} DELETE x", scope.parts()).consume()

    def pending(self, op_id: str | None = None) -> list[PendingOperation]:
        """The pending operations this process may take over, in the order begun: its
        own, and those of owners whose lease has run out. With ``op_id``, only that
        one if so, and taken over: from then on it is this process's (``recover()``
        asks under the operation's claim, just before it finishes the operation)."""
        n = self._n
        if op_id is None:
            self._state.end_leases_of_gone_owners()
            match, take = f"MATCH (o:{n.operation}) WHERE o.state = 'pending'", ""
        else:
            match = f"MATCH (o:{n.operation} {{id: $id}}) WHERE o.state = 'pending'"
            take = " SET o.owner = $me"
        query = (
            f"{match} OPTIONAL MATCH (w:{n.owner} {{id: o.owner}})"
            f" WITH o, w WHERE {_MAY_TAKE_OVER}{take}"
            f" RETURN {_PENDING_FIELDS} ORDER BY o.seq"
        )
        params = {"id": op_id, "me": self._me}
        run = self._bolt.read if op_id is None else self._bolt.write
        rows = run(lambda tx: tx.run(query, params).data())
        return [
            PendingOperation(
                id=r["id"],
                kind=r["kind"],
                scope=Scope(user_id=r["user_id"], agent_id=r["agent_id"], run_id=r["run_id"]),
                memory_id=r["memory_id"],
                payload=json.loads(r["payload"]) if r["payload"] else {},
                counts=json.loads(r["counts"]),
            )
            for r in rows
        ]

    def pending_memory_ids(self, kind: OperationKind = "add") -> set[str]:
        query = (
            f"MATCH (o:{self._n.operation}) WHERE o.state = 'pending' AND o.kind = $kind"
            " AND o.memory_id IS NOT NULL RETURN o.memory_id"
        )
        return {r[0] for r in self._bolt.read(lambda tx: tx.run(query, kind=kind).values())}

    def pending_added_ids(self) -> set[str]:
        """Of every process: reconcile must leave any half-written add to recover()."""
        query = (
            f"MATCH (o:{self._n.operation}) WHERE o.state = 'pending' AND o.kind = 'add_many'"
            " AND o.payload IS NOT NULL RETURN o.payload"
        )
        rows = self._bolt.read(lambda tx: tx.run(query).values())
        batched = {memory_id for r in rows for memory_id in json.loads(r[0]).get("ids", ())}
        return self.pending_memory_ids("add") | batched

    def operation(self, op_id: str) -> OperationInfo | None:
        query = f"MATCH (o:{self._n.operation} {{id: $id}}) RETURN {_OPERATION_FIELDS}"
        rows = self._bolt.read(lambda tx: tx.run(query, id=op_id).data())
        return OperationInfo.model_validate(_decoded(rows[0])) if rows else None

    # -- history ------------------------------------------------------------------

    def _write_history(
        self, tx: ManagedTransaction, op_id: str, events: Sequence[HistoryEntry]
    ) -> None:
        if not events:
            return
        n = self._n
        rows = [
            {
                "i": i,
                "kind": e.kind,
                "memory_id": e.memory_id,
                "old_text": e.old_text,
                "new_text": e.new_text,
                "hash": e.hash,
                "user_id": e.scope.user_id,
                "agent_id": e.scope.agent_id,
                "run_id": e.scope.run_id,
                "counts": json.dumps(e.counts) if e.counts is not None else None,
            }
            for i, e in enumerate(events)
        ]
        # Ids from the counter node: its write lock orders events of every process.
        self._counted(
            tx,
            f"MATCH (c:{n.counter} {{name: 'seq'}})"
            " SET c.history = coalesce(c.history, 0) + size($events)"
            " WITH c.history - size($events) AS base UNWIND $events AS e"
            # An event without a hash (a DELETE) takes the memory's last one.
            f" OPTIONAL MATCH (p:{n.history} {{memory_id: e.memory_id}})"
            " WHERE e.hash IS NULL AND p.hash IS NOT NULL"
            " WITH base, e, p ORDER BY p.id DESC"
            " WITH base, e, head(collect(p.hash)) AS previous"
            f" CREATE (:{n.history} {{id: base + e.i + 1, kind: e.kind,"
            " memory_id: e.memory_id, operation_id: $op, old_text: e.old_text,"
            " new_text: e.new_text, hash: coalesce(e.hash, previous), user_id: e.user_id,"
            " agent_id: e.agent_id, run_id: e.run_id, counts: e.counts, created_at: $stamp})",
            {"events": rows, "op": op_id, "stamp": now().isoformat()},
        )

    def _counted(self, tx: ManagedTransaction, query: str, params: dict[str, Any]) -> None:
        """Run a write that numbers its nodes from the counter node. MATCH, not MERGE
        (a merge lock per write cost milliseconds): the node is made on open, and made
        again here should it have been removed since, rather than create nothing."""
        if tx.run(query, params).consume().counters.nodes_created == 0:
            tx.run(f"MERGE (:{self._n.counter} {{name: 'seq'}})").consume()
            tx.run(query, params).consume()

    def _erase(self, tx: ManagedTransaction, op_id: str, memory_ids: Sequence[str]) -> None:
        if not memory_ids:
            return
        ids = list(memory_ids)
        tx.run(
            f"UNWIND $ids AS m MATCH (h:{self._n.history} {{memory_id: m}}) WHERE {_NOT_ERASED}"
            " SET h.old_text = null, h.new_text = null, h.erased_by = coalesce(h.erased_by, $op)",
            ids=ids,
            op=op_id,
        ).consume()
        # An erased memory leaves no row (and no scope id) in the time index.
        tx.run(
            f"UNWIND $ids AS m MATCH (x:{self._n.expiry} {{memory_id: m}}) DELETE x", ids=ids
        ).consume()

    def history(self, memory_id: str) -> list[HistoryEvent]:
        query = (
            f"MATCH (h:{self._n.history} {{memory_id: $id}}) RETURN {_HISTORY_FIELDS} ORDER BY h.id"
        )
        rows = self._bolt.read(lambda tx: tx.run(query, id=memory_id).data())
        return [HistoryEvent.model_validate(_decoded(r)) for r in rows]

    def close(self) -> None:
        """Release this process's lease and claims, and disconnect."""
        self._state.close()
