"""The catalogue as the product desks read it: the live products' metadata (without the long text fields), indexed by
name word, brand, category and whole name, read from the store once per store change and replaced whole, so a
reader never mixes two reads. Shared by the filter desk (services/products.py) and the named-product re-ranking
(services/named_products.py)."""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass, replace

from base.text import name_key
from base.types import Hit, ProductFacts
from chains.product_query import Vocabulary
from services.knowledge import KnowledgeBase

LONG_FIELDS = ("description", "attributes")  # not kept in memory: at 100k products they would be most of it
MAX_NAME_WORDS = 40  # longer names are not looked for in questions (a question quoting one is answered by similarity)


@dataclass(frozen=True)
class Catalogue:
    """The desks' copy of the live products, replaced whole when the store or the day changes: a reader takes one
    and never sees the rows of one read with the names or prices of another."""

    generation: int
    day: datetime.date  # the day `facts` holds prices for (sales start and end)
    vocab: Vocabulary
    rows: dict[str, Hit]  # the live products: metadata without the long text fields
    names: dict[str, list[str]]  # name_key(name) -> ids of the listings with that name
    facts: dict[str, ProductFacts]  # each row's price and stock (not parsed again per question: 100k rows)


class CatalogueCache:
    """The live products as last read (`get`), and their whole text when an answer cites them (`cited`)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._lock = threading.Lock()
        self._catalogue: Catalogue | None = None

    def vocabulary(self) -> Vocabulary:
        """The catalogue's words, rebuilt when the store changed (in this process or another)."""
        return self.get().vocab

    def get(self) -> Catalogue:
        """The live products as last read, read again when the store changed; on a new day, the prices a sale
        dates (`price_until`) are read again for that day."""
        generation = self.kb.store.manifest.generation()
        today = datetime.date.today()
        with self._lock:
            cat = self._catalogue
            if cat is None or cat.generation != generation:
                products = self.kb.store.products()
                vocab = Vocabulary([h.metadata for h in products], [h.id for h in products])
                rows: dict[str, Hit] = {}
                names: dict[str, list[str]] = {}
                facts: dict[str, ProductFacts] = {}
                for hit in products:  # descriptions are fetched for the products an answer cites (`cited`)
                    hit.metadata = {k: v for k, v in hit.metadata.items() if k not in LONG_FIELDS}
                    rows[hit.id] = hit
                    facts[hit.id] = ProductFacts.of(hit.metadata, today)
                    key = name_key(str(hit.metadata.get("name", "")))
                    if key and key.count(" ") < MAX_NAME_WORDS:
                        names.setdefault(key, []).append(hit.id)
                cat = Catalogue(generation, today, vocab, rows, names, facts)
            elif cat.day != today:  # a sale started or ended since the catalogue was read
                dated = {
                    i: ProductFacts.of(r.metadata, today) for i, r in cat.rows.items() if "price_until" in r.metadata
                }
                cat = replace(cat, day=today, facts={**cat.facts, **dated})
            self._catalogue = cat
            return cat

    def cited(self, hits: list[Hit]) -> list[Hit]:
        """The products as an answer cites them: their text (what the sources show) and whole metadata, in order
        (the desk filters on metadata without the long text fields)."""
        full = {h.id: h for h in self.kb.store.get_chunks([h.id for h in hits if not h.text])}
        return [full.get(h.id, h) if not h.text else h for h in hits]
