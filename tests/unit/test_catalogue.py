"""Catalogue import: messy prices, Shopify and WooCommerce exports, column mappings (given, remembered, reused by
a reindex), the per-file problem summary, and re-uploads that re-embed only what changed."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from child_env import child_env

from base.money import Price, format_price, parse_amount, parse_price
from base.settings import ROOT, Settings
from base.types import ParseLimits, ProductFacts
from chains.extractive import describe_product
from loaders import LoaderError, load_file, parse_file
from loaders.catalogue import CatalogueLoader, detect_columns, plain_text, preview_catalogue
from providers.embeddings import HashingEmbeddings
from services.knowledge import KnowledgeBase

# -- prices ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("$1,234.50", Price(1234.5, None, "USD")),
        ("USD 12", Price(12.0, None, "USD")),
        ("12,50 €", Price(12.5, None, "EUR")),
        ("1.234,56 EUR", Price(1234.56, None, "EUR")),
        ("£3.42", Price(3.42, None, "GBP")),
        ("19.99", Price(19.99, None, "")),
        ("$22.50 - $49.88", Price(22.5, 49.88, "USD")),
        ("10 to 20 USD", Price(10.0, 20.0, "USD")),
        ("$12.99 $12.99", Price(12.99, None, "USD")),  # a price the page repeated
        ("from $10 to $20", Price(10.0, 20.0, "USD")),
        ("1 234,50 €", Price(1234.5, None, "EUR")),
    ],
)
def test_prices_as_shops_write_them_are_read(cell: str, expected: Price) -> None:
    assert parse_price(cell) == expected


@pytest.mark.parametrize(
    "cell",
    ["", "   ", "0", "$0.00", "-5", "abc", "Total price:$40.00", ".a-color-price{color:#B12704}$5.99", "inf", "NaN",
     "$12.99 $14.99", "$5 €6", "Call for price", "12.3.4", "x" * 100,
     "$49 99", "$12 15", "5 10", "from $10", "to $10", "$10-", "~$10"],
)  # fmt: skip
def test_junk_zero_and_ambiguous_prices_are_unknown(cell: str) -> None:
    assert parse_price(cell) is None


def test_amount_separators() -> None:
    assert [parse_amount(s) for s in ("1,234", "1 234,5", "1'234.50", "12,5", "1,23,4", "49 99")] == [
        1234, 1234.5, 1234.5, 12.5, None, None]  # fmt: skip
    assert parse_price("$5", "CAD") == Price(5.0, None, "CAD") and parse_price("49.00", "GBP").currency == "GBP"
    assert format_price(22.5, 49.88, "USD") == "$22.50 USD to $49.88 USD"
    assert format_price(12.5, None, "EUR") == "€12.50 EUR" and format_price(7, None, "SEK") == "7.00 SEK"


# -- exports --------------------------------------------------------------------------------------------

SHOPIFY = """Handle,Title,Body (HTML),Vendor,Type,Tags,Published,Option1 Name,Option1 Value,Option2 Name,Option2 Value,\
Variant SKU,Variant Inventory Qty,Variant Price,Variant Compare At Price
summit-tent,Summit 2-Person Tent,"<p>Freestanding <b>tent</b> &amp; footprint.</p><script>x()</script>",Northwind,\
Tents,camping,TRUE,Color,Green,Size,2P,TENT-G2,5,249.00,299.00
summit-tent,,,,,,,,Blue,,2P,TENT-B2,0,259.00,
summit-tent,,,,,,,,Blue,,3P,TENT-B3,3,299.00,
enamel-mug,Enamel Mug,<p>Camp mug</p>,Northwind,Kitchen,,TRUE,Title,Default Title,,,MUG-1,,12.5,
"""

WOOCOMMERCE = """ID,Type,SKU,Name,Published,Short description,Description,In stock?,Stock,Regular price,Sale price,\
Categories,Tags,Parent
10,simple,HOOD-1,Hoodie,1,Warm,"<p>Cotton hoodie</p>",1,12,45,39.99,"Clothing > Hoodies, Clothing",warm,
11,variable,CAP-V,Cap,1,,Cap with logo,1,,,,Clothing > Accessories,,
12,variation,CAP-V-RED,Cap - Red,1,,,1,4,18,,,,id:11
13,variation,CAP-V-BLUE,Cap - Blue,1,,,0,0,20,,,,CAP-V
14,simple,BELT,Belt,1,,Leather belt,0,,"12,50 €",,Clothing > Accessories,,
"""

MESSY = """Uniq Id,Product Name,Brand Name,Category,Selling Price,Quantity,About Product
a1,Longboard,DB,Sports | Skate | Longboards,$237.68,,Great board
a2,Puzzle,,Toys | Puzzles,$22.50 - $49.88,,500 pc
a3,Widget,,Toys,,,x
a4,Gizmo,,Toys,Total price:$40.00,,y
a1,Longboard Pro,DB,Sports,"$1,234.50",,z
a5,,,Toys,$3,,no name
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shopify_variants_group_into_one_product_with_options_and_a_price_range(tmp_path: Path) -> None:
    parsed = parse_file(_write(tmp_path, "products_export.csv", SHOPIFY))
    tent, mug = (d.metadata for d in parsed.docs)
    assert tent["doc_id"] == "product:summit-tent" and tent["name"] == "Summit 2-Person Tent"
    assert (tent["price"], tent["price_max"], tent["stock"], tent["in_stock"]) == (249.0, 299.0, 8, True)
    assert tent["options"] == "Color: Green, Blue; Size: 2P, 3P"
    assert tent["description"] == "Freestanding tent & footprint." and tent["brand"] == "Northwind"
    assert "options" not in mug and "stock" not in mug and mug["price"] == 12.5  # "Default Title" is no option
    assert "Price: $249.00 USD to $299.00 USD" in parsed.docs[0].page_content
    assert parsed.warnings == []  # nothing to report


