"""The conversation log masks PII before storing and keeps ratings per answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from base.pii import mask_pii
from base.types import Hit
from services.conversation_log import ConversationLog


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("write to jo.doe+x@mail.example.com please", "write to [email] please"),
        ("call me at (614) 555-0199", "call me at [phone]"),
        ("my number is +1 800 555 0142", "my number is [phone]"),
        ("card 4111 1111 1111 1111 was charged", "card [card] was charged"),
        ("order 12345678 is late", "order 12345678 is late"),
    ],
)
def test_mask_pii(raw: str, masked: str) -> None:
    assert mask_pii(raw) == masked


def test_record_and_rate(tmp_path: Path) -> None:
    store = ConversationLog(tmp_path / "fb.sqlite3")
    sources = [Hit("c1", "...", "faq.json", 0.9, {"doc_id": "faq:faq.json:x"})]
    first = store.record("s1", "email a@b.co", "answer", sources, "extractive", False)
    second = store.record("s2", "q", "sorry", [], "extractive", True)
    store.rate(first, 1)
    store.rate(second, 0)
    store.rate(second, None)
    rows = store.rows()
    assert [r["rating"] for r in rows] == [1, None]
    assert rows[0]["question"] == "email [email]" and '"doc_id": "faq:faq.json:x"' in rows[0]["sources"]
    assert rows[1]["declined"] == 1


def test_the_searched_question_is_kept_masked_and_old_logs_gain_the_column(tmp_path: Path) -> None:
    import sqlite3

    from finetune.prepare import from_log

    old = tmp_path / "old.sqlite3"
    with sqlite3.connect(old) as con:  # a log written before the column existed
        con.execute(
            "CREATE TABLE interactions (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, session_id "
            "TEXT NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, sources TEXT NOT NULL, model TEXT NOT NULL, "
            "declined INTEGER NOT NULL, rating INTEGER)"
        )
        con.execute("INSERT INTO interactions VALUES (1, 't', 's', 'q', 'a', '[]', 'm', 0, 1)")
    log = ConversationLog(old)
    row = log.record(
        "s",
        "and is it waterproof?",
        "Yes [1].",
        [],
        "gpt-4o-mini",
        False,
        standalone="Is the Ridgeback tent waterproof? mail me at jo@mail.example.com",
    )
    log.rate(row, 1)
    rows = log.rows()
    assert rows[0]["standalone"] is None and rows[1]["standalone"].endswith("mail me at [email]")
    examples, _down = from_log(rows, 8)
    assert examples[-1].searched.startswith("Is the Ridgeback tent waterproof?")  # prepare searches what the app did
