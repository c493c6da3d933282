"""The assistant service: one call per customer message (memory, rewrite, retrieve, answer).

Front ends (CLI, Streamlit, REST) call `Assistant.ask`; providers other than `extractive` plug in here.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from chains.condense import condense_question
from chains.extractive import Contact, ExtractiveAnswerer
from chains.memory import SessionMemory, Turn
from core.knowledge import KnowledgeBase
from core.language import detect_language
from core.settings import Settings

MAX_QUESTION_CHARS = 1000


@dataclass
class AssistantAnswer:
    """What a front end shows: the answer, its numbered sources, which model answered, declined or not."""

    answer: str
    sources: list[dict] = field(default_factory=list)
    model: str = "extractive"
    declined: bool = False
    standalone_question: str = ""
    language: str = "en"
    seconds: float = 0.0

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("seconds")
        return data


class Assistant:
    """Answers questions per session with the store's knowledge (offline `extractive` provider)."""

    def __init__(
        self, settings: Settings, kb: KnowledgeBase | None = None, memory: SessionMemory | None = None
    ) -> None:
        self.settings = settings
        self.kb = kb or KnowledgeBase(settings)
        self.memory = memory or SessionMemory(max_turns=settings.memory_turns)
        contact = Contact(settings.contact_email, settings.contact_phone, settings.contact_hours)
        self.answerer = ExtractiveAnswerer(contact, settings.decline_thresholds)

    def ask(self, question: str, session_id: str = "default") -> AssistantAnswer:
        """Answer one message in the context of the session's previous turns."""
        t0 = time.perf_counter()
        question = (question or "").strip()
        if not question:
            return AssistantAnswer("Please type a question.", declined=True)
        question = question[:MAX_QUESTION_CHARS]
        lang = detect_language(question)
        standalone = condense_question(question, self.memory.history(session_id))
        hits = self.kb.search(standalone, self.settings.top_k)
        result = self.answerer.answer(hits, lang)
        sources = [
            {"text": h.text, "source": h.source, "score": round(h.score, 4), "metadata": h.metadata}
            for h in result.used
        ]
        entity = ""
        if result.used and result.used[0].metadata.get("type") == "product":
            entity = str(result.used[0].metadata.get("name", ""))
        self.memory.add(session_id, Turn(question, result.text, entity))
        return AssistantAnswer(
            result.text, sources, "extractive", result.declined, standalone, lang, time.perf_counter() - t0
        )
