"""Bad input gets a clear error naming the parameter, and changes nothing."""

from __future__ import annotations

import pytest

from hybridmem import HybridStore, InvalidScopeError, ValidationError
from hybridmem.validation import NO_FILTER_MESSAGE, check_embedding, check_id, scope_from

EXACT_MESSAGE = (
    "At least one filter is required to delete all memories. If you want to delete all "
    "memories, use the `reset()` method."
)

BAD_IDS = [
    ("", "empty"),
    ("   ", "white space"),
    ("\t\n", "white space"),
    (123, "must be a string"),
    (b"alice", "must be a string"),
    (["alice"], "must be a string"),
    ("a" * 257, "at most 256"),
    ("ali\x00ce", "control character"),
    ("ali\nce", "control character"),
    ("ali\x1bce", "control character"),
    ("ali\u2028ce", "control character"),
]


def test_no_filter_message_is_word_for_word() -> None:
    assert NO_FILTER_MESSAGE == EXACT_MESSAGE
    with pytest.raises(ValueError) as caught:
        scope_from(required_message=NO_FILTER_MESSAGE)
    assert str(caught.value) == EXACT_MESSAGE


@pytest.mark.parametrize("parameter", ["user_id", "agent_id", "run_id"])
@pytest.mark.parametrize(("value", "reason"), BAD_IDS)
def test_invalid_ids_name_the_parameter(parameter: str, value: object, reason: str) -> None:
    with pytest.raises(InvalidScopeError) as caught:
        scope_from(**{parameter: value})
    assert isinstance(caught.value, ValueError)
    assert caught.value.parameter == parameter
    assert parameter in str(caught.value) and reason in str(caught.value)


@pytest.mark.parametrize(
    "value", ["*", "%", "'", '"', "a'b", 'x" OR 1=1', "_", "\\", "é", "a" * 256]
)
def test_wildcards_and_quotes_are_ordinary_ids(value: str) -> None:
    assert check_id("user_id", value) == value


def test_delete_all_rejects_bad_input_and_changes_nothing(embedded: HybridStore) -> None:
    keep = embedded.add("keep me", embedding=[1.0, 0.5], user_id="alice", agent_id="a1")
    before = embedded.stats()
    with pytest.raises(ValueError) as caught:
        embedded.delete_all()
    assert str(caught.value) == EXACT_MESSAGE
    for kwargs in (
        {"user_id": ""},
        {"user_id": "  "},
        {"agent_id": 7},
        {"run_id": "x" * 300},
        {"user_id": "alice", "agent_id": "a\x00"},
        {"user_id": None, "agent_id": None, "run_id": None},
    ):
        with pytest.raises(ValueError):
            embedded.delete_all(**kwargs)  # type: ignore[arg-type]
    assert embedded.stats() == before
    assert embedded.get(keep.id) is not None


def test_other_entry_points_validate_too(embedded: HybridStore) -> None:
    with pytest.raises(ValueError, match="user_id"):
        embedded.add("x", embedding=[1.0], user_id="")
    with pytest.raises(ValueError, match="At least one"):
        embedded.add("x", embedding=[1.0])
    with pytest.raises(ValueError, match="embedding"):
        embedded.add("x", embedding=[], user_id="u")
    with pytest.raises(ValueError, match="embedding"):
        embedded.add("x", embedding=[float("nan")], user_id="u")
    with pytest.raises(ValueError, match="embedding"):
        embedded.add("x", embedding=[0.0, 0.0], user_id="u")
    with pytest.raises(ValueError, match="metadata"):
        embedded.add("x", embedding=[1.0], user_id="u", metadata={"k": object()})
    with pytest.raises(ValueError, match="entities"):
        embedded.add("x", embedding=[1.0], user_id="u", entities=[{"name": ""}])
    with pytest.raises(ValueError, match="memory_id"):
        embedded.delete("not-a-uuid")
    with pytest.raises(ValueError, match="At least one"):
        embedded.search([1.0])
    with pytest.raises(ValueError, match="limit"):
        embedded.search([1.0], user_id="u", limit=0)
    assert embedded.stats()["vectors"] == 0


@pytest.mark.parametrize(
    ("embedding", "reason"),
    [
        ([1e39, 1.0], "beyond float32"),
        ([-1e39, 1.0], "beyond float32"),
        ([0.0, 0.0], "all zeros"),
        ([1e-50, 1e-60], "too close to zero"),
        ([float("nan"), 1.0], "finite"),
        ([True, 1.0], "number"),
    ],
)
def test_embeddings_must_survive_float32_storage(embedding: list[float], reason: str) -> None:
    """Both stores keep float32: what would turn into infinity or a zero vector there
    is refused here, with nothing written."""
    with pytest.raises(ValidationError, match=reason):
        check_embedding(embedding)
