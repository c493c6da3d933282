"""The assistant service: one call per customer message (memory, rewrite, retrieve, gate, answer, log).

Front ends (CLI, Streamlit) build it with `open_assistant` and call `Assistant.ask` or `Assistant.ask_stream`;
every answer is written to the conversation log there, so every front end logs the same way. The provider
comes from settings: `extractive` (offline, default without a key), `openai`, `openai-compatible`, or a chat
model passed in (tests). The decline gate (chains/gate.py) comes first for every provider: when it declines,
no model is called. `preview` shows staff what the gate decides for a question.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel

from base.errors import StoreError, StoreRecovering
from base.kv import open_kv
from base.language import detect_language
from base.settings import Settings
from base.types import Hit
from chains.calibration import StoreCalibration
from chains.condense import condense_question
from chains.extractive import Contact, Extracted, ExtractiveAnswerer
from chains.gate import DeclineGate, GateDecision
from chains.memory import Turn
from services.conversation_log import ConversationLog
from services.handoff import HandoffDesk
from services.knowledge import KnowledgeBase
from services.named_products import NamedProducts
from services.orders import HttpOrders, OrderDesk, SqliteOrders, failure_limit
from services.privacy import PrivacyDesk
from services.products import ProductDesk
from services.state import ConversationStore

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
    sources: list[Hit] = field(default_factory=list)
    model: str = "extractive"
    declined: bool = False
    standalone_question: str = ""
    language: str = "en"
    seconds: float = 0.0
    unavailable: bool = False  # the store could not be searched (not an answer: not logged, not remembered)
    interaction_id: int | None = None  # its row in the conversation log, for the thumbs rating

    def to_json(self) -> dict:
        return {
            "answer": self.answer,
            "sources": [s.to_json() for s in self.sources],
            "model": self.model,
            "declined": self.declined,
            "standalone_question": self.standalone_question,
            "language": self.language,
            "unavailable": self.unavailable,
            "interaction_id": self.interaction_id,
        }


@dataclass
class SearchPreview:
    """What staff see for a question: the hits and the gate's decision on them."""

    hits: list[Hit]
    decision: GateDecision
    fitted: StoreCalibration | None = None  # the store's calibration, when the thresholds come from it


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


ORDER_QUESTION = "(order details given to the order desk)"  # what memory and the log keep of an order turn
ORDER_PLACEHOLDER = "(order status answered by the order desk)"


class PendingAnswer:
    """A streamed answer: iterate `chunks()` for the text pieces. Once they are consumed, `shown` is the answer to
    show at once, and `result` the same answer written to the conversation log (`interaction_id` set; the log is
    written on the first read), so a front end shows the sources without waiting for the log's masking."""

    def __init__(
        self,
        chunks: Iterable[str],
        finish: Callable[[str], AssistantAnswer],
        record: Callable[[AssistantAnswer], int | None] | None = None,
    ) -> None:
        self._chunks = chunks
        self._finish = finish
        self._record = record
        self.shown: AssistantAnswer | None = None

    def chunks(self) -> Iterator[str]:
        text: list[str] = []
        for piece in self._chunks:
            text.append(piece)
            yield piece
        self.shown = self._finish("".join(text))

    @property
    def result(self) -> AssistantAnswer | None:
        if self.shown is not None and self._record is not None:
            record, self._record = self._record, None
            self.shown.interaction_id = record(self.shown)
        return self.shown


class _ModelStream:
    """The chat model's text pieces; a provider failure becomes a customer-safe sentence (then the offline
    answer, when the model had said nothing yet): never a stack trace."""

    def __init__(self, pieces: Iterator[str], offline_text: str) -> None:
        self._pieces = pieces
        self._offline_text = offline_text
        self.fell_back = False  # the text is the offline answer, not the model's

    def __iter__(self) -> Iterator[str]:
        produced = False
        try:
            for piece in self._pieces:
                produced = True
                yield piece
        except Exception as exc:  # any provider failure
            failure = provider_error_message(exc)
            if produced:
                yield f"\n\n({failure})"
            else:
                self.fell_back = True
                yield f"{failure} Here is the matching information from our help pages:\n\n{self._offline_text}"


