"""The one validator's bounds, as every surface sees them (here through the Python API)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from hybridmem import HybridStore, ValidationError
from hybridmem.float32 import FLOAT32_MAX, FLOAT32_MIN_NORMAL, MAX_SQUARED_NORM
from hybridmem.validation import (
    MAX_LIMIT,
    MAX_METADATA_BYTES,
    MAX_METADATA_DEPTH,
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


def test_a_limit_of_one_is_allowed() -> None:
    assert check_limit(1) == 1
    assert check_limit(1, "top_k") == 1
    with pytest.raises(ValidationError) as caught:
        check_limit(0, "top_k")
    assert str(caught.value) == f"invalid top_k: must be an integer from 1 to {MAX_LIMIT}, got 0"


def test_embedding_norms_on_the_bounds_are_kept() -> None:
    # 2**-63 squared is FLOAT32_MIN_NORMAL, the smallest squared norm allowed.
    assert math.sqrt(FLOAT32_MIN_NORMAL) == 2.0**-63
    assert check_embedding([2.0**-63]) == [2.0**-63]
    with pytest.raises(ValidationError, match="too close to zero"):
        check_embedding([math.nextafter(2.0**-63, 0.0)])
    # sqrt(MAX_SQUARED_NORM) squares back to exactly MAX_SQUARED_NORM, the largest allowed.
    largest = math.sqrt(MAX_SQUARED_NORM)
    assert largest * largest == MAX_SQUARED_NORM
    assert check_embedding([largest]) == [largest]
    assert check_embedding([0, largest]) == [0.0, largest]
    with pytest.raises(ValidationError, match="overflows float32"):
        check_embedding([math.nextafter(largest, math.inf)])


def test_a_component_equal_to_the_float32_maximum_is_not_beyond_float32() -> None:
    """It is a float32 value; what refuses it is its square (the norm's bound)."""
    for embedding in ([FLOAT32_MAX, 0.0], [FLOAT32_MAX, 0], [-FLOAT32_MAX, 0]):
        with pytest.raises(ValidationError, match="overflows float32"):
            check_embedding(embedding)
    with pytest.raises(ValidationError, match="beyond float32"):
        check_embedding([math.nextafter(FLOAT32_MAX, math.inf), 0])


def test_an_integer_too_large_for_a_float_is_a_validation_error() -> None:
    for huge in (10**400, -(10**400)):
        with pytest.raises(ValidationError) as caught:
            check_embedding([huge, 1.0])
        assert str(caught.value) == (
            "invalid embedding: an integer element of 1329 bits is beyond float32"
            " (|x| <= 3.403e+38)"
        )


def test_metadata_of_exactly_the_byte_bound_is_kept() -> None:
    # '{"k": "' + text + '"}' is 9 bytes more than the text.
    at_bound = {"k": "x" * (MAX_METADATA_BYTES - 9)}
    assert check_metadata(at_bound) == at_bound
    with pytest.raises(ValidationError) as caught:
        check_metadata({"k": "x" * (MAX_METADATA_BYTES - 8)})
    assert str(caught.value) == (
        f"invalid metadata: {MAX_METADATA_BYTES + 1} bytes as JSON,"
        f" at most {MAX_METADATA_BYTES} allowed"
    )


def test_metadata_size_counts_utf8_bytes_not_escapes() -> None:
    # 30,000 "é" are 60,000 bytes of UTF-8 (they would be 180,000 as \u00e9 escapes).
    accented = {"t": "é" * 30_000}
    assert check_metadata(accented) == accented
    with pytest.raises(ValidationError, match="65545 bytes as JSON"):
        check_metadata({"t": "é" * 32_768})


def _nested_lists(levels: int) -> dict[str, Any]:
    """An object (level 1) holding lists nested down to level ``levels``."""
    value: list[Any] = []
    for _ in range(levels - 2):
        value = [value]
    return {"k": value}


def test_lists_count_as_levels_of_depth() -> None:
    assert check_metadata(_nested_lists(MAX_METADATA_DEPTH)) == _nested_lists(MAX_METADATA_DEPTH)
    with pytest.raises(ValidationError) as caught:
        check_metadata(_nested_lists(MAX_METADATA_DEPTH + 1))
    path = "metadata['k']" + "[0]" * (MAX_METADATA_DEPTH - 1)
    assert str(caught.value) == (
        f"invalid metadata: nested deeper than {MAX_METADATA_DEPTH} levels (at {path})"
    )


def test_metadata_integers_must_fit_in_64_bits() -> None:
    # Beyond 64 bits a number filter would compare a rounded copy, and 10**5000
    # made json.dumps raise a plain ValueError (Python's 4300-digit limit).
    edge = {"lo": -(2**63), "hi": 2**63 - 1}
    assert check_metadata(edge) == edge
    for huge, bits in ((2**63, 64), (-(2**63) - 1, 64), (10**5000, 16610)):
        with pytest.raises(ValidationError) as caught:
            check_metadata({"a": [1, {"n": huge}]})
        assert str(caught.value) == (
            f"invalid metadata: the integer at metadata['a'][1]['n'] has {bits} bits;"
            " integers must fit in 64 bits (-2**63 to 2**63-1)"
        )
