"""What the workers' reports say each memory's fate must be (the model of
tests/shared/test_worker_model.py).

Every memory id is the parent's and is added by one worker's plan; updates and
deletes by id come from that worker alone, in order, so its latest acknowledged
text is known. A ``delete_all`` of the memory's user by any worker erases it
when the erasure began after the add was acknowledged; when the two overlap in
time (a killed delete_all lasts until a recover() reports it completed) either
outcome is right, but a whole one. Times are ``time.monotonic()`` of the
workers, one clock on one machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

Fate = Literal["alive", "gone", "either"]
Line = dict[str, Any]


@dataclass
class Tracked:
    id: str
    user: str
    texts: list[str]
    latest: str
    ttl: bool
    acked: tuple[float, float] | None = None
    #: Half-written when its worker was killed: recover() must roll it back.
    in_flight: bool = False
    deleted: tuple[float, float] | None = None
    #: An update answered NotFoundError: erased or expired by then.
    vanished: bool = False
    expires: float | None = None


@dataclass
class Erasure:
    user: str
    start: float
    end: float | None


@dataclass
class Export:
    user: str
    path: str
    start: float
    end: float
    wall_start: float


@dataclass
class Model:
    memories: dict[str, Tracked] = field(default_factory=dict)
    erasures: list[Erasure] = field(default_factory=list)
    exports: list[Export] = field(default_factory=list)
    recovered: list[Line] = field(default_factory=list)
    errors: list[Line] = field(default_factory=list)

    def plan(self, ops: list[Line]) -> None:
        """Know every memory a plan may add, and every text it may give it."""
        for op in ops:
            items = op["items"] if op["kind"] == "add_many" else [op] if op["kind"] == "add" else []
            for item in items:
                self.memories[item["id"]] = Tracked(
                    item["id"], item["user"], [item["text"]], item["text"], bool(item["ttl"])
                )
            if op["kind"] == "update":
                self.memories[op["id"]].texts.append(op["text"])

    def process(self, ops: list[Line], lines: list[Line], killed: int | None) -> None:
        """One process's run: ``ops`` its plan, ``lines`` what it printed,
        ``killed`` the index of the operation it was killed in."""
        answers = {line["index"]: line for line in lines if "start" in line}
        progress = [line for line in lines if line.get("kind") == "add_many_progress"]
        since = 0.0
        for index, op in enumerate(ops):
            answer = answers.get(index)
            if answer is None:
                if index == killed:
                    self._killed(op, index, progress, since)
                continue
            self._answered(op, answer)
            since = answer["end"]

    def _killed(self, op: Line, index: int, progress: list[Line], start: float) -> None:
        """``start``: when the process's previous operation answered, before this began."""
        if op["kind"] == "delete_all":
            self.erasures.append(Erasure(op["user"], start, None))
            return
        done = max((p["done"] for p in progress if p["index"] == index), default=0)
        acked_at = max((p["t"] for p in progress if p["index"] == index), default=start)
        for item in op["items"][:done]:
            self.memories[item["id"]].acked = (start, acked_at)
        for item in op["items"][done : done + 2]:
            self.memories[item["id"]].in_flight = True

    def _answered(self, op: Line, answer: Line) -> None:
        kind, span = op["kind"], (answer["start"], answer["end"])
        error = answer.get("error")
        if error is not None:
            if kind == "update" and error == "NotFoundError":
                self.memories[op["id"]].vanished = True
            else:
                self.errors.append(answer)
            return
        if kind in ("add", "add_many"):
            for memory_id, expires in answer["expires"].items():
                self.memories[memory_id].acked = span
                self.memories[memory_id].expires = expires
        elif kind == "update":
            self.memories[op["id"]].latest = op["text"]
        elif kind == "delete":
            # A plan may delete one id twice: the first delete erased it, the
            # second found nothing.
            tracked = self.memories[op["id"]]
            tracked.deleted = tracked.deleted or span
        elif kind == "delete_all":
            self.erasures.append(Erasure(op["user"], *span))
        elif kind == "export":
            self.exports.append(Export(op["user"], op["path"], *span, answer["wall_start"]))
        elif kind == "recover":
            for recovered in answer["recovered"]:
                self.recovered.append({**recovered, "end": answer["end"]})

    def close_killed_erasures(self) -> None:
        """A killed delete_all ends when a worker's recover() completed it."""
        for erasure in self.erasures:
            if erasure.end is None:
                done = [
                    r["end"]
                    for r in self.recovered
                    if (r["kind"], r["outcome"], r["user"])
                    == ("delete_all", "completed", erasure.user)
                    and r["end"] > erasure.start
                ]
                erasure.end = min(done, default=None)

    def fate(self, memory: Tracked) -> Fate:
        if memory.acked is None:
            return "gone"
        if memory.ttl or memory.deleted or memory.vanished:
            return "gone"
        either = False
        for erasure in self.erasures_of(memory.user):
            end = erasure.end if erasure.end is not None else math.inf
            if erasure.start > memory.acked[1]:
                return "gone"
            if end > memory.acked[0]:
                either = True
        return "either" if either else "alive"

    def erasures_of(self, user: str) -> list[Erasure]:
        return [e for e in self.erasures if e.user == user]

    def erased_before(self, memory: Tracked, export: Export) -> bool:
        """Certainly unreadable when the export began."""
        if memory.acked is None:
            return False
        if memory.deleted is not None and memory.deleted[1] < export.start:
            return True
        if memory.expires is not None and memory.expires < export.wall_start:
            return True
        return any(
            e.start > memory.acked[1] and e.end is not None and e.end < export.start
            for e in self.erasures_of(memory.user)
        )

    def surely_in(self, memory: Tracked, export: Export) -> bool:
        """Certainly readable all through the export."""
        if memory.acked is None or memory.acked[1] >= export.start or memory.ttl:
            return False
        if memory.deleted is not None and memory.deleted[0] < export.end:
            return False
        if memory.vanished:
            return False
        return not any(
            e.start < export.end and (e.end is None or e.end > memory.acked[0])
            for e in self.erasures_of(memory.user)
        )
