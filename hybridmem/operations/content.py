"""When two versions of a memory are the same: a write of a caller-chosen id
that changes nothing is no write at all (add, add_many)."""

from __future__ import annotations

import math
from datetime import timedelta

from hybridmem.records import VectorRecord

#: Expiries this close are one: a store may keep a date at millisecond precision.
_EXPIRY_TOLERANCE = timedelta(milliseconds=1)


def same_content(old: VectorRecord, new: VectorRecord) -> bool:
    """Same text, metadata, expiry and embedding — the stored one read back as float32."""
    if (old.text, old.metadata, len(old.embedding)) != (new.text, new.metadata, len(new.embedding)):
        return False
    if (old.expires_at is None) != (new.expires_at is None) or (
        old.expires_at is not None
        and new.expires_at is not None
        and abs(old.expires_at - new.expires_at) > _EXPIRY_TOLERANCE
    ):
        return False
    return all(
        math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)
        for a, b in zip(old.embedding, new.embedding, strict=True)
    )