def test_woocommerce_sale_prices_variations_and_stock_flags(tmp_path: Path) -> None:
    docs = load_file(_write(tmp_path, "wc-product-export.csv", WOOCOMMERCE))
    hoodie, cap, belt = (d.metadata for d in docs)
    assert (hoodie["price"], hoodie["regular_price"], hoodie["category"]) == (39.99, 45.0, "Hoodies")
    # The variable product takes its variations (named by id:11 and by the parent's SKU): a range, in stock.
    assert (cap["price"], cap["price_max"], cap["in_stock"], cap["stock"]) == (18.0, 20.0, True, 4)
    assert (belt["price"], belt["currency"], belt["in_stock"]) == (12.5, "EUR", False)
    assert len(docs) == 3


def test_messy_export_parses_what_it_can_and_summarises_problems_with_line_numbers(tmp_path: Path) -> None:
    parsed = parse_file(_write(tmp_path, "amazon.csv", MESSY))
    metas = [d.metadata for d in parsed.docs]
    assert [m["name"] for m in metas] == ["Longboard", "Puzzle", "Widget", "Gizmo", "Longboard Pro"]
    assert metas[0]["price"] == 237.68 and metas[0]["category"] == "Longboards"
    assert (metas[1]["price"], metas[1]["price_max"]) == (22.5, 49.88)
    assert "price" not in metas[2] and "price" not in metas[3]  # empty and junk: unknown, never 0
    assert metas[4]["doc_id"] != metas[0]["doc_id"]  # a duplicate SKU keeps both products, distinct ids
    assert parsed.warnings == [
        "5 products (guessed columns)",
        "price missing (unknown) on 1 row: 4",
        "price unreadable (unknown) on 1 row: 5",
        "no product name (row skipped) on 1 row: 7",
        "duplicate SKU (kept both; the first is on row 2) on 1 row: 6",
    ]
    assert "Price: unknown" in parsed.docs[3].page_content


def test_problem_lines_are_listed_once_and_cut_after_eight(tmp_path: Path) -> None:
    rows = "\n".join(f"P{n},Thing {n},n/a" for n in range(20))
    parsed = parse_file(_write(tmp_path, "many.csv", f"sku,name,price\n{rows}\n"))
    assert parsed.warnings[1] == "price unreadable (unknown) on 20 rows: 2, 3, 4, 5, 6, 7, 8, 9, …"


