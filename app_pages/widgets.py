"""Small display helpers shared by the pages."""

from __future__ import annotations


def product_line(meta: dict) -> str:
    """Price, availability and delivery of a product hit, as both pages show it."""
    stock = f"{meta['stock']} in stock" if meta.get("stock", 0) > 0 else "out of stock"
    return f"${meta['price']:,.2f} {meta.get('currency', 'USD')} · {stock} · {meta['delivery_days']} business days"
