"""The REST API (FastAPI): the same `Assistant`, store and conversation log as the Streamlit app, over HTTP.

    POST /v1/chat       {"conversation_id"?, "message", "stream"?}  -> Server-Sent Events (or one JSON object)
    GET  /v1/search     ?q=&k=                                      -> the hits
    POST /v1/feedback   {"conversation_id", "interaction_id", "rating": 1 | 0 | null}
    GET  /healthz       liveness;  GET /readyz: models loaded and the store readable

Callers: servers send `Authorization: Bearer KEY` (`cli.py api-key create NAME`; only hashes are kept); pages of an
allowed origin (`ASSISTANT_API_ALLOWED_ORIGINS`, also the CORS allow-list) may call without a key. Anything else
gets 401. Limits: requests per minute per key and per client IP (429), a body size cap (413), and a cap on answers
computed at once (503 with Retry-After). Every error is a JSON `{"error": "..."}` with a 4xx/5xx status; no stack
trace ever reaches a client. Start it with `cli.py serve` (`make api`).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from base.clients import client_address
from base.errors import StoreError
from base.limits import SlidingWindow
from base.settings import Settings
from base.types import Hit
from services.api_keys import ApiKeys
from services.assistant import MAX_QUESTION_CHARS, Assistant, AssistantAnswer, open_assistant
from services.conversations import ConversationRegistry

logger = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")  # the chat widget (widget.js), served at /widget/
MAX_K = 20
RETRY_AFTER_BUSY = 2


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    conversation_id: str | None = Field(None, max_length=64, description="omit to start a new conversation")
    message: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    stream: bool = Field(True, description="Server-Sent Events (true) or one JSON object (false)")


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    conversation_id: str = Field(max_length=64)
    interaction_id: int
    rating: Literal[0, 1] | None = Field(description="1 thumbs up, 0 thumbs down, null clears")


class Source(BaseModel):
    n: int
    source: str
    title: str
    snippet: str
    score: float


class ChatOut(BaseModel):
    conversation_id: str
    answer: str
    sources: list[Source]
    model: str
    declined: bool
    interaction_id: int | None


class ErrorOut(BaseModel):
    error: str


def _errors(*codes: int) -> dict:
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


def _once(func):
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


class _ReleasingStream(StreamingResponse):
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


def _sources(hits: list[Hit]) -> list[dict]:
    return [
        {"n": n, "source": h.source, "title": h.title, "snippet": h.snippet[:600], "score": round(h.score, 4)}
        for n, h in enumerate(hits, 1)
    ]


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _client_ip(request: Request, settings: Settings) -> str:
    peer = request.client.host if request.client else None
    return client_address(request.headers.get("x-forwarded-for"), peer, settings.login_trust_forwarded_for)


def create_app(settings: Settings, assistant: Assistant | None = None, keys: ApiKeys | None = None) -> FastAPI:
    """The API over one assistant (built from the settings when not given: one model load per process)."""
    bot = assistant or open_assistant(settings, recover_in_background=True)
    keys = keys or ApiKeys(settings.api_keys_file)
    conversations = ConversationRegistry(bot.conversations)  # expiry and state: one record per conversation
    limiter = SlidingWindow(settings.api_rate_per_minute, 60.0, bot.conversations.kv, name="api-calls")
    busy = threading.BoundedSemaphore(settings.api_max_concurrent)
    warm = threading.Event()

    def warm_up() -> None:
        try:
            bot.kb.search("hello", 1)  # loads the embedding models and opens the index
        except Exception:  # readyz reports it
            logger.exception("warm-up search failed")
        finally:
            warm.set()

    app = FastAPI(title=f"{settings.store_name} assistant API", version="1", docs_url=None, redoc_url=None)
    app.add_middleware(BodyLimit, limit=settings.api_max_body_bytes)
    app.add_middleware(  # outermost: a refusal (413, 429, ...) still carries the headers the widget needs to read it
        CORSMiddleware,
        allow_origins=list(settings.api_allowed_origins),
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "Authorization"],
        max_age=600,
    )
    threading.Thread(target=warm_up, name="api-warm-up", daemon=True).start()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query"))
            problems.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
        return JSONResponse({"error": "; ".join(problems) or "invalid request"}, status_code=422)

    @app.exception_handler(Exception)
    async def crashed(_request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled API error")
        return JSONResponse({"error": "internal error"}, status_code=500)

    def admit(request: Request) -> str:
        """The caller's channel (`key:NAME` or `origin:URL`), after the rate limits; raises 401 / 429."""
        auth = request.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            name = keys.verify(auth[7:].strip())
            if name is None:
                raise HTTPException(401, "invalid API key")
            channel = f"key:{name}"
        else:
            origin = request.headers.get("origin")
            if not origin or origin not in settings.api_allowed_origins:
                raise HTTPException(401, "send Authorization: Bearer KEY, or call from an allowed origin")
            channel = f"origin:{origin}"
        # A key has its own budget; the widget's origin is shared by every visitor (and its Origin header can be
        # sent by anyone), so origin callers are limited per client IP only.
        buckets = [f"ip:{_client_ip(request, settings)}"] + ([channel] if channel.startswith("key:") else [])
        for bucket in buckets:
            wait = limiter.take(bucket)
            if wait:
                raise HTTPException(429, "too many requests; try again later", {"Retry-After": str(wait)})
        return channel

    def finish(conversation_id: str, answer: AssistantAnswer) -> dict:
        if answer.interaction_id is not None:
            conversations.add_interaction(conversation_id, answer.interaction_id)
        return {
            "conversation_id": conversation_id,
            "answer": answer.answer,
            "sources": _sources(answer.sources),
            "model": answer.model,
            "declined": answer.declined,
            "interaction_id": answer.interaction_id,
        }

    @app.post(
        "/v1/chat",
        response_model=ChatOut,
        responses={200: {"content": {"text/event-stream": {}}}, **_errors(401, 404, 413, 422, 429, 500, 503)},
    )
    def chat(body: ChatIn, request: Request):
        """Answer one message; streams `delta` events with text pieces, then one `done` event with the sources."""
        channel = admit(request)
        message = body.message.strip()
        if not message:
            raise HTTPException(422, "message: the message is empty")
        if body.conversation_id is not None and not conversations.resume(body.conversation_id, channel):
            raise HTTPException(404, "unknown conversation; omit conversation_id to start a new one")
        if not busy.acquire(blocking=False):
            raise HTTPException(503, "busy; try again shortly", {"Retry-After": str(RETRY_AFTER_BUSY)})
        release = _once(busy.release)
        try:
            conversation_id = body.conversation_id or conversations.open(channel)
            pending = bot.ask_stream(message, session_id=conversation_id, client=_client_ip(request, settings))
        except BaseException:
            release()
            raise
        if not body.stream:
            try:
                for _ in pending.chunks():
                    pass
            finally:
                release()
            assert pending.result is not None
            return finish(conversation_id, pending.result)

        def events() -> Iterator[str]:
            try:
                yield _sse("start", {"conversation_id": conversation_id})
                for piece in pending.chunks():
                    yield _sse("delta", {"text": piece})
                assert pending.result is not None
                yield _sse("done", finish(conversation_id, pending.result))
            except Exception:
                logger.exception("streaming an answer failed")
                yield _sse("error", {"error": "the answer could not be completed"})
            finally:
                release()

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return _ReleasingStream(release, events(), media_type="text/event-stream", headers=headers)

    @app.get("/v1/search", responses=_errors(401, 422, 429, 500, 503))
    def search(
        request: Request, q: str = Query(min_length=1, max_length=MAX_QUESTION_CHARS), k: int = Query(4, ge=1, le=MAX_K)
    ) -> dict:
        """The store's best passages for a query (what the assistant would answer from)."""
        admit(request)
        try:
            hits = bot.kb.search(q, k)
        except StoreError as exc:
            raise HTTPException(503, "the store cannot be searched right now", {"Retry-After": "5"}) from exc
        return {"hits": _sources(hits)}

    @app.post("/v1/feedback", status_code=204, responses=_errors(401, 404, 413, 422, 429, 500))
    def feedback(body: FeedbackIn, request: Request) -> None:
        """Thumbs up (1), down (0) or cleared (null) for an answer of the caller's own conversation."""
        channel = admit(request)
        if not conversations.owns(body.conversation_id, channel, body.interaction_id):
            raise HTTPException(404, "unknown conversation or answer")
        bot.rate(body.interaction_id, body.rating)

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", responses={503: {"description": "loading, or the store cannot be read"}})
    def readyz() -> JSONResponse:
        if not warm.is_set():
            return JSONResponse({"status": "loading"}, status_code=503, headers={"Retry-After": "5"})
        health = bot.kb.health()
        ready = health.status == "ok"
        body = {"status": health.status if not ready else "ready", "documents": health.documents}
        return JSONResponse(body, status_code=200 if ready else 503)

    app.mount("/widget", StaticFiles(directory=STATIC), name="widget")
    app.state.assistant = bot
    app.state.warm = warm
    app.state.conversations = conversations
    return app


def app_from_settings() -> FastAPI:
    """The app for `uvicorn --factory api.app:app_from_settings` (what `cli.py serve --workers N` runs in each
    worker): settings from the environment, one assistant per worker process."""
    from base.settings import get_settings

    return create_app(get_settings())
