"""Request bodies of the REST server. Responses are the models of hybridmem.models.

These models only give the JSON its shape (and the OpenAPI schema); the values
are validated by HybridStore with the shared validators, so an HTTP caller gets
the same messages as an in-process one.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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


class AddRequest(BaseModel):
    model_config = _STRICT

    text: str
    embedding: list[float]
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    metadata: dict[str, Any] | None = None
    entities: list[EntityIn] | None = None
    relations: list[RelationIn] | None = None


class UpdateRequest(BaseModel):
    model_config = _STRICT

    text: str | None = None
    embedding: list[float] | None = None
    metadata: dict[str, Any] | None = None


class SearchRequest(BaseModel):
    model_config = _STRICT

    embedding: list[float]
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    limit: int = 10


class ResetRequest(BaseModel):
    model_config = _STRICT

    confirm: bool = Field(
        description="Must be true: reset wipes both stores and every text in history."
    )


class ReconcileRequest(BaseModel):
    model_config = _STRICT

    fix: bool = False


class Health(BaseModel):
    status: str
