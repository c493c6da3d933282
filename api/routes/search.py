"""GET /v1/search: the store's best passages for a query (what the assistant would answer from)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from api.context import caller, context
from api.http import errors, sources
from base.errors import StoreError
from services.assistant import MAX_QUESTION_CHARS

MAX_K = 20
router = APIRouter(prefix="/v1", dependencies=[Depends(caller)])


@router.get("/search", responses=errors(401, 422, 429, 500, 503))
def search(
    request: Request, q: str = Query(min_length=1, max_length=MAX_QUESTION_CHARS), k: int = Query(4, ge=1, le=MAX_K)
) -> dict:
    """The store's best passages for a query (what the assistant would answer from)."""
    try:
        hits = context(request).bot.kb.search(q, k)
    except StoreError as exc:
        raise HTTPException(503, "the store cannot be searched right now", {"Retry-After": "5"}) from exc
    return {"hits": sources(hits)}
