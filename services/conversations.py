"""Conversations of the REST API: unguessable ids, each bound to the channel (API key or web origin) that opened it.

A client can only continue its own conversations and rate its own answers; an id from another channel is answered
exactly like an id that never existed, so ids cannot be probed. The binding is part of the conversation's state
(services/state.py), so it expires with the rest of it, and every worker sees it when state is in Redis.
"""

from __future__ import annotations

import secrets

from services.state import ConversationState, ConversationStore


class ConversationRegistry:
    def __init__(self, conversations: ConversationStore) -> None:
        self.conversations = conversations

    def open(self, channel: str) -> str:
        """A new conversation id for `channel` (192 random bits)."""
        conversation_id = "c_" + secrets.token_urlsafe(24)
        self.conversations.change(conversation_id, lambda state: setattr(state, "channel", channel))
        return conversation_id

    def resume(self, conversation_id: str, channel: str) -> bool:
        """True when the conversation exists, is alive and belongs to `channel` (then it counts as active)."""

        def touch(state: ConversationState) -> bool:
            return bool(state.channel) and secrets.compare_digest(state.channel, channel)

        return bool(self.conversations.change(conversation_id, touch, create=False))

    def add_interaction(self, conversation_id: str, interaction_id: int) -> None:
        self.conversations.change(conversation_id, lambda state: state.interactions.append(interaction_id), False)

    def owns(self, conversation_id: str, channel: str, interaction_id: int) -> bool:
        state = self.conversations.load(conversation_id)
        return bool(state.channel) and state.channel == channel and interaction_id in state.interactions
