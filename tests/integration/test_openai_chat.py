"""The OpenAI chat provider over real HTTP against the local OpenAI-compatible fake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_openai import FakeOpenAIServer, FakeState

from base.paths import ROOT
from base.settings import Settings
from providers.chat import chat_model_name, use_fine_tuned
from providers.embeddings import HashingEmbeddings
from services.assistant import Assistant
from services.knowledge import KnowledgeBase

pytestmark = pytest.mark.integration


def _assistant(server: FakeOpenAIServer, tmp_path: Path, **kw) -> Assistant:
    settings = Settings(
        store_dir=tmp_path / "store",
        chat_provider="openai",
        openai_api_key="sk-test",
        openai_base_url=server.base_url,
        decline_thresholds={"en": 0.3, "es": 0.3},
        **kw,
    )
    kb = KnowledgeBase(settings, embeddings=HashingEmbeddings())
    if kb.stats()["chunks"] == 0:
        assert kb.ingest_paths([ROOT / "data/faq/store_faq.json", ROOT / "data/products.csv"]).ok
    return Assistant(settings, kb)


def _grounded_responder(messages, model):
    last = messages[-1]["content"]
    return "From the context: gift cards never expire and have no fees [1]." if "[1]" in last else "Standalone?"


def test_streams_a_grounded_answer_with_sources(tmp_path: Path) -> None:
    with FakeOpenAIServer(FakeState(chat_responder=_grounded_responder)) as server:
        bot = _assistant(server, tmp_path)
        pending = bot.ask_stream("Do gift cards expire?", "s1")
        pieces = list(pending.chunks())
        result = pending.result
    assert len(pieces) > 1, "the answer should arrive in several streamed pieces"
    assert result.answer == "".join(pieces) and "[1]" in result.answer
    assert result.model == "gpt-4o-mini" and not result.declined
    assert "gift" in result.sources[0].doc_id
    body = [b for p, b in server.state.requests if p.endswith("/chat/completions")][-1]
    system = body["messages"][0]["content"]
    assert "Answer ONLY from the numbered context" in system and "support@harborandpine.example" in system
    assert body["stream"] is True and "[1] (store_faq.json" in body["messages"][-1]["content"]


def test_follow_up_is_condensed_by_the_model_with_history(tmp_path: Path) -> None:
    def responder(messages, model):
        last = messages[-1]["content"]
        if last.startswith("Rewrite the customer's last message"):
            return "Do Harbor & Pine gift cards expire?"
        return "They never expire [1]."

    with FakeOpenAIServer(FakeState(chat_responder=responder)) as server:
        bot = _assistant(server, tmp_path)
        bot.ask("Tell me about gift cards", "s1")
        follow = bot.ask("do they expire?", "s1")
        other = bot.ask("do they expire?", "s2")
    assert follow.standalone_question == "Do Harbor & Pine gift cards expire?"
    assert other.standalone_question == "do they expire?"  # no history in another session: no rewrite


def test_rate_limit_then_success_is_retried(tmp_path: Path) -> None:
    with FakeOpenAIServer(FakeState(chat_responder=_grounded_responder, fail_next=[429])) as server:
        result = _assistant(server, tmp_path, openai_max_retries=2).ask("Do gift cards expire?")
    assert result.model == "gpt-4o-mini" and "never expire" in result.answer


def test_timeout_falls_back_to_the_extractive_answer_with_a_clear_message(tmp_path: Path) -> None:
    with FakeOpenAIServer(FakeState(chat_responder=_grounded_responder, delay_seconds=3)) as server:
        result = _assistant(server, tmp_path, openai_timeout=0.5, openai_max_retries=0).ask("Do gift cards expire?")
    assert result.answer.startswith("Our AI assistant took too long to answer.")
    assert "never expire" in result.answer.lower()  # the FAQ's own words
    assert result.model.startswith("extractive (fallback")
    assert "Traceback" not in result.answer


def test_out_of_scope_declines_without_calling_the_model(tmp_path: Path) -> None:
    with FakeOpenAIServer(FakeState(chat_responder=_grounded_responder)) as server:
        result = _assistant(server, tmp_path).ask("zzzz qqqq xxxx")
        calls = [p for p, _ in server.state.requests if p.endswith("/chat/completions")]
    assert result.declined and calls == []


def test_fine_tuned_model_id_file_wins_for_openai_while_active(tmp_path: Path) -> None:
    id_file = tmp_path / "fine_tuned_model_id.json"
    settings = Settings(chat_provider="openai", openai_api_key="k", fine_tuned_model_file=id_file)
    assert chat_model_name(settings) == "gpt-4o-mini"
    id_file.write_text('{"fine_tuned_model": "ft:gpt-4o-mini-2024-07-18:harbor-pine::abc123"}')
    assert chat_model_name(settings) == "ft:gpt-4o-mini-2024-07-18:harbor-pine::abc123"
    assert chat_model_name(Settings(openai_api_key="k", fine_tuned_model_file=id_file)).startswith("ft:")  # auto
    assert chat_model_name(Settings(chat_provider="openai-compatible", fine_tuned_model_file=id_file)) == "gpt-4o-mini"
    use_fine_tuned(False, id_file)  # staff switch back to the base model: the file stays, marked inactive
    assert chat_model_name(settings) == "gpt-4o-mini"
    assert json.loads(id_file.read_text())["fine_tuned_model"].startswith("ft:")
    use_fine_tuned(True, id_file)
    assert chat_model_name(settings).startswith("ft:")
    with pytest.raises(FileNotFoundError):
        use_fine_tuned(True, tmp_path / "none.json")
