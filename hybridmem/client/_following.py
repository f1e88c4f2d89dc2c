"""Following an operation the server answered 202 for (``delete_all``, ``compact``),
shared by the sync and the async client: they only send :meth:`Watch.poll`'s
request, hand the answer to :meth:`Watch.step`, and sleep :attr:`Watch.pause`
until it returns the result.

The operation's URL is its journal record, ``GET /operations/{id}``, which any
worker of the server resolves. A ``delete_all`` the server answered ``queued``
(waiting for another operation's claim) is journaled already: its record is
pending, followed as a running one. A queued compaction is 404 until it begins:
the watch waits for it at most :data:`QUEUED_SECONDS`, then raises
StoreUnavailableError (the server that held it died before it began, or it failed
there; the worker that ran it answers its error).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import TypeAdapter

from hybridmem.client._calls import Call, operation
from hybridmem.errors import StoreError, StoreUnavailableError
from hybridmem.models import (
    CompactionProgress,
    CompactionProgressCallback,
    CompactionReport,
    DeleteProgress,
    DeleteResult,
    ErasureAccepted,
    OperationInfo,
    ProgressCallback,
)
from hybridmem.plan import DELETE_ALL_MESSAGE

T = TypeVar("T")

#: How long a queued operation may stay unjournaled (404) before the client gives up:
#: it waits behind one other operation, a compaction at worst.
QUEUED_SECONDS = 3600.0
#: Seconds between polls.
POLL_SECONDS = 0.5

_SERVER = "hybridmem server"


@dataclass
class Watch(ABC, Generic[T]):
    accepted: ErasureAccepted
    #: time.monotonic() when the call was made.
    started: float
    #: Seconds to sleep before the next poll.
    pause: float = POLL_SECONDS
    _journaled: bool = field(default=False, init=False)

    def poll(self) -> Call[Any]:
        return operation(self.accepted.operation_id)

    @abstractmethod
    def step(self, answer: Any, now: float) -> T | None:
        """The result once the operation is done; None while it runs or waits."""

    def done_record(self, info: OperationInfo | None, now: float) -> OperationInfo | None:
        """The operation's record once it is done; None while it runs or is queued."""
        url = self.accepted.url
        if info is None:
            if self._journaled or self.accepted.status != "queued":
                raise StoreError(_SERVER, url, "the operation's record is not in the journal")
            if now - self.started > QUEUED_SECONDS:
                raise StoreUnavailableError(
                    _SERVER, url, f"the operation did not begin within {QUEUED_SECONDS:.0f} s"
                )
            return None
        self._journaled = True
        if info.state == "set_aside":
            raise StoreError(_SERVER, url, info.error or "set aside")
        return info if info.state == "done" else None


@dataclass
class ErasureWatch(Watch[DeleteResult]):
    """A delete_all: progress after every poll (memories erased so far), and the
    DeleteResult the in-process call returns, built from the record's counts."""

    progress: ProgressCallback | None = None

    def __post_init__(self) -> None:
        self._report(self.accepted.done, "deleting")

    def step(self, answer: Any, now: float) -> DeleteResult | None:
        info: OperationInfo | None = answer
        done = self.done_record(info, now)
        if done is None:
            self._report((info.counts if info else {}).get("memories", 0), "deleting")
            return None
        result = DeleteResult.model_validate(
            {
                "message": DELETE_ALL_MESSAGE,
                "operation_id": done.id,
                "scope": self.accepted.scope,
                "elapsed_seconds": now - self.started,
                **{k: v for k, v in done.counts.items() if k in _RESULT_COUNTS},
            }
        )
        self._report(result.memories, "done")
        return result

    def _report(self, done: int, phase: Literal["deleting", "done"]) -> None:
        if self.progress is not None:
            total = max(self.accepted.total, done)
            self.progress(
                DeleteProgress(
                    operation_id=self.accepted.operation_id, phase=phase, done=done, total=total
                )
            )


_RESULT_COUNTS = ("memories", "vectors", "memory_nodes", "relations", "orphan_entities")

_REPORT: TypeAdapter[CompactionReport] = TypeAdapter(CompactionReport)


@dataclass
class CompactionWatch(Watch[CompactionReport]):
    """A compaction: its record polled until done, then its report read from
    ``GET /compactions/{id}``. The journal records no phase of a compaction: the
    callback hears its end, as a compaction answered at once."""

    progress: CompactionProgressCallback | None = None
    _finished: bool = field(default=False, init=False)

    def poll(self) -> Call[Any]:
        if self._finished:
            return Call("GET", f"/compactions/{self.accepted.operation_id}", _REPORT)
        return super().poll()

    def step(self, answer: Any, now: float) -> CompactionReport | None:
        if self._finished:
            finished(self.progress)
            report: CompactionReport = answer
            return report
        self._finished = self.done_record(answer, now) is not None
        self.pause = 0.0 if self._finished else POLL_SECONDS
        return None


def finished(progress: CompactionProgressCallback | None) -> None:
    """HTTP carries no phase of a compaction: the callback hears its end only."""
    if progress is not None:
        progress(CompactionProgress(phase="done", done=1, total=1))
