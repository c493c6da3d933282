"""GET /healthz (the process answers) and GET /readyz (models loaded and the store readable): no caller check, for
load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.context import context

router = APIRouter()


@router.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "loading, or the store cannot be read"}})
def readyz(request: Request) -> JSONResponse:
    ctx = context(request)
    if not ctx.warm.is_set():
        return JSONResponse({"status": "loading"}, status_code=503, headers={"Retry-After": "5"})
    health = ctx.bot.kb.health()
    ready = health.status == "ok"
    body = {"status": health.status if not ready else "ready", "documents": health.documents}
    return JSONResponse(body, status_code=200 if ready else 503)
