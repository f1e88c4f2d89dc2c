"""Helpers for running weaviate-client calls: what its errors mean, and paging."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

#: Ids per delete/fetch call; lowered at run time to the server's QUERY_MAXIMUM_RESULTS.
DEFAULT_PAGE = 1000

MAX_RESULTS = re.compile(r"QUERY_MAXIMUM_RESULTS '(\d+)'")


class PageTooLarge(Exception):
    def __init__(self, maximum: int) -> None:
        self.maximum = maximum


def chunks(ids: Sequence[str], size: int) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


def batched(pages: Iterator[list[str]], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for page in pages:
        batch.extend(page)
        while len(batch) >= size:
            yield batch[:size]
            batch = batch[size:]
    if batch:
        yield batch


def short(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc)
    return " ".join(text.split())[:500]


def looks_unreachable(text: str) -> bool:
    # gRPC reports a server killed mid-call in several wordings depending on
    # where the channel was ("[UNAVAILABLE] sendmsg: Broken pipe" was seen in CI);
    # all of them mean "try again later", never "your request is wrong".
    lowered = text.lower()
    return any(
        s in lowered
        for s in (
            "connection refused",
            "statuscode.unavailable",
            "failed to connect",
            "connect call failed",
            "deadline exceeded",
            "connection reset",
            "could not connect",
            "socket closed",
            "[unavailable]",
            "broken pipe",
        )
    )
