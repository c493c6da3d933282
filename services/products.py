"""The product desk: questions that need filters and a sort, answered from the catalogue's metadata.

`chains.product_query` reads the filters (kind of product, brand, category, price range, in stock, sort);
this desk applies them to the in-memory catalogue (services/catalogue.py), sorts, and writes the answer from the
products' own fields, each cited. When nothing matches it says so plainly and offers the closest alternatives (one
filter relaxed). The last filters of each conversation are kept in its state (services/state.py) so follow-ups
("and in blue?", "any cheaper?") narrow them.
"""

from __future__ import annotations

import logging
import re

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from base.money import day_text, format_price
from base.types import Hit, ProductFacts
from chains.extractive import Extracted
from chains.product_query import (
    PRICE_MARKED,
    ProductFilters,
    ProductQuery,
    Vocabulary,
    filters_prompt,
    may_need_filters,
    parse_product_query,
    query_from_filters,
    singular,
    word_set,
)
from services.catalogue import CatalogueCache
from services.knowledge import KnowledgeBase
from services.state import ConversationState, ConversationStore

logger = logging.getLogger(__name__)
SHOWN = 5
_NAMING = ("name", "brand", "category")
ALTERNATIVES = 3
# A question about one product ("is the Summit tent in stock?", "how much is the Trail Pack, budget edition?"): its
# words may carry a filter cue (a name with "budget" or "available" in it) but similarity answers it.
_ASKS_ABOUT_ONE = re.compile(
    r"^\s*(¿\s*)?(is|are|does|do|can|will|está|tienen el|tienen la|how much (is|are|does|do)|what('s| is| does) the "
    r"(price|cost)|price of|cuánto cuesta|cuanto cuesta)\b",
    re.IGNORECASE,
)


def _price_key(hit: Hit) -> float:
    price = ProductFacts.of(hit.metadata).price
    return price if price is not None else float("inf")


def _line(n: int, hit: Hit, lang: str) -> str:
    m, facts = hit.metadata, ProductFacts.of(hit.metadata)
    brand = (
        f" ({m['brand']})" if m.get("brand") and str(m["brand"]).lower() not in str(m.get("name", "")).lower() else ""
    )
    es = lang == "es"
    if facts.price is None:
        price = "precio no disponible" if es else "price not available"
    else:
        price = format_price(facts.price, facts.price_max, facts.currency, lang)
        if facts.until is not None:  # a sale that ends or starts: the price holds until then
            price += f" (hasta el {day_text(facts.until, lang)})" if es else f" (until {day_text(facts.until)})"
    if facts.stock is not None and facts.stock > 0:
        stock = f"{facts.stock} disponibles" if es else f"in stock ({facts.stock} available)"
    elif facts.in_stock is True:
        stock = "disponible" if es else "in stock"
    elif facts.in_stock is False:
        stock = "agotado" if es else "out of stock"
    else:
        stock = ""
    return f"{n}. {m.get('name', '')}{brand}: {price}{', ' + stock if stock else ''} [{n}]"


