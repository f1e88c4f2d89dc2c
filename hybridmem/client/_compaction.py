"""compact() over HTTP, shared by the sync and the async client: ``POST /compact``
answers when the compaction is done, so its request may wait far longer than
any other (it first waits for every operation in flight, then copies every live
record). The clients wait :data:`COMPACT_TIMEOUT_SECONDS` for it, or their own
``timeout`` if that is longer. Should the wait run out, the client raises
StoreUnavailableError while the compaction goes on in the server to its end
(its record is ``GET /operations/{id}``, kind ``compact``)."""

from __future__ import annotations

import httpx
from pydantic import TypeAdapter

from hybridmem.client._calls import Call
from hybridmem.models import CompactionProgress, CompactionProgressCallback, CompactionReport

#: How long a client waits for ``POST /compact`` to answer, at least.
COMPACT_TIMEOUT_SECONDS = 3600.0

_REPORT: TypeAdapter[CompactionReport] = TypeAdapter(CompactionReport)


def compact() -> Call[CompactionReport]:
    return Call("POST", "/compact", _REPORT)


def timeout(client_timeout: httpx.Timeout) -> httpx.Timeout:
    """The client's timeouts, with reads allowed the compaction's length."""
    read = client_timeout.read
    longest = COMPACT_TIMEOUT_SECONDS if read is None else max(read, COMPACT_TIMEOUT_SECONDS)
    return httpx.Timeout(
        connect=client_timeout.connect,
        read=None if read is None else longest,
        write=client_timeout.write,
        pool=client_timeout.pool,
    )


def finished(progress: CompactionProgressCallback | None) -> None:
    """HTTP carries no progress: the callback hears the end only, as in process."""
    if progress is not None:
        progress(CompactionProgress(phase="done", done=1, total=1))
