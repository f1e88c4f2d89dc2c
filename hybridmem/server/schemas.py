"""Request bodies of the REST server. Responses are the models of hybridmem.models.

These models only give the JSON its shape (and the OpenAPI schema); the values
are validated by HybridStore with the shared validators, so an HTTP caller gets
the same messages as an in-process one.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from hybridmem.float32 import FLOAT32_MAX
from hybridmem.validation import (
    MAX_BATCH_SIZE,
    MAX_EMBED_TEXTS,
    MAX_ID_LENGTH,
    MAX_LIMIT,
)

#: Documents what hybridmem.validation.check_id enforces (it stays the one that
#: enforces it, with its own messages): 1-256 characters, not only white space,
#: no control characters (Unicode Cc, Zl, Zp).
_NO_CONTROL = r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]"
SCOPE_ID_SCHEMA: dict[str, Any] = {
    "minLength": 1,
    "maxLength": MAX_ID_LENGTH,
    "pattern": rf"^{_NO_CONTROL}*[^\s\x00-\x1f\x7f-\x9f\u2028\u2029]{_NO_CONTROL}*$",
}


#: Documents (in the OpenAPI schema) the float32 range check_embedding enforces.
Component = Annotated[float, Field(ge=-FLOAT32_MAX, le=FLOAT32_MAX)]


def _scope_id() -> Any:
    return Field(default=None, json_schema_extra=SCOPE_ID_SCHEMA)


# Unknown fields are refused: a misspelt "user" must not turn into "no scope".
_STRICT = ConfigDict(extra="forbid", strict=True)


class EntityIn(BaseModel):
    model_config = _STRICT

    name: str
    type: str = "entity"


class RelationIn(BaseModel):
    model_config = _STRICT

    source: str = Field(description="an entity name")
    target: str = Field(description="an entity name")
    type: str


class _MemoryIn(BaseModel):
    """The fields add and add_many's items share."""

    model_config = _STRICT

    text: str
    #: Omitted: the server's configured embedder embeds ``text``.
    embedding: list[Component] | None = None
    user_id: str | None = _scope_id()
    agent_id: str | None = _scope_id()
    run_id: str | None = _scope_id()
    metadata: dict[str, Any] | None = None
    entities: list[EntityIn] | None = None
    relations: list[RelationIn] | None = None
    #: A UUID the caller chooses; adding it again leaves one memory.
    memory_id: str | None = None


class AddRequest(_MemoryIn):
    expires_at: str | None = Field(
        default=None,
        description="ISO 8601 (no offset: UTC), in the future: from then on no read"
        " returns the memory, and purge-expired erases it. At most one of expires_at, ttl.",
    )
    ttl: float | int | None = Field(
        default=None,
        description="Seconds from now until the memory expires (more than 0, at most 100"
        " years). At most one of expires_at, ttl.",
    )


class AddManyItem(_MemoryIn):
    """One item of a batch: add's fields, and the times an import keeps."""

    #: ISO 8601 with a UTC offset; omitted: now.
    created_at: str | None = None
    updated_at: str | None = None
    expires_at: str | None = Field(
        default=None,
        description="ISO 8601 (no offset: UTC). May be past (an import of a memory that"
        " expired in transit): stored, invisible, erased by the next purge.",
    )


class AddManyRequest(BaseModel):
    model_config = _STRICT

    items: list[AddManyItem] = Field(max_length=MAX_BATCH_SIZE)
    #: Items per journaled operation; omitted: the server's configured batch_size.
    batch_size: int | None = Field(default=None, ge=1, le=MAX_BATCH_SIZE)
    #: The position of ``items[0]`` in the caller's whole input: error messages
    #: (``items[i]: …``) count from it, so a client sending a long input in many
    #: requests reports the item as the caller numbers it.
    first_index: int = Field(default=0, ge=0)


class UpdateRequest(BaseModel):
    model_config = _STRICT

    text: str | None = None
    embedding: list[Component] | None = None
    metadata: dict[str, Any] | None = None
    expires_at: str | None = Field(
        default=None,
        description="A new expiry (ISO 8601, in the future). At most one of expires_at, ttl.",
    )
    ttl: float | int | None = Field(
        default=None,
        description="Seconds from now until the memory expires: a TTL refresh."
        " At most one of expires_at, ttl.",
    )


class SearchRequest(BaseModel):
    model_config = _STRICT

    #: A text (embedded by the server's embedder) or a vector; or give ``embedding``.
    query: str | list[Component] | None = None
    embedding: list[Component] | None = None
    user_id: str | None = _scope_id()
    agent_id: str | None = _scope_id()
    run_id: str | None = _scope_id()
    limit: int = Field(default=10, ge=1, le=MAX_LIMIT)
    #: See hybridmem.filters: {"key": value} or {"key": {"$op": value}}, ANDed.
    filters: dict[str, Any] | None = None
    #: Give each hit its graph context (entities and relations).
    graph: bool = False
    #: Anchor the search on these entity names (reciprocal-rank fusion).
    entities: list[str] | None = Field(default=None, max_length=100)


class EmbedRequest(BaseModel):
    model_config = _STRICT

    #: Embedded by the server's embedder, one vector each, in order.
    texts: list[str] = Field(min_length=1, max_length=MAX_EMBED_TEXTS)


class ResetRequest(BaseModel):
    model_config = _STRICT

    confirm: bool = Field(
        description="Must be true: reset wipes both stores and every text in history."
    )


class ReconcileRequest(BaseModel):
    model_config = _STRICT

    fix: bool = False


class PurgeExpiredRequest(BaseModel):
    """No fields: a purge spans every scope. Strict, so that a body naming a scope
    (``{"user_id": …}``) is refused rather than read as a scoped purge."""

    model_config = _STRICT


class Health(BaseModel):
    status: str
    #: Journaled operations that recovery set aside after failing repeatedly: the
    #: store serves, but they need a look (``hybridmem recover``).
    set_aside_operations: int = 0
