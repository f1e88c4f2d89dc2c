"""Expiry: the pair suite shipped in hybridmem.testing.expiry_suite, on the
production pairs (every adapter's read and write paths are in one of them), and
the refusals of a bad expiry, on the embedded default.

What a user relies on: an agent's short-lived memory (a session note, a one-time
code) is never served after its time, even before any purge ran; a search still
fills its limit with live memories; the purge takes nothing live, nothing of
another scope, and leaves no orphan, no index row and no text behind.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hybridmem import HybridStore, ValidationError
from hybridmem.testing.expiry_suite import PAST, ExpirySuite, index_rows, near
from tests.conftest import PairConfig
from tests.integration import raw


class TestExpiry(ExpirySuite):
    # Every adapter's read and write paths are in one of the production pairs.
    @pytest.fixture
    def pair_config(self, production_pair_config: PairConfig) -> PairConfig:
        return production_pair_config


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"ttl": 60, "expires_at": "2999-01-01T00:00:00Z"}, "at most one of expires_at and ttl"),
        ({"ttl": 0}, "invalid ttl"),
        ({"ttl": -5}, "invalid ttl"),
        ({"ttl": True}, "invalid ttl"),
        ({"ttl": float("nan")}, "invalid ttl"),
        ({"ttl": 10**12}, "invalid ttl"),
        ({"expires_at": PAST}, "already expired"),
        ({"expires_at": "next tuesday"}, "is not ISO 8601"),
        ({"expires_at": 1234}, "invalid expires_at"),
        ({"expires_at": datetime.now(UTC) + timedelta(days=365 * 200)}, "100 years"),
    ],
)
def test_bad_expiry_is_refused_and_nothing_is_stored(
    embedded: HybridStore, arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        embedded.add("x", embedding=near(0), user_id="frank", **arguments)
    assert embedded.get_all(user_id="frank") == []
    assert index_rows(embedded) == []
    assert raw.operation_ids(embedded.journal.path, "add") == []


def test_a_naive_expires_at_is_utc(embedded: HybridStore) -> None:
    stamp = (datetime.now(UTC) + timedelta(hours=1)).replace(tzinfo=None, microsecond=0)
    memory = embedded.add("x", embedding=near(0), user_id="gina", expires_at=stamp.isoformat())
    assert memory.expires_at == stamp.replace(tzinfo=UTC)
