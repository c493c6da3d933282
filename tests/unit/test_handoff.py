"""Hand-off to people: the offer (asked for a person, or declined twice in a row), the ticket made from the
customer's email with a masked transcript, and what staff do with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import faq_store

from base.pii import Masker
from services.assistant import Assistant
from services.conversation_log import ConversationLog
from services.handoff import HandoffDesk, TicketStore, faq_draft

STORE_PHONE = "+1 (800) 555-0142"


@pytest.fixture
def bot(tmp_path: Path) -> Assistant:
    settings, kb = faq_store(tmp_path, decline_thresholds={"en": 0.3, "es": 0.3})
    masker = Masker(keep=("support@harborandpine.example", STORE_PHONE))
    desk = HandoffDesk(TicketStore(tmp_path / "tickets.sqlite3"), masker)
    return Assistant(settings, kb, log=ConversationLog(tmp_path / "log.sqlite3", masker), handoff=desk)


def test_asking_for_a_person_then_leaving_an_email_makes_a_masked_ticket(bot: Assistant) -> None:
    bot.ask("My card 4111 1111 1111 1111 was charged twice, call me on (415) 555-2671", "s1")
    offer = bot.ask("I want to talk to a human", "s1")
    assert "email address" in offer.answer and offer.model == "handoff"
    done = bot.ask("sure, it's jane.doe@example.com", "s1")
    assert "ticket #1" in done.answer
    [ticket] = bot.handoff.tickets.list("open")
    assert ticket.email == "jane.doe@example.com" and ticket.reason == "asked for a person"
    text = " ".join(t["text"] for t in ticket.transcript)
    assert "4111" not in text and "2671" not in text and "jane.doe" not in text
    assert "[card]" in text and "[phone]" in text and "[email]" in text
    assert ticket.request == "My card [card] was charged twice, call me on [phone]"  # not the hand-off turns
    roles = [t["role"] for t in ticket.transcript]
    assert roles == ["customer", "assistant", "customer", "assistant", "customer"]  # the whole conversation
    history = " ".join(f"{t.question} {t.answer}" for t in bot.conversations.history("s1"))
    assert "jane.doe" not in history  # the hand-off turns are not remembered for a chat model


def test_two_declines_in_a_row_bring_the_offer_once(bot: Assistant) -> None:
    first = bot.ask("zzzz qqqq xxxx", "s2")
    assert first.declined and "follow up" not in first.answer
    second = bot.ask("wwww vvvv yyyy", "s2")
    assert second.declined and "Would you like a person from our team to follow up?" in second.answer
    no = bot.ask("no thanks", "s2")
    assert no.answer == "No problem. Ask me anything else."
    answered = bot.ask("Do gift cards expire?", "s2")
    assert "expire" in answered.answer.lower() and "follow up" not in answered.answer
    assert bot.handoff.tickets.list() == []


def test_moving_on_after_an_offer_answers_the_question(bot: Assistant) -> None:
    bot.ask("can I speak to an agent", "s3")
    answer = bot.ask("Do gift cards expire?", "s3")
    assert "expire" in answer.answer.lower() and answer.model != "handoff"


def test_staff_answer_and_close_a_ticket(tmp_path: Path) -> None:
    tickets = TicketStore(tmp_path / "t.sqlite3")
    tid = tickets.create("a@example.com", "declined twice", [{"role": "customer", "text": "Do you sell kayaks?"}])
    with pytest.raises(ValueError, match="empty"):
        tickets.answer(tid, "  ")
    tickets.answer(tid, "Not yet, but paddles are coming in spring.")
    assert tickets.get(tid).status == "answered" and tickets.list("open") == []
    tickets.close(tid)
    assert tickets.get(tid).status == "closed"


def test_one_conversation_cannot_flood_the_inbox(bot: Assistant) -> None:
    for n in range(4):
        bot.ask("let me speak to a human", "flood")
        bot.ask(f"victim{n}@example.com", "flood")
    assert len(bot.handoff.tickets.list()) == 2
    assert "already passed this conversation" in bot.ask("I want to talk to a person", "flood").answer


def test_the_inbox_leak_cannot_happen_again(bot: Assistant, tmp_path: Path) -> None:
    """Issue 25: a customer who only asked for a person and gave an e-mail address; staff replied 'Hi Jane, happy to
    help…'; *Save as FAQ entry* published it under the question '[email]', and the next customer who typed their own
    address was shown Jane's reply."""
    from services.uploads import add_faq_entry

    bot.ask("hi, can I talk to a person please?", "jane")
    bot.ask("jane.doe@example.com", "jane")
    [ticket] = bot.handoff.tickets.list("open")
    assert ticket.request == ""  # she asked for nothing the FAQ could answer
    reply = "Hi Jane, all sorted! I've refunded order 1042 to your card."
    draft = faq_draft(ticket.request, reply, bot.handoff.masker)
    assert not draft.ok and "no question" in draft.problems[0]
    # Even straight through the service (what the old button did), the entry is refused: '[email]' is no question.
    outcome = add_faq_entry(bot.kb, "[email]", reply)
    assert outcome.status == "rejected"
    outcome = add_faq_entry(bot.kb, "Can I get a refund?", reply)  # a real question, but the reply names Jane
    assert outcome.status == "rejected" and "[name]" in outcome.reason
    other = bot.ask("bob@example.org", "bob")
    assert "Jane" not in other.answer and "refunded order 1042" not in other.answer


def test_an_faq_entry_from_a_ticket_takes_the_request_and_drops_greeting_and_sign_off(bot: Assistant) -> None:
    bot.ask("Hi, I'm Maria Lopez. Do you sell replacement lids for the Dutch oven?", "m")
    bot.ask("can I speak to someone?", "m")
    bot.ask("maria.lopez@example.com", "m")
    [ticket] = bot.handoff.tickets.list("open")
    assert ticket.request == "Do you sell replacement lids for the Dutch oven?"
    text = " ".join(t["text"] for t in ticket.transcript)
    assert "Maria" not in text and "Lopez" not in text and "[name]" in text
    draft = faq_draft(
        ticket.request, "Hi Maria,\nyes: lids are $24 and ship in 3 days.\n\nBest,\nTom", bot.handoff.masker
    )
    assert draft.ok, draft.problems
    assert draft.question == "Do you sell replacement lids for the Dutch oven?"
    assert draft.answer == "Yes: lids are $24 and ship in 3 days."


@pytest.mark.parametrize(
    ("question", "reply", "problem"),
    [
        ("", "Yes, we do.", "no question"),
        ("[email] [phone]", "Yes, we do.", "no question"),
        ("please send my parcel to [address] instead", "Done, it goes there tomorrow.", "personal data ([address])"),
        ("Do you ship to Canada?", "Hi Jane, yes. Call me on (415) 555-2671.", "personal data ([phone])"),
        ("Do you ship to Canada?", "Hi,\n\nBest,\nTom", "reply is empty"),
    ],
)
def test_faq_drafts_that_are_refused(question: str, reply: str, problem: str) -> None:
    draft = faq_draft(question, reply, Masker())
    assert not draft.ok and any(problem in p for p in draft.problems), draft.problems
