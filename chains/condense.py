"""Offline follow-up rewriting: "how much is it?" after a product question becomes a standalone question
by carrying the previous turn's entity (no language model needed)."""

from __future__ import annotations

import re

from chains.memory import Turn

_REFERS_BACK = re.compile(
    r"\b(it|its|it's|this|that|these|those|them|this one|that one|the same)\b|"
    r"\b(lo|la|los|las|eso|esto|este|esta|ese|esa)\b",
    re.IGNORECASE,
)
_CONTINUES = re.compile(r"^\s*(¿\s*)?(and|what about|how about|y|y el|y la|qué tal|que tal)\b", re.IGNORECASE)


def condense_question(question: str, history: list[Turn]) -> str:
    """The question as it should be searched: unchanged unless it refers back to the last turn's entity."""
    if not history or not history[-1].entity:
        return question
    entity = history[-1].entity
    if entity.lower() in question.lower():
        return question
    if _REFERS_BACK.search(question) or _CONTINUES.search(question):
        return f"{question.rstrip(' ?¿!.')} — {entity}?"
    return question
