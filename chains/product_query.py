"""Product questions that need structure, read into filters with rules and the catalogue's own vocabulary.

"What's the cheapest backpack?", "tents under $300 that are in stock", "which brands of running shoes do you
have?", "compare the Ridgeback tent and the Summit tent", "anything from Northwind under $50?": similarity
search alone cannot sort by price or apply a bound. The words that name a kind of product ("tent", "running
shoes") are only taken when the store's product names or categories use them, so the same rules serve any
shop. A question with no such structure returns None and goes the usual way (retrieval and the answerer).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

from pydantic import BaseModel, Field

_WORD = re.compile(r"[\w'’-]+", re.UNICODE)
_NUMBER = r"(\d[\d,.]*\d|\d)"
# A number followed by a unit is a size or a time, not a price ("within 30 days", "2-3 person tent", "30 liters").
_UNIT = (
    r"(?!\s*(?:-|–|to)?\s*\d*\s*(?:days?|hours?|h|weeks?|months?|years?|yrs?|liters?|litres?|l|ml|kg|g|lbs?|"
    r"oz|pounds?|person|people|persons|p|inch(?:es)?|in|cm|mm|m|ft|feet|foot|pack|pcs|pieces?|%|gb|tb|mah|w|v|"
    r"watts?|volts?|quarts?|qt|cups?|count|ct|x)\b)"
)
_MONEY = rf"(?:[$€£]\s*)?{_NUMBER}{_UNIT}\s*(?:dollars|usd|eur|euros?|€|\$)?"
_MAX = re.compile(rf"\b(?:under|below|less than|cheaper than|up to|at most|max(?:imum)?|no more than|"
                  rf"menos de|por debajo de|hasta)\s+{_MONEY}|<\s*{_MONEY}", re.IGNORECASE)  # fmt: skip
_MIN = re.compile(rf"\b(?:over|above|more than|at least|starting at|más de|mas de)\s+{_MONEY}|>\s*{_MONEY}",
                  re.IGNORECASE)  # fmt: skip
# A bare "A-B" is a range of prices only with a currency ("$40-$60", "40-60 dollars"): "Division 0-12 Flash Cards"
# and "Perler 80-22860" are names.
_MARKED = r"(?:[$€£]\s*\d[\d,.]*|\d[\d,.]*\s*(?:dollars|usd|eur|euros?|€|\$))"
_BETWEEN = re.compile(rf"\bbetween\s+{_MONEY}\s+and\s+{_MONEY}|\bentre\s+{_MONEY}\s+y\s+{_MONEY}|"
                      rf"[$€£]\s*{_NUMBER}\s*(?:-|–|to)\s*[$€£]?\s*{_NUMBER}{_UNIT}|"
                      rf"{_NUMBER}\s*(?:-|–|to)\s*{_NUMBER}\s*(?:dollars|usd|eur|euros?|€)", re.IGNORECASE)  # fmt: skip
_CHEAPEST = re.compile(r"\b(cheapest|least expensive|lowest[- ]priced|lowest price|most affordable|budget|"
                       r"más barat[oa]s?|mas barat[oa]s?|económic[oa])\b", re.IGNORECASE)  # fmt: skip
_PRICIEST = re.compile(r"\b(most expensive|priciest|highest[- ]priced|top[- ]of[- ]the[- ]line|más car[oa]s?)\b",
                       re.IGNORECASE)  # fmt: skip
_CHEAPER = re.compile(r"\b(cheaper|less expensive|lower price|más barat[oa]s?|mas barat[oa]s?)\b", re.IGNORECASE)
_ES_CHEAPER = re.compile(r"\bm[aá]s barat[oa]s?\b", re.IGNORECASE)
_ES_CHEAPEST = re.compile(r"\b(el|la|los|las|lo)\b[^?!.]*\bm[aá]s barat", re.IGNORECASE)  # "la mochila más barata"
_IN_STOCK = re.compile(r"\b(in stock|available now|available|in-stock|en stock|disponibles?|hay stock)\b", re.I)
_BRANDS = re.compile(r"\b(which|what)\s+brands?\b|\bbrands?\s+(of|for|do you)\b|\bqué marcas\b|\bque marcas\b", re.I)
_COMPARE = re.compile(r"\b(compare|comparison|versus|vs\.?|difference between|compara[r]?|diferencia entre)\b", re.I)
_FROM_BRAND = re.compile(r"\b(anything|something|products?|items?|what)\b.*\b(from|by|de)\b", re.IGNORECASE)
# Questions about the shop's policies are FAQ questions even when they name a product and an amount ("can I return
# a tent within 30 days?", "is shipping free on orders over $50?"): retrieval answers them.
_POLICY = re.compile(r"\b(returns?|returning|refunds?|shipping|ship|ships|delivery|deliver|warrant(?:y|ies)|exchanges?|"
                     r"orders?|cancel\w*|track\w*|policy|policies|coupons?|discounts?|promo|vouchers?|devoluci\w+|"
                     r"reembols\w+|envíos?|envio|garantía|pedidos?)\b", re.IGNORECASE)  # fmt: skip
_FOLLOW_UP = re.compile(r"^\s*(¿\s*)?(and|any|what about|how about|only|just|also|in|y|alguno|algo|solo|en)\b", re.I)

_STOP_WORDS = """
a an the and or of for to in on at by with from about do does did you your we our us have has is are was
    any anything something some what which who how much many me my i it its that this these those there please
    can could would will show find want need looking look get buy sell sold best good great new one ones thing
    things items item products product under below over above less more than most least cheap cheapest cheaper
    expensive priciest price prices priced cost costs between up at stock available now only just also compare
    versus vs difference brand brands carry offer got like dollars usd eur euros budget lowest highest affordable
    hi hello hey still store shop sale same other else tell list all
    el la los las un una unos unas de del y o en con por para que qué cual cuál tienen tienes hay algo alguno
    más mas menos barato barata baratos baratas caro cara caros caras precio marca marcas entre disponible
    disponibles stock"""
STOP = frozenset(_STOP_WORDS.split())


@dataclass
class ProductQuery:
    """Filters read from a question. `terms`: words a product's name or category must contain (the kind of
    product); `extra`: words its text must contain (a colour, a size: follow-ups such as "and in blue?")."""

    terms: list[str] = field(default_factory=list)
    brand: str | None = None
    category: str | None = None
    min_price: float | None = None
    max_price: float | None = None
    in_stock: bool = False
    sort: str | None = None  # price_asc | price_desc
    want: str = "list"  # list | brands | compare
    compare: list[list[str]] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    def describe(self, currency: str = "USD", lang: str = "en") -> str:
        """The filters in words, for the answer's first line ("tents under $300.00 USD that are in stock"; in
        Spanish "tents por menos de $300.00 USD disponibles": the kind words are the catalogue's own)."""
        from base.money import format_money

        es = lang == "es"
        what = " ".join(self.terms) or (self.category or ("productos" if es else "products"))
        if self.terms and not what.endswith("s"):
            what += "s"
        parts = [what]
        if self.brand:
            parts.append(f"{'de' if es else 'from'} {self.brand}")
        if self.extra:
            parts.append(("con " if es else "with ") + ", ".join(self.extra))
        low = format_money(self.min_price, currency) if self.min_price is not None else None
        high = format_money(self.max_price, currency) if self.max_price is not None else None
        if low and high:
            parts.append(f"entre {low} y {high}" if es else f"between {low} and {high}")
        elif high:
            parts.append(f"por menos de {high}" if es else f"under {high}")
        elif low:
            parts.append(f"por más de {low}" if es else f"over {low}")
        if self.in_stock:
            parts.append("disponibles" if es else "that are in stock")
        return " ".join(parts)


