"""ASGI middleware: the request body cap."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Send
from starlette.types import Scope as AsgiScope

from hybridmem.errors import RequestTooLargeError
from hybridmem.server.errors import error_response
from hybridmem.wire import error_body


class BodyCap:
    """413 for a request body over ``[server] max_body_bytes``, before any of it is parsed
    (without it a 20 MB text was stored). The body is read up to the cap, then replayed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap: int = scope["app"].state.max_body_bytes
        declared = Headers(scope=scope).get("content-length", "")
        messages: list[Message] = []
        size = int(declared) if declared.isdigit() else 0
        while size <= cap:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += 0 if declared.isdigit() else len(message.get("body", b""))
            if not message.get("more_body", False):
                break
        if size > cap:
            status, body = error_body(
                RequestTooLargeError(
                    f"the request body is larger than {cap} bytes (the server's max_body_bytes)"
                )
            )
            await error_response(status, body)(scope, receive, send)
            return
        replay = iter(messages)

        async def replayed() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, replayed, send)
