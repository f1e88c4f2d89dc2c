"""Embedder plugins: found by entry point, built from options, failing with install hints."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from hybridmem.config import HybridMemConfig
from hybridmem.embedders import Embedder, create_embedder, installed_embedders
from hybridmem.embedders.resolve import embedder_for
from hybridmem.errors import ConfigurationError, StoreError


def test_built_in_providers_are_registered_as_entry_points() -> None:
    assert {"hashing", "wordllama", "openai", "sentence-transformers"} <= set(installed_embedders())


def test_unknown_provider_names_the_installed_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown embedder 'nope'; installed: .*hashing"):
        create_embedder("nope", {})


def test_bad_option_is_named_as_the_config_spells_it() -> None:
    with pytest.raises(ConfigurationError, match=r"embedder\.dimension"):
        create_embedder("hashing", {"dimension": 1})


def test_hashing_is_the_labelled_placeholder() -> None:
    embedder = create_embedder("hashing", {"dimension": 16})
    assert isinstance(embedder, Embedder)
    assert (embedder.name, embedder.dimension) == ("hashing", 16)
    assert embedder.embed(["a b", "a b"])[0] == embedder.embed(["a b"])[0]


def test_default_is_wordllama_when_installed() -> None:
    embedder = embedder_for(HybridMemConfig.load({}).embedder)
    assert embedder is not None and embedder.name == "wordllama:l2_supercat"


def test_wordllama_loads_offline_and_ranks_by_meaning() -> None:
    embedder = create_embedder("wordllama", {})
    query, near, far = embedder.embed(
        ["my car broke down", "the automobile needs repairs", "I baked bread"]
    )
    assert embedder.dimension == len(query) == 256

    def cos(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    # No shared word between query and "near": only meaning can rank it first.
    assert cos(query, near) > cos(query, far)


def test_wordllama_truncated_dimension() -> None:
    embedder = create_embedder("wordllama", {"dimension": 64})
    assert len(embedder.embed(["hello"])[0]) == 64


def test_sentence_transformers_missing_package_says_what_to_install() -> None:
    # sentence-transformers (and torch) are not installed here on purpose.
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        pass
    else:  # pragma: no cover - only where someone installed it
        pytest.fail("sentence-transformers is installed; this test checks its absence")
    embedder = create_embedder("sentence-transformers", {"model": "/models/x", "dimension": 8})
    assert (embedder.name, embedder.dimension) == ("sentence-transformers:/models/x", 8)
    with pytest.raises(ConfigurationError, match="pip install sentence-transformers"):
        embedder.embed(["hello"])


def test_sentence_transformers_requires_model_and_dimension() -> None:
    with pytest.raises(ConfigurationError, match=r"embedder\.model.*embedder\.dimension"):
        create_embedder("sentence-transformers", {})


# -- openai: a real HTTP server on a real socket --------------------------------------


class _Endpoint:
    """A tiny OpenAI-compatible /v1/embeddings server with scripted failures."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.fail_first: list[int] = []
        self.dimension = 3
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                endpoint.requests.append(body)
                endpoint.headers.append(dict(self.headers))
                if endpoint.fail_first:
                    status = endpoint.fail_first.pop(0)
                    self.send_response(status)
                    self.send_header("Retry-After", "0")
                    self.end_headers()
                    self.wfile.write(b'{"error": "scripted"}')
                    return
                data = [
                    {"index": i, "embedding": [float(len(t)), float(i), 1.0][: endpoint.dimension]}
                    for i, t in enumerate(body["input"])
                ]
                # Out of order on purpose: clients must sort by index.
                payload = json.dumps({"data": list(reversed(data)), "model": body["model"]})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[_Endpoint]:
    server = _Endpoint()
    yield server
    server.close()


def _openai(endpoint: _Endpoint, **options: Any) -> Embedder:
    return create_embedder(
        "openai",
        {
            "base_url": endpoint.url,
            "model": "m",
            "dimension": 3,
            "backoff_seconds": 0,
            "api_key_env": "TEST_EMBEDDINGS_KEY",
            **options,
        },
    )


def test_openai_batches_and_keeps_order(
    endpoint: _Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_EMBEDDINGS_KEY", "sk-test-123")
    vectors = _openai(endpoint, batch_size=2).embed(["a", "bb", "ccc", "dddd", "eeeee"])
    assert [v[0] for v in vectors] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert [len(r["input"]) for r in endpoint.requests] == [2, 2, 1]
    assert endpoint.headers[0]["Authorization"] == "Bearer sk-test-123"


def test_openai_retries_rate_limits_and_server_errors(endpoint: _Endpoint) -> None:
    endpoint.fail_first = [429, 503]
    assert _openai(endpoint).embed(["abc"]) == [[3.0, 0.0, 1.0]]
    assert len(endpoint.requests) == 3


def test_openai_gives_up_after_max_retries(endpoint: _Endpoint) -> None:
    endpoint.fail_first = [500, 500, 500]
    with pytest.raises(StoreError, match="HTTP 500"):
        _openai(endpoint, max_retries=2).embed(["abc"])
    assert len(endpoint.requests) == 3


def test_openai_does_not_retry_a_client_error(endpoint: _Endpoint) -> None:
    endpoint.fail_first = [401]
    with pytest.raises(StoreError, match="HTTP 401"):
        _openai(endpoint).embed(["abc"])
    assert len(endpoint.requests) == 1


def test_openai_wrong_dimension_is_a_configuration_error(endpoint: _Endpoint) -> None:
    endpoint.dimension = 2
    with pytest.raises(ConfigurationError, match="returned 2 dimensions"):
        _openai(endpoint).embed(["abc"])


def test_openai_unreachable_endpoint_times_out_as_unavailable() -> None:
    # A port nothing listens on: connection refused, retried, then reported.
    embedder = create_embedder(
        "openai",
        {
            "base_url": "http://127.0.0.1:9/v1",
            "dimension": 3,
            "max_retries": 1,
            "backoff_seconds": 0,
            "timeout_seconds": 2,
        },
    )
    with pytest.raises(StoreError, match="unavailable"):
        embedder.embed(["abc"])
