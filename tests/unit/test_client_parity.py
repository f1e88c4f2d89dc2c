"""The HTTP clients expose exactly HybridStore's methods, with the same signatures."""

from __future__ import annotations

import inspect

import pytest

from hybridmem import HybridStore, MissingScopeError
from hybridmem.client import AsyncHybridMemClient, HybridMemClient
from hybridmem.validation import NO_FILTER_MESSAGE

#: Constructors of a local store: a client is built from a URL instead.
LOCAL_ONLY = {"embedded", "from_config"}
#: Integration support over HTTP: in process, the mem0 integration asks the vector
#: store's Mem0Lookup capability itself (hybridmem.mem0_lookup).
CLIENT_ONLY = {"mem0_lookup"}


def _public(cls: type) -> dict[str, object]:
    return {
        name: member
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and callable(member)
    }


@pytest.mark.parametrize("client", [HybridMemClient, AsyncHybridMemClient])
def test_same_methods_and_signatures_as_hybridstore(client: type) -> None:
    store, remote = _public(HybridStore), _public(client)
    assert set(store) - LOCAL_ONLY == set(remote) - CLIENT_ONLY
    for name in set(remote) - CLIENT_ONLY:
        method = remote[name]
        if client is AsyncHybridMemClient:
            assert inspect.iscoroutinefunction(method), f"{name} is not async"
        assert inspect.signature(store[name]) == inspect.signature(method), name  # type: ignore[arg-type]


def test_delete_all_without_filter_fails_before_any_request() -> None:
    # Port 9 (discard) on loopback: nothing listens, so any request would fail otherwise.
    with HybridMemClient("http://127.0.0.1:9") as client, pytest.raises(MissingScopeError) as err:
        client.delete_all()
    assert str(err.value) == NO_FILTER_MESSAGE
    assert isinstance(err.value, ValueError)