class ProductDesk:
    """Answers structured product questions (see module docstring); None hands a question to retrieval."""

    def __init__(
        self, kb: KnowledgeBase, conversations: ConversationStore | None = None, cache: CatalogueCache | None = None
    ) -> None:
        self.kb = kb
        self.conversations = conversations or ConversationStore()
        self.cache = cache or CatalogueCache(kb)

    def vocabulary(self) -> Vocabulary:
        """The catalogue's words, rebuilt when the store changed (in this process or another)."""
        return self.cache.get().vocab

    def reply(
        self,
        session_id: str,
        question: str,
        lang: str,
        model: BaseChatModel | None = None,
        state: ConversationState | None = None,
    ) -> Extracted | None:
        """The answer to a product question that needs filters, or None. With a chat `model`, it reads the filters
        (structured output, checked against the catalogue); the rules do when there is none or it fails. The last
        answer's filters come from the conversation's `state` (loaded when not given) and are written back to it."""
        state = state if state is not None else self.conversations.load(session_id)
        previous = state.filters
        if not may_need_filters(question, previous):
            return None  # most messages: no catalogue scan, no model call
        vocab = self.vocabulary()
        if vocab.size == 0:
            return None
        query = self._read(question, vocab, previous, model)
        if query is None:
            return None
        asks_one = query.want == "list" and not query.sort and _ASKS_ABOUT_ONE.search(question)
        bounded = query.min_price is not None or query.max_price is not None
        if asks_one and not (bounded and PRICE_MARKED.search(question)):
            return None  # about one product (digits in its name are no price bound): similarity finds it
        if query.want == "cheaper":
            query.want = "list"
            if state.shown_prices:
                query.max_price = min(state.shown_prices) - 0.01
        if query.want == "compare":
            answer = self._compare(query, lang)
        elif query.want == "brands":
            answer = self._brands(query, lang)
        else:
            answer = self._list(query, lang)
        prices = [p for p in (ProductFacts.of(h.metadata).price for h in answer.used) if p is not None]

        def remember(stored: ConversationState) -> None:
            stored.filters, stored.shown_prices = query, prices

        self.conversations.change(session_id, remember)
        return answer

    def _read(
        self, question: str, vocab: Vocabulary, previous: ProductQuery | None, model: BaseChatModel | None
    ) -> ProductQuery | None:
        if model is not None:
            try:
                reader = model.with_structured_output(ProductFilters, method="function_calling")
                filters = reader.invoke([SystemMessage(filters_prompt(vocab, previous)), HumanMessage(question)])
                if isinstance(filters, ProductFilters):
                    return query_from_filters(filters, vocab, previous)
            except Exception as exc:  # a model that fails or answers out of shape: the rules read it
                logger.warning("the chat model could not read product filters (%s); using the rules", exc)
        return parse_product_query(question, vocab, previous)

    # -- searching ----------------------------------------------------------------------------------
    def matches(self, q: ProductQuery, relax: frozenset[str] = frozenset()) -> list[Hit]:
        """Products that pass every filter of `q` except those named in `relax`, sorted as asked: candidates from
        the vocabulary's indexes (kind words, brand, category), then price and stock from their metadata, then
        the extra words in their text."""
        cat = self.cache.get()
        vocab, rows, known = cat.vocab, cat.rows, cat.facts
        sets = [vocab.index.get(singular(t), set()) for t in q.terms]
        if q.brand and "brand" not in relax:
            sets.append(vocab.by_brand.get(q.brand.lower(), set()))
        if q.category:
            sets.append(vocab.by_category.get(q.category.lower(), set()))
        pool = [rows[i] for i in set.intersection(*sets) if i in rows] if sets else list(rows.values())
        low, high = (None, None) if "price" in relax else (q.min_price, q.max_price)
        stock = q.in_stock and "stock" not in relax
        passing = []  # (price or inf, row): facts read when the catalogue was (not per question: 100k rows)
        for row in pool:
            facts = known[row.id]
            if (low is not None or high is not None) and facts.price is None:
                continue  # an unknown price never passes a price bound
            if (low is not None and facts.price < low) or (high is not None and facts.price > high):
                continue
            if stock and facts.in_stock is not True:
                continue
            passing.append((facts.price if facts.price is not None else float("inf"), row))
        reverse = q.sort == "price_desc"

        def order(item: tuple[float, Hit]) -> tuple[float, str]:  # by price as asked; an unknown price last
            price, row = item
            return (-price if reverse and price != float("inf") else price, str(row.metadata.get("name", "")))

        passing.sort(key=order)
        out = [Hit(row.id, "", row.source, 0.0, dict(row.metadata)) for _, row in passing]
        extra = [] if "extra" in relax else [singular(w) for w in q.extra]
        if extra and out:
            out = [h for h in self.cache.cited(out) if all(e in word_set(h.text) for e in extra)]
        return out

    # -- answers ------------------------------------------------------------------------------------
    def _list(self, q: ProductQuery, lang: str) -> Extracted:
        es = lang == "es"
        what = q.describe(self.kb.settings.store_currency, lang)
        found = self.matches(q)
        order = ("del más caro al más barato" if es else "most expensive first") if q.sort == "price_desc" else (
            "del más barato al más caro" if es else "cheapest first")  # fmt: skip
        if found:
            shown = found[:SHOWN]
            head = f"Esto es lo que tenemos ({what}), {order}:" if es else f"Here are our {what}, {order}:"
            if q.sort and len(found) > 1:
                top = "más barato" if q.sort == "price_asc" else "más caro"
                head = (f"El {top} es {shown[0].metadata.get('name')}. " if es else
                        f"The {'cheapest' if q.sort == 'price_asc' else 'most expensive'} is the "
                        f"{shown[0].metadata.get('name')}. ") + head  # fmt: skip
            lines = [_line(n, h, lang) for n, h in enumerate(shown, 1)]
            more = len(found) - len(shown)
            tail = [f"…y {more} más." if es else f"…and {more} more."] if more > 0 else []
            return Extracted("\n".join([head, *lines, *tail]), self.cache.cited(shown), False)
        none = f"No tenemos {what}." if es else f"We have no {what}."
        for relax in (("stock",), ("price",), ("extra",), ("brand",), ("stock", "price")):
            if not self._relevant(q, relax):
                continue
            alternatives = self.matches(q, frozenset(relax))
            if q.max_price is not None and "price" in relax:
                alternatives.sort(key=_price_key)
            elif q.min_price is not None and "price" in relax:
                alternatives.sort(key=_price_key, reverse=True)
            if alternatives:
                shown = alternatives[:ALTERNATIVES]
                head = "Lo más parecido:" if es else "The closest we have:"
                lines = [_line(n, h, lang) for n, h in enumerate(shown, 1)]
                return Extracted("\n".join([none, head, *lines]), self.cache.cited(shown), False)
        return Extracted(none, [], False)

    @staticmethod
    def _relevant(q: ProductQuery, relax: tuple[str, ...]) -> bool:
        present = {"stock": q.in_stock, "price": q.min_price is not None or q.max_price is not None,
                   "extra": bool(q.extra), "brand": bool(q.brand)}  # fmt: skip
        return all(present[r] for r in relax)

    def _brands(self, q: ProductQuery, lang: str) -> Extracted:
        es = lang == "es"
        found = self.matches(ProductQuery(terms=q.terms, category=q.category, in_stock=q.in_stock,
                                          min_price=q.min_price, max_price=q.max_price, extra=q.extra))  # fmt: skip
        by_brand: dict[str, list[Hit]] = {}
        for hit in found:
            by_brand.setdefault(
                str(hit.metadata.get("brand") or ("sin marca" if es else "no brand listed")), []
            ).append(hit)
        if not by_brand:
            return self._list(q, lang)
        what = q.describe(self.kb.settings.store_currency, lang)
        used, lines = [], []
        for n, (brand, hits) in enumerate(sorted(by_brand.items(), key=lambda kv: (-len(kv[1]), kv[0])), 1):
            cheapest = min(hits, key=_price_key)
            used.append(cheapest)
            facts = ProductFacts.of(cheapest.metadata)
            count = f"{len(hits)} producto{'s' if len(hits) > 1 else ''}" if es else (
                f"{len(hits)} product{'s' if len(hits) > 1 else ''}")  # fmt: skip
            start = ""
            if facts.price is not None:
                start = (f", desde {format_price(facts.price, None, facts.currency)}" if es else
                         f", from {format_price(facts.price, None, facts.currency)}")  # fmt: skip
            lines.append(f"- {brand}: {count}{start} [{n}]")
        head = (f"Tenemos {what} de {len(by_brand)} marca{'s' if len(by_brand) > 1 else ''}:" if es
                else f"We have {what} from {len(by_brand)} brand{'s' if len(by_brand) > 1 else ''}:")  # fmt: skip
        return Extracted("\n".join([head, *lines]), self.cache.cited(used), False)

    def _compare(self, q: ProductQuery, lang: str) -> Extracted:
        es = lang == "es"
        used: list[Hit] = []
        lines: list[str] = []
        missing: list[str] = []
        for words in q.compare:
            hit = self._named(words)
            if hit is None:
                missing.append(" ".join(words))
                continue
            if any(h.id == hit.id for h in used):
                continue
            hit = self.cache.cited([hit])[0]
            used.append(hit)
            n = len(used)
            m = hit.metadata
            details = str(m.get("attributes") or m.get("description") or "")
            details = details[:220].rsplit(" ", 1)[0] + "…" if len(details) > 220 else details
            line = _line(n, hit, lang)
            lines.append(f"{line}\n   {details}" if details else line)
        if not used:
            text = (f"No encontré {', '.join(missing)} en el catálogo." if es
                    else f"I couldn't find {' or '.join(missing)} in our catalogue.")  # fmt: skip
            return Extracted(text, [], False)
        head = "Comparación:" if es else "Here's how they compare:"
        tail = []
        if missing:
            tail = [f"No encontré: {', '.join(missing)}." if es else f"I couldn't find: {', '.join(missing)}."]
        return Extracted("\n".join([head, *lines, *tail]), used, False)

    def _named(self, words: list[str]) -> Hit | None:
        """The product a few words name ("ridgeback tent"): every word in its name, brand or category; the
        shortest such name wins (the most specific match)."""
        cat = self.cache.get()
        known = [cat.vocab.index[singular(w)] for w in words if singular(w) in cat.vocab.index]
        if not known:
            return None
        hits = [cat.rows[i] for i in min(known, key=len)]  # the rarest word narrows
        wanted = {singular(w) for w in words}
        fitting = [h for h in hits if wanted <= word_set(" ".join(str(h.metadata.get(k, "")) for k in _NAMING))]
        return min(fitting, key=lambda h: len(str(h.metadata.get("name", "")))) if fitting else None
