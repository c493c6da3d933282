"""Erasure and retention (services/privacy.py): a forgotten customer leaves no byte behind in any store of the
product, retention deletes by an injected clock (no sleep), and `cli.py mask` / `cli.py forget` do what the README
says."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from child_env import child_env
from helpers import faq_store

from base.pii import Masker
from base.settings import ROOT
from services.assistant import Assistant
from services.conversation_log import ConversationLog
from services.handoff import HandoffDesk, TicketStore
from services.orders import OrderDesk, SqliteOrders, demo_orders
from services.privacy import PrivacyDesk

KEEP = ("support@harborandpine.example", "+1 (800) 555-0142")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _bot(tmp_path: Path, clock: Clock, retention_days: int | None = None) -> tuple[Assistant, PrivacyDesk]:
    settings, kb = faq_store(tmp_path, decline_thresholds={"en": 0.3, "es": 0.3})
    masker = Masker(keep=KEEP)
    log = ConversationLog(tmp_path / "data" / "log.sqlite3", masker, clock)
    tickets = TicketStore(tmp_path / "data" / "tickets.sqlite3", clock)
    privacy = PrivacyDesk(log, tickets, masker, retention_days, clock)
    orders_table = SqliteOrders(tmp_path / "data" / "orders.sqlite3")
    orders_table.put(demo_orders(5))
    orders = OrderDesk(orders_table, {"email": KEEP[0], "phone": KEEP[1], "hours": "9-5"})
    bot = Assistant(settings, kb, log=log, handoff=HandoffDesk(tickets, masker), orders=orders, privacy=privacy)
    return bot, privacy


def _jane(bot: Assistant, order) -> None:
    """Jane's traces everywhere: questions, a rating, an order lookup with her e-mail, a ticket."""
    first = bot.ask("Hi, I'm Jane Doe. Do gift cards expire?", "jane-1")
    bot.rate(first.interaction_id, 1)
    bot.ask(f"where is my order {order.number}? my email is {order.email}", "jane-1")
    bot.ask("I live at 12 Oak Street, Boston; can I talk to a person about my refund?", "jane-2")
    bot.ask(order.email.upper(), "jane-2")  # the hand-off: her address, another conversation


def _bytes_everywhere(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and "orders" not in p.name)


def test_a_forgotten_customer_leaves_no_trace(tmp_path: Path) -> None:
    bot, privacy = _bot(tmp_path, Clock())
    order = demo_orders(5)[0]
    _jane(bot, order)
    bot.ask("Do you ship to Canada? I'm Bob, bob@example.org", "bob")  # another customer stays
    assert len(privacy.tickets.list()) == 1 and privacy.log.conversations_of([order.email.lower()]) == {
        "jane-1",
        "jane-2",
    }

    report = privacy.forget(email=f"  {order.email.upper()} ")
    bot.forget(report.sessions)
    assert (report.conversations, report.tickets, report.ratings) == (2, 1, 1)
    assert report.interactions == 4  # 2 + 2 log rows (the hand-off offer and the ticket turn included)

    data = _bytes_everywhere(tmp_path / "data")
    for trace in (
        order.email.encode(),
        order.email.split("@")[0].encode(),
        b"jane-1",
        b"jane-2",
        b"gift cards",
        b"refund",
        b"Oak",
        order.number.encode(),
    ):
        assert trace.lower() not in data.lower(), trace  # not in any row, nor in a free page of the files
    assert [r["session_id"] for r in privacy.log.rows()] == ["bob"]
    assert privacy.tickets.list() == []
    assert bot.conversations.history("jane-1") == [] and bot.conversations.history("bob") != []


def test_forget_by_phone_and_a_spelled_out_address(tmp_path: Path) -> None:
    bot, privacy = _bot(tmp_path, Clock())
    bot.ask("call me on (415) 555-2671 about the tent", "p")
    bot.ask("write to jane dot doe at gmail dot com", "e")
    bot.ask("mi movil es 612 34 56 78, llamadme", "es")  # a Spanish mobile, written the Spanish way in a US store
    bot.ask("I live at 12 Oak Street, Boston MA 02118 617-555-0134", "zip")  # a phone right after a ZIP code
    assert privacy.forget(phone="+1 415-555-2671").conversations == 1
    assert privacy.forget(email="Jane.Doe@gmail.com").conversations == 1
    assert privacy.forget(phone="+34 612 345 678").conversations == 1  # staff give it with the country code
    assert privacy.forget(phone="(617) 555-0134").conversations == 1
    assert privacy.log.rows() == []
    with pytest.raises(ValueError):
        privacy.forget()


