"""schemathesis over the server's OpenAPI schema, against a live ``hybridmem serve``:
no 5xx, and every response (status, content type, body) as the schema documents it.

The schema is taken from the app object at import (what the live server serves at
/openapi.json, produced by the same code): schemathesis's lazy ``from_fixture``
loader does not work with pytest 9.2 (it writes ``Node._nodeid``, gone there).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from hybridmem.server import create_app
from tests.server.live import LiveServer, start_server, write_config

KEY = "schemathesis-admin-key-0123456789"
EXAMPLES = 60

# A config-driven app opens no store until it is served: only its schema is used here.
# The key is given as the schema's security scheme, so schemathesis knows the
# Authorization header is the caller's (it does not count it as a negative mutation).
schema = schemathesis.openapi.from_dict(
    create_app({}).openapi(),
    config=schemathesis.Config.from_dict({"auth": {"openapi": {"HTTPBearer": {"bearer": KEY}}}}),
)


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("schemathesis")
    server = start_server(
        write_config(home / "hybridmem.toml", home / "data", api_keys=[{"key": KEY}])
    )
    yield server
    server.stop()


def test_the_live_server_serves_this_schema(api_server: LiveServer) -> None:
    import httpx

    assert httpx.get(f"{api_server.url}/openapi.json").json() == create_app({}).openapi()


#: Headers that frame the HTTP message itself. A malformed one (schemathesis sends
#: ``content-length: ItA_(S`` among its header mutations) is refused by the HTTP
#: server (uvicorn: 400, text/plain, "Invalid HTTP request received.") before
#: the app, whose answers the schema documents, ever sees the request.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "host", "connection"})


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(
    case: schemathesis.Case, api_server: LiveServer
) -> None:
    for name in [h for h in case.headers or {} if h.lower() in FRAMING_HEADERS]:
        del case.headers[name]
    case.call_and_validate(
        base_url=api_server.url,
        # Not expressible in OpenAPI, so schema-valid requests the API rightly refuses
        # (4xx): "at least one of user_id, agent_id, run_id" across query parameters,
        # an embedding's length matching the stored ones, an all-zero embedding.
        excluded_checks=[positive_data_acceptance],
    )
