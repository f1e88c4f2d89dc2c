"""Principal and KeyRing in process: what a bound key is narrowed to, part by part.

The live-server tests (tests/server/test_auth.py) prove the routes use these;
these prove each rule on its own, fast enough for the mutation run.
"""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from hybridmem.config import ApiKeyConfig
from hybridmem.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidScopeError,
    NotFoundError,
    PermissionDeniedError,
)
from hybridmem.models import Scope
from hybridmem.server.auth import ANONYMOUS, KeyRing, Principal

ALICE = Principal("alice", Scope(user_id="alice"))
ALICE_BOT = Principal("alice-bot", Scope(user_id="alice", agent_id="bot"))
ADMIN = Principal("admin")


def ask(
    user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
) -> Scope:
    return Scope.model_construct(user_id=user_id, agent_id=agent_id, run_id=run_id)


def test_bound_parts_the_request_leaves_out_are_filled_in() -> None:
    assert ALICE.narrow(ask(agent_id="a1"), fill_empty=False) == Scope(
        user_id="alice", agent_id="a1"
    )
    assert ALICE_BOT.narrow(ask(run_id="r"), fill_empty=False) == Scope(
        user_id="alice", agent_id="bot", run_id="r"
    )
    assert ALICE.narrow(ask(user_id="alice"), fill_empty=False) == Scope(user_id="alice")


def test_an_empty_request_is_filled_only_when_asked() -> None:
    assert ALICE.narrow(ask(), fill_empty=False) == Scope()
    assert ALICE.narrow(ask(), fill_empty=True) == Scope(user_id="alice")
    assert ALICE_BOT.narrow(ask(), fill_empty=True) == Scope(user_id="alice", agent_id="bot")


@pytest.mark.parametrize(
    ("principal", "request_scope", "part"),
    [
        (ALICE, ask(user_id="bob"), "user_id='alice'"),
        (ALICE, ask(user_id="Alice"), "user_id='alice'"),
        (ALICE, ask(user_id="bob", agent_id="a1"), "user_id='alice'"),
        (ALICE_BOT, ask(agent_id="other"), "agent_id='bot'"),
        (ALICE_BOT, ask(user_id="alice", agent_id="other"), "agent_id='bot'"),
    ],
)
def test_naming_another_value_for_a_bound_part_is_403(
    principal: Principal, request_scope: Scope, part: str
) -> None:
    for fill_empty in (False, True):
        with pytest.raises(PermissionDeniedError, match=f"bound to {part}"):
            principal.narrow(request_scope, fill_empty=fill_empty)


def test_an_unrestricted_key_passes_the_request_through() -> None:
    assert ADMIN.narrow(ask(user_id="bob"), fill_empty=True) == Scope(user_id="bob")
    assert ADMIN.narrow(ask(), fill_empty=True) == Scope()
    ADMIN.require_unrestricted("reset")
    ADMIN.check_visible(Scope(user_id="bob"), "memory")
    ADMIN.check_visible(None, "memory")
    assert ADMIN.entity_namespace("bob") == "bob"
    assert ADMIN.entity_namespace(None) is None


def test_an_invalid_id_is_a_validation_error_before_any_403() -> None:
    with pytest.raises(InvalidScopeError, match="user_id"):
        ALICE.narrow(ask(user_id=" "), fill_empty=False)


def test_whole_store_operations_need_an_unrestricted_key() -> None:
    with pytest.raises(PermissionDeniedError, match="reset spans every scope"):
        ALICE.require_unrestricted("reset")


def test_records_outside_the_bound_scope_look_missing() -> None:
    ALICE.check_visible(Scope(user_id="alice", agent_id="x"), "memory")
    ALICE_BOT.check_visible(Scope(user_id="alice", agent_id="bot", run_id="r"), "memory")
    for principal, record in (
        (ALICE, Scope(user_id="bob")),
        (ALICE, Scope(agent_id="x")),
        (ALICE, None),
        (ALICE_BOT, Scope(user_id="alice", agent_id="other")),
        (ALICE_BOT, Scope(user_id="alice")),
    ):
        with pytest.raises(NotFoundError, match="memory not found"):
            principal.check_visible(record, "memory")


def test_entities_are_namespaced_by_the_bound_user() -> None:
    assert ALICE.entity_namespace(None) == "alice"
    assert ALICE.entity_namespace("alice") == "alice"
    with pytest.raises(PermissionDeniedError, match="bound to user_id='alice'"):
        ALICE.entity_namespace("bob")
    with pytest.raises(PermissionDeniedError) as shared:
        ALICE_BOT.entity_namespace("alice")
    assert str(shared.value) == (
        "entities are shared by all agents and runs of a user; this API key is bound to"
        " {'user_id': 'alice', 'agent_id': 'bot'}"
    )
    with pytest.raises(PermissionDeniedError, match="entities are shared"):
        Principal("run", Scope(run_id="r")).entity_namespace(None)


def _key(key: str, **scope: str) -> ApiKeyConfig:
    return ApiKeyConfig(key=SecretStr(key), **scope)


def test_the_key_ring_finds_each_key_and_refuses_others() -> None:
    ring = KeyRing(
        [
            ApiKeyConfig(key=SecretStr("admin-key-0123456789"), name="admin"),
            _key("alice-key-0123456789", user_id="alice"),
            _key("bot-key-0123456789", user_id="alice", agent_id="bot"),
        ]
    )
    assert ring.enabled
    assert ring.authenticate("admin-key-0123456789") == Principal("admin")
    assert ring.authenticate("alice-key-0123456789") == Principal("key #2", Scope(user_id="alice"))
    assert ring.authenticate("bot-key-0123456789").scope == Scope(user_id="alice", agent_id="bot")
    for wrong in ("alice-key-012345678", "alice-key-0123456789 ", "ADMIN-KEY-0123456789"):
        with pytest.raises(AuthenticationError) as unknown:
            ring.authenticate(wrong)
        assert str(unknown.value) == "unknown API key"
    for missing in (None, ""):
        with pytest.raises(AuthenticationError) as required:
            ring.authenticate(missing)
        assert str(required.value) == (
            "an API key is required (Authorization: Bearer <key> or X-API-Key)"
        )


def test_a_key_bound_to_any_part_is_a_scoped_key() -> None:
    ring = KeyRing(
        [
            _key("run-key-0123456789", run_id="r1"),
            _key("agent-key-0123456789", agent_id="a1"),
            _key("full-key-0123456789", user_id="u", agent_id="a", run_id="r"),
        ]
    )
    assert ring.authenticate("run-key-0123456789").scope == Scope(run_id="r1")
    assert ring.authenticate("agent-key-0123456789").scope == Scope(agent_id="a1")
    assert ring.authenticate("full-key-0123456789").scope == Scope(
        user_id="u", agent_id="a", run_id="r"
    )


def test_without_keys_everyone_is_anonymous_and_unrestricted() -> None:
    ring = KeyRing([])
    assert not ring.enabled
    assert ring.authenticate(None) is ANONYMOUS
    assert ring.authenticate("anything") is ANONYMOUS
    assert ANONYMOUS.scope is None


def test_a_key_listed_twice_is_refused_naming_both_entries() -> None:
    with pytest.raises(ConfigurationError) as caught:
        KeyRing(
            [
                ApiKeyConfig(key=SecretStr("same-key-0123456789"), name="admin"),
                _key("other-key-0123456789", user_id="bob"),
                _key("same-key-0123456789", user_id="alice"),
            ]
        )
    assert str(caught.value) == (
        "invalid configuration: server.api_keys entries 1 (admin) and 3 (#3) have the same"
        " key; each entry needs a key of its own"
    )
