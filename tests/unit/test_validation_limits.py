"""The one validator's bounds, as every surface sees them (here through the Python API)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from hybridmem import HybridStore, ValidationError
from hybridmem.validation import (
    MAX_LIMIT,
    MAX_METADATA_BYTES,
    MAX_METADATA_DEPTH,
    MAX_SQUARED_NORM,
    check_embedding,
    check_limit,
    check_metadata,
    check_text,
)


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"k": value}
    return value


def test_limits_are_bounded_in_one_place(embedded: HybridStore) -> None:
    assert check_limit(MAX_LIMIT) == MAX_LIMIT
    for bad in (0, MAX_LIMIT + 1, 2**63, 10**30, True, 1.0, "5"):
        with pytest.raises(ValidationError, match="invalid limit"):
            check_limit(bad)
    with pytest.raises(ValidationError, match=f"from 1 to {MAX_LIMIT}"):
        embedded.get_all(user_id="u", limit=2**63)
    with pytest.raises(ValidationError, match="invalid limit"):
        embedded.search([1.0, 0.0], user_id="u", limit=10**30)


@pytest.mark.parametrize(
    "metadata",
    [
        {"k": "\udc00"},
        {"\ud800": 1},
        {"a": [{"b": "x\udfff"}]},
        {1: "int key"},
        {"nan": math.nan},
        {"obj": object()},
        _nested(MAX_METADATA_DEPTH + 1),
        {"big": "x" * MAX_METADATA_BYTES},
    ],
)
def test_metadata_outside_the_bounds_is_refused(embedded: HybridStore, metadata: Any) -> None:
    with pytest.raises(ValidationError, match="invalid metadata"):
        embedded.add("t", embedding=[1.0, 0.0], user_id="u", metadata=metadata)
    kept = embedded.add("kept", embedding=[1.0, 0.0], user_id="u")
    with pytest.raises(ValidationError, match="invalid metadata"):
        embedded.update(kept.id, metadata=metadata)
    assert embedded.get(kept.id) == kept, "a refused update changed the memory"
    assert [m.id for m in embedded.get_all(user_id="u")] == [kept.id]
    assert [e.kind for e in embedded.history(kept.id)] == ["ADD"]


def test_metadata_at_the_bounds_is_kept() -> None:
    assert check_metadata(_nested(MAX_METADATA_DEPTH)) == _nested(MAX_METADATA_DEPTH)
    assert check_metadata({"emoji": "😀", "t": (1, 2)}) == {"emoji": "😀", "t": [1, 2]}


def test_text_with_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(ValidationError, match="lone surrogate"):
        check_text("a\udc00b")


def test_an_embedding_whose_squared_norm_overflows_float32_is_refused() -> None:
    with pytest.raises(ValidationError, match="overflows float32") as info:
        check_embedding([3e38] * 8)
    assert f"{MAX_SQUARED_NORM:.4g}" in str(info.value), "the error states the bound"
    largest = math.sqrt(MAX_SQUARED_NORM / 2) * 0.999
    assert check_embedding([largest, largest])
