"""Answering with a chat model (OpenAI, an OpenAI-compatible server, or a fake) in LCEL.

Steps: rewrite a follow-up into a standalone question with the history (condense prompt), retrieve, then
answer only from numbered context passages with [n] citations (system + answer prompts, files under prompts/).
Retrieval gates the model: below the decline threshold no model is called at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser

from base.money import price_line
from base.settings import ROOT, Settings
from base.types import Hit, ProductFacts
from chains.memory import Turn

PROMPTS = ROOT / "prompts"


@cache
def _prompt_text(name: str) -> str:
    return (PROMPTS / f"{name}.md").read_text(encoding="utf-8")


def load_prompt(name: str, **values: str) -> str:
    """A prompt file with `{placeholders}` filled (the one place prompts are read)."""
    return _prompt_text(name).format(**values)


_TAGS = re.compile(r"<\s*/?\s*passages\s*>", re.IGNORECASE)


def _strip_fence(text: str) -> str:
    """Remove fence tags until none is left (one pass would turn '</pass</passages>ages>' into one)."""
    while True:
        cleaned = _TAGS.sub("", text)
        if cleaned == text:
            return cleaned
        text = cleaned


def format_context(hits: list[Hit]) -> str:
    """Numbered passages; the numbers are the citation markers and the order of the sources shown.

    A passage cannot close the <passages> block of the answer prompt early: the tag is removed from its text."""
    blocks = []
    for n, hit in enumerate(hits, 1):
        title = hit.metadata.get("title") or hit.source
        blocks.append(_strip_fence(f"[{n}] ({hit.source} — {title})\n{_passage_text(hit)}"))
    return "\n\n".join(blocks)


_PRICE_LINE = re.compile(r"^Price: .*$", re.MULTILINE)


def _passage_text(hit: Hit) -> str:
    """A passage's text; a product whose export dated its price (a sale that ends or starts: `price_until`) gets
    the price line as of today, which the stored text wrote on the day of the import: the model is not told the
    date, and must not be left to pick between a sale price and the one after it."""
    if hit.kind != "product" or not hit.metadata.get("price_until"):
        return hit.text
    f = ProductFacts.of(hit.metadata)
    line = price_line(f.price, f.price_max, f.currency, f.until, f.then, f.then_max)
    return _PRICE_LINE.sub(line, hit.text, count=1)


def _history_text(history: list[Turn]) -> str:
    return "\n".join(f"Customer: {t.question}\nAssistant: {t.answer}" for t in history)


def store_values(settings: Settings) -> dict[str, str]:
    """The store's identity as the system prompt and the decline sentence name it."""
    return {
        "store_name": settings.store_name,
        "contact_email": settings.contact_email,
        "contact_phone": settings.contact_phone,
        "contact_hours": settings.contact_hours,
    }


def answer_messages(settings: Settings, question: str, hits: list[Hit], history: list[Turn]) -> list:
    """What the chat model is sent for one answer: system prompt, earlier turns, then the numbered passages and the
    question. `finetune.prepare` writes training examples with this same function, so a fine-tuned model learns
    exactly the shape it is asked in."""
    messages: list = [SystemMessage(load_prompt("system", **store_values(settings)))]
    for turn in history:
        messages += [HumanMessage(turn.question), AIMessage(turn.answer)]
    messages.append(HumanMessage(load_prompt("answer", context=format_context(hits), question=question)))
    return messages


class LLMAnswerer:
    """Condense + answer with a chat model; `stream` yields answer text pieces."""

    def __init__(self, model: BaseChatModel, settings: Settings) -> None:
        self.model = model
        self.settings = settings

    @property
    def name(self) -> str:
        return str(getattr(self.model, "model_name", None) or getattr(self.model, "model", None) or "chat-model")

    def condense(self, question: str, history: list[Turn]) -> str:
        """Standalone question from the history (no model call without history)."""
        if not history:
            return question
        prompt = load_prompt("condense", history=_history_text(history), question=question)
        out = (self.model | StrOutputParser()).invoke([HumanMessage(prompt)]).strip()
        return out or question

    def stream(self, question: str, hits: list[Hit], history: list[Turn]) -> Iterator[str]:
        """Answer text pieces, grounded in `hits` (numbered as the sources are)."""
        messages = answer_messages(self.settings, question, hits, history)
        yield from (self.model | StrOutputParser()).stream(messages)
