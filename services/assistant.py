"""The assistant service: one call per customer message (memory, rewrite, retrieve, answer).

Front ends (CLI, Streamlit) call `Assistant.ask` or `Assistant.ask_stream`. The provider comes
from settings: `extractive` (offline, default without a key), `openai`, `openai-compatible`, or a chat
model passed in (tests). Retrieval gates every provider: below the decline threshold no model is called.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

from langchain_core.language_models import BaseChatModel

from base.errors import StoreError, StoreRecovering
from base.language import detect_language
from base.settings import Settings
from chains.condense import condense_question
from chains.extractive import Contact, ExtractiveAnswerer
from chains.memory import SessionMemory, Turn
from services.knowledge import KnowledgeBase
from vectorstore.store import Hit

MAX_QUESTION_CHARS = 1000
logger = logging.getLogger(__name__)

# While the knowledge store is being rebuilt after a crash (seconds), or cannot be read at all.
ONE_MOMENT = {
    "en": "One moment, please: we're refreshing our store's information. Please ask again in a minute.",
    "es": "Un momento, por favor: estamos actualizando la información de la tienda. Vuelve a preguntar en un minuto.",
}
UNAVAILABLE = {
    "en": "Sorry, our store's information can't be reached right now. Please contact our team at {email} or "
    "{phone} ({hours}).",
    "es": "Lo siento, ahora mismo no podemos consultar la información de la tienda. Escríbenos a {email} o "
    "llámanos al {phone} ({hours}).",
}


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
    unavailable: bool = False  # the store could not be searched (not an answer: not logged, not remembered)

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("seconds")
        return data


def provider_error_message(exc: Exception) -> str:
    """A customer-safe sentence for a chat-model failure (no stack trace, no secrets)."""
    name = type(exc).__name__
    if "RateLimit" in name:
        return "Our AI assistant is busy right now."
    if "Timeout" in name:
        return "Our AI assistant took too long to answer."
    if "Connection" in name:
        return "Our AI assistant can't be reached right now."
    if "Authentication" in name or "PermissionDenied" in name:
        return "Our AI assistant is not configured correctly."
    return "Our AI assistant had a problem answering."


def _sources(hits: list[Hit]) -> list[dict]:
    return [{"text": h.text, "source": h.source, "score": round(h.score, 4), "metadata": h.metadata} for h in hits]


class PendingAnswer:
    """A streamed answer: iterate `chunks()` for the text pieces; `result` is set once they are consumed."""

    def __init__(self, chunks: Iterator[str], finish: Callable[[str], AssistantAnswer]) -> None:
        self._chunks = chunks
        self._finish = finish
        self.result: AssistantAnswer | None = None

    def chunks(self) -> Iterator[str]:
        text: list[str] = []
        for piece in self._chunks:
            text.append(piece)
            yield piece
        self.result = self._finish("".join(text))


class Assistant:
    """Answers questions per session with the store's knowledge, by the configured provider."""

    def __init__(
        self,
        settings: Settings,
        kb: KnowledgeBase | None = None,
        memory: SessionMemory | None = None,
        chat_model: BaseChatModel | None = None,
    ) -> None:
        self.settings = settings
        self.kb = kb or KnowledgeBase(settings)
        self.memory = memory or SessionMemory(max_turns=settings.memory_turns)
        contact = Contact(settings.contact_email, settings.contact_phone, settings.contact_hours)
        self.extractive = ExtractiveAnswerer(contact, settings.decline_thresholds)
        self.provider = "fake" if chat_model is not None else settings.answering_provider()
        self._chat_model = chat_model
        self._llm = None

    @property
    def llm(self):
        """The chat-model answerer (`chains.llm.LLMAnswerer`), built on first use; None when extractive."""
        if self.provider == "extractive":
            return None
        if self._llm is None:
            from chains.llm import LLMAnswerer
            from providers.chat import build_chat_model

            self._llm = LLMAnswerer(self._chat_model or build_chat_model(self.settings), self.settings)
        return self._llm

    def ask(self, question: str, session_id: str = "default") -> AssistantAnswer:
        """Answer one message in the context of the session's previous turns."""
        pending = self.ask_stream(question, session_id)
        for _ in pending.chunks():
            pass
        assert pending.result is not None
        return pending.result

    def ask_stream(self, question: str, session_id: str = "default") -> PendingAnswer:
        """Like `ask`, streaming the text; a failing chat model falls back to the extractive answer."""
        t0 = time.perf_counter()
        question = (question or "").strip()[:MAX_QUESTION_CHARS]
        if not question:
            return PendingAnswer(iter(["Please type a question."]), lambda t: AssistantAnswer(t, declined=True))
        lang = detect_language(question)
        history = self.memory.history(session_id)
        llm = self.llm
        standalone = condense_question(question, history)
        if llm is not None and history:
            with contextlib.suppress(Exception):  # best effort: the offline rewrite above stands in
                standalone = llm.condense(question, history)
        try:
            hits = self.kb.search(standalone, self.settings.top_k)
        except StoreError as exc:
            return self._unavailable(exc, lang, t0)
        offline = self.extractive.answer(hits, lang)

        def finish(text: str, model: str, used: list[Hit], declined: bool) -> AssistantAnswer:
            top = used[0].metadata if used else {}
            entity = str(top.get("name", "")) if top.get("type") == "product" else ""
            self.memory.add(session_id, Turn(question, text, entity))
            return AssistantAnswer(text, _sources(used), model, declined, standalone, lang, time.perf_counter() - t0)

        if llm is None or offline.declined:  # no model call when retrieval found nothing good enough
            model = "extractive" if llm is None else f"{llm.name} (declined: no matching knowledge)"
            return PendingAnswer(iter([offline.text]), lambda t: finish(t, model, offline.used, offline.declined))

        failure: list[str] = []

        def generate() -> Iterator[str]:
            produced = False
            try:
                for piece in llm.stream(standalone, hits, history):
                    produced = True
                    yield piece
            except Exception as exc:  # any provider failure becomes a message, never a stack trace
                failure.append(provider_error_message(exc))
                if produced:
                    yield f"\n\n({failure[0]})"
                else:
                    yield f"{failure[0]} Here is the matching information from our help pages:\n\n{offline.text}"

        def done(text: str) -> AssistantAnswer:
            if failure and text.startswith(failure[0]):
                return finish(text, f"extractive (fallback: {llm.name} unavailable)", offline.used, False)
            return finish(text, llm.name, hits, False)

        return PendingAnswer(generate(), done)

    def _unavailable(self, exc: StoreError, lang: str, t0: float) -> PendingAnswer:
        """A 'one moment' answer while the store recovers; the contact route if it cannot be read at all."""
        if isinstance(exc, StoreRecovering):
            text = ONE_MOMENT.get(lang, ONE_MOMENT["en"])
        else:
            logger.error("the knowledge store cannot be searched: %s", exc)
            text = UNAVAILABLE.get(lang, UNAVAILABLE["en"]).format(**self.extractive.contact.__dict__)
        answer = AssistantAnswer(text, model="unavailable", language=lang, unavailable=True)
        answer.seconds = time.perf_counter() - t0
        return PendingAnswer(iter([text]), lambda _t: answer)
