"""A method a path does not take is a 405 whose ``Allow`` header lists the methods the
OpenAPI document gives that path (RFC 9110 requires the header; a client reads it to
correct its call). The header was empty: FastAPI keeps included routers as routes of
their own, which the handler's walk over ``app.routes`` did not look into."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from hybridmem import HybridStore
from hybridmem.server import create_app

E = [1.0, 0.0, 0.0]
METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


def test_a_405_names_every_method_of_the_path(embedded: HybridStore) -> None:
    memory = embedded.add("kept", embedding=E, user_id="alice")
    app = create_app(embedded)
    # Each URL is an instance of one documented path, and the most specific one:
    # /memories/batch also fits /memories/{memory_id}, but the schema documents it
    # as POST only, and Allow follows the schema.
    taken = {
        re.sub(r"\{[^}]+\}", memory.id, path): {method.upper() for method in methods}
        for path, methods in app.openapi()["paths"].items()
    }
    assert taken["/memories"] == {"DELETE", "GET", "POST"}, "the sweep sees the API"
    refused = 0
    with TestClient(app) as client:
        for url, methods in taken.items():
            for method in sorted(set(METHODS) - methods):
                response = client.request(method, url)
                if response.status_code != 405:
                    # GET /memories/batch is a GET of the memory id "batch": not refused.
                    continue
                refused += 1
                assert response.headers["allow"] == ", ".join(sorted(methods)), (method, url)
                assert response.json()["error"]["type"] == "HybridMemError"
    assert refused >= 30
    assert embedded.get(memory.id) is not None
