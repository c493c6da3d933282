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

import logging
import threading
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.context import ApiContext
from api.http import BodyLimit
from api.routes import chat, health, search
from base.settings import Settings
from services.api_keys import ApiKeys
from services.assistant import Assistant, open_assistant

logger = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")  # the chat widget (widget.js), served at /widget/


def create_app(settings: Settings, assistant: Assistant | None = None, keys: ApiKeys | None = None) -> FastAPI:
    """The API over one assistant (built from the settings when not given: one model load per process)."""
    bot = assistant or open_assistant(settings, recover_in_background=True)
    ctx = ApiContext.of(settings, bot, keys or ApiKeys(settings.api_keys_file))
    app = FastAPI(title=f"{settings.store_name} assistant API", version="1", docs_url=None, redoc_url=None)
    app.add_middleware(BodyLimit, limit=settings.api_max_body_bytes)
    app.add_middleware(  # outermost: a refusal (413, 429, ...) still carries the headers the widget needs to read it
        CORSMiddleware,
        allow_origins=list(settings.api_allowed_origins),
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "Authorization"],
        max_age=600,
    )
    _errors_as_json(app)
    for module in (chat, search, health):
        app.include_router(module.router)
    app.mount("/widget", StaticFiles(directory=STATIC), name="widget")
    app.state.context = ctx
    app.state.assistant, app.state.warm, app.state.conversations = bot, ctx.warm, ctx.conversations
    threading.Thread(target=_warm_up, args=(ctx,), name="api-warm-up", daemon=True).start()
    return app


def _warm_up(ctx: ApiContext) -> None:
    try:
        ctx.bot.kb.search("hello", 1)  # loads the embedding models and opens the index
    except Exception:  # readyz reports it
        logger.exception("warm-up search failed")
    finally:
        ctx.warm.set()


# Validation failures said in words rather than as the rule that failed.
_PLAIN = {("message", "string_pattern_mismatch"): "the message is empty"}


def _errors_as_json(app: FastAPI) -> None:
    """Every error is `{"error": "..."}`; no stack trace reaches a client."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query"))
            said = _PLAIN.get((where, err.get("type")), err.get("msg"))
            problems.append(f"{where}: {said}" if where else str(said))
        return JSONResponse({"error": "; ".join(problems) or "invalid request"}, status_code=422)

    @app.exception_handler(Exception)
    async def crashed(_request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled API error")
        return JSONResponse({"error": "internal error"}, status_code=500)


def app_from_settings() -> FastAPI:
    """The app for `uvicorn --factory api.app:app_from_settings` (what `cli.py serve --workers N` runs in each
    worker): settings from the environment, one assistant per worker process."""
    from base.settings import get_settings

    return create_app(get_settings())