@dataclass
class _Question:
    """One customer message on its way through `ask_stream`."""

    text: str
    session_id: str
    standalone: str
    language: str
    started: float


class Assistant:
    """Answers questions per session with the store's knowledge, by the configured provider."""

    def __init__(
        self,
        settings: Settings,
        kb: KnowledgeBase | None = None,
        conversations: ConversationStore | None = None,
        chat_model: BaseChatModel | None = None,
        log: ConversationLog | None = None,
        orders: OrderDesk | None = None,
        handoff: HandoffDesk | None = None,
        products: ProductDesk | None = None,
        privacy: PrivacyDesk | None = None,
    ) -> None:
        self.settings = settings
        self.privacy = privacy
        self.kb = kb or KnowledgeBase(settings)
        self.conversations = conversations or ConversationStore(
            ttl=settings.api_conversation_minutes * 60, max_turns=settings.memory_turns
        )
        self.log = log
        self.orders = orders
        self.handoff = handoff
        self.products = products or (ProductDesk(self.kb, self.conversations) if settings.product_filters else None)
        self.named_products = NamedProducts(self.products.cache) if self.products is not None else None
        for desk in (self.orders, self.handoff, self.products):  # one owner of conversation state: this store
            if desk is not None:
                desk.conversations = self.conversations
        self.contact = Contact.of(settings)
        self.gate = DeclineGate(self.kb.decline_thresholds)
        self.extractive = ExtractiveAnswerer(self.contact, self.gate)
        self.provider = "fake" if chat_model is not None else settings.answering_provider()
        self._chat_model = chat_model
        self._llm = None
        self._llm_model = ""

    @property
    def llm(self):
        """The chat-model answerer (`chains.llm.LLMAnswerer`), built on first use and again when the model to use
        changes (a fine-tune finished, or staff switched between base and fine-tuned: the id file says which);
        None when extractive."""
        if self.provider == "extractive":
            return None
        if self._chat_model is not None:
            if self._llm is None:
                from chains.llm import LLMAnswerer

                self._llm = LLMAnswerer(self._chat_model, self.settings)
            return self._llm
        from providers.chat import build_chat_model, chat_model_name

        wanted = chat_model_name(self.settings)
        if self._llm is None or self._llm_model != wanted:
            from chains.llm import LLMAnswerer

            self._llm = LLMAnswerer(build_chat_model(self.settings), self.settings)
            self._llm_model = wanted
        return self._llm

    def ask(self, question: str, session_id: str = "default", client: str = "local") -> AssistantAnswer:
        """Answer one message in the context of the session's previous turns."""
        pending = self.ask_stream(question, session_id, client)
        for _ in pending.chunks():
            pass
        assert pending.result is not None
        return pending.result

    def ask_stream(self, question: str, session_id: str = "default", client: str = "local") -> PendingAnswer:
        """Like `ask`, streaming the text; a failing chat model falls back to the extractive answer. `client`
        (the caller's IP) limits failed order checks across conversations."""
        t0 = time.perf_counter()
        question = (question or "").strip()[:MAX_QUESTION_CHARS]
        if not question:
            return PendingAnswer(["Please type a question."], lambda t: AssistantAnswer(t, declined=True))
        lang = detect_language(question)
        state = self.conversations.load(session_id)
        history = state.turns
        if self.handoff is not None:
            earlier = (lambda: self._transcript(session_id)) if self.log is not None else None
            handed = self.handoff.reply(session_id, question, history, lang, earlier)
            if handed is not None:  # an offer, or the ticket made from the customer's email
                return PendingAnswer(
                    [handed],
                    lambda t: self._finish_handoff(session_id, t, lang, t0),
                    lambda a: self._record(session_id, question, a),
                )
        order = self.orders.reply(session_id, question, lang, client) if self.orders else None
        if order is not None:  # answered by code from the order source; no model, no retrieval
            logged = AssistantAnswer(ORDER_PLACEHOLDER, model="orders", language=lang)
            return PendingAnswer(
                [order.text],
                lambda t: self._finish_order(session_id, t, lang, t0),
                lambda _a: self._record(session_id, ORDER_QUESTION, logged, question),
            )
        q = _Question(question, session_id, self._standalone(question, history), lang, t0)
        try:
            model = self.llm.model if self.llm is not None else None
            listed = self.products.reply(session_id, question, lang, model, state) if self.products else None
            if listed is not None:  # filters and a sort over the catalogue's fields, written by code
                finish = lambda t: self._finish(q, t, "catalogue", listed)  # noqa: E731
                return PendingAnswer([listed.text], finish, self._recorder(q))
            hits = self.kb.search(q.standalone, self.settings.top_k)
            if self.named_products is not None:  # a product named in full first, and its same-name listings
                hits = self.named_products.settle(q.standalone, hits)
        except StoreError as exc:
            return self._unavailable(exc, lang, t0)
        offline = self.extractive.answer(hits, lang)  # declined = the gate's decision, for every provider
        offer = self.handoff.after_answer(session_id, offline.declined, lang, question) if self.handoff else None
        llm = self.llm
        if llm is None or offline.declined:  # no model call when the knowledge does not hold the answer
            model = "extractive" if llm is None else f"{llm.name} (declined: no matching knowledge)"
            pieces = [offline.text, f"\n\n{offer}"] if offer else [offline.text]
            return PendingAnswer(pieces, lambda t: self._finish(q, t, model, offline), self._recorder(q))
        stream = _ModelStream(llm.stream(q.standalone, hits, history), offline.text)

        def done(text: str) -> AssistantAnswer:
            if stream.fell_back:
                return self._finish(q, text, f"extractive (fallback: {llm.name} unavailable)", offline)
            return self._finish(q, text, llm.name, Extracted(text, hits, False))

        return PendingAnswer(stream, done, self._recorder(q))

    def _standalone(self, question: str, history: list[Turn]) -> str:
        """The follow-up rewritten as a standalone question (the chat model's rewrite when there is one)."""
        standalone = condense_question(question, history)
        if self.llm is not None and history:
            with contextlib.suppress(Exception):  # best effort: the offline rewrite above stands in
                standalone = self.llm.condense(question, history)
        return standalone

    def _finish(self, q: _Question, text: str, model: str, basis: Extracted) -> AssistantAnswer:
        """Remember the turn and build what the front end shows (logged by `_recorder`)."""
        top = basis.used[0] if basis.used else None
        entity = str(top.metadata.get("name", "")) if top is not None and top.kind == "product" else ""
        self.conversations.add_turn(q.session_id, Turn(q.text, text, entity))
        answer = AssistantAnswer(text, list(basis.used), model, basis.declined, q.standalone, q.language)
        answer.seconds = time.perf_counter() - q.started
        return answer

    def _recorder(self, q: _Question) -> Callable[[AssistantAnswer], int | None]:
        return lambda answer: self._record(q.session_id, q.text, answer)

    def _finish_handoff(self, session_id: str, text: str, lang: str, t0: float) -> AssistantAnswer:
        """A hand-off turn: logged (masked, as every turn), not remembered: the customer's email address in it must
        not reach a chat model's history."""
        answer = AssistantAnswer(text, model="handoff", language=lang)
        answer.seconds = time.perf_counter() - t0
        return answer

    def _finish_order(self, session_id: str, text: str, lang: str, t0: float) -> AssistantAnswer:
        """An order-status turn: remembered and logged without the order's details or the customer's (order number,
        email, postcode), so they never reach a chat model's history, the analytics, a ticket or a training file."""
        self.conversations.add_turn(session_id, Turn(ORDER_QUESTION, ORDER_PLACEHOLDER))
        answer = AssistantAnswer(text, model="orders", language=lang)
        answer.seconds = time.perf_counter() - t0
        return answer

    def _record(self, session_id: str, question: str, answer: AssistantAnswer, typed: str | None = None) -> int | None:
        """Write the answer to the conversation log (masked), link the conversation to the customer's e-mail or
        phone when the message (`typed`: as the customer typed it, default `question`) holds one, and apply the
        retention period; a log that cannot be written costs the rating, not the answer."""
        if self.log is None:
            return None
        try:
            interaction = self.log.record(
                session_id,
                question,
                answer.answer,
                answer.sources,
                answer.model,
                answer.declined,
                standalone=answer.standalone_question or None,
            )
            self.log.link(session_id, typed if typed is not None else question)
            if self.privacy is not None:
                self.privacy.tick()
            return interaction
        except Exception:
            logger.exception("could not write the conversation log %s", self.log.path)
            return None

    def _transcript(self, session_id: str) -> list[dict]:
        """The conversation so far as the log holds it (masked), for a hand-off ticket."""
        turns = []
        for row in self.log.session_rows(session_id) if self.log is not None else []:
            turns.append({"role": "customer", "text": row["question"]})
            turns.append({"role": "assistant", "text": row["answer"]})
        return turns

    def forget(self, sessions: set[str]) -> None:
        """Drop everything held for these conversations (an erasure request, a new conversation): their whole
        state, in this process or in Redis."""
        self.conversations.forget(sessions)
        from base.pii import forget_cache

        forget_cache()

    def rate(self, interaction_id: int, rating: int | None) -> None:
        """A customer's thumbs up (1), down (0) or cleared rating (None) of a logged answer."""
        if self.log is not None:
            self.log.rate(interaction_id, rating)

    def preview(self, query: str, k: int) -> SearchPreview:
        """The top `k` hits for a question and the gate's decision on them (the staff search page)."""
        hits = self.kb.search(query, k)
        fitted = self.kb.calibration() if self.settings.decline_thresholds is None else None
        return SearchPreview(hits, self.gate.decide(hits, detect_language(query)), fitted)

    def _unavailable(self, exc: StoreError, lang: str, t0: float) -> PendingAnswer:
        """A 'one moment' answer while the store recovers; the contact route if it cannot be read at all."""
        if isinstance(exc, StoreRecovering):
            text = ONE_MOMENT.get(lang, ONE_MOMENT["en"])
        else:
            logger.error("the knowledge store cannot be searched: %s", exc)
            text = UNAVAILABLE.get(lang, UNAVAILABLE["en"]).format(**self.contact.__dict__)
        answer = AssistantAnswer(text, model="unavailable", language=lang, unavailable=True)
        answer.seconds = time.perf_counter() - t0
        return PendingAnswer([text], lambda _t: answer)


