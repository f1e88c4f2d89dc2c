"""Operations that outlast a request: ``DELETE /memories`` (delete_all) and ``POST
/compact`` run in a thread of their own and answer when they are done, or, after
``[server] erasure_wait_seconds``, 202 with the operation's URL while they go on.

The URL is ``GET /operations/{id}``: the journal's record, which every process
reading the journal resolves (with a shared journal, any worker of ``hybridmem
serve --workers N``), not this process's memory. The id is chosen here before
the operation runs (:mod:`hybridmem.operation_ids`), so an operation still
waiting for another's claim (an overlapping delete_all, a compaction holding the
whole store) is answered at once too, ``queued``. A queued delete_all is
journaled already (it is journaled before it waits): its URL answers its pending
record, and should this worker die, any process's ``recover()`` runs it. A queued
compaction's URL answers 404 until it begins, then its record.

The thread is not tied to the request: a client that goes away, or a proxy that
times out, never cuts an operation short. Should the process die once it is
journaled, the operation is pending and ``recover()`` finishes it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from fastapi.responses import JSONResponse

from hybridmem.models import DeleteProgress, ErasureAccepted, OperationKind, Scope
from hybridmem.operation_ids import new_operation_id, reserved, watching
from hybridmem.store import HybridStore

R = TypeVar("R")

#: Finished operations a process remembers (their errors and full results).
REMEMBERED = 256
#: How long a 202 waits for a journaled erasure's count, so that it says its total.
COUNTING_SECONDS = 2.0


@dataclass
class Background(Generic[R]):
    """One operation running in its own thread, and what it has reported."""

    kind: OperationKind
    work: Callable[[Callable[[Any], None]], R]
    scope: Scope = field(default_factory=Scope)
    operation_id: str = field(default_factory=new_operation_id)
    result: R | None = None
    error: BaseException | None = None
    progress: Any = None
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _claimed: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Background[R]:
        name = f"hybridmem-{self.kind}"
        threading.Thread(target=self._run, name=name, daemon=True).start()
        return self

    def _run(self) -> None:
        try:
            with reserved(self.kind, self.operation_id), watching(self._claimed.set):
                result = self.work(self._report)
        except BaseException as exc:  # handed to the request that waits, if any
            with self._changed:
                self.error = exc
                self._changed.notify_all()
            return
        with self._changed:
            self.result = result
            self._changed.notify_all()

    def _report(self, event: Any) -> None:
        with self._changed:
            self.progress = event
            self._changed.notify_all()

    def finished(self) -> bool:
        return self.result is not None or self.error is not None

    def wait(self, seconds: float) -> bool:
        """True when it ended within ``seconds``."""
        with self._changed:
            return self._changed.wait_for(self.finished, timeout=seconds)

    def answer(self, store: HybridStore, seconds: float) -> Any:
        """The result, or the error, when it ends within ``seconds``; else 202."""
        if self.wait(seconds):
            if self.error is not None:
                raise self.error
            return self.result
        # A delete_all is journaled before it waits for its claim, and says when it
        # holds it; a compaction is journaled once it holds the whole store (on a
        # server pair it reports no progress before its end). One that began has
        # counted its scope first.
        if self.kind == "delete_all":
            began = self._claimed.is_set()
        else:
            began = store.operation(self.operation_id) is not None
        if began:
            with self._changed:
                self._changed.wait_for(
                    lambda: self.finished() or self.progress is not None, timeout=COUNTING_SECONDS
                )
        done, total = 0, 0
        if isinstance(self.progress, DeleteProgress):
            done, total = self.progress.done, self.progress.total
        url = f"/operations/{self.operation_id}"
        accepted = ErasureAccepted(
            operation_id=self.operation_id,
            status="running" if began else "queued",
            url=url,
            scope=self.scope,
            done=done,
            total=total,
        )
        return JSONResponse(
            accepted.model_dump(mode="json"), status_code=202, headers={"Location": url}
        )


def accepted_response(doing: str) -> dict[int | str, dict[str, Any]]:
    """The 202 a route that runs an operation in the background documents."""
    return {
        202: {
            "model": ErasureAccepted,
            "description": f"still {doing}, or waiting for another operation's claim"
            " (`queued`), after [server] erasure_wait_seconds: it goes on; its record is"
            " at `url` (also the Location header): a queued delete_all's is pending"
            " already, a queued compaction's is 404 until it begins",
        }
    }


class Started:
    """The operations this process ran in the background, the newest
    :data:`REMEMBERED`: the worker that ran one knows its error when it failed
    before the journal had it, and a compaction's full report (paths, bytes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: OrderedDict[str, Background[Any]] = OrderedDict()

    def run(self, operation: Background[R]) -> Background[R]:
        with self._lock:
            self._by_id[operation.operation_id] = operation
            while len(self._by_id) > REMEMBERED:
                self._by_id.popitem(last=False)
        return operation.start()

    def get(self, operation_id: str) -> Background[Any] | None:
        with self._lock:
            return self._by_id.get(operation_id)