def word_set(text: str) -> set[str]:
    """The words of a text, lower-case and singular: how names, categories and questions are compared."""
    return {singular(w) for w in _WORD.findall(text.lower())}


def singular(word: str) -> str:
    """A crude English singular, enough to match "tents" to "Tent" and "boxes" to "Box"."""
    w = word.lower()
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("ches", "shes", "sses", "xes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


class Vocabulary:
    """The catalogue's own words: brands, categories and the words of product names (by how many products use
    them), so the rules know that "tent" is a kind of product here and "Northwind" a brand."""

    def __init__(self, products: Iterable[dict], ids: Iterable[str] | None = None) -> None:
        """`products`: their metadata; `ids`: their chunk ids, in the same order (for `index`)."""
        id_list = list(ids) if ids is not None else None
        self.brands: dict[str, str] = {}  # lower-case brand -> as written
        self.categories: dict[str, str] = {}
        self.name_words: Counter[str] = Counter()
        self.brand_words: set[str] = set()
        self.brand_sizes: Counter[str] = Counter()  # lower-case brand -> products
        self.index: dict[str, set[str]] = {}  # word of a name or category (singular) -> chunk ids
        self.by_brand: dict[str, set[str]] = {}  # lower-case brand -> chunk ids
        self.by_category: dict[str, set[str]] = {}  # lower-case category -> chunk ids
        self.size = 0
        for n, meta in enumerate(products):
            self.size += 1
            if meta.get("brand"):
                self.brands.setdefault(str(meta["brand"]).lower(), str(meta["brand"]))
                self.brand_sizes[str(meta["brand"]).lower()] += 1
                self.brand_words.update(singular(w) for w in _WORD.findall(str(meta["brand"]).lower()))
            if meta.get("category"):
                self.categories.setdefault(str(meta["category"]).lower(), str(meta["category"]))
            words = word_set(f"{meta.get('name', '')} {meta.get('category', '')}")
            self.name_words.update(w for w in words if len(w) > 2 and not w.isdigit())
            if id_list is not None:
                for word in words:
                    self.index.setdefault(word, set()).add(id_list[n])
                for table, key in ((self.by_brand, "brand"), (self.by_category, "category")):
                    if meta.get(key):
                        table.setdefault(str(meta[key]).lower(), set()).add(id_list[n])

    def is_kind(self, word: str) -> bool:
        """A word that names a kind of product here: in some product names, but not in most (e.g. "set")."""
        count = self.name_words.get(singular(word), 0)
        if singular(word) in self.brand_words:
            return False
        return count > 0 and (self.size < 20 or count <= self.size * 0.3)

    def find_brand(self, text: str) -> tuple[str | None, str]:
        """The brand the text names (whole name, or a distinctive first word such as "Ridgeback"), and the text
        without it."""
        lower = text.lower()
        for key in sorted(self.brands, key=len, reverse=True):
            if re.search(rf"(?<!\w){re.escape(key)}(?!\w)", lower):
                return self.brands[key], re.sub(rf"(?<!\w){re.escape(key)}(?!\w)", " ", lower)
        firsts: dict[str, list[str]] = {}
        for key in self.brands:
            first = _WORD.findall(key)[0] if _WORD.findall(key) else ""
            if len(first) > 3 and first not in STOP:
                firsts.setdefault(first, []).append(key)
        for first, keys in firsts.items():
            if self.name_words.get(singular(first), 0) > 1.25 * self.brand_sizes[keys[0]]:
                continue  # "mountain" of "Mountain Hardwear" is mostly a word of other products' names
            if len(keys) == 1 and re.search(rf"(?<!\w){re.escape(first)}(?!\w)", lower):
                rest = lower
                for word in _WORD.findall(keys[0]):  # "Harbor & Pine" for "Harbor & Pine Essentials"
                    rest = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", " ", rest)
                return self.brands[keys[0]], rest
        return None, lower

    def find_category(self, words: list[str]) -> str | None:
        joined = " ".join(words)
        for key, name in sorted(self.categories.items(), key=lambda kv: -len(kv[0])):
            if key and (key == joined or singular(key) == singular(joined)):
                return name
        return None


def _amount(text: str | None) -> float | None:
    """A bound as written ("1,200", "49,99", "1.500"), read as base.money reads prices."""
    from base.money import parse_amount

    return parse_amount(text) if text else None


def _first_group(match: re.Match[str] | None) -> float | None:
    if match is None:
        return None
    return next((v for v in (_amount(g) for g in match.groups()) if v is not None), None)


def _kind_words(text: str, vocab: Vocabulary) -> tuple[list[str], list[str]]:
    """(words naming a kind of product, other content words) in the order the question has them."""
    kinds, others = [], []
    for word in _WORD.findall(text.lower()):
        word = word.strip("'’-")
        if not word or word in STOP or word.isdigit() or len(word) < 3:
            continue
        (kinds if vocab.is_kind(word) else others).append(word)
    return kinds, others


def parse_product_query(question: str, vocab: Vocabulary, last: ProductQuery | None = None) -> ProductQuery | None:
    """The filters a product question asks for, or None when it has no structure (a plain "how much is the X?"
    is answered by similarity). `last`: the previous product question's filters, which a follow-up keeps
    ("and in blue?", "any cheaper?")."""
    if vocab.size == 0 or _POLICY.search(question):
        return None
    text = question.strip()
    q = ProductQuery()
    if m := _BETWEEN.search(text):
        values = [v for v in (_amount(g) for g in m.groups()) if v is not None]
        if len(values) == 2:
            q.min_price, q.max_price = min(values), max(values)
        text = text.replace(m.group(), " ")
    if q.max_price is None and (m := _MAX.search(text)):
        q.max_price = _first_group(m)
        text = text.replace(m.group(), " ")
    if q.min_price is None and (m := _MIN.search(text)):
        q.min_price = _first_group(m)
        text = text.replace(m.group(), " ")
    q.sort = "price_asc" if _CHEAPEST.search(text) else "price_desc" if _PRICIEST.search(text) else None
    q.in_stock = bool(_IN_STOCK.search(text))
    cheaper = bool(_CHEAPER.search(text)) and q.sort is None
    if last is not None and q.sort == "price_asc" and _ES_CHEAPER.search(text) and not _ES_CHEAPEST.search(text):
        q.sort, cheaper = None, True  # "¿y más baratas?": Spanish says both alike; without an article, "cheaper"
    if _BRANDS.search(text):
        q.want = "brands"
    elif _COMPARE.search(text):
        q.want = "compare"
    brand, rest = vocab.find_brand(text)
    if q.want == "compare":
        q.compare = _compare_parts(rest if brand is None else text.lower(), vocab)
        if len(q.compare) < 2:
            return None
        return q
    q.brand = brand
    kinds, others = _kind_words(rest, vocab)
    if not kinds and _spanish(question):  # "mochila" in a shop that writes "backpack": the glossary's word
        from base.translate import gloss_to_english

        english = gloss_to_english(rest)
        if _POLICY.search(english):  # "¿me devuelven la diferencia?": a policy question once in English words
            return None
        kinds, glossed = _kind_words(english, vocab)
        others = others if kinds else [*others, *glossed]
    category = vocab.find_category(others) or vocab.find_category(kinds)
    if category and not kinds:
        q.category = category
    else:
        q.terms = kinds
    structured = q.sort or q.min_price is not None or q.max_price is not None or q.in_stock or q.want == "brands"
    if last is not None and _is_follow_up(question, q, cheaper):
        return _follow_up(last, q, others, cheaper)
    if q.want == "brands" and (q.terms or q.category):
        return q
    if structured and (q.terms or q.brand or q.category):
        return q
    if q.brand and _FROM_BRAND.search(question) and not q.terms:
        return q  # "anything from Northwind?"
    return None


def _spanish(text: str) -> bool:
    from base.language import detect_language

    return detect_language(text) == "es"


def _is_follow_up(question: str, q: ProductQuery, cheaper: bool) -> bool:
    """A short message that narrows the last product question instead of asking a new one."""
    short = len(_WORD.findall(question)) <= 6
    new_kind = bool(q.terms or q.category)
    narrows = q.in_stock or q.max_price is not None or q.min_price is not None or q.sort is not None
    return short and not new_kind and (cheaper or narrows or bool(_FOLLOW_UP.search(question)))


def _follow_up(last: ProductQuery, q: ProductQuery, others: list[str], cheaper: bool) -> ProductQuery:
    merged = replace(last, want="list" if last.want == "compare" else last.want, compare=[])
    merged.extra = [*last.extra, *[w for w in others if w not in last.extra]]
    if q.brand:
        merged.brand = q.brand
    if q.max_price is not None:
        merged.max_price = q.max_price
    if q.min_price is not None:
        merged.min_price = q.min_price
    merged.in_stock = last.in_stock or q.in_stock
    merged.sort = q.sort or ("price_asc" if cheaper else last.sort)
    if cheaper:
        merged.extra = [w for w in merged.extra if w not in ("cheaper", "less", "expensive")]
        merged.want = "cheaper"  # the desk bounds the price by what it showed last
    return merged


def _compare_parts(text: str, vocab: Vocabulary) -> list[list[str]]:
    """The products a comparison names: "compare the Ridgeback tent and the Summit tent" -> [[ridgeback, tent],
    [summit, tent]]."""
    body = _COMPARE.sub(" ", text.lower())
    parts = re.split(r"\s+(?:and|with|to|vs\.?|versus|or|y|con)\s+|,", body)
    out = []
    for part in parts:
        words = [w.strip("'’-") for w in _WORD.findall(part)]
        words = [w for w in words if w and w not in STOP and len(w) > 1]
        if words:
            out.append(words)
    return out


# -- with a chat model: structured output ------------------------------------------------------------------
_CUES = (_MAX, _MIN, _BETWEEN, _CHEAPEST, _PRICIEST, _CHEAPER, _IN_STOCK, _BRANDS, _COMPARE, _FROM_BRAND)


PRICE_MARKED = re.compile(_MARKED, re.IGNORECASE)


def may_need_filters(question: str, last: ProductQuery | None) -> bool:
    """Whether a question may need the catalogue's filters at all (a price bound, a sort, stock, brands, a
    comparison, or a short follow-up to a product request): only then is a chat model asked to read them."""
    if any(p.search(question) for p in _CUES):
        return True
    return last is not None and len(_WORD.findall(question)) <= 6 and bool(_FOLLOW_UP.search(question))


class ProductFilters(BaseModel):
    """The filters a chat model reads from a message (its structured output; see prompts/product_filters.md)."""

    intent: Literal["none", "list", "brands", "compare"] = Field(description="what the customer wants")
    kind: str | None = Field(None, description="kind of product, singular, in the customer's words")
    brand: str | None = Field(None, description="one of the shop's brands, exactly as listed")
    category: str | None = Field(None, description="one of the shop's categories, exactly as listed")
    min_price: float | None = None
    max_price: float | None = None
    in_stock: bool = False
    sort: Literal["price_asc", "price_desc"] | None = None
    compare: list[str] = Field(default_factory=list, description="products to compare, a short name each")
    extra: list[str] = Field(default_factory=list, description="other words a product must have")
    narrows_previous: bool = False
    cheaper_than_previous: bool = False


def filters_prompt(vocab: Vocabulary, last: ProductQuery | None, limit: int = 60) -> str:
    """The extraction prompt with the shop's own brands and categories (the most common first, at most `limit`)."""
    from chains.llm import load_prompt

    brands = ", ".join(sorted(vocab.brands.values())[:limit]) or "(none)"
    categories = ", ".join(sorted(vocab.categories.values())[:limit]) or "(none)"
    previous = "none" if last is None else str({k: v for k, v in asdict(last).items() if v not in (None, [], False)})
    return load_prompt("product_filters", brands=brands, categories=categories, previous=previous)


def query_from_filters(filters: ProductFilters, vocab: Vocabulary, last: ProductQuery | None) -> ProductQuery | None:
    """A model's filters checked against the catalogue: a brand or category the shop does not have is dropped, a
    kind of product counts only in words the shop's product names use (so the model cannot add a filter the
    catalogue does not know); None when nothing usable is left."""
    if filters.intent == "none":
        return None
    brand = vocab.find_brand(filters.brand)[0] if filters.brand else None
    category = vocab.categories.get(filters.category.lower()) if filters.category else None
    kinds = [w.lower() for w in _WORD.findall(filters.kind or "") if vocab.is_kind(w)]
    bounds = [b if b is not None and b >= 0 else None for b in (filters.min_price, filters.max_price)]
    q = ProductQuery(terms=kinds, brand=brand, category=category, min_price=bounds[0], max_price=bounds[1],
                     in_stock=filters.in_stock, sort=filters.sort, want=filters.intent,
                     extra=[w.lower() for w in filters.extra if w.strip()][:3])  # fmt: skip
    if filters.intent == "compare":
        q.compare = [[w for w in (x.lower() for x in _WORD.findall(name)) if w not in STOP] for name in filters.compare]
        q.compare = [c for c in q.compare if c]
        return q if len(q.compare) >= 2 else None
    if last is not None and (filters.narrows_previous or filters.cheaper_than_previous) and not (kinds or category):
        return _follow_up(last, q, q.extra, filters.cheaper_than_previous)
    if not (q.terms or q.brand or q.category):
        return None
    return q
