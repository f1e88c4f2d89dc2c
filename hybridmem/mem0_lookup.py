"""Finding a mem0 memory by mem0's id alone, in whatever scope it lives.

The mem0 integration (``langchain_hybridmem.mem0``) stores each mem0 memory in
the hybridmem scope of its mem0 user / agent / run, under the id
``scoped_id(scope, mem0_id)``. mem0 asks for a memory by its own id only
(``Memory.get/update/delete(memory_id)``), so the scope must be found from that
id, in any process. The record itself is the directory: the integration writes
a digest of the mem0 id into the record's metadata (:data:`MEM0_KEY`), and a
vector store with the optional :class:`Mem0Lookup` capability indexes it, so a
lookup reads the matching records through an index (an SQLite partial index, a
Kuzu key node linked to the record, a Weaviate filterable property) and never
scans the store. The index lives and dies with the record: erasing the record
erases its entry, and nothing outside the record maps a mem0 id to its user.

Only records carrying the mem0 marker (``metadata["_mem0"] is True``) whose
``_mem0_id`` equals the id asked for are ever returned: the digest narrows, the
record decides (:func:`matching`), so a collision costs a row read, never a
wrong answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel

from hybridmem.records import VectorRecord

#: The mem0 id of the memory (mem0 makes its own ids).
MEM0_ID_KEY = "_mem0_id"
#: True on every live memory mem0 wrote through the integration.
MEM0_MARKER_KEY = "_mem0"
#: The indexed digest of the mem0 id (an integer below 2**53, exact in any JSON).
MEM0_KEY = "_mem0_key"
#: The metadata keys only the mem0 integration writes. A key bound to a scope may
#: not write them over REST: a copy of another user's mem0 id planted in the key's
#: own scope would make that id ambiguous, and mem0's reads of it would fail.
RESERVED_KEYS = frozenset({MEM0_ID_KEY, MEM0_MARKER_KEY, MEM0_KEY})
#: Ids per ``POST /mem0/lookup`` (``HybridMemClient.mem0_lookup`` sends more in turns).
MAX_LOOKUP_IDS = 1000
_SALT = b"hybridmem/mem0-id\x00"
_BITS = 53


def mem0_key(mem0_id: str) -> int:
    """The digest the stores index for ``mem0_id``."""
    digest = hashlib.blake2b(_SALT + mem0_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> (64 - _BITS)


def indexed_key(metadata: Mapping[str, Any]) -> int | None:
    """The key a store indexes for a record with this metadata: only a live mem0
    memory's (marker True, an integer key) has one."""
    key = metadata.get(MEM0_KEY)
    if metadata.get(MEM0_MARKER_KEY) is not True or isinstance(key, bool):
        return None
    return key if isinstance(key, int) and 0 <= key < 2**_BITS else None


def matching(records: Iterable[VectorRecord], mem0_ids: Sequence[str]) -> list[VectorRecord]:
    """The records that are live mem0 memories of one of ``mem0_ids``."""
    wanted = set(mem0_ids)
    return [
        r
        for r in records
        if r.metadata.get(MEM0_MARKER_KEY) is True and r.metadata.get(MEM0_ID_KEY) in wanted
    ]


@runtime_checkable
class Mem0Lookup(Protocol):
    """An optional capability of a vector store: mem0 memories by mem0 id, across
    scopes. Its cost follows the number of matches, not the store's size (the
    multi-tenant Weaviate layout visits each tenant: it follows the users)."""

    def mem0_records(self, mem0_ids: Sequence[str]) -> list[VectorRecord]:
        """The live mem0 memories (see :func:`matching`) whose mem0 id is one of
        ``mem0_ids``, in any scope, in no particular order."""
        ...


class Mem0Location(BaseModel):
    """Where a live mem0 memory is: the answer of ``POST /mem0/lookup`` (the
    capability over HTTP), enough for a ``get`` in the scope found."""

    mem0_id: str
    #: The hybridmem memory id (``scoped_id(scope, mem0_id)``).
    memory_id: str
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None


def locations(records: Iterable[VectorRecord], at: datetime) -> list[Mem0Location]:
    """Where each of ``records`` (mem0 memories, see :func:`matching`) is, leaving
    out those expired at ``at`` (invisible to reads)."""
    return [
        Mem0Location(
            mem0_id=str(r.metadata[MEM0_ID_KEY]),
            memory_id=r.id,
            user_id=r.user_id,
            agent_id=r.agent_id,
            run_id=r.run_id,
        )
        for r in records
        if not r.expired(at)
    ]