def _warm(masker) -> None:
    try:
        masker.warm()
    except Exception:  # the first logged answer reports it
        logger.exception("could not load the personal-data masker")


def open_assistant(settings: Settings, *, recover_in_background: bool = False, log: bool = True) -> Assistant:
    """The assistant every front end uses: the settings' store and conversation log (every answer is logged
    unless `log` is False, e.g. for a batch evaluation)."""
    kb = KnowledgeBase(settings, recover_in_background=recover_in_background)
    source = (
        HttpOrders(settings.orders_url, settings.orders_token)
        if settings.orders_url
        else SqliteOrders(settings.orders_db)
    )
    kv = open_kv(settings.redis_url)
    limiter = failure_limit(settings.order_max_failures, settings.order_failure_window_minutes * 60, kv=kv)
    orders = OrderDesk(source, vars(Contact.of(settings)), limiter)
    privacy = PrivacyDesk.of(settings)
    if log:  # the masker's models load while the page or the API starts, not on the first logged answer
        threading.Thread(target=_warm, args=(privacy.masker,), name="pii-warm-up", daemon=True).start()
    handoff = HandoffDesk(privacy.tickets, privacy.masker)
    conversation_log = privacy.log if log else None
    conversations = ConversationStore(kv, settings.api_conversation_minutes * 60, settings.memory_turns)
    return Assistant(
        settings,
        kb,
        conversations=conversations,
        log=conversation_log,
        orders=orders,
        handoff=handoff,
        privacy=privacy if log else None,
    )
