"""The shared journal's time index of expiring memories: one node per memory that
expires, by memory id and by expiry (``purge_expired`` reads it in order)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from neo4j import ManagedTransaction

from hybridmem.journal import ExpiryRow, expiry_text
from hybridmem.models import Scope
from hybridmem_neo4j.bolt import Bolt
from hybridmem_neo4j.shared_names import SharedNames


def _expiry_rows(expiring: Sequence[tuple[str, Scope, datetime]]) -> list[dict[str, Any]]:
    return [
        {
            "memory_id": m,
            "expires_at": expiry_text(at),
            "user_id": s.user_id,
            "agent_id": s.agent_id,
            "run_id": s.run_id,
        }
        for m, s, at in expiring
    ]


class ExpiryIndex:
    """The time-index half of ``Neo4jJournal``."""

    _bolt: Bolt
    _n: SharedNames

    def expired(self, at: datetime, limit: int) -> list[ExpiryRow]:
        # One record holding every row, in order: a record per row cost a Bolt
        # message each (as scope_memory_ids did; see graph.py).
        query = (
            f"MATCH (x:{self._n.expiry}) WHERE x.expires_at <= $at"
            " WITH x ORDER BY x.expires_at LIMIT $limit"
            " RETURN collect([x.memory_id, x.expires_at, x.user_id, x.agent_id, x.run_id])"
        )
        rows = self._bolt.read(
            lambda tx: tx.run(query, at=expiry_text(at), limit=limit).single(strict=True)[0]
        )
        return [
            ExpiryRow(r[0], r[1], Scope(user_id=r[2], agent_id=r[3], run_id=r[4])) for r in rows
        ]

    def forget_expiry(
        self,
        rows: Sequence[ExpiryRow],
        *,
        reindex: Sequence[tuple[str, Scope, datetime]] = (),
    ) -> None:
        if not rows and not reindex:
            return
        query = (
            f"UNWIND $rows AS r MATCH (x:{self._n.expiry} {{memory_id: r.memory_id}})"
            " WHERE x.expires_at = r.expires_at DELETE x"
        )
        stale = [{"memory_id": r.memory_id, "expires_at": r.expires_at} for r in rows]

        def work(tx: ManagedTransaction) -> None:
            tx.run(query, rows=stale).consume()
            self._index(tx, reindex)

        self._bolt.write(work)

    def _index(
        self, tx: ManagedTransaction, expiring: Sequence[tuple[str, Scope, datetime]]
    ) -> None:
        if not expiring:
            return
        tx.run(
            f"UNWIND $rows AS r MERGE (x:{self._n.expiry} {{memory_id: r.memory_id}})"
            " SET x.expires_at = r.expires_at, x.user_id = r.user_id,"
            " x.agent_id = r.agent_id, x.run_id = r.run_id",
            rows=_expiry_rows(expiring),
        ).consume()

    def expiry_of(self, memory_id: str) -> str | None:
        return self.expiries([memory_id]).get(memory_id)

    def expiries(self, memory_ids: Sequence[str]) -> dict[str, str]:
        if not memory_ids:
            return {}
        query = (
            f"UNWIND $ids AS id MATCH (x:{self._n.expiry} {{memory_id: id}})"
            " RETURN collect([x.memory_id, x.expires_at])"
        )
        ids = list(dict.fromkeys(memory_ids))
        rows = self._bolt.read(lambda tx: tx.run(query, ids=ids).single(strict=True)[0])
        return {str(m): str(e) for m, e in rows}