def test_a_file_is_refused_only_without_a_name_column(tmp_path: Path) -> None:
    with pytest.raises(LoaderError, match="no column can serve as the product name"):
        load_file(_write(tmp_path, "c.csv", "code,colour,size\nA,B,1\n"), columns={"sku": "code"})
    # Every other field may be missing: a list of names is a catalogue when the mapping says so.
    docs = load_file(_write(tmp_path, "names.csv", "label\nLamp\n"), columns={"name": "label"})
    assert docs[0].metadata["name"] == "Lamp" and "price" not in docs[0].metadata


def test_a_given_mapping_is_checked_against_the_header(tmp_path: Path) -> None:
    path = _write(tmp_path, "amazon.csv", MESSY)
    with pytest.raises(LoaderError, match="the mapping names column 'Price' for price, but the file has no such"):
        load_file(path, columns={"name": "Product Name", "price": "Price"})
    with pytest.raises(LoaderError, match="unknown field"):
        load_file(path, columns={"name": "Product Name", "colour": "Category"})
    with pytest.raises(LoaderError, match="catalogue CSV files only"):
        load_file(_write(tmp_path, "notes.txt", "hello"), columns={"name": "x"})
    docs = load_file(path, columns={"name": "Product Name", "price": "Selling Price", "sku": "Uniq Id"})
    assert docs[0].metadata["price"] == 237.68 and "brand" not in docs[0].metadata  # only what was mapped


def test_detection_by_profile_and_by_column_names() -> None:
    assert detect_columns(["Handle", "Title", "Variant Price", "Vendor"]).profile == "shopify"
    assert detect_columns(["ID", "Type", "Name", "Regular price", "Sale price"]).profile == "woocommerce"
    own = detect_columns(["sku", "name", "price", "stock"])
    assert own.profile == "own" and own.columns["stock"] == "stock"
    guessed = detect_columns(["Uniq Id", "Product Name", "Selling Price", "About Product"])
    assert guessed.columns == {"sku": "Uniq Id", "name": "Product Name", "price": "Selling Price",
                               "description": "About Product"}  # fmt: skip


def test_html_and_long_cells(tmp_path: Path) -> None:
    assert plain_text("<ul><li>One</li><li>Two &amp; three</li></ul><style>p{}</style>") == "- One\n- Two & three"
    assert plain_text("Fish &amp; chips") == "Fish & chips"
    long = "word " * 1000
    parsed = parse_file(_write(tmp_path, "long.csv", f'name,price,description\nLamp,5,"{long}"\n'))
    assert len(parsed.docs[0].metadata["description"]) <= 1502
    assert "description cut to 1,500 characters on 1 row: 2" in parsed.warnings


def test_preview_reads_the_first_products_with_the_mapping() -> None:
    preview = preview_catalogue("products_export.csv", SHOPIFY)
    assert preview.column_map is not None and preview.column_map.profile == "shopify"
    assert preview.rows[0] == {"name": "Summit 2-Person Tent", "sku": "TENT-G2",
                               "price": "$249.00 USD to $299.00 USD", "stock": "8", "category": "Tents",
                               "brand": "Northwind"}  # fmt: skip
    wrong = preview_catalogue("amazon.csv", MESSY, {"name": "Nope"})
    assert wrong.rows == [] and "no such column" in wrong.problem


def test_answers_state_ranges_and_unknowns() -> None:
    ranged = {"name": "Puzzle", "price": 22.5, "price_max": 49.88, "currency": "USD", "in_stock": True}
    assert describe_product(ranged, "en") == (
        "The Puzzle costs from $22.50 USD to $49.88 USD, depending on the option. It's in stock."
    )
    assert describe_product({"name": "Gizmo"}, "en") == "The price of the Gizmo is not available right now."
    assert describe_product({"name": "Belt", "price": 12.5, "currency": "EUR", "in_stock": False}, "es") == (
        "Belt cuesta €12.50 EUR. Por ahora está agotado."
    )


# -- through the knowledge base -------------------------------------------------------------------------


def _kb(store: Path) -> KnowledgeBase:
    return KnowledgeBase(Settings(store_dir=store, parse_isolation=False), embeddings=HashingEmbeddings())


