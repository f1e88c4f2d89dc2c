"""Hostile values for every entry point: injection strings for Cypher and
Weaviate filters, wildcards, unicode confusables, very long and empty values,
and values of the wrong type. Shared by the Python API, REST and CLI fuzzers."""

from __future__ import annotations

import unicodedata
from typing import Any

from hypothesis import strategies as st

from hybridmem.validation import MAX_ID_LENGTH

INJECTIONS = [
    # Cypher: break out of a string or a map, or smuggle a clause.
    "') MATCH (n) DETACH DELETE n //",
    '"}) MATCH (n) DETACH DELETE n //',
    "alice' OR 1=1 //",
    "alice` DETACH DELETE n",
    "$user_id",
    "{user_id: 'alice'}",
    "\\u0027; DROP",
    "alice\\",
    # Weaviate filters, GraphQL and JSON.
    '{"operator": "Like", "valueText": "*"}',
    'alice"}]}) { Get { Memory { text } } } #',
    "*",
    "alice*",
    "%",
    "_",
    "?",
    ".*",
    "[a-z]+",
    "alice%",
    "null",
    "None",
    "true",
    # SQLite (the journal).
    "'; DELETE FROM operations; --",
]

CONFUSABLES = [
    "Alice",
    "ALICE",
    "alice ",
    " alice",
    "alice\u00a0",
    "al\u200bice",  # zero-width space
    "\u0430lice",  # Cyrillic a
    "\uff41\uff4c\uff49\uff43\uff45",  # fullwidth
    unicodedata.normalize("NFD", "alicé"),
    unicodedata.normalize("NFC", "alicé"),
    "\u202ealice",  # right-to-left override
    "alice\U0001f600",
]

BAD_STRINGS = [
    "",
    " ",
    "\t",
    "alice\x00",
    "alice\n",
    "\x1b[31malice",
    "a" * (MAX_ID_LENGTH + 1),
    "a" * 10_000,
    "\ud800",
]

LONG_OK = ["a" * MAX_ID_LENGTH]

WRONG_TYPES: list[Any] = [0, 1.5, True, [], ["alice"], {}, {"$ne": None}, b"alice", object()]

#: The bystanders' ids: what a sloppy matcher would confuse with the payloads.
BYSTANDERS = ["alice", "bob", "alice smith", "alice@example.com", "Alice Smith"]


def scope_value() -> st.SearchStrategy[Any]:
    """A value for one scope part (None means: not given)."""
    return st.one_of(
        st.none(),
        st.sampled_from(INJECTIONS + CONFUSABLES + BAD_STRINGS + LONG_OK + BYSTANDERS),
        st.sampled_from(WRONG_TYPES),
        st.text(min_size=0, max_size=40),
    )


def scopes() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"user_id": scope_value(), "agent_id": scope_value(), "run_id": scope_value()}
    )


def memory_ids() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(INJECTIONS + BAD_STRINGS + WRONG_TYPES),
        st.uuids().map(str),
        st.text(max_size=60),
    )
