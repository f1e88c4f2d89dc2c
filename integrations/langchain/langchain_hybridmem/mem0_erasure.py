"""Erasing a mem0 user (agent, run) everywhere: hybridmem's two stores and mem0's
own history database.

mem0 keeps, beside its vector store, a SQLite database (``history_db_path``):

* ``history``: one row per ADD / UPDATE / DELETE of a memory, keyed by mem0's
  memory id, holding the old and new text. mem0's own ``delete`` and
  ``delete_all`` *add* a DELETE row that keeps the erased text;
* ``messages``: the last ten messages of each session scope (``user_id=…`` and
  so on), the raw conversation ``add(..., infer=True)`` was given.

Neither carries hybridmem's scope, so hybridmem's ``delete_all`` cannot reach
them. :func:`erase_mem0_scope` does all of it: it lists the scope's mem0 ids
(of its memories, and of the tombstones mem0's deletes left),
deletes their ``history`` rows and the scope's ``messages`` rows, then runs
hybridmem's ``delete_all`` (journaled: both stores, and hybridmem's history).
"""

from __future__ import annotations

from typing import Any

from hybridmem.models import DeleteResult, Scope
from hybridmem.validation import scope_from
from langchain_hybridmem.mem0 import MEM0_ID_KEY, MEM0_MARKER_KEY, HybridMemMem0VectorStore


def erase_mem0_scope(
    memory: Any,
    vectorstore: HybridMemMem0VectorStore,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
) -> DeleteResult:
    """Erase everything of the scope: mem0's history and messages rows for it,
    then hybridmem's ``delete_all`` (every memory of the scope, mem0's or not).

    ``memory`` is the ``mem0.Memory`` whose vector store is ``vectorstore``.
    Safe to run again after a failure part way."""
    scope = scope_from(user_id, agent_id, run_id)
    listed = vectorstore.store.get_all(
        user_id=scope.user_id,
        agent_id=scope.agent_id,
        run_id=scope.run_id,
        filters={MEM0_MARKER_KEY: {"$in": [True, False]}},
    )
    mem0_ids = [str(m.metadata[MEM0_ID_KEY]) for m in listed]
    _clear_history_db(memory.db, mem0_ids, scope)
    return vectorstore.store.delete_all(
        user_id=scope.user_id, agent_id=scope.agent_id, run_id=scope.run_id
    )


def _clear_history_db(db: Any, mem0_ids: list[str], scope: Scope) -> None:
    """Delete the ids' history rows and the scope's message rows, in one transaction
    under mem0's own lock (``mem0.memory.storage.SQLiteManager``)."""
    wanted = {f"{name}={_escaped(value)}" for name, value in scope.parts().items()}
    with db._lock:
        connection = db.connection
        sessions = [
            row[0]
            for row in connection.execute("SELECT DISTINCT session_scope FROM messages")
            if row[0] is not None and wanted <= set(str(row[0]).split("&"))
        ]
        connection.execute("BEGIN")
        try:
            connection.executemany(
                "DELETE FROM history WHERE memory_id = ?", [(i,) for i in mem0_ids]
            )
            connection.executemany(
                "DELETE FROM messages WHERE session_scope = ?", [(s,) for s in sessions]
            )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise


def _escaped(value: str) -> str:
    # mem0's session scope key escapes its delimiters this way (_escape_scope_value).
    return value.replace("%", "%25").replace("&", "%26").replace("=", "%3D")
