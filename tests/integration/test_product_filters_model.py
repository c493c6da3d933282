"""A chat model reads product filters by structured output (a tool call) over real HTTP against the local fake;
what it returns is checked against the catalogue, and the rules stand in when it fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_openai import FakeOpenAIServer, FakeState

from base.paths import ROOT
from base.settings import Settings
from providers.embeddings import HashingEmbeddings
from services.assistant import Assistant
from services.knowledge import KnowledgeBase

pytestmark = pytest.mark.integration


def _filters(**fields) -> dict:
    return {"tool_calls": [{"name": "ProductFilters", "arguments": json.dumps(fields)}]}


def _assistant(server: FakeOpenAIServer, tmp_path: Path) -> Assistant:
    settings = Settings(store_dir=tmp_path / "store", chat_provider="openai", openai_api_key="sk-test",
                        openai_base_url=server.base_url, openai_max_retries=0)  # fmt: skip
    kb = KnowledgeBase(settings, embeddings=HashingEmbeddings())
    assert kb.ingest_paths([ROOT / "data/products.csv"]).ok
    return Assistant(settings, kb)


def test_the_model_reads_filters_and_code_writes_the_answer(tmp_path: Path) -> None:
    seen: list[list[dict]] = []

    def responder(messages, model):
        seen.append(messages)
        if "catalogue filters" in messages[0]["content"]:
            # A paraphrase the rules would miss the kind of ("something to sleep in outdoors"); the model also
            # names a brand the shop does not have, which must be dropped.
            return _filters(intent="list", kind="tent", brand="Acme Imaginary", max_price=300, in_stock=True)
        return "unused"

    with FakeOpenAIServer(FakeState(chat_responder=responder)) as server:
        answer = _assistant(server, tmp_path).ask("got a shelter for camping under $300 that ships now?", "s")
    prompt = seen[0][0]["content"]
    assert "Ridgeback Outfitters" in prompt and "Outdoor & Camping" in prompt  # the shop's own vocabulary
    assert answer.model == "catalogue"
    assert answer.answer.startswith("Here are our tents under $300.00 USD that are in stock")
    assert all(h.metadata["price"] <= 300 and "Tent" in h.metadata["name"] for h in answer.sources)
    assert len(seen) == 1  # the answer itself is written by code: no second model call


def test_a_failing_or_malformed_model_falls_back_to_the_rules(tmp_path: Path) -> None:
    with FakeOpenAIServer(FakeState(chat_responder=lambda m, model: "not a tool call")) as server:
        answer = _assistant(server, tmp_path).ask("tents under $300 that are in stock", "s")
    assert answer.model == "catalogue" and answer.answer.startswith("Here are our tents under $300.00")
    with FakeOpenAIServer(FakeState(chat_responder=lambda m, model: "x", fail_next=[500])) as server:
        answer = _assistant(server, tmp_path / "b").ask("what's the cheapest backpack?", "s")
    assert answer.model == "catalogue" and "backpack" in answer.answer.lower()


def test_no_model_call_for_messages_without_a_filter_cue(tmp_path: Path) -> None:
    def responder(messages, model):
        assert "catalogue filters" not in messages[0]["content"], "asked to read filters for a plain question"
        return "The Copperleaf skillet costs $39.95 USD [1]."

    with FakeOpenAIServer(FakeState(chat_responder=responder)) as server:
        answer = _assistant(server, tmp_path).ask("How much is the Copperleaf cast iron skillet?", "s")
    assert answer.model != "catalogue"
