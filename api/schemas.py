"""The request and response bodies of the REST API (what /openapi.json documents)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.assistant import MAX_QUESTION_CHARS


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    conversation_id: str | None = Field(None, max_length=64, description="omit to start a new conversation")
    # At least one character that is not white space (as Python's str.strip sees it: Unicode White_Space plus the
    # separators \x1c-\x1f), so the schema says what the route checks: a blank message is a 422.
    message: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, pattern=r"[^\s\x1c-\x1f]")
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
