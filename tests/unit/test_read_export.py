"""read_export: validates an export line by line and yields add_many items; every
error names the line (and the field)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hybridmem.errors import ValidationError
from hybridmem.portability import EXPORT_FORMAT, EXPORT_VERSION, ITEM_KEYS, read_export

MEMORY_ID = "0b0f3c1e-7a44-4b7e-9a0d-1f2e3d4c5b6a"
HEADER = {"type": "header", "format": EXPORT_FORMAT, "version": EXPORT_VERSION, "scope": {}}
MEMORY: dict[str, Any] = {
    "type": "memory",
    "id": MEMORY_ID,
    "text": "Alice lives in Lisbon",
    "embedding": [0.5, 0.25],
    "user_id": "alice",
    "agent_id": None,
    "run_id": "r1",
    "metadata": {"source": "chat"},
    "created_at": "2026-01-01T00:00:00+00:00",
    "updated_at": "2026-01-02T00:00:00+00:00",
    "expires_at": "2036-01-01T00:00:00+00:00",
    "entities": [{"name": "Alice", "type": "person"}],
    "relations": [{"source": "Alice", "target": "Lisbon", "type": "lives_in"}],
}
HISTORY = {"type": "history", "id": 1, "kind": "ADD", "memory_id": MEMORY_ID}


def _file(*lines: dict[str, Any], end: dict[str, Any] | None = None) -> list[str]:
    memories = sum(1 for line in lines if line.get("type") == "memory")
    history = sum(1 for line in lines if line.get("type") == "history")
    last = end if end is not None else {"type": "end", "memories": memories, "history": history}
    return [json.dumps(line) for line in (HEADER, *lines, last)]


def test_memory_lines_become_items_and_history_lines_nothing() -> None:
    items = list(read_export([*_file(MEMORY, HISTORY)[:-1], "", *_file(MEMORY, HISTORY)[-1:]]))
    assert items == [
        {
            "memory_id": MEMORY_ID,
            "text": MEMORY["text"],
            "embedding": [0.5, 0.25],
            "user_id": "alice",
            "agent_id": None,
            "run_id": "r1",
            "metadata": {"source": "chat"},
            "entities": MEMORY["entities"],
            "relations": MEMORY["relations"],
            "created_at": MEMORY["created_at"],
            "updated_at": MEMORY["updated_at"],
            "expires_at": MEMORY["expires_at"],
        }
    ]
    assert tuple(items[0]) == ITEM_KEYS


def test_a_version_1_export_is_still_read_and_its_memories_never_expire() -> None:
    old = {key: value for key, value in MEMORY.items() if key != "expires_at"}
    lines = [json.dumps({**HEADER, "version": 1}), *_file(old)[1:]]
    [item] = read_export(lines)
    assert item["expires_at"] is None and item["text"] == MEMORY["text"]


def test_an_export_of_nothing_reads_as_nothing() -> None:
    assert list(read_export(_file())) == []


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "empty export"),
        (_file(MEMORY)[:-1], r"truncated export: no end line after line 2 \(1 memories read\)"),
        (_file(MEMORY)[:1], "truncated export"),
        (_file(MEMORY)[1:], "line 1: not a hybridmem-export file: the first line must be"),
        (["{not json", *_file()[1:]], r"line 1: not valid JSON"),
        (["[1, 2]", *_file()[1:]], "line 1: must be a JSON object"),
        (
            [json.dumps({**HEADER, "format": "other"}), *_file()[1:]],
            "line 1: not a hybridmem-export file",
        ),
        (
            [json.dumps({**HEADER, "version": EXPORT_VERSION + 1}), *_file()[1:]],
            "line 1: export version 3 is newer than this hybridmem reads",
        ),
        (
            [json.dumps({**HEADER, "version": "1"}), *_file()[1:]],
            "line 1: header.version must be a positive integer",
        ),
        (_file({"type": "comment"}), "line 2: unknown line type 'comment'"),
        (_file({"kind": "memory"}), "line 2: unknown line type None"),
        (_file(HEADER), "line 2: a second header"),
        (
            _file(MEMORY, end={"type": "end", "memories": 2, "history": 0}),
            "line 3: the end line counts 2 memories",
        ),
        (
            _file(HISTORY, end={"type": "end", "memories": 0}),
            "line 3: end.history must be an integer",
        ),
        ([*_file(), json.dumps(MEMORY)], r"line 3: data after the end line \(line 2\)"),
        (
            [*_file(MEMORY)[:2], '{"type": "memory", "id": "x', *_file()[1:]],
            "line 3: not valid JSON",
        ),
    ],
)
def test_bad_files_name_the_line(lines: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        list(read_export(lines))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "not-a-uuid"}, "line 2: invalid memory_id"),
        ({"text": "a\x00b"}, "line 2: invalid text: contains a NUL"),
        ({"text": 3}, "line 2: invalid text"),
        ({"embedding": "x"}, "line 2: invalid embedding"),
        ({"embedding": [1.0, "a"]}, "line 2: invalid embedding"),
        ({"user_id": 7}, "line 2: invalid user_id"),
        ({"metadata": []}, "line 2: invalid metadata"),
        ({"created_at": "yesterday"}, "line 2: invalid created_at: 'yesterday' is not ISO 8601"),
        ({"updated_at": "2026-01-01T00:00:00"}, "line 2: invalid updated_at: needs a UTC offset"),
        ({"created_at": None}, "line 2: invalid created_at"),
        ({"entities": [{"type": "person"}]}, r"line 2: invalid entities\[0\]\.name"),
        (
            {"relations": [{"source": "Alice", "target": "Lisbon"}]},
            r"line 2: invalid relations\[0\]\.type",
        ),
        ({"relations": "Alice->Lisbon"}, "line 2: invalid relations"),
    ],
)
def test_bad_fields_name_the_line_and_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        list(read_export(_file({**MEMORY, **change})))


def test_items_are_yielded_before_the_end_is_checked() -> None:
    """A consumer sees the memories as they stream; a missing end is found last."""
    reader = read_export(_file(MEMORY)[:-1])
    assert next(reader)["memory_id"] == MEMORY_ID
    with pytest.raises(ValidationError, match="truncated export"):
        next(reader)
