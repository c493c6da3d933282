"""One exchange of a conversation, as kept for follow-ups (the turns themselves live in services/state.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Turn:
    """One exchange; `entity` is the product (or FAQ title) the answer was about, for follow-ups."""

    question: str
    answer: str
    entity: str = ""
