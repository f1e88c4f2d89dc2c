"""Which Weaviate error texts mean "the server is gone" (503, retry later).

A Weaviate server killed in the middle of a gRPC call surfaced in CI as
``[UNAVAILABLE] sendmsg: Broken pipe (32)``; read as a plain store error it
turned an outage into a failure the caller must not retry.
"""

import pytest

from hybridmem_weaviate.calls import looks_unreachable as _looks_unreachable


@pytest.mark.parametrize(
    "text",
    [
        "[UNAVAILABLE] sendmsg: Broken pipe (32)",
        "Query call with protocol GRPC failed with message <AioRpcError of RPC that "
        "terminated with: status = StatusCode.UNAVAILABLE details = failed to connect>",
        "Connection refused",
        "Socket closed",
    ],
)
def test_a_killed_server_reads_as_unavailable(text: str) -> None:
    assert _looks_unreachable(text)


@pytest.mark.parametrize(
    "text",
    ["vector dimensions do not match: expected 8, got 4", "no such class Memory"],
)
def test_a_bad_request_does_not_read_as_unavailable(text: str) -> None:
    assert not _looks_unreachable(text)
