"""The typed payloads of hybridmem.operations: each survives a JSON round trip
(what the journal stores), the JSON earlier versions wrote still decodes, and
recovery has a module for every kind the journal records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import pytest

from hybridmem.journal import Journal
from hybridmem.models import OperationKind, Scope
from hybridmem.operations import add, add_many, delete, erase, purge, reconcile, reset, update
from hybridmem.operations.payload import PayloadError
from hybridmem.operations.recovery import RECOVERY, handler
from hybridmem.records import VectorRecord

STAMP = datetime(2026, 1, 5, 8, 30, 15, 123456, tzinfo=UTC)
LATER = datetime(2027, 1, 1, tzinfo=UTC)

PAYLOADS: list[Any] = [
    add.AddPayload(),
    add_many.AddManyPayload(("m1", "m2")),
    update.UpdatePayload(
        text="new",
        embedding=(0.1, -2.5, 1e-9),
        metadata={"k": [1, "two"], "n": None},
        old_text="old",
        updated_at=STAMP,
        expires_at=LATER,
    ),
    update.UpdatePayload(text="no expiry", embedding=(1.0,), updated_at=STAMP),
    update.UpdatePayload(text="kept expiry", embedding=(1.0,), sets_expiry=False),
    delete.DeletePayload(),
    erase.ErasePayload(("m1", "m2", "m3")),
    erase.ErasePayload(),
    purge.PurgePayload(
        ("m1", "m2"), (Scope(user_id="u"), Scope(user_id="v", agent_id="a", run_id="r"))
    ),
    reset.ResetPayload(),
    reconcile.ReconcilePayload(),
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: type(p).__name__)
def test_every_payload_survives_the_journals_json(payload: Any) -> None:
    stored = json.loads(json.dumps(payload.to_json()))
    assert type(payload).from_json(stored) == payload


def test_an_update_payload_of_the_previous_version_decodes() -> None:
    # As 0.x's coordinator wrote it (``Coordinator._update``).
    written = {
        "old_text": "old",
        "text": "new",
        "embedding": [0.5, 0.25],
        "metadata": {"topic": "x"},
        "updated_at": STAMP.isoformat(),
        "expires_at": None,
    }
    payload = update.UpdatePayload.from_json(written)
    assert payload == update.UpdatePayload(
        text="new",
        embedding=(0.5, 0.25),
        metadata={"topic": "x"},
        old_text="old",
        updated_at=STAMP,
        expires_at=None,
    )
    assert payload.to_json() == written


def test_an_update_payload_from_before_expiry_keeps_the_stored_expiry() -> None:
    # Written before updates journaled the expiry (and updated_at): recovery keeps
    # the memory's expiry and stamps its own time.
    payload = update.UpdatePayload.from_json({"text": "new", "embedding": [1], "metadata": {}})
    assert payload.sets_expiry is False and payload.updated_at is None
    stored = VectorRecord(
        id="m",
        text="old",
        embedding=[0.0],
        hash="h",
        user_id="u",
        agent_id=None,
        run_id=None,
        created_at=STAMP,
        updated_at=STAMP,
        expires_at=LATER,
    )
    applied = payload.applied_to(stored)
    assert (applied.text, applied.embedding, applied.expires_at) == ("new", [1.0], LATER)
    assert applied.updated_at > STAMP


def test_batches_noted_by_the_journal_decode(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    try:
        scopes = [Scope(user_id="u"), Scope(user_id="v", run_id="r")]
        erasure = journal.begin("delete_all", scope=Scope(user_id="u"))
        journal.note_batch(erasure, ["a", "b"])
        purging = journal.begin("purge_expired")
        journal.note_batch(purging, ["c", "d"], scopes)
        batch = journal.begin("add_many", payload=add_many.AddManyPayload(("e",)).to_json())
        pending = {op.id: op.payload for op in journal.pending()}
    finally:
        journal.close()
    assert erase.ErasePayload.from_json(pending[erasure]) == erase.ErasePayload(("a", "b"))
    assert purge.PurgePayload.from_json(pending[purging]) == purge.PurgePayload(
        ("c", "d"), tuple(scopes)
    )
    assert add_many.AddManyPayload.from_json(pending[batch]).ids == ("e",)
    # Between batches the journal keeps no payload: nothing to resume first.
    assert erase.ErasePayload.from_json({}) == erase.ErasePayload()


@pytest.mark.parametrize(
    ("decode", "data"),
    [
        (add_many.AddManyPayload.from_json, {"ids": "m1"}),
        (update.UpdatePayload.from_json, {"text": "t", "embedding": ["x"], "metadata": {}}),
        (update.UpdatePayload.from_json, {"embedding": [1.0], "metadata": {}}),
        (
            update.UpdatePayload.from_json,
            {"text": "t", "embedding": [1.0], "metadata": {}, "updated_at": "soon"},
        ),
        (purge.PurgePayload.from_json, {"batch": ["m"], "scopes": [["u"]]}),
    ],
)
def test_a_damaged_payload_is_refused_by_name(decode: Any, data: dict[str, Any]) -> None:
    # Recovery of that operation fails alone (and is set aside after its attempts).
    with pytest.raises(PayloadError, match="payload"):
        decode(data)


def test_recovery_has_a_module_for_every_kind_the_journal_records() -> None:
    recorded = set(get_args(OperationKind))
    assert set(RECOVERY) == recorded
    for kind in recorded:
        assert callable(handler(kind).claim) and callable(handler(kind).resume)
    assert RECOVERY["delete_all"] is erase and RECOVERY["purge_expired"] is purge
    # A kind only a newer (or an older) version knows gets a handler that closes it.
    for kind in ("from_a_newer_version", "migrate_graph_labels"):
        assert handler(kind) not in RECOVERY.values()
