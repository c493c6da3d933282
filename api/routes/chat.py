"""POST /v1/chat and POST /v1/feedback: a conversation's answers, streamed or whole, and their ratings."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from fastapi import APIRouter, Depends, HTTPException, Request

from api.context import ApiContext, caller, context
from api.http import ReleasingStream, client_ip, errors, once, sources, sse
from api.schemas import ChatIn, ChatOut, FeedbackIn
from services.assistant import AssistantAnswer

logger = logging.getLogger(__name__)
RETRY_AFTER_BUSY = 2
router = APIRouter(prefix="/v1", dependencies=[Depends(caller)])  # no route here without a key or an allowed origin


def _finish(ctx: ApiContext, conversation_id: str, answer: AssistantAnswer) -> dict:
    if answer.interaction_id is not None:
        ctx.conversations.add_interaction(conversation_id, answer.interaction_id)
    return {
        "conversation_id": conversation_id,
        "answer": answer.answer,
        "sources": sources(answer.sources),
        "model": answer.model,
        "declined": answer.declined,
        "interaction_id": answer.interaction_id,
    }


@router.post(
    "/chat",
    response_model=ChatOut,
    responses={200: {"content": {"text/event-stream": {}}}, **errors(401, 404, 413, 422, 429, 500, 503)},
)
def chat(body: ChatIn, request: Request, channel: str = Depends(caller)):
    """Answer one message; streams `delta` events with text pieces, then one `done` event with the sources."""
    ctx = context(request)
    message = body.message.strip()
    if not message:
        raise HTTPException(422, "message: the message is empty")
    if body.conversation_id is not None and not ctx.conversations.resume(body.conversation_id, channel):
        raise HTTPException(404, "unknown conversation; omit conversation_id to start a new one")
    if not ctx.busy.acquire(blocking=False):
        raise HTTPException(503, "busy; try again shortly", {"Retry-After": str(RETRY_AFTER_BUSY)})
    release = once(ctx.busy.release)
    try:
        conversation_id = body.conversation_id or ctx.conversations.open(channel)
        pending = ctx.bot.ask_stream(message, session_id=conversation_id, client=client_ip(request, ctx.settings))
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
        return _finish(ctx, conversation_id, pending.result)

    def events() -> Iterator[str]:
        try:
            yield sse("start", {"conversation_id": conversation_id})
            for piece in pending.chunks():
                yield sse("delta", {"text": piece})
            assert pending.result is not None
            yield sse("done", _finish(ctx, conversation_id, pending.result))
        except Exception:
            logger.exception("streaming an answer failed")
            yield sse("error", {"error": "the answer could not be completed"})
        finally:
            release()

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return ReleasingStream(release, events(), media_type="text/event-stream", headers=headers)


@router.post("/feedback", status_code=204, responses=errors(401, 404, 413, 422, 429, 500))
def feedback(body: FeedbackIn, request: Request, channel: str = Depends(caller)) -> None:
    """Thumbs up (1), down (0) or cleared (null) for an answer of the caller's own conversation."""
    ctx = context(request)
    if not ctx.conversations.owns(body.conversation_id, channel, body.interaction_id):
        raise HTTPException(404, "unknown conversation or answer")
    ctx.bot.rate(body.interaction_id, body.rating)
