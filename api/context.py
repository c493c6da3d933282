"""What every route needs, built once per app (`ApiContext`), and the caller check every `/v1` route runs as a
router dependency (`caller`): the API key or allowed origin, then the shared rate limits."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from fastapi import HTTPException, Request

from api.http import client_ip
from base.limits import SlidingWindow
from base.settings import Settings
from services.api_keys import ApiKeys
from services.assistant import Assistant
from services.conversations import ConversationRegistry


@dataclass
class ApiContext:
    settings: Settings
    bot: Assistant
    keys: ApiKeys
    conversations: ConversationRegistry
    limiter: SlidingWindow
    busy: threading.BoundedSemaphore
    warm: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def of(cls, settings: Settings, bot: Assistant, keys: ApiKeys) -> ApiContext:
        """Conversations and limits on the assistant's state backend (shared by all workers when it is Redis)."""
        return cls(
            settings,
            bot,
            keys,
            ConversationRegistry(bot.conversations),
            SlidingWindow(settings.api_rate_per_minute, 60.0, bot.conversations.kv, name="api-calls"),
            threading.BoundedSemaphore(settings.api_max_concurrent),
        )


def context(request: Request) -> ApiContext:
    return request.app.state.context


def caller(request: Request) -> str:
    """The caller's channel (`key:NAME` or `origin:URL`), after the rate limits; raises 401 / 429."""
    ctx = context(request)
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        name = ctx.keys.verify(auth[7:].strip())
        if name is None:
            raise HTTPException(401, "invalid API key")
        channel = f"key:{name}"
    else:
        origin = request.headers.get("origin")
        if not origin or origin not in ctx.settings.api_allowed_origins:
            raise HTTPException(401, "send Authorization: Bearer KEY, or call from an allowed origin")
        channel = f"origin:{origin}"
    # A key has its own budget; the widget's origin is shared by every visitor (and its Origin header can be sent by
    # anyone), so origin callers are limited per client IP only.
    buckets = [f"ip:{client_ip(request, ctx.settings)}"] + ([channel] if channel.startswith("key:") else [])
    for bucket in buckets:
        wait = ctx.limiter.take(bucket)
        if wait:
            raise HTTPException(429, "too many requests; try again later", {"Retry-After": str(wait)})
    return channel
