"""Erasures that outlast a request: ``DELETE /memories`` runs delete_all in a thread
of its own and answers when it is done, or, after ``[server]
erasure_wait_seconds``, 202 with the operation's URL while it goes on.

The thread is not tied to the request: a client that goes away, or a proxy that
times out, never cuts an erasure short. Should the process die, the operation is
pending in the journal and ``recover()`` finishes it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from hybridmem.models import DeleteProgress, DeleteResult, Scope
from hybridmem.store import HybridStore


@dataclass
class Erasure:
    """A delete_all running in its own thread, and what it has reported."""

    store: HybridStore
    scope: Scope
    result: DeleteResult | None = None
    error: BaseException | None = None
    progress: DeleteProgress | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def start(self) -> Erasure:
        threading.Thread(target=self._run, name="hybridmem-erasure", daemon=True).start()
        return self

    def _run(self) -> None:
        try:
            result = self.store.delete_all(
                user_id=self.scope.user_id,
                agent_id=self.scope.agent_id,
                run_id=self.scope.run_id,
                progress=self._report,
            )
        except BaseException as exc:  # handed to the request that waits, if any
            with self._changed:
                self.error = exc
                self._changed.notify_all()
            return
        with self._changed:
            self.result = result
            self._changed.notify_all()

    def _report(self, event: DeleteProgress) -> None:
        with self._changed:
            self.progress = event
            self._changed.notify_all()

    def _finished(self) -> bool:
        return self.result is not None or self.error is not None

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the end; then, if it is still running, until its
        operation is journaled (an erasure waiting for another's claim has no id
        yet). True when it has ended."""
        with self._changed:
            if self._changed.wait_for(self._finished, timeout=seconds):
                return True
            self._changed.wait_for(lambda: self._finished() or self.progress is not None)
            return self._finished()
