"""Small display helpers shared by the pages."""

from __future__ import annotations

from base.types import ProductFacts


def product_line(meta: dict) -> str:
    """Price, availability and delivery of a product hit, as both pages show it (unknown facts say so)."""
    facts = ProductFacts.of(meta)
    price = f"${facts.price:,.2f} {facts.currency}" if facts.price is not None else "price not available"
    stock = "stock unknown" if facts.stock is None else (f"{facts.stock} in stock" if facts.stock else "out of stock")
    days = f"{facts.delivery_days} business days" if facts.delivery_days else "delivery time unknown"
    return f"{price} · {stock} · {days}"
