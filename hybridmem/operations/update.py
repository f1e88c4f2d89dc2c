"""update: a memory's new text, embedding, metadata or expiry, written to both stores.

Journaled with the new version as its payload, so that a crash between the two
store writes is finished by writing it again (the steps are idempotent)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Self

from hybridmem.errors import NotFoundError
from hybridmem.journal import HistoryEntry, PendingOperation, now
from hybridmem.models import Scope
from hybridmem.operations.context import (
    ANY_SCOPE,
    OperationContext,
    Resumed,
    close_unknown,
    expiring,
)
from hybridmem.operations.payload import PayloadError, instant, text
from hybridmem.records import VectorRecord, text_hash


@dataclass(frozen=True)
class UpdatePayload:
    """The version an update writes, and the text it replaces (for the history)."""

    text: str
    embedding: tuple[float, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    old_text: str = ""
    #: None only in a payload that did not record it: recovery stamps its own time.
    updated_at: datetime | None = None
    expires_at: datetime | None = None
    #: False only in a payload written before updates journaled the expiry:
    #: recovery then keeps the memory's stored one.
    sets_expiry: bool = True

    @classmethod
    def of(cls, old: VectorRecord, new: VectorRecord) -> UpdatePayload:
        return cls(
            text=new.text,
            embedding=tuple(new.embedding),
            metadata=dict(new.metadata),
            old_text=old.text,
            updated_at=new.updated_at,
            expires_at=new.expires_at,
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "old_text": self.old_text,
            "text": self.text,
            "embedding": list(self.embedding),
            "metadata": dict(self.metadata),
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }
        if self.sets_expiry:
            data["expires_at"] = self.expires_at.isoformat() if self.expires_at else None
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        embedding, metadata = data.get("embedding"), data.get("metadata")
        if not isinstance(embedding, list) or not all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in embedding
        ):
            raise PayloadError(f"payload field 'embedding' is not a list of numbers: {embedding!r}")
        if not isinstance(metadata, dict):
            raise PayloadError(f"payload field 'metadata' is not an object: {metadata!r}")
        return cls(
            text=text(data, "text"),
            embedding=tuple(float(x) for x in embedding),
            metadata=metadata,
            old_text=text(data, "old_text", ""),
            updated_at=instant(data, "updated_at"),
            expires_at=instant(data, "expires_at"),
            sets_expiry="expires_at" in data,
        )

    def applied_to(self, current: VectorRecord) -> VectorRecord:
        """``current`` (the stored memory) as this update leaves it."""
        new = replace(
            current,
            text=self.text,
            hash=text_hash(self.text),
            embedding=list(self.embedding),
            metadata=dict(self.metadata),
            updated_at=self.updated_at or now(),
        )
        return replace(new, expires_at=self.expires_at) if self.sets_expiry else new


def run(
    ctx: OperationContext,
    memory_id: str,
    scope: Scope,
    change: Callable[[VectorRecord], VectorRecord],
    *,
    within: Scope = ANY_SCOPE,
) -> VectorRecord:
    """Apply ``change`` to the memory as it is *under the claim* and write the result.

    The caller looked ``scope`` up without the claim (a memory's scope never
    changes); what it read may have been erased since, so the memory is read
    again here. Gone, or outside the caller's scope ``within``: NotFoundError
    (the same answer for both), and nothing is written anywhere.
    """
    with ctx.locks.records(scope, memory_id):
        # Erasures delete the vector first, so a memory they touched has none.
        found = ctx.vector.get([memory_id])
        if not found or found[0].expired(now()) or not within.matches(found[0].scope):
            # Expired: invisible to every read, so not there to update either.
            raise NotFoundError(f"memory {memory_id} not found")
        new = change(found[0])
        write(ctx, found[0], new)
        return new


def write(ctx: OperationContext, old: VectorRecord, new: VectorRecord) -> None:
    """Journal and write ``new`` over ``old``; the caller holds the memory's claim."""
    # A rewrite (add of a caller id) may give the memory another expiry.
    changed = [new] if new.expires_at != old.expires_at else []
    op_id = ctx.journal.begin(
        "update",
        scope=old.scope,
        memory_id=old.id,
        payload=UpdatePayload.of(old, new).to_json(),
        expiring=expiring(changed),
    )
    with ctx.running(op_id):
        ctx.fault("update.journaled")
        apply(ctx, op_id, old.text, new)


def apply(ctx: OperationContext, op_id: str, old_text: str, new: VectorRecord) -> None:
    ctx.vector.upsert([new])
    ctx.fault("update.vector_written")
    ctx.write_then_finish(
        op_id,
        lambda: ctx.graph.touch_memory(new.id, new.updated_at),
        "update.graph_written",
        events=[
            HistoryEntry(
                "UPDATE", new.id, new.scope, old_text=old_text, new_text=new.text, hash=new.hash
            )
        ],
    )


def claim(ctx: OperationContext, op: PendingOperation) -> AbstractContextManager[None]:
    return ctx.locks.records(op.scope, op.memory_id)


def resume(ctx: OperationContext, op: PendingOperation) -> Resumed:
    """Write the journaled version again, unless the memory is gone since."""
    if op.memory_id is None:
        return close_unknown(ctx, op)
    current = ctx.vector.get([op.memory_id])
    if not current or ctx.graph.get_memory_node(op.memory_id) is None:
        # Deleted since (or never whole): nothing to bring up to date.
        ctx.journal.finish(op.id, {"skipped": 1})
        return "completed"
    payload = UpdatePayload.from_json(op.payload)
    apply(ctx, op.id, payload.old_text, payload.applied_to(current[0]))
    return "completed"