def test_mapping_is_remembered_for_the_file_name_and_kept_by_reindex(tmp_path: Path) -> None:
    kb = _kb(tmp_path / "store")
    path = _write(tmp_path, "feed.csv", "Item,Cost,Maker\nLamp,$5,Acme\nDesk,$90,Acme\n")
    mapping = {"name": "Item", "price": "Cost", "brand": "Maker"}
    kb.ingest_file(path, columns=mapping)
    assert kb.column_map("feed.csv") == mapping
    path.write_text("Item,Cost,Maker\nLamp,$6,Acme\nDesk,$90,Acme\n", encoding="utf-8")
    kb.ingest_file(path)  # no mapping given: the remembered one applies
    prices = sorted(h.metadata["price"] for h in kb.store.get_chunks())
    assert prices == [6.0, 90.0]
    assert kb.reindex().ok
    assert sorted(h.metadata.get("brand") for h in kb.store.get_chunks()) == ["Acme", "Acme"]
    # A remembered mapping that no longer fits the file's columns gives way to detection.
    path.write_text("name,price\nStool,12\n", encoding="utf-8")
    kb.ingest_file(path)
    assert [h.metadata["name"] for h in kb.store.get_chunks()] == ["Stool"]


def test_a_reupload_with_one_percent_changed_re_embeds_one_percent(tmp_path: Path) -> None:
    kb = _kb(tmp_path / "store")
    rows = [f"SKU-{n},Product {n},Cat {n % 7},Brand {n % 5},{10 + n}.00,USD,{n % 9},3,Description {n}"
            for n in range(300)]  # fmt: skip
    header = "sku,name,category,brand,price,currency,stock,delivery_days,description"
    path = _write(tmp_path, "catalogue.csv", "\n".join([header, *rows]) + "\n")
    first = kb.ingest_file(path)
    assert first.embedded == 300
    for n in range(0, 300, 100):  # 3 of 300 rows change (1%)
        rows[n] = rows[n].replace(f"{10 + n}.00", f"{11 + n}.50")
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    second = kb.ingest_file(path)
    assert (second.status, second.embedded, second.removed) == ("replaced", 3, 3)


def test_cli_ingest_with_columns(tmp_path: Path) -> None:
    store = tmp_path / "cli-store"
    feed = _write(tmp_path, "feed.csv", "Item,Cost\nLamp,$5\nDesk,n/a\n")
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"name": "Item", "price": "Cost"}), encoding="utf-8")

    def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "cli.py", *map(str, args)], cwd=ROOT, env=child_env(),
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    done = cli("ingest", feed, "--columns", mapping, "--store", store)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "added feed.csv: 2 documents, 2 chunks\n"
    assert "warning: feed.csv: price unreadable (unknown) on 1 row: 3" in done.stderr
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"title": "Item"}), encoding="utf-8")
    refused = cli("ingest", feed, "--columns", bad, "--store", store)
    assert refused.returncode != 0 and "unknown field(s) title" in refused.stderr


def test_shop_currency_and_hidden_products_and_image_rows(tmp_path: Path) -> None:
    shopify = """Handle,Title,Vendor,Type,Status,Published,Option1 Name,Option1 Value,Variant SKU,\
Variant Inventory Qty,Variant Price,Image Src
tee,Logo Tee,Acme,Shirts,active,TRUE,Size,S,T-S,5,20.00,a.jpg
tee,,,,,,,M,T-M,3,22.00,b.jpg
tee,,,,,,,,,,,c.jpg
old,Old Tee,Acme,Shirts,archived,TRUE,Title,Default Title,O-1,1,9.00,
draft,Draft Tee,Acme,Shirts,draft,FALSE,Title,Default Title,D-1,1,9.00,
"""
    path = _write(tmp_path, "products_export.csv", shopify)
    parsed = parse_file(path, ParseLimits(currency="GBP"))
    assert [d.metadata["name"] for d in parsed.docs] == ["Logo Tee"]  # archived and draft are not offered
    tee = parsed.docs[0].metadata
    assert (tee["stock"], tee["price"], tee["price_max"], tee["currency"]) == (8, 20.0, 22.0, "GBP")  # image row
    assert "not published, or a draft or archived (skipped) on 2 rows: 5, 6" in parsed.warnings
    assert "price missing" not in " ".join(parsed.warnings)


