"""Retrieval's hits about one product, made exact where the catalogue knows better: the product a question names in
full comes first, and the listings sharing its name follow, one per price (`NamedProducts.settle`)."""

from __future__ import annotations

from dataclasses import replace

from base.text import name_key
from base.types import Hit, ProductFacts
from services.catalogue import MAX_NAME_WORDS, Catalogue, CatalogueCache

MAX_TWIN_PRICES = 10  # listings sharing a name that `settle` adds to the hits, one per price


class NamedProducts:
    """Re-ranks retrieval's hits by the product names the question contains (see `settle`)."""

    def __init__(self, cache: CatalogueCache) -> None:
        self.cache = cache

    def named_listings(self, question: str) -> list[str]:
        """Ids of the listings whose whole name (two words or more) the question contains, for the longest such
        name; several when listings share it. Empty when the question names no product in full."""
        return self._listings_named(question, self.cache.get())

    def _listings_named(self, question: str, cat: Catalogue) -> list[str]:
        """`named_listings` over `cat`."""
        words = name_key(question).split()
        for size in range(min(len(words), MAX_NAME_WORDS), 1, -1):  # the longest name first: the most specific
            for start in range(len(words) - size + 1):
                found = cat.names.get(" ".join(words[start : start + size]))
                if found:
                    return list(found)
        return []

    def settle(self, question: str, hits: list[Hit]) -> list[Hit]:
        """Retrieval's hits when they are about a product, made exact where the catalogue knows better:
        - the product the question names in full comes first when retrieval put a similar one first ("La Briza
          Ashley Boots" retrieved another brand's boots); it counts as strongly as retrieval's best hit;
        - the listings that share the first product's name follow it, one per price (`_one_per_price`), so the
          answer can give all their prices (retrieval returns a few; a marketplace export can have ninety listings
          under one name); other hits with that name are dropped.
        Hits led by an FAQ entry or a document are left alone: "can I return the Trail Tent?" is a policy
        question."""
        cat = self.cache.get() if hits and hits[0].kind == "product" else None
        if cat is None or cat.vocab.size == 0:
            return hits
        top = hits[0]
        named = self._listings_named(question, cat)
        by_id = {h.id: h for h in hits}
        if named and top.id not in named:
            first = min(named, key=lambda i: -by_id[i].score if i in by_id else 0.0)  # retrieval's best of them
            found = by_id.get(first) or self.cache.cited([cat.rows[first]])[0]
            top = replace(found, score=max(found.score, hits[0].score))
        key = name_key(str(top.metadata.get("name", "")))
        twins = self._one_per_price(top, cat.names.get(key, []), cat)
        fetched = {h.id: h for h in self.cache.cited([cat.rows[i] for i in twins if i not in by_id])}
        lead = [top, *(by_id.get(i) or replace(fetched[i], score=top.score) for i in twins)]
        ids = {h.id for h in lead}
        return lead + [h for h in hits if h.id not in ids and name_key(str(h.metadata.get("name", ""))) != key]

    def _one_per_price(self, top: Hit, ids: list[str], cat: Catalogue) -> list[str]:
        """One listing per price among `ids` other than the top one's, at most MAX_TWIN_PRICES of them, the cheapest
        and the dearest always among them (a name can have ninety listings; an answer and a model prompt need
        their prices, not every listing)."""
        price_of: dict[str, float | None] = {}  # the first listing of each price, in catalogue order
        seen = {ProductFacts.of(top.metadata).price}
        for i in ids:
            if i == top.id:
                continue
            price = cat.facts[i].price
            if price not in seen:
                seen.add(price)
                price_of[i] = price
        kept = list(price_of)
        if len(kept) <= MAX_TWIN_PRICES:
            return kept
        known = sorted((i for i in kept if price_of[i] is not None), key=price_of.__getitem__)
        ends = {known[0], known[-1]} if known else set()
        return [*ends, *[i for i in kept if i not in ends][: MAX_TWIN_PRICES - len(ends)]]
