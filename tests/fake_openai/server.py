"""Local OpenAI-compatible fake server for offline tests.

Nothing in the test environment reaches api.openai.com, so every OpenAI code
path (the ``openai`` client, ``langchain_openai``) is exercised against this
in-memory FastAPI app over real HTTP on 127.0.0.1.  Behaviour is driven by a
mutable :class:`FakeState` that tests tweak (replies, faults, delays,
fine-tuning outcome) and inspect (recorded requests, stored files and jobs).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import math
import re
import socket
import struct
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Self

import uvicorn
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = [
    "ChatReply",
    "ChatResponder",
    "FakeAPIError",
    "FakeFile",
    "FakeOpenAIServer",
    "FakeState",
    "create_app",
    "default_chat_responder",
    "embed_text",
    "message_text",
]

#: A responder returns either plain assistant text or a dict with optional
#: ``content`` and ``tool_calls`` (``[{"name", "arguments", "id"?}]``) so that
#: agent/tool-calling code can be tested too.
ChatReply = str | dict[str, Any]
ChatResponder = Callable[[list[dict[str, Any]], str], ChatReply]

DEFAULT_MODELS: tuple[str, ...] = (
    "gpt-4o-mini",
    "gpt-4o-mini-2024-07-18",
    "gpt-4o",
    "gpt-4o-2024-08-06",
    "gpt-4.1-mini",
    "gpt-4.1-mini-2025-04-14",
    "gpt-3.5-turbo",
    "text-embedding-3-small",
    "text-embedding-3-large",
)

#: Aliases resolve to snapshots, as the real API does for fine-tuning jobs.
MODEL_SNAPSHOTS: dict[str, str] = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
}

FILE_PURPOSES = frozenset({"assistants", "batch", "fine-tune", "vision", "user_data", "evals"})
TERMINAL_JOB_STATUSES = frozenset({"succeeded", "failed", "cancelled"})


# --------------------------------------------------------------------------- #
# Text helpers
# --------------------------------------------------------------------------- #

# fmt: off
_STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for",
    "from", "has", "have", "how", "i", "if", "in", "is", "it", "its", "me", "my",
    "of", "on", "or", "our", "so", "that", "the", "their", "there", "this", "to",
    "was", "we", "what", "when", "where", "which", "who", "will", "with", "you",
    "your",
})
# fmt: on
_WORD_RE = re.compile(r"[a-z0-9]+")
_TOKEN_RE = re.compile(r"\w+|[^\w\s]")


def _features(text: str) -> list[str]:
    """Lower-cased content words with a naive plural strip, so "returns" ~ "return"."""
    feats = []
    for word in _WORD_RE.findall(text.lower()):
        if word in _STOPWORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        feats.append(word)
    return feats


def embed_text(text: str, dim: int = 64) -> list[float]:
    """Deterministic unit-norm bag-of-words hashing embedding.

    Each content word adds +/-1 to one hashed bucket, so texts sharing words
    have a high cosine similarity and unrelated texts are near-orthogonal,
    which is what retrieval tests need.  Uses blake2b, so it is stable across
    processes (unlike ``hash()``).
    """
    if dim <= 0:
        raise ValueError("dim must be positive")
    vec = [0.0] * dim
    feats = _features(text) or ["\x00" + text]
    for feat in feats:
        digest = hashlib.blake2b(feat.encode("utf-8"), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "little") % dim
        vec[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec))
    if norm == 0.0:  # signs cancelled out in one bucket; fall back to the whole text
        digest = hashlib.blake2b(("\x01" + text).encode("utf-8"), digest_size=8).digest()
        vec[int.from_bytes(digest[:4], "little") % dim] = 1.0
        return vec
    return [v / norm for v in vec]


def _count_tokens(text: str) -> int:
    """Rough token count (words + punctuation); tiktoken is unusable offline."""
    return len(_TOKEN_RE.findall(text))


def message_text(message: dict[str, Any] | None) -> str:
    """Plain text of a chat message whose content is a string or a list of parts."""
    if not message:
        return ""
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "".join(parts)
    return str(content)


def default_chat_responder(messages: list[dict[str, Any]], model: str) -> ChatReply:
    """Quote the last user message, so tests can assert on what was sent."""
    last_user = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    return f'Fake reply to: "{message_text(last_user)}"'


# --------------------------------------------------------------------------- #
# State
# --------------------------------------------------------------------------- #


@dataclass
class FakeFile:
    """An uploaded file kept in memory."""

    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "expires_at": None,
            "status_details": None,
        }


@dataclass
class _JobRecord:
    """A fine-tuning job: public API dict plus the scripted status plan."""

    public: dict[str, Any]
    plan: list[str]
    error: dict[str, Any] | None
    trained_tokens: int
    step: int = 0
    polls: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FakeState:
    """Knobs and recordings shared between a test and the fake server.

    Mutate fields from the test thread between requests; the server reads
    them on every request.
    """

    #: Decides the assistant reply: ``(messages, model) -> str | dict``.
    chat_responder: ChatResponder = default_chat_responder
    #: Default embedding size (a request's ``dimensions`` overrides it).
    embedding_dim: int = 64
    #: Model ids served by /v1/models (fine-tuned ids are appended on success).
    models: list[str] = field(default_factory=lambda: list(DEFAULT_MODELS))
    #: Reject chat/embedding requests for models not in ``models`` with 404.
    strict_models: bool = False

    #: Status codes returned, in order, by the next chat/embedding requests.
    fail_next: list[int] = field(default_factory=list)
    #: ``retry-after-ms`` sent with injected errors; the openai client ignores
    #: ``retry-after: 0`` and would back off ~0.5 s, this keeps retries fast.
    #: ``None`` omits the header.
    retry_after_ms: int | None = 10
    #: Seconds to wait before answering chat (non-streaming and streaming).
    delay_seconds: float = 0.0
    #: Stall a chat stream after this many content chunks (``None``: never).
    stream_stall_after: int | None = None
    #: How long a stalled stream hangs before resuming.
    stream_stall_seconds: float = 30.0
    #: Pause between streamed chunks.
    stream_chunk_delay: float = 0.0

    #: Final status of new fine-tuning jobs.
    fine_tune_outcome: Literal["succeeded", "failed"] = "succeeded"
    #: Where a failing job stops: right after validation or after running.
    fine_tune_fail_stage: Literal["validating_files", "running"] = "running"
    #: ``error`` object set on failed jobs.
    fine_tune_error: dict[str, Any] = field(
        default_factory=lambda: {
            "code": "invalid_training_file",
            "message": "The job failed (injected by the fake server).",
            "param": "training_file",
        }
    )
    #: Retrieve polls needed per status step (1: one step per GET).
    fine_tune_polls_per_status: int = 1
    #: Organisation slug used in ``ft:<model>:<org>:<suffix>:<id>`` names.
    fine_tune_org: str = "harbor-pine"

    #: Every API request as ``(path, body)``; body is the JSON payload, a form
    #: summary for uploads, or ``None`` for bodiless requests.
    requests: list[tuple[str, Any]] = field(default_factory=list)
    files: dict[str, FakeFile] = field(default_factory=dict)
    jobs: dict[str, _JobRecord] = field(default_factory=dict)

    _ids: itertools.count = field(default_factory=lambda: itertools.count(1), repr=False)

    def bodies(self, path_suffix: str) -> list[Any]:
        """Recorded bodies of requests whose path ends with ``path_suffix``."""
        return [body for path, body in self.requests if path.endswith(path_suffix)]

    def next_id(self, prefix: str, length: int = 24) -> str:
        """Deterministic OpenAI-looking id, e.g. ``file-3f2a...``."""
        n = next(self._ids)
        return prefix + hashlib.sha1(f"{prefix}{n}".encode()).hexdigest()[:length]


# --------------------------------------------------------------------------- #
# Errors
# --------------------------------------------------------------------------- #


class FakeAPIError(Exception):
    """Raised by handlers; rendered as an OpenAI error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }
        return JSONResponse(body, status_code=self.status, headers=self.headers)


