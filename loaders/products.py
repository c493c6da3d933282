"""Product catalogue CSV: one document per product, every field in metadata."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document

from loaders.base import LoaderError, base_metadata, csv_rows, make_document

PRODUCT_COLUMNS = ("sku", "name", "category", "brand", "price", "currency", "stock", "delivery_days", "description")
OPTIONAL_COLUMNS = ("attributes",)


def is_product_header(header: list[str]) -> bool:
    """A CSV is a catalogue when it has at least the identifying product columns."""
    cols = {h.strip().lower() for h in header}
    return {"sku", "name", "price"} <= cols


def format_product(row: dict[str, str], price: float, stock: int, delivery_days: int) -> str:
    """The text customers' questions are matched against and the answerer quotes from."""
    availability = f"In stock ({stock} available)" if stock > 0 else "Out of stock"
    lines = [
        f"Product: {row['name']}",
        f"Brand: {row['brand']}",
        f"Category: {row['category']}",
        f"SKU: {row['sku']}",
        f"Price: {price:,.2f} {row['currency']}",
        f"Availability: {availability}",
        f"Delivery: {delivery_days} business days with standard shipping",
        f"Description: {row['description']}",
    ]
    if row.get("attributes"):
        lines.append(f"Details: {row['attributes']}")
    return "\n".join(lines)


class ProductCSVLoader(BaseLoader):
    """Loads a catalogue CSV with columns sku, name, category, brand, price, currency, stock, delivery_days,
    description[, attributes]; a bad row fails the whole file so a half-imported catalogue never goes live."""

    def __init__(self, path: str | Path, text: str) -> None:
        self.path = Path(path)
        self.text = text

    def lazy_load(self) -> Iterator[Document]:
        header, rows = csv_rows(self.path, self.text)
        missing = [c for c in PRODUCT_COLUMNS if c not in header]
        if missing:
            raise LoaderError(self.path, f"product CSV is missing column(s): {', '.join(missing)}")
        seen: set[str] = set()
        count = 0
        for lineno, raw in rows:
            row = {k: (v or "").strip() for k, v in raw.items()}
            if not any(row.values()):
                continue
            yield self._document(row, lineno, seen)
            count += 1
        if count == 0:
            raise LoaderError(self.path, "product CSV has a header but no rows")

    def _document(self, row: dict[str, str], lineno: int, seen: set[str]) -> Document:
        for col in ("sku", "name"):
            if not row.get(col):
                raise LoaderError(self.path, f"row {lineno}: empty '{col}'")
        if row["sku"] in seen:
            raise LoaderError(self.path, f"row {lineno}: duplicate sku {row['sku']}")
        seen.add(row["sku"])
        try:
            price = float(row["price"].replace("$", "").replace(",", ""))
            stock = int(row["stock"] or 0)
            delivery_days = int(row["delivery_days"] or 0)
        except ValueError:
            raise LoaderError(self.path, f"row {lineno}: price, stock and delivery_days must be numbers") from None
        if not math.isfinite(price):  # "inf", "nan": float() takes them, a customer must never see them
            raise LoaderError(self.path, f"row {lineno}: price must be a finite number (got '{row['price']}')")
        if price < 0 or stock < 0 or delivery_days < 0:
            raise LoaderError(self.path, f"row {lineno}: negative price, stock or delivery_days")
        row["currency"] = row.get("currency") or "USD"
        meta = base_metadata(self.path, "product", f"product:{row['sku']}")
        meta.update(
            title=row["name"],
            sku=row["sku"],
            name=row["name"],
            category=row["category"],
            brand=row["brand"],
            price=price,
            currency=row["currency"],
            stock=stock,
            delivery_days=delivery_days,
            description=row["description"],
            attributes=row.get("attributes", ""),
        )
        return make_document(format_product(row, price, stock, delivery_days), meta)