def test_woocommerce_parent_by_id_is_not_shadowed_by_a_numeric_sku(tmp_path: Path) -> None:
    woo = """ID,Type,SKU,Name,Published,In stock?,Stock,Regular price,Parent,Visibility in catalog
11,variable,JKT,Jacket,1,1,,,,visible
12,simple,11,Hoodie,1,1,4,40,,visible
13,variation,JKT-R,Jacket - Red,1,1,2,90,id:11,visible
14,simple,HID,Hidden,1,1,1,5,,hidden
"""
    docs = load_file(_write(tmp_path, "wc.csv", woo))
    jacket, hoodie = (d.metadata for d in docs)
    assert (jacket["name"], jacket["price"], jacket["stock"]) == ("Jacket", 90.0, 2)  # the parent's empty stock
    assert (hoodie["name"], hoodie["price"]) == ("Hoodie", 40.0)


def test_same_names_are_kept_apart_and_both_prices_are_given(tmp_path: Path) -> None:
    from base.types import Hit
    from chains.extractive import Contact, ExtractiveAnswerer
    from chains.gate import DeclineGate

    text = "name,price\nAir Hockey Table,$67.95\nAir hockey table,$69.95\nAir Hockey - Table,$67.95\n"
    parsed = parse_file(_write(tmp_path, "dupes.csv", text))
    ids = [d.metadata["doc_id"] for d in parsed.docs]
    assert len(set(ids)) == 3  # no SKU, one name: three products, three ids (the store refuses repeated ids)
    # one name to the desk and the answer (base/text.py name_key), so one to the warning: case and punctuation aside
    assert "same name as row 2 with another price (both kept) on 1 row: 3" in parsed.warnings
    hits = [Hit(str(n), d.page_content, "dupes.csv", 0.9, d.metadata) for n, d in enumerate(parsed.docs[:2])]
    answerer = ExtractiveAnswerer(Contact("a@b.example", "1", "always"), DeclineGate(lambda: {"en": 0.1}))
    answer = answerer.answer(hits, "en")
    assert answer.text == ("The Air Hockey Table costs $67.95 USD. [1] Another listing with the same name costs "
                           "$69.95 USD [2].")  # fmt: skip
    assert len(answer.used) == 2
    kb = KnowledgeBase(Settings(store_dir=tmp_path / "s", parse_isolation=False), embeddings=HashingEmbeddings())
    assert kb.ingest_file(_write(tmp_path, "dupes.csv", text)).documents == 3


# WooCommerce's sale schedule ("Date sale price starts/ends", as its exporter writes them); read on 2 Dec 2026.
WOO_SALES = """ID,Type,SKU,Name,Published,Description,Regular price,Sale price,Date sale price starts,\
Date sale price ends,Categories
1,simple,JKT,Rain Jacket,1,Waterproof,45,39.99,2026-11-01,2026-12-31,Clothing
2,simple,VST,Fleece Vest,1,Warm,60,50,2026-10-01 00:00:00,2026-11-30 23:59:59,Clothing
3,simple,GLV,Ski Gloves,1,Warm,35,30,2026-12-10,2026-12-20,Clothing
4,simple,HAT,Wool Hat,1,Warm,25,20,31/12/2026,,Clothing
5,simple,SCF,Scarf,1,Soft,18,15,,,Clothing
6,simple,SOC,Socks,1,Wool,12,10,2026-11-15T00:00:00,,Clothing
"""
SALES_DAY = dt.date(2026, 12, 2)


