"""One worker process of the multi-process model test: runs its plan and reports.

Usage: python -m tests.shared.model_child CONFIG_JSON PLAN_FILE

Prints one JSON object a line on stdout: ``started``, then per operation its
index, kind, ``start`` / ``end`` (``time.monotonic()``: one clock for every
process of the machine) and what it answered (``error`` names a hybridmem error
class); after each add_many batch an ``add_many_progress`` line (the batches
before it are acknowledged even if the process dies in the next); ``paused``
when an operation with ``pause`` reaches its point (the parent kills it); and
``finished``.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hybridmem import HybridStore, Scope
from hybridmem.errors import HybridMemError
from hybridmem.models import AddProgress
from hybridmem.portability import write_export
from hybridmem.testing.builders import embedding


def say(line: dict[str, Any]) -> None:
    print(json.dumps(line), flush=True)


class Pause:
    """The fault hook: stop for good at the ``nth`` point of ``points`` reached
    while an operation with ``pause`` runs."""

    def __init__(self) -> None:
        self.points: list[str] = []
        self.nth = 0
        self.seen = 0
        self.index = -1

    def arm(self, index: int, pause: dict[str, Any] | None) -> None:
        self.index = index
        self.points = list(pause["points"]) if pause else []
        self.nth = pause["nth"] if pause else 0
        self.seen = 0

    def __call__(self, point: str) -> None:
        if point in self.points:
            self.seen += 1
            if self.seen == self.nth:
                say({"kind": "paused", "point": point, "index": self.index})
                while True:
                    time.sleep(60)


def _expiry(item: dict[str, Any]) -> datetime | None:
    ttl = item.get("ttl")
    return datetime.now(UTC) + timedelta(seconds=ttl) if ttl else None


def _stamp(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


def _item(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "memory_id": item["id"],
        "text": item["text"],
        "embedding": embedding(item["text"]),
        "user_id": item["user"],
        "entities": [{"name": n, "type": "thing"} for n in item["entities"]],
        "expires_at": _expiry(item),
    }


def perform(store: HybridStore, index: int, op: dict[str, Any]) -> dict[str, Any]:
    kind = op["kind"]
    if kind == "add":
        memory = store.add(
            op["text"],
            embedding=embedding(op["text"]),
            user_id=op["user"],
            memory_id=op["id"],
            entities=[{"name": n, "type": "thing"} for n in op["entities"]],
            expires_at=_expiry(op),
        )
        return {"expires": {memory.id: _stamp(memory.expires_at)}}
    if kind == "add_many":

        def progress(update: AddProgress) -> None:
            say(
                {
                    "kind": "add_many_progress",
                    "index": index,
                    "done": update.done,
                    "t": time.monotonic(),
                }
            )

        items = [_item(i) for i in op["items"]]
        result = store.add_many(items, batch_size=2, progress=progress)
        return {
            "added": result.added,
            "expires": {i["memory_id"]: _stamp(i["expires_at"]) for i in items},
        }
    if kind == "update":
        store.update(op["id"], text=op["text"], embedding=embedding(op["text"]), user_id=op["user"])
        return {}
    if kind == "delete":
        return {"memories": store.delete(op["id"], user_id=op["user"]).memories}
    if kind == "delete_all":
        return {"memories": store.delete_all(user_id=op["user"]).memories}
    if kind == "purge_expired":
        return {"memories": store.purge_expired().memories}
    if kind == "export":
        # The export's wall-clock start: expiry times are wall-clock.
        started = datetime.now(UTC).timestamp()
        with Path(op["path"]).open("w", encoding="utf-8") as out:
            counts = write_export(store, out, Scope(user_id=op["user"]))
        return {"wall_start": started, **counts}
    if kind == "recover":
        recovered = []
        for r in store.recover():
            info = store.operation(r.operation_id)
            user = info.user_id if info is not None else None
            recovered.append({"kind": r.kind, "outcome": r.outcome, "user": user})
        return {"recovered": recovered}
    raise ValueError(kind)


def main() -> None:
    config = json.loads(sys.argv[1])
    plan = json.loads(Path(sys.argv[2]).read_text())
    pause = Pause()
    with HybridStore({**config, "recover_on_open": False}, fault_hook=pause) as store:
        say({"kind": "started"})
        for index, op in enumerate(plan):
            pause.arm(index, op.get("pause"))
            start = time.monotonic()
            try:
                answer = perform(store, index, op)
            except HybridMemError as exc:
                answer = {"error": type(exc).__name__, "message": str(exc)[:300]}
            say(
                {
                    "index": index,
                    "kind": op["kind"],
                    "start": start,
                    "end": time.monotonic(),
                    **answer,
                }
            )
    say({"kind": "finished"})


if __name__ == "__main__":
    main()