_INJECTED_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Bad request"),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided"),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden"),
    404: ("invalid_request_error", "model_not_found", "Not found"),
    408: ("timeout", None, "Request timed out"),
    409: ("invalid_request_error", None, "Conflict"),
    422: ("invalid_request_error", None, "Unprocessable entity"),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests"),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request",
    ),
    502: ("server_error", None, "Bad gateway"),
    503: ("server_error", "service_unavailable", "The engine is currently overloaded"),
}


def _maybe_inject_failure(state: FakeState) -> None:
    if not state.fail_next:
        return
    status = state.fail_next.pop(0)
    err_type, code, text = _INJECTED_ERRORS.get(status, ("server_error", None, "Error"))
    headers: dict[str, str] = {}
    if status == 429:
        headers["retry-after"] = "0"
    if state.retry_after_ms is not None:
        headers["retry-after-ms"] = str(state.retry_after_ms)
    raise FakeAPIError(
        status,
        f"{text} (injected by the fake server).",
        type=err_type,
        code=code,
        headers=headers,
    )


# --------------------------------------------------------------------------- #
# App
# --------------------------------------------------------------------------- #


def _state(request: Request) -> FakeState:
    return request.app.state.fake


async def _require_auth(request: Request) -> None:
    """Mirror the real API: any Bearer token is fine, none is a 401."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise FakeAPIError(
            401,
            "You didn't provide an API key. You need to provide your API key in "
            "an Authorization header using Bearer auth "
            "(i.e. Authorization: Bearer YOUR_KEY).",
        )


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise FakeAPIError(
            400,
            "We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.",
        )
    _state(request).requests.append((request.url.path, body))
    return body


def _record(request: Request, body: Any = None) -> None:
    _state(request).requests.append((request.url.path, body))


async def _interruptible_sleep(request: Request, seconds: float) -> bool:
    """Sleep in small steps; stop early on server shutdown or client disconnect.

    Returns False if the client went away (no point in answering).
    """
    closing: threading.Event = request.app.state.closing
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        if closing.is_set():
            return True
        await asyncio.sleep(min(0.02, remaining))
        if await request.is_disconnected():
            return False
    return True


def _check_model(state: FakeState, model: Any) -> str:
    if not isinstance(model, str) or not model:
        raise FakeAPIError(400, "you must provide a model parameter", param="model")
    if state.strict_models and model not in state.models:
        raise FakeAPIError(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            param="model",
            code="model_not_found",
        )
    return model


def _paginate(items: list[dict[str, Any]], after: str | None, limit: int) -> dict[str, Any]:
    """OpenAI cursor page: items after the id ``after``, at most ``limit``."""
    if after:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    page = items[:limit]
    return {
        "object": "list",
        "data": page,
        "has_more": len(items) > len(page),
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
    }


def _limit(request: Request, default: int) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise FakeAPIError(400, "limit must be a positive integer", param="limit")
    return value


def create_app(state: FakeState) -> FastAPI:
    """Build the fake API app around ``state`` (swappable via ``app.state.fake``)."""
    app = FastAPI(
        title="fake-openai",
        dependencies=[Depends(_require_auth)],
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.fake = state
    app.state.closing = threading.Event()

    @app.exception_handler(FakeAPIError)
    async def _api_error(_: Request, exc: FakeAPIError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = (
            f"Invalid URL ({request.method} {request.url.path})" if exc.status_code in (404, 405) else str(exc.detail)
        )
        return FakeAPIError(exc.status_code, message).response()

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # E.g. a custom chat_responder raised; keep the body OpenAI-shaped.
        message = f"Fake server error: {exc!r}"
        return FakeAPIError(500, message, type="server_error").response()

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return FakeAPIError(400, f"Invalid request: {exc.errors()}").response()

    _add_chat_routes(app)
    _add_embedding_routes(app)
    _add_model_routes(app)
    _add_file_routes(app)
    _add_fine_tuning_routes(app)
    return app


# --------------------------------------------------------------------------- #
# Chat completions
# --------------------------------------------------------------------------- #


def _normalise_reply(state: FakeState, reply: ChatReply) -> tuple[str | None, list[dict]]:
    """Split a responder reply into (content, OpenAI-shaped tool_calls)."""
    if isinstance(reply, str):
        return reply, []
    content = reply.get("content")
    tool_calls = []
    for call in reply.get("tool_calls") or []:
        arguments = call.get("arguments", {})
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments)
        tool_calls.append(
            {
                "id": call.get("id") or state.next_id("call_", 24),
                "type": "function",
                "function": {"name": call["name"], "arguments": arguments},
            }
        )
    return content, tool_calls


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _add_chat_routes(app: FastAPI) -> None:
    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(request: Request) -> Response:
        state = _state(request)
        body = await _json_body(request)
        _maybe_inject_failure(state)
        model = _check_model(state, body.get("model"))
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise FakeAPIError(400, "'messages' must be a non-empty array", param="messages")
        if state.delay_seconds > 0 and not await _interruptible_sleep(request, state.delay_seconds):
            return Response(status_code=499)

        content, tool_calls = _normalise_reply(state, state.chat_responder(messages, model))
        finish_reason = "tool_calls" if tool_calls else "stop"
        prompt_tokens = sum(_count_tokens(message_text(m)) + 3 for m in messages)
        completion_tokens = _count_tokens(content or "") + sum(
            _count_tokens(c["function"]["arguments"]) for c in tool_calls
        )
        completion_id = state.next_id("chatcmpl-", 29)
        created = int(time.time())
        base = {
            "id": completion_id,
            "created": created,
            "model": model,
            "system_fingerprint": "fp_fake",
            "service_tier": "default",
        }

        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            stream = _chat_stream(
                request,
                base,
                content,
                tool_calls,
                finish_reason,
                _usage(prompt_tokens, completion_tokens) if include_usage else None,
            )
            return StreamingResponse(
                stream,
                media_type="text/event-stream",
                headers={"cache-control": "no-cache", "x-request-id": completion_id},
            )

        message: dict[str, Any] = {
            "role": "assistant",
            "content": content,
            "refusal": None,
            "annotations": [],
        }
        if tool_calls:
            message["tool_calls"] = tool_calls
        n = body.get("n") or 1
        payload = {
            **base,
            "object": "chat.completion",
            "choices": [
                {
                    "index": i,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
                for i in range(n)
            ],
            "usage": _usage(prompt_tokens, completion_tokens * n),
        }
        return JSONResponse(payload, headers={"x-request-id": completion_id})


def _split_stream_pieces(text: str) -> list[str]:
    """Word-ish chunks (leading whitespace kept) that join back to ``text``."""
    pieces = re.findall(r"\s*\S+", text)
    tail = text[len("".join(pieces)) :]
    if tail:
        pieces.append(tail)
    return pieces


async def _chat_stream(
    request: Request,
    base: dict[str, Any],
    content: str | None,
    tool_calls: list[dict[str, Any]],
    finish_reason: str,
    usage: dict[str, Any] | None,
) -> AsyncIterator[str]:
    state = _state(request)
    closing: threading.Event = request.app.state.closing

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        obj = {
            **base,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if usage is not None:
            obj["usage"] = None
        return f"data: {json.dumps(obj)}\n\n"

    async def pause(seconds: float) -> None:
        # Cancelled by Starlette when the client disconnects.
        deadline = time.monotonic() + seconds
        while not closing.is_set() and (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(0.02, left))

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    for sent, piece in enumerate(_split_stream_pieces(content or "")):
        if state.stream_stall_after is not None and sent == state.stream_stall_after:
            await pause(state.stream_stall_seconds)
        if state.stream_chunk_delay > 0:
            await pause(state.stream_chunk_delay)
        yield chunk({"content": piece})
    for index, call in enumerate(tool_calls):
        head = {
            **call,
            "index": index,
            "function": {**call["function"], "arguments": ""},
        }
        yield chunk({"tool_calls": [head]})
        arguments = call["function"]["arguments"]
        yield chunk({"tool_calls": [{"index": index, "function": {"arguments": arguments}}]})
    yield chunk({}, finish_reason)
    if usage is not None:
        final = {
            **base,
            "object": "chat.completion.chunk",
            "choices": [],
            "usage": usage,
        }
        yield f"data: {json.dumps(final)}\n\n"
    yield "data: [DONE]\n\n"


# --------------------------------------------------------------------------- #
# Embeddings
# --------------------------------------------------------------------------- #


def _embedding_inputs(raw: Any) -> list[str]:
    """Accept str, list[str], list[int] or list[list[int]] like the real API."""
    invalid = FakeAPIError(
        400,
        "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
        param="input",
    )

    def tokens_to_text(tokens: list[Any]) -> str:
        if not tokens or not all(isinstance(t, int) for t in tokens):
            raise invalid
        return " ".join(f"tok{t}" for t in tokens)

    if isinstance(raw, str):
        texts = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(x, int) for x in raw):
        texts = [tokens_to_text(raw)]
    elif isinstance(raw, list) and raw:
        texts = []
        for item in raw:
            if isinstance(item, str):
                texts.append(item)
            elif isinstance(item, list):
                texts.append(tokens_to_text(item))
            else:
                raise invalid
    else:
        raise invalid
    if len(texts) > 2048 or any(t == "" for t in texts):
        raise invalid
    return texts


def _add_embedding_routes(app: FastAPI) -> None:
    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> JSONResponse:
        state = _state(request)
        body = await _json_body(request)
        _maybe_inject_failure(state)
        model = _check_model(state, body.get("model"))
        texts = _embedding_inputs(body.get("input"))
        dim = body.get("dimensions") or state.embedding_dim
        if not isinstance(dim, int) or dim < 1:
            raise FakeAPIError(400, "dimensions must be a positive integer", param="dimensions")
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for index, text in enumerate(texts):
            vector = embed_text(text, dim)
            encoded: Any = base64.b64encode(struct.pack(f"<{dim}f", *vector)).decode("ascii") if as_base64 else vector
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(_count_tokens(t) for t in texts)
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )


# --------------------------------------------------------------------------- #
# Models
# --------------------------------------------------------------------------- #


def _model_obj(model_id: str, org: str) -> dict[str, Any]:
    owner = org if model_id.startswith("ft:") else "system"
    return {
        "id": model_id,
        "object": "model",
        "created": 1_700_000_000,
        "owned_by": owner,
    }


def _add_model_routes(app: FastAPI) -> None:
    @app.get("/v1/models")
    async def list_models(request: Request) -> dict[str, Any]:
        state = _state(request)
        _record(request)
        return {
            "object": "list",
            "data": [_model_obj(m, state.fine_tune_org) for m in state.models],
        }

    @app.get("/v1/models/{model_id:path}")
    async def get_model(model_id: str, request: Request) -> dict[str, Any]:
        state = _state(request)
        _record(request)
        if model_id not in state.models:
            raise FakeAPIError(
                404,
                f"The model '{model_id}' does not exist",
                param="model",
                code="model_not_found",
            )
        return _model_obj(model_id, state.fine_tune_org)


# --------------------------------------------------------------------------- #
# Files
# --------------------------------------------------------------------------- #


def _validate_fine_tune_jsonl(content: bytes) -> int:
    """Check chat-format (or DPO) JSONL; return a rough token count."""

    def bad(line_no: int, why: str) -> FakeAPIError:
        return FakeAPIError(
            400,
            f"Invalid file format for Fine-Tuning API. Line {line_no}: {why}",
            param="file",
            code="invalid_file_format",
        )

    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad(1, "file is not valid UTF-8") from exc
    tokens = 0
    examples = 0
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            example = json.loads(line)
        except ValueError as exc:
            raise bad(line_no, "not valid JSON") from exc
        if not isinstance(example, dict):
            raise bad(line_no, "expected a JSON object")
        messages = example.get("messages")
        if messages is None and isinstance(example.get("input"), dict):
            messages = example["input"].get("messages")  # DPO format
        if not isinstance(messages, list) or not messages:
            raise bad(line_no, "missing 'messages' list")
        if not all(isinstance(m, dict) and "role" in m for m in messages):
            raise bad(line_no, "each message needs a 'role'")
        tokens += sum(_count_tokens(message_text(m)) for m in messages)
        examples += 1
    if examples == 0:
        raise bad(1, "file contains no examples")
    return tokens


def _get_file(state: FakeState, file_id: str) -> FakeFile:
    stored = state.files.get(file_id)
    if stored is None:
        raise FakeAPIError(404, f"No such File object: {file_id}", param="id")
    return stored


def _add_file_routes(app: FastAPI) -> None:
    @app.post("/v1/files")
    async def upload_file(request: Request) -> dict[str, Any]:
        state = _state(request)
        async with request.form() as form:  # closes spooled temp files
            upload = form.get("file")
            purpose = form.get("purpose")
            filename = getattr(upload, "filename", None)
            _record(request, {"purpose": purpose, "filename": filename})
            if upload is None or isinstance(upload, str):
                raise FakeAPIError(400, "Missing required parameter: 'file'.", param="file")
            if not isinstance(purpose, str) or purpose not in FILE_PURPOSES:
                raise FakeAPIError(400, f"Invalid value for 'purpose': {purpose!r}.", param="purpose")
            content = await upload.read()
        if purpose == "fine-tune":
            _validate_fine_tune_jsonl(content)
        stored = FakeFile(
            id=state.next_id("file-"),
            filename=filename or "upload",
            purpose=purpose,
            content=content,
            created_at=int(time.time()),
        )
        state.files[stored.id] = stored
        return stored.to_api()

    @app.get("/v1/files")
    async def list_files(request: Request) -> dict[str, Any]:
        state = _state(request)
        _record(request)
        params = request.query_params
        items = [f.to_api() for f in state.files.values()]
        if purpose := params.get("purpose"):
            items = [f for f in items if f["purpose"] == purpose]
        if params.get("order", "desc") == "desc":
            items.reverse()
        return _paginate(items, params.get("after"), _limit(request, 10_000))

    @app.get("/v1/files/{file_id}")
    async def get_file(file_id: str, request: Request) -> dict[str, Any]:
        _record(request)
        return _get_file(_state(request), file_id).to_api()

    @app.get("/v1/files/{file_id}/content")
    async def file_content(file_id: str, request: Request) -> Response:
        _record(request)
        stored = _get_file(_state(request), file_id)
        return Response(stored.content, media_type="application/octet-stream")

    @app.delete("/v1/files/{file_id}")
    async def delete_file(file_id: str, request: Request) -> dict[str, Any]:
        state = _state(request)
        _record(request)
        _get_file(state, file_id)
        del state.files[file_id]
        return {"id": file_id, "object": "file", "deleted": True}


# --------------------------------------------------------------------------- #
# Fine-tuning
# --------------------------------------------------------------------------- #


def _add_event(
    state: FakeState,
    job: _JobRecord,
    message: str,
    *,
    level: str = "info",
    data: dict[str, Any] | None = None,
) -> None:
    job.events.append(
        {
            "id": state.next_id("ftevent-"),
            "object": "fine_tuning.job.event",
            "created_at": int(time.time()),
            "level": level,
            "message": message,
            "data": data or {},
            "type": "metrics" if data else "message",
        }
    )


def _check_training_file(state: FakeState, file_id: Any, param: str) -> FakeFile:
    stored = state.files.get(file_id) if isinstance(file_id, str) else None
    if stored is None:
        raise FakeAPIError(400, f"invalid {param}: {file_id}", param=param)
    if stored.purpose != "fine-tune":
        raise FakeAPIError(
            400,
            f"File {file_id} has purpose '{stored.purpose}', expected 'fine-tune'.",
            param=param,
        )
    return stored


def _hyperparameters(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Hyperparameters from ``hyperparameters`` or ``method.<type>.hyperparameters``."""
    method = body.get("method") or {}
    method_type = method.get("type") or "supervised"
    hp = dict(body.get("hyperparameters") or {})
    hp.update((method.get(method_type) or {}).get("hyperparameters") or {})
    resolved = {
        "batch_size": hp.get("batch_size", "auto"),
        "learning_rate_multiplier": hp.get("learning_rate_multiplier", "auto"),
        "n_epochs": hp.get("n_epochs", "auto"),
    }
    return resolved, method_type


