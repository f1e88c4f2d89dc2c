"""Memory ids belong to their scope.

Every memory id is a UUID of version 8 whose first 60 bits are a tag of the
memory's scope (a digest of its user, agent and run ids) and whose other bits
are random (an id the store made) or a digest of the scope and the name the
caller chose. So:

* a name the caller chooses is unique within its scope: the same name in the
  same scope is always the same id, and in another scope always another one;
* no caller can take or probe another scope's id: an id given with ``add`` that
  does not carry the caller's scope tag is read as a *name* and turned into an
  id of the caller's scope, so it can never land on another scope's memory, and
  writing it tells nothing about what another scope holds;
* an id read back from the store (an export, a listing) is already tagged with
  its scope, and is kept as it is when written again into that scope: imports and
  migrations keep their ids.

Two scopes share a tag only when 60 bits of two digests collide (about one
chance in 10^11 for a million scopes); ids are then still distinct, since the
rest of the id digests the whole scope.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid

from hybridmem.models import Scope

_TAG_BYTES = 8
_SCOPE_SALT = b"hybridmem/scope-tag\x00"
_NAME_SALT = b"hybridmem/scoped-name\x00"


def _scope_key(scope: Scope) -> bytes:
    return json.dumps([scope.user_id, scope.agent_id, scope.run_id]).encode("utf-8")


def _tag(scope: Scope) -> bytes:
    return hashlib.blake2b(_SCOPE_SALT + _scope_key(scope), digest_size=_TAG_BYTES).digest()


def _as_v8(tag: bytes, rest: bytes) -> str:
    raw = bytearray(tag + rest)
    raw[6] = (raw[6] & 0x0F) | 0x80  # version 8: "custom", RFC 9562
    raw[8] = (raw[8] & 0x3F) | 0x80  # the RFC variant
    return str(uuid.UUID(bytes=bytes(raw)))


def new_id(scope: Scope) -> str:
    """A fresh, random id of ``scope``."""
    return _as_v8(_tag(scope), secrets.token_bytes(16 - _TAG_BYTES))


def scoped_id(scope: Scope, name: str) -> str:
    """The id the name ``name`` has in ``scope``: the same for the same pair, always.

    Framework stores that address items by their own keys (a LangGraph namespace
    and key, a LangChain document id) compute their memory ids with this."""
    digest = hashlib.blake2b(
        _NAME_SALT + _scope_key(scope) + b"\x00" + name.encode("utf-8"),
        digest_size=16 - _TAG_BYTES,
    ).digest()
    return _as_v8(_tag(scope), digest)


def belongs_to(memory_id: str, scope: Scope) -> bool:
    """Does ``memory_id`` (a valid UUID string) carry ``scope``'s tag?"""
    raw = uuid.UUID(memory_id).bytes
    if raw[6] >> 4 != 8:
        return False
    return _as_v8(_tag(scope), raw[_TAG_BYTES:]) == str(uuid.UUID(bytes=raw))


def chosen_id(scope: Scope, memory_id: str) -> str:
    """The id a caller-chosen ``memory_id`` gets in ``scope``: itself when it is an
    id of that scope already (read back from the store), else the id of that name
    in the scope."""
    return memory_id if belongs_to(memory_id, scope) else scoped_id(scope, memory_id)
