"""Offline OpenAI-compatible fake server for tests (see ``server.py``)."""

from .server import (
    ChatReply,
    ChatResponder,
    FakeAPIError,
    FakeFile,
    FakeOpenAIServer,
    FakeState,
    create_app,
    default_chat_responder,
    embed_text,
    message_text,
)

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
