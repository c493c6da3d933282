"""Value types shared by the layers."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class ParseLimits:
    """Everything that bounds parsing one untrusted file (the defaults are the settings' defaults).

    Chunking (characters), the file's size, a PDF's pages, the entries one file may hold, and for the child
    parser (loaders/isolated.py) its wall-clock time and address space; and the shop's currency, which a
    catalogue's bare prices ("49.00") are in."""

    chunk_size: int = 900
    chunk_overlap: int = 150
    max_bytes: int = 25 * 1024 * 1024
    max_pdf_pages: int = 500
    max_entries: int = 20_000
    timeout_seconds: float = 60.0
    memory_mb: int = 1024
    currency: str = "USD"  # the shop's currency, for catalogue prices written without one


DEFAULT_LIMITS = ParseLimits()


@dataclass
class Hit:
    """One retrieved chunk, and one numbered source of an answer: `score` is cosine similarity in [-1, 1]."""

    id: str
    text: str
    source: str
    score: float
    metadata: dict

    @property
    def doc_id(self) -> str:
        """The document the chunk belongs to (an FAQ entry, a product, a policy file)."""
        return str(self.metadata.get("doc_id") or self.source)

    @property
    def kind(self) -> str:
        """faq, product or document."""
        return str(self.metadata.get("type") or "document")

    @property
    def title(self) -> str:
        return str(self.metadata.get("title") or self.source)

    @property
    def snippet(self) -> str:
        """What a customer is shown under the source: an FAQ entry's answer, else the chunk text."""
        return str(self.metadata.get("answer") or self.text)

    def to_json(self) -> dict:
        return {"text": self.text, "source": self.source, "score": round(self.score, 4), "metadata": self.metadata}


@dataclass(frozen=True)
class ProductFacts:
    """What a product's metadata says about price, stock and delivery; None = unknown (never 0). `price_max`
    is set for a price range (variants, or a range in the export); `in_stock` is known when either the count
    or a yes/no availability is. `until`: the last day the price holds (a sale ends or starts the day after),
    with `then`/`then_max` the price from the next day when the export said."""

    price: float | None
    currency: str
    stock: int | None
    delivery_days: int | None
    price_max: float | None = None
    in_stock: bool | None = None
    until: datetime.date | None = None
    then: float | None = None
    then_max: float | None = None

    @classmethod
    def of(cls, meta: dict, today: datetime.date | None = None) -> ProductFacts:
        """Read from stored metadata, tolerating what older or hand-made stores hold (missing, NaN, text). The
        price is the one that applies `today` (default: the date now): after `price_until` the export's next
        price (`price_then`) holds until `price_then_until`, and past what the export said it is unknown."""
        price, stock = _number(meta.get("price"), float), _number(meta.get("stock"), int)
        if price == 0:  # older stores: a 0 price was an empty cell
            price = None
        high = _number(meta.get("price_max"), float)
        until, then, then_max = _date(meta.get("price_until")), None, None
        if until is not None and price is not None:
            today = today or datetime.date.today()
            then, then_max = _number(meta.get("price_then"), float) or None, _number(meta.get("price_max_then"), float)
            if today > until:  # the price changed since the import: the next one, while the export covers it
                price, high, until = then, then_max, _date(meta.get("price_then_until"))
                then = then_max = None
                if until is not None and today > until:
                    price = high = until = None
        in_stock = (
            stock > 0 if stock is not None else meta.get("in_stock") if isinstance(meta.get("in_stock"), bool) else None
        )
        return cls(
            price, str(meta.get("currency") or "USD"), stock, _number(meta.get("delivery_days"), int),
            high if price is not None and high is not None and high > price else None, in_stock,
            until if price is not None else None, then,
            then_max if then is not None and then_max is not None and then_max > then else None,
        )  # fmt: skip


def _date(value) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _number(value, kind: type):
    try:
        number = kind(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


class View(str):
    """A view's text, carrying `brief`: the shorter text a blend's multilingual model embeds instead
    (providers/embeddings.py `BlendEmbeddings.model_texts`); every other embedder reads the text itself. Made by
    vectorstore/views.py."""

    brief: str

    def __new__(cls, text: str, brief: str) -> View:
        view = super().__new__(cls, text)
        view.brief = brief
        return view


@runtime_checkable
class ViewCombiner(Protocol):
    """An embedder that makes one document vector from several views' vectors its own way (a blend:
    providers/embeddings.py); the store sums and normalises them for any other (vectorstore/views.py)."""

    def combine_views(self, views: Any) -> Any: ...