def _set_hyperparameters(job: dict[str, Any], hp: dict[str, Any]) -> None:
    job["hyperparameters"] = hp
    method_type = job["method"]["type"]
    job["method"] = {"type": method_type, method_type: {"hyperparameters": dict(hp)}}


def _advance_job(state: FakeState, job: _JobRecord) -> None:
    """Move a job one scripted step forward (called on each retrieve poll)."""
    public = job.public
    if public["status"] in TERMINAL_JOB_STATUSES:
        return
    job.polls += 1
    if job.polls < max(1, state.fine_tune_polls_per_status):
        return
    job.polls = 0
    job.step += 1
    status = job.plan[job.step]
    public["status"] = status
    now = int(time.time())
    if status == "queued":
        _add_event(state, job, "Files validated, moving job to queued state")
    elif status == "running":
        hp = public["hyperparameters"]
        resolved = {
            "batch_size": 1 if hp["batch_size"] == "auto" else hp["batch_size"],
            "learning_rate_multiplier": 1.8
            if hp["learning_rate_multiplier"] == "auto"
            else hp["learning_rate_multiplier"],
            "n_epochs": 3 if hp["n_epochs"] == "auto" else hp["n_epochs"],
        }
        _set_hyperparameters(public, resolved)
        _add_event(state, job, "Fine-tuning job started")
        _add_event(
            state,
            job,
            "Step 1/10: training loss=1.23",
            data={"step": 1, "total_steps": 10, "train_loss": 1.23},
        )
    elif status == "succeeded":
        snapshot = public["model"]
        short = hashlib.sha1(public["id"].encode()).hexdigest()[:8]
        suffix = public.get("user_provided_suffix") or ""
        ft_model = f"ft:{snapshot}:{state.fine_tune_org}:{suffix}:{short}"
        results = FakeFile(
            id=state.next_id("file-"),
            filename="step_metrics.csv",
            purpose="fine-tune-results",
            content=b"step,train_loss\n1,1.23\n10,0.42\n",
            created_at=now,
        )
        state.files[results.id] = results
        n_epochs = public["hyperparameters"]["n_epochs"]
        public.update(
            fine_tuned_model=ft_model,
            trained_tokens=job.trained_tokens * int(n_epochs),
            finished_at=now,
            result_files=[results.id],
        )
        if ft_model not in state.models:
            state.models.append(ft_model)
        _add_event(state, job, f"New fine-tuned model created: {ft_model}")
        _add_event(state, job, "The job has successfully completed")
    elif status == "failed":
        public.update(error=dict(job.error or {}), finished_at=now)
        message = (job.error or {}).get("message", "The job failed")
        _add_event(state, job, message, level="error")


