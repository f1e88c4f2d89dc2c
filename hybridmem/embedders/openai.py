"""``openai``: any OpenAI-compatible ``/v1/embeddings`` endpoint, over httpx.

OpenAI itself, Azure-style gateways, vLLM, Ollama, LM Studio, TEI and LiteLLM
all speak it. The key is read from an environment variable (``api_key_env``),
never from the config file. Texts go out in batches of ``batch_size``; a
timeout, a connection error, 429 or a 5xx is retried ``max_retries`` times with
exponential backoff (honouring ``Retry-After``), anything else fails at once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hybridmem.embedders import missing_library
from hybridmem.errors import ConfigurationError, StoreError, StoreUnavailableError
from hybridmem.registry import parse_options

_RETRYABLE = frozenset({408, 409, 429, 500, 502, 503, 504})


class OpenAIOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = "https://api.openai.com/v1"
    model: str = "text-embedding-3-small"
    #: Known before the first call, so a store can check it when it opens.
    dimension: int = Field(default=1536, ge=2, le=65536)
    #: Send ``dimensions`` in the request (models that can shorten their vectors).
    send_dimensions: bool = False
    #: The environment variable holding the API key; unset means no Authorization header.
    api_key_env: str = "OPENAI_API_KEY"
    batch_size: int = Field(default=256, ge=1, le=4096)
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=4, ge=0, le=20)
    backoff_seconds: float = Field(default=0.5, ge=0)


class OpenAIEmbedder:
    def __init__(self, options: OpenAIOptions) -> None:
        try:
            import httpx
        except ImportError:
            raise missing_library("openai", "httpx") from None
        self.options = options
        self.name = f"openai:{options.model}"
        self.dimension = options.dimension
        self.address = options.base_url.rstrip("/") + "/embeddings"
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(options.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._httpx = httpx
        self._client = httpx.Client(headers=headers, timeout=options.timeout_seconds)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        out: list[list[float]] = []
        size = self.options.batch_size
        for start in range(0, len(texts), size):
            out.extend(self._batch(list(texts[start : start + size])))
        return out

    def _batch(self, texts: list[str]) -> list[list[float]]:
        body: dict[str, Any] = {"model": self.options.model, "input": texts}
        if self.options.send_dimensions:
            body["dimensions"] = self.dimension
        attempt = 0
        while True:
            delay = self.options.backoff_seconds * 2**attempt
            try:
                response = self._client.post(self.address, json=body)
            except self._httpx.HTTPError as exc:
                if attempt >= self.options.max_retries:
                    raise StoreUnavailableError(
                        "embedding endpoint", self.address, f"{type(exc).__name__}: {exc}"
                    ) from None
            else:
                if response.status_code < 300:
                    return self._vectors(response.json(), len(texts))
                if response.status_code not in _RETRYABLE or attempt >= self.options.max_retries:
                    raise StoreError(
                        "embedding endpoint",
                        self.address,
                        f"HTTP {response.status_code}: {response.text[:300]}",
                    )
                retry_after = response.headers.get("Retry-After", "")
                if retry_after.replace(".", "", 1).isdigit():
                    delay = max(delay, float(retry_after))
            attempt += 1
            time.sleep(delay)

    def _vectors(self, payload: Any, expected: int) -> list[list[float]]:
        try:
            data = sorted(payload["data"], key=lambda item: item["index"])
            vectors = [[float(x) for x in item["embedding"]] for item in data]
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(
                "embedding endpoint", self.address, f"unexpected response shape ({exc!r})"
            ) from None
        if len(vectors) != expected:
            raise StoreError(
                "embedding endpoint", self.address, f"sent {expected} texts, got {len(vectors)}"
            )
        for vector in vectors:
            if len(vector) != self.dimension:
                raise ConfigurationError(
                    f"embedder {self.name!r} returned {len(vector)} dimensions;"
                    f" the config says dimension = {self.dimension}"
                )
        return vectors

    def close(self) -> None:
        self._client.close()


def create(options: Mapping[str, Any]) -> OpenAIEmbedder:
    return OpenAIEmbedder(parse_options(OpenAIOptions, options, "embedder", "openai"))
