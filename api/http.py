"""HTTP plumbing the routes share: the body-size middleware, a stream that always gives its slot back, the SSE and
source formats, the caller's address, and the documented error responses."""

from __future__ import annotations

import json
import threading

from fastapi import HTTPException, Request
from fastapi.responses import StreamingResponse

from api.schemas import ErrorOut
from base.clients import client_address
from base.settings import Settings
from base.types import Hit


def errors(*codes: int) -> dict:
    """The error responses an endpoint documents (all `{"error": "..."}`)."""
    return {code: {"model": ErrorOut} for code in codes}


class BodyLimit:
    """ASGI middleware: a request body larger than `limit` bytes gets 413 (declared or streamed)."""

    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _send_json(send, 413, f"the request body is larger than {self.limit} bytes")
            return
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:  # FastAPI passes an HTTPException from body reading through as is
                    raise HTTPException(413, f"the request body is larger than {self.limit} bytes")
            return message

        await self.app(scope, counted, send)


async def _send_json(send, status: int, error: str) -> None:
    body = json.dumps({"error": error}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def once(func):
    """`func` callable once; later calls do nothing (a slot released by the stream's end or by a disconnect)."""
    lock = threading.Lock()
    done = False

    def call() -> None:
        nonlocal done
        with lock:
            if done:
                return
            done = True
        func()

    return call


class ReleasingStream(StreamingResponse):
    """A streaming response that gives its concurrency slot back however it ends: a client that disconnects before
    the first piece means the generator never starts, so its own `finally` never runs."""

    def __init__(self, release, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._release = release

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def sources(hits: list[Hit]) -> list[dict]:
    return [
        {"n": n, "source": h.source, "title": h.title, "snippet": h.snippet[:600], "score": round(h.score, 4)}
        for n, h in enumerate(hits, 1)
    ]


def sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def client_ip(request: Request, settings: Settings) -> str:
    peer = request.client.host if request.client else None
    return client_address(request.headers.get("x-forwarded-for"), peer, settings.login_trust_forwarded_for)
