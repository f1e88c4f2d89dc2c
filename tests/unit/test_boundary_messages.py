"""What the boundary checks say, word for word, and where their bounds sit
(limits: tests/unit/test_validation_limits.py)."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from hybridmem.errors import MissingScopeError, ValidationError
from hybridmem.validation import (
    check_embedding,
    check_id,
    check_memory_id,
    check_metadata,
    check_name,
    check_text,
    scope_from,
)


def test_memory_id_messages_name_the_problem() -> None:
    with pytest.raises(ValidationError) as wrong_type:
        check_memory_id(12)
    assert str(wrong_type.value) == "invalid memory_id: must be a string, not int"
    long = "x" * 200
    with pytest.raises(ValidationError) as not_uuid:
        check_memory_id(long)
    assert str(not_uuid.value) == f"invalid memory_id: {'x' * 80!r} is not a UUID"


def test_name_messages_name_the_parameter() -> None:
    with pytest.raises(ValidationError) as wrong_type:
        check_name("entities[0].name", 3.5)
    assert str(wrong_type.value) == "invalid entities[0].name: must be a string, not float"


def test_names_may_be_1024_characters_and_no_more() -> None:
    assert check_name("entities[0].name", "n" * 1024) == "n" * 1024
    with pytest.raises(ValidationError, match="at most 1024 characters"):
        check_name("entities[0].name", "n" * 1025)


def _message(check: Callable[..., object], *args: object) -> str:
    with pytest.raises(ValidationError) as caught:
        check(*args)
    return str(caught.value)


def test_scope_messages_name_the_parameter_and_the_fault() -> None:
    assert _message(check_id, "agent_id", 7) == "invalid agent_id: must be a string, not int"
    assert _message(check_id, "run_id", " ") == (
        "invalid run_id: must not be empty or only white space"
    )
    with pytest.raises(MissingScopeError) as missing:
        scope_from()
    assert str(missing.value) == "At least one of user_id, agent_id or run_id is required."


def test_text_messages_name_the_parameter_and_the_fault() -> None:
    assert _message(check_text, 5) == "invalid text: must be a string, not int"
    assert _message(check_text, b"x", "query") == "invalid query: must be a string, not bytes"
    assert _message(check_text, "a\x00b") == "invalid text: contains a NUL character"
    assert _message(check_text, "ab\udc00") == (
        "invalid text: contains a lone surrogate '\\udc00' at position 2 (not UTF-8 encodable)"
    )
    assert _message(check_text, "\ud800", "query") == (
        "invalid query: contains a lone surrogate '\\ud800' at position 0 (not UTF-8 encodable)"
    )


def test_name_messages_show_the_control_character() -> None:
    assert _message(check_name, "entities[1].type", "per\x1bson") == (
        "invalid entities[1].type: contains control character '\\x1b'"
    )


class _Array:
    """Anything with tolist() is taken as an array (numpy's, for example)."""

    def __init__(self, value: object) -> None:
        self.value = value

    def tolist(self) -> object:
        return self.value


NOT_A_SEQUENCE = "invalid embedding: must be a sequence of numbers"


def test_embedding_messages_say_what_is_expected() -> None:
    for not_a_sequence in (5, None, "abc", b"ab", {1.0, 2.0}, {"x": 1.0}, _Array(1.0)):
        assert _message(check_embedding, not_a_sequence) == NOT_A_SEQUENCE, not_a_sequence
    assert _message(check_embedding, []) == "invalid embedding: must not be empty"
    assert _message(check_embedding, _Array([])) == "invalid embedding: must not be empty"
    for not_numbers in ([1.0, "2"], [1.0, None], [False, 1.0], (1.0, b"2")):
        assert _message(check_embedding, not_numbers) == (
            "invalid embedding: every element must be a number"
        ), not_numbers
    for not_finite in ([1.0, float("inf")], [1, float("nan")]):
        assert _message(check_embedding, not_finite) == (
            "invalid embedding: every element must be finite"
        )
    assert _message(check_embedding, [0, 0.0]) == (
        "invalid embedding: must not be all zeros (or too close to zero)"
    )
    assert _message(check_embedding, [1e39, 0]) == (
        "invalid embedding: element 1e+39 is beyond float32 (|x| <= 3.403e+38)"
    )


def test_embeddings_with_tolist_or_ints_are_read_as_floats() -> None:
    assert check_embedding(_Array([1.0, 0.5])) == [1.0, 0.5]
    assert check_embedding([1, 0]) == [1.0, 0.0]
    assert check_embedding(_Array([0, 2])) == [0.0, 2.0]
    assert all(type(x) is float for x in check_embedding([1, 2.5]))
    numpy = pytest.importorskip("numpy")
    assert check_embedding(numpy.array([0.25, 1.0], dtype=numpy.float32)) == [0.25, 1.0]


def test_metadata_messages_name_the_path_of_the_bad_value() -> None:
    assert _message(check_metadata, ["k"]) == "invalid metadata: must be a JSON object (a dict)"
    assert _message(check_metadata, {"a": [1, {"b": math.nan}]}) == (
        "invalid metadata: the value at metadata['a'][1]['b'] is nan, not JSON"
    )
    assert _message(check_metadata, {"s": {1, 2}}) == (
        "invalid metadata: the value at metadata['s'] is a set, not JSON"
    )
    assert _message(check_metadata, {"a": {7: "x"}}) == (
        "invalid metadata: keys must be strings, got int 7 at metadata['a']"
    )
    assert _message(check_metadata, {"a": ["x\udc00"]}) == (
        "invalid metadata: the value at metadata['a'][0] contains a lone surrogate '\\udc00'"
        " at position 1 (not UTF-8 encodable)"
    )
    assert _message(check_metadata, {"a": {"\ud800k": 1}}) == (
        "invalid metadata: a key at metadata['a'] contains a lone surrogate '\\ud800'"
        " at position 0 (not UTF-8 encodable)"
    )


def test_a_long_metadata_path_is_cut_at_120_characters() -> None:
    # The path of key k is "metadata['" + k + "']": 12 characters more than the key.
    fits = "k" * 108
    assert _message(check_metadata, {fits: math.inf}) == (
        f"invalid metadata: the value at metadata[{fits!r}] is inf, not JSON"
    )
    cut = "k" * 109
    assert _message(check_metadata, {cut: math.inf}) == (
        f"invalid metadata: the value at {f'metadata[{cut!r}]'[:119]}… is inf, not JSON"
    )
    long = "k" * 500
    assert _message(check_metadata, {long: math.inf}) == (
        f"invalid metadata: the value at metadata['{'k' * 109}… is inf, not JSON"
    )