def _get_job(state: FakeState, job_id: str) -> _JobRecord:
    job = state.jobs.get(job_id)
    if job is None:
        raise FakeAPIError(
            404,
            f"Could not find fine-tuning job: {job_id}",
            param="fine_tuning_job_id",
            code="fine_tuning_job_not_found",
        )
    return job


def _add_fine_tuning_routes(app: FastAPI) -> None:
    @app.post("/v1/fine_tuning/jobs")
    async def create_job(request: Request) -> dict[str, Any]:
        state = _state(request)
        body = await _json_body(request)
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise FakeAPIError(400, "Missing required parameter: 'model'.", param="model")
        training = _check_training_file(state, body.get("training_file"), "training_file")
        validation_file = body.get("validation_file")
        if validation_file is not None:
            _check_training_file(state, validation_file, "validation_file")
        suffix = body.get("suffix")
        if suffix is not None and (not isinstance(suffix, str) or len(suffix) > 64):
            raise FakeAPIError(400, "suffix must be a string of at most 64 characters", param="suffix")

        hp, method_type = _hyperparameters(body)
        job_id = state.next_id("ftjob-")
        public: dict[str, Any] = {
            "id": job_id,
            "object": "fine_tuning.job",
            "created_at": int(time.time()),
            "error": None,
            "fine_tuned_model": None,
            "finished_at": None,
            "hyperparameters": {},
            "method": {"type": method_type},
            "model": MODEL_SNAPSHOTS.get(model, model),
            "organization_id": "org-fake",
            "result_files": [],
            "seed": body.get("seed") if body.get("seed") is not None else 42,
            "status": "validating_files",
            "trained_tokens": None,
            "training_file": training.id,
            "validation_file": validation_file,
            "estimated_finish": None,
            "integrations": body.get("integrations") or [],
            "metadata": body.get("metadata"),
            "user_provided_suffix": suffix,
        }
        _set_hyperparameters(public, hp)
        if state.fine_tune_outcome == "succeeded":
            plan = ["validating_files", "queued", "running", "succeeded"]
        elif state.fine_tune_fail_stage == "validating_files":
            plan = ["validating_files", "failed"]
        else:
            plan = ["validating_files", "queued", "running", "failed"]
        job = _JobRecord(
            public=public,
            plan=plan,
            error=dict(state.fine_tune_error),
            trained_tokens=_validate_fine_tune_jsonl(training.content),
        )
        state.jobs[job_id] = job
        _add_event(state, job, f"Validating training file: {training.id}")
        return dict(public)

    @app.get("/v1/fine_tuning/jobs")
    async def list_jobs(request: Request) -> dict[str, Any]:
        state = _state(request)
        _record(request)
        items = [dict(j.public) for j in reversed(state.jobs.values())]
        page = _paginate(items, request.query_params.get("after"), _limit(request, 20))
        return {"object": "list", "data": page["data"], "has_more": page["has_more"]}

    @app.get("/v1/fine_tuning/jobs/{job_id}")
    async def get_job(job_id: str, request: Request) -> dict[str, Any]:
        state = _state(request)
        _record(request)
        job = _get_job(state, job_id)
        _advance_job(state, job)
        return dict(job.public)

    @app.post("/v1/fine_tuning/jobs/{job_id}/cancel")
    async def cancel_job(job_id: str, request: Request) -> dict[str, Any]:
        state = _state(request)
        _record(request)
        job = _get_job(state, job_id)
        if job.public["status"] in TERMINAL_JOB_STATUSES:
            raise FakeAPIError(
                400,
                f"Job {job_id} has already {job.public['status']}; it cannot be cancelled.",
                param="fine_tuning_job_id",
            )
        job.public.update(status="cancelled", finished_at=int(time.time()))
        _add_event(state, job, "Fine-tuning job cancelled")
        return dict(job.public)

    @app.get("/v1/fine_tuning/jobs/{job_id}/events")
    async def job_events(job_id: str, request: Request) -> dict[str, Any]:
        state = _state(request)
        _record(request)
        job = _get_job(state, job_id)
        items = list(reversed(job.events))  # newest first, like the real API
        page = _paginate(items, request.query_params.get("after"), _limit(request, 20))
        return {"object": "list", "data": page["data"], "has_more": page["has_more"]}


