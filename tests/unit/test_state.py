"""Conversation state and the shared limits on the in-process backend (the same contracts run on Redis in
tests/integration/test_scale_out.py), and what only the in-process backend promises."""

from __future__ import annotations

import pytest
from contracts import ConversationStateContract, KeyValueContract, LimitsContract

from base.kv import MemoryKV


class TestMemoryKV(KeyValueContract):
    @pytest.fixture
    def kv(self):
        return MemoryKV()


class TestMemoryLimits(LimitsContract):
    @pytest.fixture
    def kv(self):
        return MemoryKV()


class TestMemoryConversationState(ConversationStateContract):
    @pytest.fixture
    def kv(self):
        return MemoryKV()


def test_memory_backend_keeps_at_most_max_keys_least_recently_written_first() -> None:
    kv = MemoryKV(max_keys=2)
    for key in ("a", "b", "c"):
        kv.update(key, lambda old: (1, None), 60)
    assert (kv.get("a"), kv.get("b"), kv.get("c")) == (None, 1, 1)


def test_memory_backend_expires_by_its_clock() -> None:
    now = [0.0]
    kv = MemoryKV(clock=lambda: now[0])
    kv.update("k", lambda old: (1, None), 10)
    now[0] = 9.9
    assert kv.get("k") == 1
    kv.update("k", lambda old: (2, None), 10)  # a write renews the expiry
    now[0] = 19.0
    assert kv.get("k") == 2
    now[0] = 20.0
    assert kv.get("k") is None
