"""Fine-tuning data: validation by line, token counts and cost, and `finetune.prepare` on a store in tmp_path
(production-shaped examples, PII masked, duplicates dropped, split by conversation, DPO pairs, all-or-nothing)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from helpers import write_faq

from base.settings import Settings
from finetune import prepare
from finetune.dataset import (
    DataError,
    FileCheck,
    default_epochs,
    encoding,
    estimate_cost,
    invented_numbers,
    validate_lines,
)
from services.conversation_log import ConversationLog
from services.knowledge import KnowledgeBase
from services.uploads import add_faq_entry

GOOD = {
    "messages": [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "q 12"},
        {"role": "assistant", "content": "a 12"},
    ]
}


def _line(obj) -> str:
    return json.dumps(obj)


def test_each_malformed_example_is_reported_with_its_line_and_reason() -> None:
    bad = [
        _line(GOOD),
        "{not json",
        "[1, 2]",
        _line({"messages": [{"role": "robot", "content": "x"}]}),
        _line({"messages": [{"role": "user", "content": "  "}, {"role": "assistant", "content": "a"}]}),
        _line(
            {
                "messages": [
                    {"role": "user", "content": "q"},
                    {"role": "system", "content": "s"},
                    {"role": "assistant", "content": "a"},
                ]
            }
        ),
        _line({"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "q"}]}),
        _line({"messages": [{"role": "user", "content": "q"}]}),
        "",
        _line({"messages": []}),
    ]
    check = validate_lines(bad, min_examples=1)
    reasons = {p.line: p.reason for p in check.problems}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 8, 10]
    assert "not JSON" in reasons[2]
    assert "not a JSON object" in reasons[3]
    assert "no role" in reasons[4]
    assert "empty content" in reasons[5]
    assert "system message may only come first" in reasons[6]
    assert "must alternate" in reasons[7]
    assert "last message must be the assistant" in reasons[8]
    assert "non-empty list" in reasons[10]


def test_too_few_examples_and_too_many_tokens_are_problems() -> None:
    few = validate_lines([_line(GOOD)] * 3)
    assert [p.reason for p in few.problems] == ["3 examples; a fine-tune needs at least 10"]
    long = dict(GOOD, messages=[*GOOD["messages"][:2], {"role": "assistant", "content": "word " * 200}])
    check = validate_lines([_line(GOOD)] * 10 + [_line(long)], max_tokens=100)
    assert [p.line for p in check.problems] == [11]
    assert "more than the model's 100" in check.problems[0].reason


def test_answers_with_numbers_missing_from_the_passages_are_flagged_not_refused() -> None:
    invented = dict(GOOD, messages=[*GOOD["messages"][:2], {"role": "assistant", "content": "It costs $45 [2]."}])
    check = validate_lines([_line(GOOD)] * 10 + [_line(invented)])
    assert not check.problems
    assert [(f.line, f.reason) for f in check.flags] == [(11, "the answer states 45, not in the passages")]
    assert invented_numbers("1. Log in\n2. Open Orders [3]", "passages") == []  # ordinals and citations
    assert invented_numbers("Within 30 days, $4.99", "You have 30 days; shipping is $4.99") == []


def test_tokens_are_openai_cl100k_and_the_cost_comes_from_the_dated_price_table() -> None:
    assert encoding().encode("hello world") == [15339, 1917]  # cl100k_base's ids, from OpenAI's own data file
    assert default_epochs(10) == 10 and default_epochs(100) == 3 and default_epochs(50_000) == 1
    check = FileCheck(count=100, tokens=[1000] * 100)
    line = estimate_cost(check, "gpt-3.5-turbo-0125", epochs=2)
    assert line.startswith("200,000 training tokens (2 epochs): about $1.60 at the ")
    assert "counted with cl100k_base" in estimate_cost(check, "gpt-4o-mini-2024-07-18", None)  # it uses o200k
    assert "no price" in estimate_cost(check, "some-local-model", None)


# -- finetune.prepare -----------------------------------------------------------------------------------------
PLANTED = ["jane.doe@example.com", "(415) 555-2671", "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00"]


@pytest.fixture
def shop(tmp_path: Path, faq_entries: list[dict]) -> tuple[Settings, KnowledgeBase]:
    settings = Settings(
        store_dir=tmp_path / "store",
        embedding_provider="fake",
        parse_isolation=False,
        feedback_db=tmp_path / "log.sqlite3",
    )
    from providers.embeddings import HashingEmbeddings

    kb = KnowledgeBase(settings, embeddings=HashingEmbeddings())
    more = [
        {"id": f"extra-{n}", "question": f"Do you sell item number {n}?", "answer": f"Yes, item {n} is $1{n}."}
        for n in range(8)
    ]
    kb.ingest_file(write_faq(tmp_path / "faq.json", faq_entries + more))
    assert add_faq_entry(kb, "Can I change my delivery address?", "Yes, until the order ships.").status != "rejected"
    log = ConversationLog(settings.feedback_db)
    for session in range(6):
        sid = f"s{session}"
        first = log.record(sid, "Do you offer free shipping?", "Yes, on orders over $50.", [], "extractive", False)
        log.rate(first, 1)
        second = log.record(sid, "how long to return it", "You have 30 days.", [], "extractive", False)
        log.rate(second, 1)
    down = log.record("s9", "can i change my delivery address", "Gift cards never expire.", [], "extractive", False)
    log.rate(down, 0)
    # Older log rows written before masking existed: prepare masks them again; an answer that gave a customer's
    # details is left out (the model must not learn to say them, even masked).
    with sqlite3.connect(settings.feedback_db) as con:
        insert = (
            "INSERT INTO interactions (created_at, session_id, question, answer, sources, model, declined, rating) "
            "VALUES ('2026-01-01', ?, ?, ?, '[]', 'extractive', 0, 1)"
        )
        question = f"my email is {PLANTED[0]}, call {PLANTED[1]}, card {PLANTED[2]}, iban {PLANTED[3]}: refund?"
        con.execute(insert, ("old", question, f"Call us on {settings.contact_phone} and we will refund you."))
        con.execute(insert, ("old2", "what email do you have for me", f"We have {PLANTED[0]} on file."))
    return settings, kb


def _run(settings: Settings, kb: KnowledgeBase, out: Path, *extra: str) -> dict:
    args = prepare.parse_args(["--out", str(out), "--sources", "log,staff,faq,decline", "--dpo-min", "1", *extra])
    return prepare.build(args, settings, kb, progress=lambda _m: None)


def test_prepare_writes_production_shaped_examples_without_pii(shop, tmp_path: Path) -> None:
    settings, kb = shop
    report = _run(settings, kb, tmp_path / "out")
    out = tmp_path / "out"
    text = "".join(
        (out / name).read_text(encoding="utf-8")
        for name in ("train.jsonl", "validation.jsonl", "heldout.jsonl", "dpo_train.jsonl")
    )
    for secret in PLANTED:
        assert secret not in text
    assert "[email]" in text and "[card]" in text
    assert settings.contact_phone in text  # the store's own phone stays in the decline sentence
    train = [json.loads(line) for line in (out / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    example = train[0]["messages"]
    assert [m["role"] for m in example[:1]] == ["system"] and example[-1]["role"] == "assistant"
    assert "<passages>" in example[-2]["content"] and "Customer question:" in example[-2]["content"]
    faq = [ex["messages"] for ex in train if "<passages>" in ex["messages"][-2]["content"]]
    cited = [m for m in faq if re.search(r"\[(\d+)\]$", m[-1]["content"])]
    assert cited, "answers cite the passage that holds them"
    for m in cited:  # ... and that passage is the one with the answer's words
        n = int(re.search(r"\[(\d+)\]$", m[-1]["content"]).group(1))
        passage = m[-2]["content"].split(f"[{n}] (", 1)[1].split("\n\n[", 1)[0]
        assert m[-1]["content"].rsplit(" [", 1)[0][:40] in passage
    assert report["sources"]["log"] == 14 and report["sources"]["staff"] == 1
    assert report["answers_with_masked_details_dropped"] == 1
    assert f"Call us on {settings.contact_phone}" in text
    assert report["duplicates_dropped"] >= 10  # six sessions asked the same two questions
    assert report["dpo_pairs"] == 1
    dpo = json.loads((out / "dpo_train.jsonl").read_text(encoding="utf-8"))
    assert dpo["preferred_output"][0]["content"].startswith("Yes, until the order ships.")
    assert dpo["non_preferred_output"][0]["content"] == "Gift cards never expire."


def test_prepare_is_deterministic_and_splits_by_conversation(shop, tmp_path: Path) -> None:
    settings, kb = shop
    _run(settings, kb, tmp_path / "a")
    _run(settings, kb, tmp_path / "b")
    for name in ("train.jsonl", "validation.jsonl", "heldout.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    splits = {prepare.split_of(f"conv{n}", 13, (0.1, 0.15)) for n in range(200)}
    assert splits == {"train", "validation", "heldout"}


def test_a_conversation_and_an_entry_never_span_two_splits() -> None:
    ex = prepare.Example
    examples = [
        ex("log", "log:s1", "q1", "a", "faq:f.json:returns"),
        ex("log", "log:s1", "q2", "a", "faq:f.json:gifts"),
        ex("faq", "faq:gifts", "q3", "a", "faq:f.json:gifts"),
        ex("faq", "faq:other", "q4", "a", "faq:f.json:x"),
        ex("log", "log:s2", "q5", "a", "faq:f.json:returns"),
    ]
    keys = prepare.group_keys(examples)
    assert keys[0] == keys[1] == keys[2] == keys[4]  # one session, and everything answered from its entries
    assert keys[3] != keys[0]


def test_the_output_folder_is_swapped_whole_or_not_at_all(shop, tmp_path: Path, monkeypatch) -> None:
    settings, kb = shop
    out = tmp_path / "out"
    _run(settings, kb, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = prepare.os.replace
    calls = []

    def failing(src, dst):
        calls.append(dst)
        if len(calls) == 2:  # the old folder moved aside, then the new one fails to move in
            raise OSError("disk full")
        return real(src, dst)

    monkeypatch.setattr(prepare.os, "replace", failing)
    with pytest.raises(OSError, match="disk full"):
        _run(settings, kb, out, "--seed", "14")
    monkeypatch.setattr(prepare.os, "replace", real)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(DataError, match="holds other files"):
        _run(settings, kb, out)


def test_a_refused_run_leaves_the_previous_files_untouched(shop, tmp_path: Path) -> None:
    settings, kb = shop
    out = tmp_path / "out"
    _run(settings, kb, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(DataError, match="at least 10"):
        _run(settings, kb, out, "--sources", "staff")  # one example: not enough to train
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_qa_csv_without_the_right_header_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "qa.csv"
    bad.write_text("q,a\nhi,there\n", encoding="utf-8")
    with pytest.raises(DataError, match="'question' and 'answer' columns"):
        prepare.from_qa_csv(bad)


def test_bitext_placeholders_take_the_store_details(tmp_path: Path) -> None:
    settings = Settings(store_dir=tmp_path / "s")
    filled = prepare.fill_bitext_response("Call {{Customer Support Phone Number}} or open {{Order History}}.", settings)
    assert filled == f"Call {settings.contact_phone} or open Order History."
    assert prepare.fill_bitext_response("Your order {{Order Number}} is late", settings) is None
