"""The seeded plans of the multi-process model test (tests/shared/test_worker_model.py).

Each worker gets a list of operations (JSON-ready dicts) from one seed: adds
(sometimes with a TTL of a second or two), add_many batches, updates and deletes
of memories its own plan added (with their scope), delete_all of a user,
purge_expired, exports of a user, recover. The parent chooses every memory id
and text, so it knows what an operation cut short had in flight. Users overlap
across workers. Two operations carry ``pause``: the child stops there for the
parent to SIGKILL it (one delete_all, one add_many).
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Any

from hybridmem import Scope
from hybridmem.ids import scoped_id

USERS = ("u0", "u1", "u2", "u3")
NAMES = ("Paris", "Tea", "Bob", "Rome")
Op = dict[str, Any]

#: delete_all stops between a batch's vector and graph deletes (or, when the
#: user had nothing left to erase, before its finish): half done either way.
DELETE_ALL_PAUSE = {"points": ["delete_all.vectors_deleted", "delete_all.vectors_swept"], "nth": 1}
#: add_many (batches of 2) stops with its second batch's vectors written, the
#: first batch acknowledged, the third not begun.
ADD_MANY_PAUSE = {"points": ["add_many.vector_written"], "nth": 2}


class Planner:
    def __init__(self, seed: int, export_dir: Path) -> None:
        self.rng = random.Random(seed)
        self.export_dir = export_dir
        self.exports = 0

    def memory_id(self, user: str) -> str:
        """An id of the user's scope, which the store keeps as it is given."""
        name = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        return scoped_id(Scope(user_id=user), name)

    def item(self, worker: int, user: str, ttl_share: float = 0.25) -> Op:
        memory_id = self.memory_id(user)
        return {
            "id": memory_id,
            "user": user,
            "text": f"w{worker} {memory_id[-12:]} {user} v0",
            "ttl": self.rng.choice((1.0, 2.0)) if self.rng.random() < ttl_share else None,
            "entities": self.rng.sample(NAMES, self.rng.randint(0, 2)),
        }

    def plan(self, worker: int, steps: int, kill: str | None) -> list[Op]:
        """``steps`` operations; with ``kill`` ("delete_all" / "add_many") one of
        them, about a third of the way in, pauses to be killed."""
        ops: list[Op] = []
        own: list[Op] = []
        versions: dict[str, int] = {}
        kill_at = steps // 3 + worker * 4
        for step in range(steps):
            user = self.rng.choice(USERS)
            if step == kill_at and kill == "delete_all":
                # Something of this worker's to erase first, so the pause is mid-batch.
                batch = [self.item(worker, user, ttl_share=0) for _ in range(4)]
                ops.append({"kind": "add_many", "items": batch})
                own.extend(batch)
                ops.append({"kind": "delete_all", "user": user, "pause": DELETE_ALL_PAUSE})
                continue
            if step == kill_at and kill == "add_many":
                batch = [self.item(worker, user, ttl_share=0) for _ in range(6)]
                ops.append({"kind": "add_many", "items": batch, "pause": ADD_MANY_PAUSE})
                own.extend(batch)
                continue
            roll = self.rng.random()
            if roll < 0.30:
                item = self.item(worker, user)
                ops.append({"kind": "add", **item})
                own.append(item)
            elif roll < 0.42:
                batch = [self.item(worker, user) for _ in range(self.rng.randint(2, 5))]
                ops.append({"kind": "add_many", "items": batch})
                own.extend(batch)
            elif roll < 0.58 and own:
                target = self.rng.choice(own)
                version = versions[target["id"]] = versions.get(target["id"], 0) + 1
                text = f"w{worker} {target['id'][-12:]} {target['user']} v{version}"
                ops.append(
                    {"kind": "update", "id": target["id"], "user": target["user"], "text": text}
                )
            elif roll < 0.68 and own:
                target = self.rng.choice(own)
                ops.append({"kind": "delete", "id": target["id"], "user": target["user"]})
            elif roll < 0.76:
                ops.append({"kind": "delete_all", "user": user})
            elif roll < 0.84:
                ops.append({"kind": "purge_expired"})
            elif roll < 0.93:
                self.exports += 1
                path = self.export_dir / f"export-{worker}-{self.exports}.jsonl"
                ops.append({"kind": "export", "user": user, "path": str(path)})
            else:
                ops.append({"kind": "recover"})
        # Last: take over what a killed worker left, should no one have yet.
        ops.append({"kind": "recover"})
        return ops
