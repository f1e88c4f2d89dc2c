"""Configuration: a ``provider`` per store selects the adapter; the rest is its options.

Sources, strongest first: explicit values (a dict, or ``HybridStore.from_config``
arguments), then ``HYBRIDMEM_…`` environment variables (nested with ``__``, for
example ``HYBRIDMEM_GRAPH__PROVIDER=neo4j``), then a TOML file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from hybridmem.errors import ConfigurationError
from hybridmem.validation import scope_from


def default_data_dir() -> Path:
    return Path(os.environ.get("HYBRIDMEM_DATA_DIR", "") or Path.home() / ".hybridmem")


class StoreConfig(BaseModel):
    """One store: ``provider`` plus adapter-specific options (validated by the adapter)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    provider: str

    @field_validator("provider")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower()

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ApiKeyConfig(BaseModel):
    """One API key of the REST server, optionally bound to a scope.

    A key with no scope part is an admin key. A key bound to (part of) a scope
    only ever reaches records inside it: requests are narrowed to the bound
    parts, and anything naming another value is refused (403).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: SecretStr keeps the key out of reprs, logs and config dumps.
    key: SecretStr
    #: Shown in logs instead of the key.
    name: str | None = None
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None

    @field_validator("key")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value().strip()) < 16:
            raise ValueError("an API key must be at least 16 characters")
        return value

    @model_validator(mode="after")
    def _valid_scope(self) -> ApiKeyConfig:
        # The same rules as any scope id, so a bound key can match real records.
        scope_from(self.user_id, self.agent_id, self.run_id, required_message=None)
        return self


class ServerConfig(BaseModel):
    """``[server]``: the REST server of ``hybridmem serve``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    api_keys: tuple[ApiKeyConfig, ...] = ()
    #: Bind a non-loopback host with no API key configured. Off: anyone who can
    #: reach the port could erase every memory.
    allow_unauthenticated: bool = False
    #: The largest request body accepted, in bytes; a larger one is answered 413.
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    #: ``hybridmem serve`` runs purge_expired() this often (seconds); 0: never.
    purge_interval_seconds: float = Field(default=60.0, ge=0, le=86_400 * 365)
    #: ``hybridmem serve`` compacts the store this often (seconds) when something was
    #: erased since the last compaction; 0: never. Erased bytes stay in the embedded
    #: files up to this long (docs/erasure-design.md, "Erasure to the byte").
    compact_interval_seconds: float = Field(default=86_400.0, ge=0, le=86_400 * 365)
    #: ``DELETE /memories`` and ``POST /compact`` answer within this long (seconds):
    #: an operation still running (or waiting for another's claim) then goes on, and
    #: the answer is 202 with the operation's URL, which the clients follow. Below
    #: the clients' request timeout (60 s).
    erasure_wait_seconds: float = Field(default=20.0, gt=0, le=3_600)

    @field_validator("api_keys")
    @classmethod
    def _unique(cls, keys: tuple[ApiKeyConfig, ...]) -> tuple[ApiKeyConfig, ...]:
        check_unique_keys(keys)
        return keys


def check_unique_keys(keys: Sequence[ApiKeyConfig]) -> None:
    """The same key listed twice would authenticate as whichever entry comes first (an
    entry meant to be bound to one user could be the admin one): refuse it at start."""
    seen: dict[str, int] = {}
    for index, entry in enumerate(keys):
        first = seen.setdefault(entry.key.get_secret_value(), index)
        if first != index:
            names = [keys[i].name or f"#{i + 1}" for i in (first, index)]
            raise ValueError(
                f"api_keys entries {first + 1} ({names[0]}) and {index + 1} ({names[1]})"
                " have the same key; each entry needs a key of its own"
            )


class EmbedderConfig(BaseModel):
    """``[embedder]``: turns text into vectors where a caller gives only text.

    ``provider`` names a plugin of the ``hybridmem.embedders`` entry-point group
    (``wordllama``, ``openai``, ``sentence-transformers``, ``hashing``); the other
    keys are its options, validated by the plugin. Unset, it is ``wordllama``
    when that is installed, and otherwise there is no embedder: text-only calls
    then fail saying how to configure one.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    provider: str | None = None

    @field_validator("provider")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.strip().lower() if value is not None else None

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class HybridMemConfig(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HYBRIDMEM_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    graph: StoreConfig = StoreConfig(provider="kuzu")
    vector: StoreConfig = StoreConfig(provider="sqlite")
    #: Memories per round trip in delete_all: bounds client memory and transaction size.
    batch_size: int = Field(default=1000, ge=1, le=100_000)
    #: Finish pending journal operations when the store opens.
    recover_on_open: bool = True
    server: ServerConfig = ServerConfig()
    embedder: EmbedderConfig = EmbedderConfig()

    @classmethod
    def load(
        cls, source: HybridMemConfig | Mapping[str, Any] | str | Path | None
    ) -> HybridMemConfig:
        """A config object as is; a dict or TOML path merged over the environment."""
        if isinstance(source, HybridMemConfig):
            return source
        try:
            if source is None:
                return cls()
            if isinstance(source, Mapping):
                return cls(**dict(source))
            path = Path(source)
            if not path.is_file():
                raise ConfigurationError(f"config file not found: {path}")
            return _from_toml(cls, path)
        except PydanticValidationError as exc:
            raise ConfigurationError(_describe(exc)) from None


def _from_toml(cls: type[HybridMemConfig], path: Path) -> HybridMemConfig:
    class FromFile(cls):  # type: ignore[valid-type,misc]
        model_config = SettingsConfigDict(toml_file=path)

        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    try:
        loaded = FromFile()
    except ValueError as exc:
        if isinstance(exc, PydanticValidationError):
            raise
        raise ConfigurationError(f"cannot read {path}: {exc}") from None
    return cls.model_construct(**{name: getattr(loaded, name) for name in cls.model_fields})


def _describe(exc: PydanticValidationError) -> str:
    problems = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "config"
        problems.append(f"{key}: {error['msg']}")
    return "invalid configuration: " + "; ".join(problems)