# --------------------------------------------------------------------------- #
# Server runner
# --------------------------------------------------------------------------- #


class FakeOpenAIServer:
    """Run the fake API with uvicorn in a background thread on a free port.

    Usage::

        with FakeOpenAIServer() as server:
            client = openai.OpenAI(base_url=server.base_url, api_key="test")
            server.state.fail_next = [429]
    """

    def __init__(
        self,
        state: FakeState | None = None,
        *,
        host: str = "127.0.0.1",
        startup_timeout: float = 10.0,
    ) -> None:
        self.app = create_app(state if state is not None else FakeState())
        self.host = host
        self.port: int | None = None
        self._startup_timeout = startup_timeout
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def state(self) -> FakeState:
        return self.app.state.fake

    @state.setter
    def state(self, value: FakeState) -> None:
        self.app.state.fake = value

    def reset(self, state: FakeState | None = None) -> FakeState:
        """Swap in a fresh state so one server can be shared by many tests."""
        self.state = state if state is not None else FakeState()
        return self.state

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("server is not running")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What to pass as ``base_url`` to ``openai.OpenAI`` / ``ChatOpenAI``."""
        return f"{self.url}/v1"

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("server already started")
        # Bind ourselves so the port is known before uvicorn starts (no races).
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted
        # sockets whose proto is TCP; without it keep-alive requests hit the
        # 40 ms Nagle/delayed-ACK stall.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            ws="none",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self.app.state.closing.clear()

        def run() -> None:
            try:
                self._server.run(sockets=[sock])  # type: ignore[union-attr]
            except BaseException as exc:  # surfaced by start()
                self._error = exc
            finally:
                sock.close()

        self._thread = threading.Thread(target=run, name=f"fake-openai:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"fake OpenAI server failed to start: {self._error!r}")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving; in-flight delays and stalls are cut short."""
        if self._server is None or self._thread is None:
            return
        self.app.state.closing.set()
        self._server.should_exit = True
        self._thread.join(timeout=5)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
