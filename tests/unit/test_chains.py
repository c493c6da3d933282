"""Offline answering: per-session memory, follow-up rewriting, the extractive answerer, the assistant."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from child_env import child_env

from base.kv import MemoryKV
from base.paths import ROOT
from base.settings import Settings
from base.types import Hit
from chains.condense import condense_question
from chains.extractive import Contact, ExtractiveAnswerer, describe_product
from chains.gate import DeclineGate
from chains.memory import Turn
from providers.embeddings import HashingEmbeddings
from services.assistant import Assistant
from services.conversation_log import ConversationLog
from services.knowledge import KnowledgeBase
from services.state import ConversationStore

CONTACT = Contact("help@example.test", "+1 555", "9–5")


def _hit(kind: str, score: float, **meta) -> Hit:
    meta = {"type": kind, "doc_id": meta.pop("doc_id", f"{kind}:{score}"), **meta}
    return Hit(meta["doc_id"], meta.pop("text", "text"), "src", score, meta)


def test_memory_is_per_session_and_bounded() -> None:
    mem = ConversationStore(MemoryKV(max_keys=2), max_turns=2)
    for n in range(3):
        mem.add_turn("alice", Turn(f"q{n}", f"a{n}"))
    mem.add_turn("bob", Turn("hi", "hello"))
    assert [t.question for t in mem.history("alice")] == ["q1", "q2"]
    assert [t.question for t in mem.history("bob")] == ["hi"]
    mem.add_turn("carol", Turn("x", "y"))  # evicts the least recently written conversation (alice)
    assert mem.history("alice") == [] and mem.history("carol")[0].question == "x"


@pytest.mark.parametrize(
    ("question", "expected_has_entity"),
    [
        ("how much is it?", True),
        ("and is it in stock", True),
        ("¿y cuánto cuesta eso?", True),
        ("do you ship to canada", False),
        ("how much is the Aria Earbuds", True),
    ],
)
def test_condense_carries_previous_entity_only_for_follow_ups(question: str, expected_has_entity: bool) -> None:
    history = [Turn("tell me about the Aria Earbuds", "...", entity="Aria Earbuds")]
    out = condense_question(question, history)
    assert ("Aria Earbuds" in out) is expected_has_entity
    assert condense_question(question, []) == question


def test_gate_falls_back_to_english_then_a_default_and_reports_its_numbers() -> None:
    gate = DeclineGate({"en": 0.5, "es": 0.8})
    assert gate.threshold("es") == 0.8 and gate.threshold("de") == 0.5
    assert DeclineGate({}).threshold("en") == 0.5
    decision = gate.decide([_hit("faq", 0.79)], "es")
    assert decision.declined and (decision.language, decision.threshold, decision.top_score) == ("es", 0.8, 0.79)
    assert gate.decide([_hit("faq", 0.5)], "en").answer  # at the threshold: answer
    empty = gate.decide([], "en")
    assert empty.declined and empty.top_score is None


def test_extractive_declines_below_threshold_with_contact_route() -> None:
    ans = ExtractiveAnswerer(CONTACT, DeclineGate({"en": 0.5, "es": 0.8}))
    out = ans.answer([_hit("faq", 0.49, answer="nope")], "en")
    assert out.declined and "help@example.test" in out.text and out.used == []
    assert ans.answer([], "es").text.startswith("Lo siento")
    assert ans.answer([_hit("faq", 0.79)], "es").declined


def test_extractive_product_sentence_and_citation() -> None:
    meta = {"name": "Skillet", "price": 39.95, "currency": "USD", "stock": 0, "delivery_days": 4}
    out = ExtractiveAnswerer(CONTACT, DeclineGate({"en": 0.5})).answer([_hit("product", 0.9, **meta)], "en")
    assert (
        out.text == "The Skillet costs $39.95 USD. It's currently out of stock. With standard shipping it arrives "
        "in about 4 business days. [1]"
    )
    assert "cuesta $39.95" in describe_product(meta, "es") and "agotado" in describe_product(meta, "es")


def test_extractive_faq_adds_a_close_second_answer_only() -> None:
    ans = ExtractiveAnswerer(CONTACT, DeclineGate({"en": 0.5}), second_margin=0.02)
    a, b = _hit("faq", 0.80, answer="First.", doc_id="faq:a"), _hit("faq", 0.79, answer="Second.", doc_id="faq:b")
    assert ans.answer([a, b], "en").text == "First. [1]\n\nSecond. [2]"
    far = _hit("faq", 0.70, answer="Far.", doc_id="faq:c")
    assert ans.answer([a, far], "en").text == "First. [1]"


def test_extractive_says_when_the_entry_is_in_the_other_language() -> None:
    ans = ExtractiveAnswerer(CONTACT, DeclineGate({"en": 0.5, "es": 0.5}))
    english = _hit("faq", 0.9, answer="We ship to Mexico in 7-14 days.", question="Do you ship to Mexico?")
    spanish = _hit("faq", 0.9, answer="Enviamos a México en 7 a 14 días.", question="¿Hacen envíos a México?")
    assert ans.answer([english], "es").text == (
        "Esta respuesta solo está disponible en inglés:\n\nWe ship to Mexico in 7-14 days. [1]"
    )
    assert ans.answer([spanish], "es").text == "Enviamos a México en 7 a 14 días. [1]"
    assert ans.answer([english], "en").text == "We ship to Mexico in 7-14 days. [1]"
    assert ans.answer([spanish], "en").text.startswith("This answer is only available in Spanish:\n\n")


def test_extractive_policy_passage_drops_the_section_prefix() -> None:
    hit = _hit("document", 0.9, text="Returns > Windows\nYou have 30 days.", section="Returns > Windows")
    assert ExtractiveAnswerer(CONTACT, DeclineGate({"en": 0.5})).answer([hit], "en").text == "You have 30 days. [1]"


@pytest.fixture
def assistant(tmp_path: Path) -> Assistant:
    settings = Settings(store_dir=tmp_path / "store", embedding_provider="fake", decline_thresholds={"en": 0.3})
    kb = KnowledgeBase(settings, embeddings=HashingEmbeddings())
    assert kb.ingest_paths([ROOT / "data/products.csv", ROOT / "data/faq/store_faq.json"]).ok
    return Assistant(settings, kb)


def test_assistant_follow_up_uses_only_its_own_session(assistant: Assistant) -> None:
    first = assistant.ask("Copperleaf 10-inch Cast Iron Skillet price", session_id="alice")
    assert first.sources[0].metadata["sku"] == "HP-KIT-0001" and not first.declined
    follow = assistant.ask("how much is it?", session_id="alice")
    assert "Copperleaf 10-inch Cast Iron Skillet" in follow.standalone_question
    other = assistant.ask("how much is it?", session_id="bob")
    assert other.standalone_question == "how much is it?"


def test_every_answer_is_logged_and_rated_through_the_assistant(tmp_path: Path, assistant: Assistant) -> None:
    assistant.log = ConversationLog(tmp_path / "log.sqlite3")
    answered = assistant.ask("Do gift cards expire?", session_id="s1")
    declined = assistant.ask("zzzz qqqq", session_id="s1")
    assistant.rate(answered.interaction_id, 1)
    rows = assistant.log.rows()
    assert [(r["id"], r["declined"], r["rating"]) for r in rows] == [
        (answered.interaction_id, 0, 1),
        (declined.interaction_id, 1, None),
    ]
    assert json.loads(rows[0]["sources"])[0]["doc_id"] == answered.sources[0].doc_id


def test_a_log_that_cannot_be_written_costs_the_rating_not_the_answer(tmp_path: Path, assistant: Assistant) -> None:
    (tmp_path / "blocker").write_text("a file where the log's folder should be")
    assistant.log = ConversationLog(tmp_path / "blocker" / "log.sqlite3")
    result = assistant.ask("Do gift cards expire?")
    assert not result.declined and result.interaction_id is None


def test_the_search_preview_shows_the_decision_the_chat_makes(assistant: Assistant) -> None:
    for question in ("Do gift cards expire?", "zzzz qqqq"):
        preview = assistant.preview(question, 5)
        assert len(preview.hits) == 5
        assert preview.decision.declined == assistant.ask(question).declined
        assert preview.decision.top_score == preview.hits[0].score


def test_assistant_caps_input_and_handles_empty(assistant: Assistant) -> None:
    assert assistant.ask("   ").declined
    long = assistant.ask("gift cards " * 500)
    assert len(long.standalone_question) <= 1000


def test_cli_ask_json_contract(tmp_path: Path) -> None:
    store = tmp_path / "store"
    kb = KnowledgeBase(Settings(store_dir=store), embeddings=HashingEmbeddings())
    assert kb.ingest_paths([ROOT / "data/faq/store_faq.json"]).ok
    kb.store.close()
    batch = tmp_path / "q.txt"
    batch.write_text("Do gift cards expire?\nzzzz qqqq\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "cli.py", "ask", "--batch", str(batch), "--store", str(store), "--json"],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    first, second = (json.loads(line) for line in run.stdout.splitlines())
    assert set(first) >= {"answer", "sources", "model", "declined"}
    assert first["model"] == "extractive" and not first["declined"]
    assert set(first["sources"][0]) == {"text", "source", "metadata"}
    assert "gift" in first["sources"][0]["metadata"]["doc_id"]
    assert second["declined"] and second["sources"] == []
    bad = subprocess.run(
        [sys.executable, "cli.py", "ask", "hi", "--provider", "claude", "--store", str(store)],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "unknown provider" in bad.stderr
    log = ConversationLog(child_env()["ASSISTANT_FEEDBACK_DB"])
    assert [r["question"] for r in log.rows()] == ["Do gift cards expire?", "zzzz qqqq"]
    assert len({r["session_id"] for r in log.rows()}) == 2  # batch questions are separate conversations
    quiet = subprocess.run(
        [sys.executable, "cli.py", "ask", "Do gift cards expire?", "--no-log", "--store", str(store)],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert quiet.returncode == 0, quiet.stderr
    assert len(log.rows()) == 2
