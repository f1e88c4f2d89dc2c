"""What the boundary checks say, word for word, and where their bounds sit
(limits: tests/unit/test_validation_limits.py)."""

from __future__ import annotations

import pytest

from hybridmem.errors import ValidationError
from hybridmem.validation import check_memory_id, check_name


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