def test_retention_deletes_old_conversations_and_finished_tickets(tmp_path: Path) -> None:
    clock = Clock()
    bot, privacy = _bot(tmp_path, clock, retention_days=30)
    bot.ask("Do gift cards expire?", "old")
    bot.ask("talk to a human please", "old")
    bot.ask("old@example.com", "old")
    [ticket] = privacy.tickets.list()
    privacy.tickets.answer(ticket.id, "Gift cards never expire.")
    bot.ask("can I speak to an agent", "waiting")
    bot.ask("waiting@example.com", "waiting")  # an open ticket: it waits for staff whatever its age

    clock.now += timedelta(days=29)
    bot.ask("Do gift cards expire?", "recent")
    assert {r["session_id"] for r in privacy.log.rows()} == {"old", "waiting", "recent"}  # nothing is 30 days old

    clock.now += timedelta(days=2)  # "old" and "waiting" are now 31 days old, "recent" 2 days
    bot.ask("Do you price match?", "recent")  # the assistant applies retention after logging (at most hourly)
    privacy.worker.join()  # in the background, so the answer does not wait for it
    assert {r["session_id"] for r in privacy.log.rows()} == {"recent"}
    assert [t.email for t in privacy.tickets.list()] == ["waiting@example.com"]
    assert privacy.log.conversations_of(["old@example.com"]) == set()

    clock.now += timedelta(minutes=10)
    assert privacy.tick() is None  # not again within the hour
    clock.now += timedelta(hours=1)
    assert privacy.tick(wait=True) is not None


def test_no_retention_period_keeps_everything(tmp_path: Path) -> None:
    clock = Clock()
    bot, privacy = _bot(tmp_path, clock)
    bot.ask("Do gift cards expire?", "s")
    clock.now += timedelta(days=3650)
    bot.ask("Do you price match?", "s2")
    assert privacy.expire() is None and len(privacy.log.rows()) == 2


def _cli(*args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "cli.py", *args],
        cwd=ROOT,
        env=env or child_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_mask_prints_each_line_as_the_log_stores_it() -> None:
    lines = [
        "Hi, I'm Jane Doe and I live at 12 Oak Street, Boston",
        "jane dot doe at gmail dot com, DNI 12345678Z",
        "order 100234567 costs $1,299.00, write to support@harborandpine.example",
    ]
    out = _cli("mask", stdin="\n".join(lines) + "\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "Hi, I'm [name] and I live at [address]",
        "[email], DNI [id]",
        "order 100234567 costs $1,299.00, write to support@harborandpine.example",
    ]
    as_json = json.loads(_cli("mask", "--json", stdin="call (415) 555-2671\n").stdout)
    assert as_json == {"masked": "call [phone]", "found": [{"kind": "PHONE_NUMBER", "start": 5, "end": 19}]}


def test_cli_forget_and_expired(tmp_path: Path) -> None:
    env = child_env()
    log = ConversationLog(Path(env["ASSISTANT_FEEDBACK_DB"]))
    log.record("cli-1", "my email is cli.user@example.com", "thanks", [], "extractive", False)
    log.link("cli-1", "my email is cli.user@example.com")
    out = _cli("forget", "--email", "CLI.user@example.com", env=env)
    assert out.returncode == 0, out.stderr
    assert "conversations: 1" in out.stdout and "log rows (questions and answers): 1" in out.stdout
    assert [r for r in log.rows() if r["session_id"] == "cli-1"] == []
    assert _cli("forget", env=env).returncode == 2
    log.record("old-1", "a conversation logged before links existed", "ok", [], "extractive", False)
    nothing = _cli("forget", "--email", "nobody@example.com", env=env)
    assert nothing.returncode == 0 and "--session ID" in nothing.stdout
    assert "conversations: 1" in _cli("forget", "--session", "old-1", env=env).stdout
    assert [r for r in log.rows() if r["session_id"] == "old-1"] == []
    assert "no retention period" in _cli("forget", "--expired", env=env).stderr
    env["ASSISTANT_LOG_RETENTION_DAYS"] = "30"
    expired = _cli("forget", "--expired", "--json", env=env)
    assert expired.returncode == 0 and json.loads(expired.stdout)["interactions"] >= 0


def test_rows_logged_before_names_were_masked_are_masked_again(tmp_path: Path) -> None:
    import sqlite3

    log = ConversationLog(tmp_path / "old.sqlite3", Masker())
    row = log.record("s", "Do gift cards expire?", "No.", [], "extractive", False)
    with sqlite3.connect(log.path) as con:  # what an older version stored as typed
        con.execute("UPDATE interactions SET question = ? WHERE id = ?", ("I'm Jane Doe, 12 Oak Street", row))
    tickets = TicketStore(tmp_path / "t.sqlite3")
    tickets.create("j@example.com", "declined twice", [{"role": "customer", "text": "I'm Jane Doe"}], "s", "")
    assert log.remask() == 1 and tickets.remask(Masker()) == 1
    assert log.rows()[0]["question"] == "I'm [name], [address]"
    assert tickets.list()[0].transcript[0]["text"] == "I'm [name]"
    assert b"Oak" not in log.path.read_bytes() and log.remask() == 0


def test_the_key_is_made_once_under_concurrency(tmp_path: Path) -> None:
    """Threads (and processes) opening a new log at once agree on one whole key: links made by any of them are found
    by the others."""
    from concurrent.futures import ThreadPoolExecutor

    logs = [ConversationLog(tmp_path / "log.sqlite3") for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        subjects = list(pool.map(lambda log: log.subject("jane@example.com"), logs))
    assert len(set(subjects)) == 1 and len((tmp_path / "log.key").read_text().strip()) == 64
    assert list(tmp_path.glob("*.tmp")) == []
