"""Product catalogues as shops export them: our own CSV schema, Shopify's and WooCommerce's product exports,
or any CSV with a column mapping.

A column mapping maps our field names to the file's column names, e.g. ``{"name": "Product Name", "price":
"Selling Price"}``; only `name` is required. The profiles are mappings plus how rows group: Shopify puts the
variants of one product on several rows under one Handle, WooCommerce lists variations under their parent.

Values are parsed where they can be (base/money.py for prices, HTML stripped from descriptions); what cannot
be parsed is *unknown*, never 0, and the answerer says it does not know. Problems are summarised once per file
with line numbers. A file is refused only when no column can serve as the product name.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document

from base.money import Price, format_price, parse_price, price_line
from base.text import name_key, short_hash
from loaders.base import LoaderError, base_metadata, csv_rows, make_document

FIELDS = ("sku", "name", "category", "brand", "price", "sale_price", "sale_from", "sale_to", "currency", "stock",
          "in_stock", "delivery_days", "description", "attributes", "tags", "group")  # fmt: skip
OWN_COLUMNS = ("sku", "name", "category", "brand", "price", "currency", "stock", "delivery_days", "description")
MAX_DESCRIPTION = 1500  # characters kept in the searchable text (the embedder reads the first ~256 tokens)
MAX_LISTED_LINES = 8
# How a mapping naming a column the file lacks is refused: the knowledge base recognises it in the reason (which
# crosses the child parser's boundary as text) to let a remembered mapping give way to detection.
MAPPING_MISMATCH = "the mapping names column"

# Header words that can serve as each field when a file comes without a mapping (lower-case, first match wins).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("name", "product name", "title", "product title", "product", "item name", "item", "product_name"),
    "sku": ("sku", "variant sku", "uniq id", "id", "product id", "item id", "asin", "pid", "product_id", "code"),
    "price": ("price", "selling price", "variant price", "regular price", "sale price", "list price",
              "discounted_price", "retail_price", "current price", "unit price", "amount"),
    "sale_price": ("sale price",),
    "sale_from": ("date sale price starts", "sale price dates from", "sale start", "sale starts", "sale from"),
    "sale_to": ("date sale price ends", "sale price dates to", "sale end", "sale ends", "sale to"),
    "category": ("category", "categories", "type", "product type", "product_category_tree", "department",
                 "product category"),
    "brand": ("brand", "brand name", "vendor", "manufacturer", "make"),
    "currency": ("currency", "currency code"),
    "stock": ("stock", "quantity", "qty", "inventory", "variant inventory qty", "stock quantity", "units in stock"),
    "in_stock": ("in stock?", "in stock", "availability", "available"),
    "delivery_days": ("delivery_days", "delivery days", "shipping days", "lead time"),
    "description": ("description", "about product", "body (html)", "short description", "product description",
                    "body", "details", "summary"),
    "attributes": ("attributes", "specifications", "product specification", "features"),
    "tags": ("tags",),
}  # fmt: skip

SHOPIFY = {
    "group": "Handle", "name": "Title", "description": "Body (HTML)", "brand": "Vendor", "category": "Type",
    "tags": "Tags", "sku": "Variant SKU", "price": "Variant Price", "stock": "Variant Inventory Qty",
}  # fmt: skip
SHOPIFY_OPTIONS = tuple((f"Option{n} Name", f"Option{n} Value") for n in (1, 2, 3))
WOOCOMMERCE = {
    "sku": "SKU", "name": "Name", "description": "Description", "price": "Regular price",
    "sale_price": "Sale price", "stock": "Stock", "in_stock": "In stock?", "category": "Categories",
    "tags": "Tags", "group": "Parent", "brand": "Brands", "sale_from": "Date sale price starts",
    "sale_to": "Date sale price ends",
}  # fmt: skip


@dataclass
class ColumnMap:
    """Which of the file's columns serves each of our fields, and the export profile it was detected as
    (own, shopify, woocommerce, guessed) or `mapped` when staff gave it."""

    profile: str
    columns: dict[str, str]

    def to_json(self) -> dict:
        return {"profile": self.profile, "columns": dict(self.columns)}


def detect_columns(header: list[str], given: dict[str, str] | None = None) -> ColumnMap:
    """The mapping for a header: `given` (checked against the header), else a known export profile, else our
    own schema, else a guess by column names. Raises ValueError when a given column is not in the file."""
    by_lower = {h.strip().lower(): h for h in header}
    if given:
        unknown_fields = sorted(set(given) - set(FIELDS))
        if unknown_fields:
            raise ValueError(f"unknown field(s) in the column mapping: {', '.join(unknown_fields)} "
                             f"(fields: {', '.join(FIELDS)})")  # fmt: skip
        columns = {}
        for name, column in given.items():
            if not column:
                continue
            actual = by_lower.get(str(column).strip().lower())
            if actual is None:
                raise ValueError(f"{MAPPING_MISMATCH} '{column}' for {name}, but the file has no such column")
            columns[name] = actual
        known = _profile(by_lower)  # a corrected Shopify or WooCommerce mapping still groups variants their way
        return ColumnMap(known[0] if known else "mapped", columns)
    if known := _profile(by_lower):
        return ColumnMap(known[0], {k: by_lower[v.lower()] for k, v in known[1].items() if v.lower() in by_lower})
    profile = "own" if all(c in by_lower for c in ("sku", "name", "price")) else "guessed"
    columns: dict[str, str] = {}
    used: set[str] = set()
    for name in FIELDS:
        for word in SYNONYMS.get(name, ()):
            column = by_lower.get(word)
            if column is not None and column not in used:
                columns[name] = column
                used.add(column)
                break
    if "sale_price" in columns and "price" in columns and columns["price"] == columns["sale_price"]:
        columns.pop("sale_price")
    return ColumnMap(profile, columns)


def _profile(by_lower: dict[str, str]) -> tuple[str, dict[str, str]] | None:
    """The export profile whose tell-tale columns the header has (Shopify, WooCommerce), or None."""
    for profile, spec, needed in (
        ("shopify", SHOPIFY, ("handle", "title", "variant price")),
        ("woocommerce", WOOCOMMERCE, ("name", "regular price", "type")),
    ):
        if all(n in by_lower for n in needed):
            return profile, spec
    return None


def looks_like_catalogue(header: list[str]) -> bool:
    """A CSV without a mapping is read as a catalogue when a column can be the name and another says what
    a product is (price, SKU, brand, category or stock); anything else is not taken for one by accident."""
    columns = detect_columns(header).columns
    return "name" in columns and any(f in columns for f in ("price", "sku", "brand", "category", "stock"))


class _Text(HTMLParser):
    """Visible text of an HTML fragment: block elements become line breaks, script and style are dropped."""

    _BLOCK_TAGS = "p div br li ul ol tr table h1 h2 h3 h4 h5 h6 section article header footer"
    BLOCKS = frozenset(_BLOCK_TAGS.split(" "))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def plain_text(value: str) -> str:
    """A cell's text without HTML tags or entities, whitespace tidied (a plain cell comes back as it was)."""
    if "<" in value and ">" in value:
        parser = _Text()
        parser.feed(value)
        parser.close()
        value = "".join(parser.parts)
    else:
        value = html.unescape(value)
    lines = [" ".join(line.split()) for line in value.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def _count(value: str) -> int | None:
    text = value.strip().replace(",", "")
    if re.fullmatch(r"-?\d+(?:\.0+)?", text):
        number = int(float(text))
        return max(number, 0)  # Shopify exports oversold items as negative stock: none available
    return None


_YES = {"1", "yes", "y", "true", "instock", "in stock", "available", "in_stock"}
_NO = {"0", "no", "n", "false", "outofstock", "out of stock", "sold out", "unavailable", "out_of_stock"}


def _flag(value: str) -> bool | None:
    text = value.strip().lower()
    return True if text in _YES else False if text in _NO else None


@dataclass(frozen=True)
class _Offer:
    """One variant's regular and sale price, and the days the sale runs (both inclusive; None: open)."""

    regular: Price | None
    sale: Price | None
    start: dt.date | None = None
    end: dt.date | None = None

    def on(self, day: dt.date) -> Price | None:
        """The price that applies on `day`."""
        if (
            self.sale is not None
            and (self.start is None or self.start <= day)
            and (self.end is None or day <= self.end)
        ):
            return self.sale
        return self.regular

    def changes(self) -> list[dt.date]:
        """The days its price changes: the sale's first day and the day after its last."""
        if self.sale is None:
            return []
        return [d for d in (self.start, self.end + dt.timedelta(days=1) if self.end else None) if d is not None]


@dataclass
class _Product:
    """One product being assembled from one row (or several variant rows)."""

    line: int
    sku: str
    name: str
    fields: dict[str, str]
    prices: list[tuple[float, float | None, str]] = field(default_factory=list)
    regular: list[float] = field(default_factory=list)
    offers: list[_Offer] = field(default_factory=list)  # each variant's prices and sale window
    stock: list[int | None] = field(default_factory=list)
    in_stock: list[bool | None] = field(default_factory=list)
    options: dict[str, list[str]] = field(default_factory=dict)
    variable: bool = False  # a WooCommerce parent whose price and stock are its variations'


class Problems:
    """Row problems of one file, summarised once: "price unknown on 25 rows: 12, 88, …"."""

    def __init__(self) -> None:
        self.lines: dict[str, list[int]] = {}

    def add(self, what: str, line: int) -> None:
        self.lines.setdefault(what, []).append(line)

    def summary(self) -> list[str]:
        out = []
        for what, lines in self.lines.items():
            shown = ", ".join(map(str, lines[:MAX_LISTED_LINES])) + (", …" if len(lines) > MAX_LISTED_LINES else "")
            rows = "row" if len(lines) == 1 else "rows"
            out.append(f"{what} on {len(lines):,} {rows}: {shown}")
        return out


class CatalogueLoader(BaseLoader):
    """One document per product from any catalogue CSV (see module docstring). After `lazy_load`, `warnings`
    holds the file's problem summary and `column_map` the mapping used."""

    def __init__(
        self,
        path: str | Path,
        text: str,
        columns: dict[str, str] | None = None,
        currency: str = "USD",
        today: dt.date | None = None,
    ) -> None:
        self.path = Path(path)
        self.text = text
        self.given = columns
        self.currency = currency  # the shop's: bare prices ("49.00") are in it
        self.today = today or dt.date.today()  # which sale prices apply now (WooCommerce's sale dates)
        self.warnings: list[str] = []
        self.column_map: ColumnMap | None = None

    def lazy_load(self) -> Iterator[Document]:
        header, rows = csv_rows(self.path, self.text, keep_case=True)
        try:
            cmap = detect_columns(header, self.given)
        except ValueError as exc:
            raise LoaderError(self.path, str(exc)) from None
        if "name" not in cmap.columns:
            raise LoaderError(
                self.path, "no column can serve as the product name (looked for: name, title, product name, …); "
                "give a column mapping, e.g. --columns map.json with {\"name\": \"Your Name Column\"}"
            )  # fmt: skip
        self.column_map = cmap
        problems = Problems()
        products = self._group(rows, cmap, problems)
        if not products:
            raise LoaderError(self.path, "product CSV has a header but no rows")
        seen: dict[str, int] = {}
        names: dict[str, tuple[int, object]] = {}  # name_key -> (row, price) of its first product
        for product in products:
            doc = self._document(product, cmap, problems, seen)
            # the key the desk and the answer use: "Watch - For Men" and "watch, for men" are one name to them
            first = names.setdefault(name_key(product.name), (product.line, doc.metadata.get("price")))
            if first[0] != product.line and first[1] != doc.metadata.get("price"):
                problems.add(f"same name as row {first[0]} with another price (both kept)", product.line)
            yield doc
        noun = "product" if len(products) == 1 else "products"
        self.warnings = [f"{len(products):,} {noun} ({cmap.profile} columns)", *problems.summary()]
        if len(self.warnings) == 1:
            self.warnings = []

    # -- rows to products ---------------------------------------------------------------------------
    def _group(self, rows: Iterator[tuple[int, dict[str, str]]], cmap: ColumnMap, problems: Problems) -> list[_Product]:
        """Rows to products: variant rows join their product (Shopify: same Handle; WooCommerce: Parent)."""
        col = cmap.columns
        products: list[_Product] = []
        groups: dict[str, _Product] = {}  # Shopify: Handle -> product
        woo_ids: dict[str, _Product] = {}  # WooCommerce: ID -> parent ("id:11" names it)
        woo_skus: dict[str, _Product] = {}  # WooCommerce: SKU -> parent (a bare value names it)
        woo = cmap.profile == "woocommerce"
        for line, raw in rows:
            row = {k: (v or "").strip() for k, v in raw.items()}
            if not any(row.values()):
                continue
            get = lambda name, row=row: row.get(col[name], "") if name in col else ""  # noqa: E731
            if _hidden(row, cmap.profile):
                problems.add("not published, or a draft or archived (skipped)", line)
                continue
            key = get("group")
            if woo:
                parent = (woo_ids.get(key[3:]) if key.startswith("id:") else woo_skus.get(key)) if key else None
                if parent is not None:
                    self._add_variant(parent, row, cmap, line, problems)
                    continue
                key = ""
            elif key and key in groups:
                if _variant_fields_empty(row, col):
                    continue  # a Shopify row that only adds an image to the product
                self._add_variant(groups[key], row, cmap, line, problems)
                continue
            name = plain_text(get("name"))
            if not name:
                problems.add("no product name (row skipped)", line)
                continue
            product = _Product(line, get("sku"), name, {f: get(f) for f in col})
            self._add_variant(product, row, cmap, line, problems, first=True)
            products.append(product)
            if woo:
                if row.get("ID"):
                    woo_ids[row["ID"]] = product
                if get("sku"):
                    woo_skus[get("sku")] = product
            elif key:
                groups[key] = product
        return products

    def _add_variant(
        self, product: _Product, row: dict[str, str], cmap: ColumnMap, line: int, problems: Problems,
        first: bool = False,
    ) -> None:  # fmt: skip
        col = cmap.columns
        get = lambda name: row.get(col[name], "") if name in col else ""  # noqa: E731
        currency = get("currency").upper() or self.currency
        regular = parse_price(get("price"), currency) if get("price") else None
        sale = parse_price(get("sale_price"), currency) if get("sale_price") else None
        if get("price") and regular is None:
            problems.add("price unreadable (unknown)", line)
        offer = self._offer(regular, sale, get("sale_from"), get("sale_to"), line, problems)
        current = offer.on(self.today) if offer is not None else None
        if offer is not None:
            product.offers.append(offer)
        if current is not None:
            product.prices.append((current.low, current.high, current.currency))
            if current is sale and regular is not None and regular.low > sale.low:
                product.regular.append(regular.low)
        elif not get("price") and not (first and cmap.profile == "woocommerce" and _is_variable(row)):
            problems.add("price missing (unknown)", line)
        if first and cmap.profile == "woocommerce" and _is_variable(row):
            product.variable = True
        stock_text = get("stock")
        product.stock.append(_count(stock_text) if stock_text else None)
        if stock_text and product.stock[-1] is None:
            problems.add("stock unreadable (unknown)", line)
        product.in_stock.append(_flag(get("in_stock")) if get("in_stock") else None)
        if cmap.profile == "shopify":
            for name_col, value_col in SHOPIFY_OPTIONS:
                option = row.get(name_col, "").strip() or (product.fields.get(name_col, "") if not first else "")
                value = row.get(value_col, "").strip()
                if first:
                    product.fields[name_col] = option
                option = option or product.fields.get(name_col, "")
                if option and value and value.lower() != "default title":
                    values = product.options.setdefault(option, [])
                    if value not in values:
                        values.append(value)

    def _offer(
        self, regular: Price | None, sale: Price | None, start: str, end: str, line: int, problems: Problems
    ) -> _Offer | None:
        """A variant's prices with its sale window (WooCommerce's "Date sale price starts/ends"); None when the
        price cannot be known: a sale price whose dates cannot be read may or may not apply today."""
        if sale is None or not (start or end):
            return _Offer(regular, sale)
        first, last = _day(start), _day(end)
        if (start and first is None) or (end and last is None):
            problems.add("sale dates unreadable (price unknown)", line)
            return None
        if last is not None and last < self.today:
            problems.add("sale ended (regular price used)", line)
            return _Offer(regular, None)
        if first is not None and first > self.today:
            problems.add("sale not started yet (regular price until it starts)", line)
        return _Offer(regular, sale, first, last)

    def _schedule(self, product: _Product, meta: dict) -> None:
        """When a sale starts or ends after today: the last day today's price holds (`price_until`), the price
        from the next day (`price_then`, `price_max_then`) and, if it changes again, its last day
        (`price_then_until`). ProductFacts reads them by the date of the question, so an answer never states a
        sale price after its sale ended; past the known schedule the price is unknown."""
        changes = sorted({d for o in product.offers for d in o.changes() if d > self.today})
        if not changes or "price" not in meta:
            return
        meta["price_until"] = (changes[0] - dt.timedelta(days=1)).isoformat()
        prices = [p for p in (o.on(changes[0]) for o in product.offers) if p is not None]
        if prices and len({p.currency for p in prices if p.currency}) <= 1:
            low, high = min(p.low for p in prices), max(p.high or p.low for p in prices)
            meta["price_then"] = low
            if high > low:
                meta["price_max_then"] = high
            if len(changes) > 1:
                meta["price_then_until"] = (changes[1] - dt.timedelta(days=1)).isoformat()

    # -- product to document ------------------------------------------------------------------------
    def _document(self, product: _Product, cmap: ColumnMap, problems: Problems, seen: dict[str, int]) -> Document:
        f = product.fields
        sku = product.sku
        if sku and sku in seen:
            problems.add(f"duplicate SKU (kept both; the first is on row {seen[sku]})", product.line)
            doc_key = f"{sku}~{short_hash(product.name, length=8)}"
        elif f.get("group") and cmap.profile == "shopify":  # the Handle: stable when variants are added
            doc_key = f["group"]
        else:
            doc_key = sku or short_hash(product.name, length=16)
        if f"id:{doc_key}" in seen:  # two products without a SKU and with the same name: both kept, two ids
            doc_key = f"{doc_key}~{product.line}"
        seen[f"id:{doc_key}"] = product.line
        if sku:
            seen.setdefault(sku, product.line)
        description = plain_text(f.get("description", ""))
        if len(description) > MAX_DESCRIPTION:
            problems.add(f"description cut to {MAX_DESCRIPTION:,} characters", product.line)
            description = description[:MAX_DESCRIPTION].rsplit(" ", 1)[0] + " …"
        category = _category(plain_text(f.get("category", "")))
        brand = plain_text(f.get("brand", ""))
        meta = base_metadata(self.path, "product", f"product:{doc_key}")
        meta.update(title=product.name, name=product.name, sku=sku, category=category, brand=brand,
                    description=description, attributes=plain_text(f.get("attributes", "")))  # fmt: skip
        currencies = {c for _, _, c in product.prices if c}
        currency = (f.get("currency") or "").upper() or (currencies.pop() if len(currencies) == 1 else "")
        if product.prices and len({c for _, _, c in product.prices if c}) <= 1:
            low = min(p[0] for p in product.prices)
            high = max(p[1] or p[0] for p in product.prices)
            meta.update(price=low, currency=currency or self.currency)
            if high > low:
                meta["price_max"] = high
            if product.regular:
                meta["regular_price"] = max(product.regular)
            self._schedule(product, meta)
        elif product.prices:
            problems.add("prices in several currencies (price unknown)", product.line)
        stock = product.stock[1:] if product.variable and len(product.stock) > 1 else product.stock
        if stock and all(s is not None for s in stock):
            meta["stock"] = sum(s for s in stock if s is not None)
        flags = [s for s in product.in_stock if s is not None]
        if "stock" in meta:
            meta["in_stock"] = meta["stock"] > 0
        elif flags:
            meta["in_stock"] = any(flags)
        days = _count(f.get("delivery_days", "")) if f.get("delivery_days") else None
        if days:
            meta["delivery_days"] = days
        if product.options:
            meta["options"] = "; ".join(f"{k}: {', '.join(v)}" for k, v in product.options.items())
        if f.get("tags"):
            meta["tags"] = plain_text(f["tags"])
        return make_document(product_text(meta), meta)


_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


def _day(text: str) -> dt.date | None:
    """A date as exports write it: "2026-12-31", with a time ("2026-12-31 23:59:59", "2026-12-31T00:00"), or
    "2026/12/31"; None if it is not one (day-first and month-first orders cannot be told apart)."""
    m = _DATE.fullmatch(text.strip())
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _hidden(row: dict[str, str], profile: str) -> bool:
    """A product the shop does not show: Shopify draft or archived (Status) or unpublished, WooCommerce not
    published (Published 0 or -1) or hidden (Visibility in catalog)."""
    if profile == "shopify":
        status = row.get("Status", "").strip().lower()
        published = row.get("Published", "").strip().lower()
        return status in ("draft", "archived") or published == "false"
    if profile == "woocommerce":
        published = row.get("Published", "").strip()
        visibility = row.get("Visibility in catalog", "").strip().lower()
        return published in ("0", "-1") or visibility == "hidden"
    return False


def _variant_fields_empty(row: dict[str, str], col: dict[str, str]) -> bool:
    """A Shopify row without price, SKU, stock or option values (an extra image of the product)."""
    fields = [row.get(col[f], "") for f in ("price", "sku", "stock") if f in col]
    fields += [row.get(value, "") for _, value in SHOPIFY_OPTIONS]
    return not any(v.strip() for v in fields)


def _is_variable(row: dict[str, str]) -> bool:
    """A WooCommerce parent whose price lives on its variations."""
    return row.get("Type", "").strip().lower() == "variable"


def _category(value: str) -> str:
    """The most specific category of a path such as "Sports > Outdoor > Tents" or "A | B | C" (WooCommerce lists
    several as "Clothing > Hoodies, Clothing": the first one wins)."""
    first = value.split(",")[0] if ">" in value else value
    parts = [p.strip() for p in re.split(r"\s*(?:>|\|)\s*", first) if p.strip()]
    return parts[-1] if parts else ""


def product_text(meta: dict) -> str:
    """The text customers' questions are matched against and the answerer quotes from; an unknown fact says
    so (never 0)."""
    lines = [f"Product: {meta['name']}"]
    for label, key in (("Brand", "brand"), ("Category", "category"), ("SKU", "sku")):
        if meta.get(key):
            lines.append(f"{label}: {meta[key]}")
    lines.append(price_line(meta.get("price"), meta.get("price_max"), meta.get("currency", "USD"),
                            meta.get("price_until"), meta.get("price_then"), meta.get("price_max_then")))  # fmt: skip
    stock, in_stock = meta.get("stock"), meta.get("in_stock")
    if stock is not None:
        lines.append(f"Availability: In stock ({stock} available)" if stock > 0 else "Availability: Out of stock")
    elif in_stock is not None:
        lines.append("Availability: In stock" if in_stock else "Availability: Out of stock")
    if meta.get("delivery_days"):
        lines.append(f"Delivery: {meta['delivery_days']} business days with standard shipping")
    if meta.get("options"):
        lines.append(f"Options: {meta['options']}")
    if meta.get("description"):
        lines.append(f"Description: {meta['description']}")
    if meta.get("attributes"):
        lines.append(f"Details: {meta['attributes']}")
    return "\n".join(lines)


@dataclass
class CataloguePreview:
    """What staff check before a catalogue is stored: the file's columns, the mapping that will be used, and
    the first products as they will be read (or the reason none can be)."""

    header: list[str]
    column_map: ColumnMap | None
    rows: list[dict[str, str]]
    problem: str = ""


def preview_catalogue(
    name: str, text: str, columns: dict[str, str] | None = None, n: int = 5, currency: str = "USD"
) -> CataloguePreview:
    """The first `n` products of a catalogue CSV read with `columns` (or the detected mapping), for the admin's
    mapping check; reads only the first rows, whatever the file's size."""
    path = Path(name)
    try:
        header, rows = csv_rows(path, text, keep_case=True)
        head = [row for _, (_line, row) in zip(range(n * 20), rows, strict=False)]  # variants: a product may span rows
    except LoaderError as exc:
        return CataloguePreview([], None, [], exc.reason)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(head)
    loader = CatalogueLoader(path, buffer.getvalue(), columns, currency)
    try:
        docs = [doc for _, doc in zip(range(n), loader.lazy_load(), strict=False)]
    except LoaderError as exc:
        return CataloguePreview(header, loader.column_map, [], exc.reason)
    shown = []
    for doc in docs:
        m = doc.metadata
        price = format_price(m["price"], m.get("price_max"), m.get("currency", "USD")) if "price" in m else "unknown"
        stock = str(m["stock"]) if "stock" in m else {True: "in stock", False: "out of stock"}.get(m.get("in_stock"))
        shown.append({"name": m["name"], "sku": m.get("sku", ""), "price": price, "stock": stock or "unknown",
                      "category": m.get("category", ""), "brand": m.get("brand", "")})  # fmt: skip
    return CataloguePreview(header, loader.column_map, shown)
