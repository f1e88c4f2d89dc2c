"""Hostile input through the REST server (raw HTTP, so the client's own checks
cannot hide a server gap) and the CLI: a clear 4xx / exit code 2, or exact
literal matching, never a 5xx, and nothing outside the literal scope changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hybridmem import HybridStore
from hybridmem.cli import EXIT_OK, EXIT_USAGE, app
from hybridmem.client import HybridMemClient
from hybridmem.testing.builders import embedding
from hybridmem.validation import scope_from
from tests.reliability import hostile, tally
from tests.server.live import LiveServer, start_server, write_config

SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
SCOPE_PARTS = ("user_id", "agent_id", "run_id")


def _literal(scope: dict[str, Any]) -> dict[str, str] | None:
    try:
        return scope_from(**scope, required_message=None).parts()
    except ValueError:
        return None


def _matches(literal: dict[str, str], record: dict[str, Any]) -> bool:
    return all(record.get(name) == value for name, value in literal.items())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("hostile-rest")
    live = start_server(write_config(home / "hybridmem.toml", home / "data"))
    yield live
    live.stop()


class RestBystanders:
    """Other users' memories behind the server, re-seeded after a literal scope
    legitimately took one."""

    def __init__(self, url: str) -> None:
        self.client = HybridMemClient(url)
        self.records: dict[str, dict[str, Any]] = {}
        self.reseed()

    def reseed(self) -> None:
        present = {r["user_id"] for r in self.records.values()}
        for i, user in enumerate(hostile.BYSTANDERS):
            if user not in present:
                memory = self.client.add(
                    f"bystander {i}",
                    embedding=embedding(f"by{i}"),
                    user_id=user,
                    agent_id="agent",
                    run_id="run",
                )
                self.records[memory.id] = memory.model_dump(mode="json")

    def matching(self, literal: dict[str, str]) -> set[str]:
        return {i for i, r in self.records.items() if _matches(literal, r)}

    def assert_intact(self) -> None:
        for memory_id in self.records:
            assert self.client.get(memory_id) is not None, "a bystander was lost"


@pytest.fixture(scope="module")
def bystanders(server: LiveServer) -> RestBystanders:
    return RestBystanders(server.url)


def _no_5xx(response: httpx.Response) -> httpx.Response:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if response.status_code >= 400:
        assert set(response.json()) == {"error"}, response.text[:500]
    return response


def _query(scope: dict[str, Any]) -> list[tuple[str, str]]:
    # Query strings carry text only; wrong types reach the server through JSON bodies.
    return [(k, v) for k, v in scope.items() if isinstance(v, str)]


def _url(path: str, query: list[tuple[str, str]]) -> str:
    """Percent-encode by hand: a lone surrogate goes out as the bytes a sloppy
    client would send, which httpx itself refuses to encode."""
    pairs = [f"{k}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in query]
    return path + ("?" + "&".join(pairs) if pairs else "")


def _json(body: dict[str, Any]) -> dict[str, Any]:
    # ensure_ascii escapes lone surrogates as \ud800, which is valid JSON text.
    return {
        "content": json.dumps(body, ensure_ascii=True, default=repr),
        "headers": {"content-type": "application/json"},
    }


@SETTINGS
@given(scope=hostile.scopes())
def test_rest_scopes_refuse_or_match_literally(
    server: LiveServer, bystanders: RestBystanders, scope: dict[str, Any]
) -> None:
    tally.count("hostile inputs fuzzed (REST)")
    http = httpx.Client(base_url=server.url, timeout=30)
    body: dict[str, Any] = {"text": "hostile", "embedding": embedding("hostile"), **scope}
    request = _json(body)
    created = _no_5xx(http.post("/memories", **request))
    # What the server received (bytes and objects went out as their repr strings).
    received = json.loads(request["content"])
    literal = _literal({k: received[k] for k in SCOPE_PARTS if received[k] is not None})
    strings = all(isinstance(scope[k], str | None) for k in SCOPE_PARTS)
    if literal and strings and created.status_code == 201:
        record = created.json()
        assert all(record[k] == v for k, v in literal.items())
        assert all(record[k] is None for k in SCOPE_PARTS if k not in literal)
    elif not (literal and not strings):
        assert created.status_code in (400, 422), created.text[:300]
    query = _query(scope)
    listed = _no_5xx(http.get(_url("/memories", query)))
    preview = _no_5xx(http.delete(_url("/memories", [*query, ("dry_run", "true")])))
    erased = _no_5xx(http.delete(_url("/memories", query)))
    query_literal = _literal(dict(query))
    if not query_literal:
        for response in (listed, preview, erased):
            assert response.status_code in (400, 422), response.text[:300]
        bystanders.assert_intact()
        return
    expected = bystanders.matching(query_literal)
    if created.status_code == 201 and _matches(query_literal, created.json()):
        expected.add(created.json()["id"])
    # Exactly: the server holds the bystanders and this example's memory, nothing else.
    assert listed.status_code == 200 and {m["id"] for m in listed.json()} == expected - {None}
    assert preview.status_code == 200 and preview.json()["memories"] == len(expected - {None})
    assert erased.status_code == 200
    assert erased.json()["message"] == "Memories deleted successfully!"
    for memory_id in set(bystanders.records) - expected:
        assert bystanders.client.get(memory_id) is not None, "outside the literal scope"
    for memory_id in expected:
        assert bystanders.client.get(memory_id) is None
        bystanders.records.pop(memory_id, None)
    bystanders.reseed()
    if created.status_code == 201:
        # A literal wider than the query (other parts) may not have been erased.
        bystanders.client.delete(created.json()["id"])


@SETTINGS
@given(
    memory_id=st.sampled_from([*hostile.INJECTIONS, *hostile.BAD_STRINGS, "../stats"])
    | st.text(max_size=60)
)
def test_rest_memory_ids_in_paths_are_refused_or_not_found(
    server: LiveServer, bystanders: RestBystanders, memory_id: str
) -> None:
    tally.count("hostile inputs fuzzed (REST)")
    http = httpx.Client(base_url=server.url, timeout=30)
    path = "/memories/" + quote(memory_id.encode("utf-8", "surrogatepass"), safe="")
    for method in ("GET", "DELETE"):
        response = _no_5xx(http.request(method, path))
        assert response.status_code in (400, 404, 405, 422), (method, response.status_code)
    _no_5xx(http.get(path + "/history"))
    _no_5xx(http.patch(path, json={"text": "changed"}))
    bystanders.assert_intact()


@pytest.fixture(scope="module")
def cli_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("hostile-cli")
    config = write_config(home / "hybridmem.toml", home / "data")
    with HybridStore.from_config(config) as store:
        for i, user in enumerate(hostile.BYSTANDERS):
            store.add(f"bystander {i}", embedding=embedding(f"by{i}"), user_id=user)
    return config


def _cli_count(config: Path, user: str) -> int:
    with HybridStore.from_config(config) as store:
        return len(store.get_all(user_id=user))


@SETTINGS
@given(
    value=st.sampled_from(hostile.INJECTIONS + hostile.CONFUSABLES + hostile.BAD_STRINGS)
    | st.text(max_size=40)
)
def test_cli_delete_all_refuses_or_matches_literally(cli_config: Path, value: str) -> None:
    tally.count("hostile inputs fuzzed (CLI)")
    runner = CliRunner()
    before = {user: _cli_count(cli_config, user) for user in hostile.BYSTANDERS}
    result = runner.invoke(
        app, ["delete-all", "--user-id", value, "--yes", "--json", "--config", str(cli_config)]
    )
    assert result.exit_code in (EXIT_OK, EXIT_USAGE), (result.exit_code, result.output[-500:])
    if _literal({"user_id": value}) is None:
        assert result.exit_code == EXIT_USAGE
    else:
        assert result.exit_code == EXIT_OK
        assert json.loads(result.stdout)["memories"] == before.get(value, 0)
    after = {user: _cli_count(cli_config, user) for user in hostile.BYSTANDERS}
    assert after == {u: (0 if u == value else n) for u, n in before.items()}
    if before.get(value):
        with HybridStore.from_config(cli_config) as store:
            store.add("bystander again", embedding=embedding(value), user_id=value)