def test_woocommerce_sale_dates_decide_which_price_applies_and_for_how_long(tmp_path: Path) -> None:
    path = _write(tmp_path, "wc-product-export.csv", WOO_SALES)
    loader = CatalogueLoader(path, WOO_SALES, today=SALES_DAY)
    jacket, vest, gloves, hat, scarf, socks = (d.metadata for d in loader.load())
    # On sale until the 31st; the regular price from the 1st (the end day is inclusive, as in WooCommerce).
    assert (jacket["price"], jacket["regular_price"], jacket["price_until"], jacket["price_then"]) == (
        39.99, 45.0, "2026-12-31", 45.0)  # fmt: skip
    assert "price_then_until" not in jacket
    assert vest["price"] == 60.0 and "price_until" not in vest  # the sale ended: the regular price, nothing dated
    # A sale that starts on the 10th: the regular price until the 9th, the sale price until the 20th.
    assert (gloves["price"], gloves["price_until"], gloves["price_then"], gloves["price_then_until"]) == (
        35.0, "2026-12-09", 30.0, "2026-12-20")  # fmt: skip
    assert "price" not in hat  # a date it cannot read: whether the sale applies is unknown, so the price is
    assert scarf["price"] == 15.0 and "price_until" not in scarf  # a sale price without dates applies
    assert socks["price"] == 10.0 and "price_until" not in socks  # started, open-ended
    assert loader.warnings == [
        "6 products (woocommerce columns)",
        "sale ended (regular price used) on 1 row: 3",
        "sale not started yet (regular price until it starts) on 1 row: 4",
        "sale dates unreadable (price unknown) on 1 row: 5",
    ]
    assert "Price: $39.99 USD until 2026-12-31, then $45.00 USD" in loader.load()[0].page_content


def test_a_dated_price_is_read_by_the_day_of_the_question(tmp_path: Path) -> None:
    path = _write(tmp_path, "wc-product-export.csv", WOO_SALES)
    jacket, _, gloves, *_ = (d.metadata for d in CatalogueLoader(path, WOO_SALES, today=SALES_DAY).load())
    on = lambda meta, *day: ProductFacts.of(meta, dt.date(*day))  # noqa: E731
    assert (on(jacket, 2026, 12, 31).price, on(jacket, 2026, 12, 31).until) == (39.99, dt.date(2026, 12, 31))
    assert (on(jacket, 2027, 1, 1).price, on(jacket, 2027, 1, 1).until) == (45.0, None)  # the sale is over
    assert (on(gloves, 2026, 12, 9).price, on(gloves, 2026, 12, 9).then) == (35.0, 30.0)
    assert (on(gloves, 2026, 12, 15).price, on(gloves, 2026, 12, 15).until) == (30.0, dt.date(2026, 12, 20))
    assert on(gloves, 2026, 12, 21).price is None  # past what the export said: unknown, never a guess
    # The answer states the date; years ahead, so this test does not depend on the day it runs.
    future = {**jacket, "price_until": "2099-12-31", "price_then": 45.0}
    assert describe_product(future, "en").startswith(
        "The Rain Jacket costs $39.99 USD. This price holds until 31 Dec 2099; from 1 Jan 2100 it is $45.00 USD."
    )
    assert "Este precio es válido hasta el 31/12/2099; desde el 1/1/2100, $45.00 USD." in describe_product(future, "es")
    ended = {**jacket, "price_until": "2001-01-31", "price_then": 45.0}
    assert describe_product(ended, "en").startswith("The Rain Jacket costs $45.00 USD.")
    assert "39.99" not in describe_product(ended, "en")


def test_a_chat_model_reads_the_price_that_applies_today(tmp_path: Path) -> None:
    from base.types import Hit
    from chains.llm import format_context

    path = _write(tmp_path, "wc-product-export.csv", WOO_SALES)
    doc = CatalogueLoader(path, WOO_SALES, today=SALES_DAY).load()[0]
    assert "Price: $39.99 USD until 2026-12-31, then $45.00 USD" in doc.page_content  # as written on import day

    def passage(**dates: str) -> str:
        meta = {**doc.metadata, **dates}
        return format_context([Hit(meta["doc_id"], doc.page_content, "shop.csv", 1.0, meta)])

    ended = passage(price_until="2001-01-31")  # the sale is over: the model never sees its price
    assert "Price: $45.00 USD\n" in ended and "39.99" not in ended
    assert "Price: $39.99 USD until 2099-12-31, then $45.00 USD\n" in passage(price_until="2099-12-31")
    over = passage(price_until="2001-01-31", price_then_until="2001-02-28")  # past what the export said
    assert "Price: unknown\n" in over and "$" not in over.split("Price:")[1].splitlines()[0]
