"""Value types shared by the layers."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ProductFacts:
    """What a product's metadata says about price, stock and delivery; None = unknown (never 0)."""

    price: float | None
    currency: str
    stock: int | None
    delivery_days: int | None

    @classmethod
    def of(cls, meta: dict) -> ProductFacts:
        """Read from stored metadata, tolerating what older or hand-made stores hold (missing, NaN, text)."""
        return cls(_number(meta.get("price"), float), str(meta.get("currency") or "USD"),
                   _number(meta.get("stock"), int), _number(meta.get("delivery_days"), int))  # fmt: skip


def _number(value, kind: type):
    try:
        number = kind(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) and number >= 0 else None
