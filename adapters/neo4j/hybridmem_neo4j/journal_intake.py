"""Taking a data directory's SQLite journal into the shared journal
(``hybridmem.journal_move``): each batch and the move's progress in one
transaction, so a move cut short resumes after its last batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neo4j import ManagedTransaction

from hybridmem.journal_move import MoveProgress
from hybridmem_neo4j.leases import SharedState


class Neo4jJournalIntake:
    """``hybridmem.journal_move.JournalIntake`` on the shared state of one store."""

    def __init__(self, state: SharedState) -> None:
        self._state = state
        self._n = state.names

    def progress(self, source: str) -> MoveProgress | None:
        query = (
            f"MATCH (m:{self._n.move} {{source: $source}})"
            " RETURN m.operation_seq, m.history_id, m.expiry_memory_id, m.done"
        )
        rows = self._state.bolt.read(lambda tx: tx.run(query, source=source).values())
        if not rows:
            return None
        seq, history_id, expiry_id, done = rows[0]
        return MoveProgress(int(seq), int(history_id), str(expiry_id), bool(done))

    def take(
        self,
        source: str,
        progress: MoveProgress,
        *,
        operations: Sequence[dict[str, Any]] = (),
        history: Sequence[dict[str, Any]] = (),
        expiry: Sequence[dict[str, Any]] = (),
    ) -> None:
        n = self._n
        ops = [{**r, "i": i} for i, r in enumerate(operations)]
        events = [{**r, "i": i} for i, r in enumerate(history)]

        def work(tx: ManagedTransaction) -> None:
            if ops:
                # New sequence numbers from the counter, in the local order; the
                # moving process owns them (its lease, or its lease's end, decides
                # who recovers them).
                tx.run(
                    f"MATCH (c:{n.counter} {{name: 'seq'}})"
                    " SET c.operations = coalesce(c.operations, 0) + size($rows)"
                    " WITH c.operations - size($rows) AS base UNWIND $rows AS r"
                    f" MERGE (o:{n.operation} {{id: r.id}}) ON CREATE SET"
                    " o.seq = base + r.i + 1, o.kind = r.kind, o.state = r.state,"
                    " o.user_id = r.user_id, o.agent_id = r.agent_id, o.run_id = r.run_id,"
                    " o.memory_id = r.memory_id, o.payload = r.payload,"
                    " o.counts = coalesce(r.counts, '{}'), o.error = r.error,"
                    " o.attempts = coalesce(r.attempts, 0), o.owner = $me,"
                    " o.created_at = r.created_at, o.updated_at = r.updated_at",
                    rows=ops,
                    me=self._state.owner_id,
                ).consume()
            if events:
                tx.run(
                    f"MATCH (c:{n.counter} {{name: 'seq'}})"
                    " SET c.history = coalesce(c.history, 0) + size($rows)"
                    " WITH c.history - size($rows) AS base UNWIND $rows AS e"
                    f" CREATE (:{n.history} {{id: base + e.i + 1, kind: e.kind,"
                    " memory_id: e.memory_id, operation_id: e.operation_id,"
                    " old_text: e.old_text, new_text: e.new_text, hash: e.hash,"
                    " user_id: e.user_id, agent_id: e.agent_id, run_id: e.run_id,"
                    " counts: e.counts, erased_by: e.erased_by, created_at: e.created_at})",
                    rows=events,
                ).consume()
            if expiry:
                # A row the shared state has is newer than the local one: it stays.
                tx.run(
                    f"UNWIND $rows AS r MERGE (x:{n.expiry} {{memory_id: r.memory_id}})"
                    " ON CREATE SET x.expires_at = r.expires_at, x.user_id = r.user_id,"
                    " x.agent_id = r.agent_id, x.run_id = r.run_id",
                    rows=list(expiry),
                ).consume()
            tx.run(
                f"MERGE (m:{n.move} {{source: $source}})"
                " SET m.operation_seq = $seq, m.history_id = $history_id,"
                " m.expiry_memory_id = $expiry_id, m.done = $done",
                source=source,
                seq=progress.operation_seq,
                history_id=progress.history_id,
                expiry_id=progress.expiry_memory_id,
                done=progress.done,
            ).consume()

        self._state.bolt.write(work)
