"""Product questions that need filters: reading them (rules + the catalogue's vocabulary), applying them over a
real Chroma store, "none match" with alternatives, follow-ups, and the assistant routing them."""

from __future__ import annotations

from pathlib import Path

import pytest

from base.settings import Settings
from chains.product_query import Vocabulary, parse_product_query
from providers.embeddings import HashingEmbeddings
from services.assistant import Assistant
from services.catalogue import CatalogueCache
from services.knowledge import KnowledgeBase
from services.named_products import NamedProducts
from services.products import ProductDesk

# An outdoor shop's Shopify export (not the demo store): variants, a price range, unknown stock and price.
OUTDOOR = """Handle,Title,Body (HTML),Vendor,Type,Tags,Option1 Name,Option1 Value,Variant SKU,Variant Inventory Qty,\
Variant Price
summit-tent,Summit 2-Person Tent,<p>Light tent.</p>,Northwind,Tents,,Color,Green,T-1,4,249.00
summit-tent,,,,,,,Blue,T-2,0,259.00
ridge-tent,Ridgeback 4-Person Tent,<p>Family tent.</p>,Ridgeback,Tents,,Title,Default Title,T-3,0,329.00
trail-tent,Trail 1-Person Tent,<p>Solo tent.</p>,Northwind,Tents,,Title,Default Title,T-4,9,189.00
day-pack,Daypack 20L Backpack,<p>Blue daypack.</p>,Northwind,Backpacks,,Color,Blue,B-1,12,49.00
trek-pack,Trekker 60L Backpack,<p>Trekking pack.</p>,Ridgeback,Backpacks,,Title,Default Title,B-2,3,179.00
kid-pack,Kids Backpack,<p>Small pack.</p>,Puddle,Backpacks,,Title,Default Title,B-3,,
run-shoe,Trail Running Shoes,<p>Grippy.</p>,Stride,Footwear,,Title,Default Title,S-1,5,129.00
road-shoe,Road Running Shoes,<p>Light.</p>,Northwind,Footwear,,Title,Default Title,S-2,0,99.00
mug,Enamel Mug,<p>Camp mug.</p>,Northwind,Kitchen,,Title,Default Title,M-1,40,12.00
lantern,LED Lantern,<p>Bright.</p>,Northwind,Lighting,,Title,Default Title,L-1,7,35.00
"""


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> ProductDesk:
    root = tmp_path_factory.mktemp("outdoor")
    path = root / "products_export.csv"
    path.write_text(OUTDOOR, encoding="utf-8")
    kb = KnowledgeBase(Settings(store_dir=root / "store", parse_isolation=False), embeddings=HashingEmbeddings())
    assert kb.ingest_paths([path]).ok
    return ProductDesk(kb)


def _names(answer) -> list[str]:
    return [h.metadata["name"] for h in answer.used]


def test_reading_filters_uses_the_catalogue_vocabulary() -> None:
    vocab = Vocabulary([{"name": "Summit Tent", "brand": "Northwind Gear", "category": "Tents"},
                        {"name": "Daypack Backpack", "brand": "Ridgeback", "category": "Backpacks"}])  # fmt: skip
    q = parse_product_query("tents under $300 that are in stock", vocab)
    assert (q.terms, q.max_price, q.in_stock) == (["tents"], 300.0, True)
    q = parse_product_query("anything from Northwind under $50?", vocab)
    assert (q.brand, q.max_price, q.terms) == ("Northwind Gear", 50.0, [])
    q = parse_product_query("backpacks between $40 and $1,200", vocab)
    assert (q.min_price, q.max_price) == (40.0, 1200.0)
    assert parse_product_query("what's the cheapest backpack?", vocab).sort == "price_asc"
    # A Spanish question in a shop that writes its names in English: the kind word through the glossary
    # (base/translate.py); a word the glossary lacks, or that names nothing the shop sells, leaves it to retrieval.
    q = parse_product_query("¿cuál es la mochila más barata?", vocab)
    assert (q.terms, q.sort) == (["backpack"], "price_asc")
    assert parse_product_query("¿cuál es la cantimplora más barata?", vocab) is None
    # A policy question in the glossary's English is left to retrieval, as in English ("Return" names a product).
    stamps = Vocabulary([{"name": "Custom Return Address Stamp", "category": "Office"},
                         {"name": "Daypack Backpack", "brand": "Ridgeback", "category": "Backpacks"}])  # fmt: skip
    assert parse_product_query("¿cuál es la mochila más barata?", stamps) is not None
    assert parse_product_query("ahora esta mas barato, me devuelven la diferencia?", stamps) is None
    # No structure, or no product word of this shop: similarity search answers.
    for plain in ("how much is the Summit tent?", "do you ship orders under $50 for free?", "hello"):
        assert parse_product_query(plain, vocab) is None, plain


def test_cheapest_and_price_bound_and_stock(desk: ProductDesk) -> None:
    cheapest = desk.reply("a", "What's the cheapest tent?", "en")
    assert _names(cheapest)[0] == "Trail 1-Person Tent" and cheapest.text.startswith("The cheapest is the Trail")
    assert "$189.00 USD, in stock (9 available) [1]" in cheapest.text
    bounded = desk.reply("b", "tents under $300 that are in stock", "en")
    assert _names(bounded) == ["Trail 1-Person Tent", "Summit 2-Person Tent"]
    assert "$249.00 USD to $259.00 USD" in bounded.text  # the variants' range, stated as a range
    assert all(h.text.startswith("Product: ") for h in bounded.used)  # the sources show the products' text


def test_brands_compare_and_brand_only(desk: ProductDesk) -> None:
    brands = desk.reply("c", "which brands of running shoes do you have?", "en")
    assert brands.text.splitlines()[0] == "We have running shoes from 2 brands:"
    assert {h.metadata["brand"] for h in brands.used} == {"Stride", "Northwind"}
    compared = desk.reply("d", "compare the Ridgeback tent and the Summit tent", "en")
    assert _names(compared) == ["Ridgeback 4-Person Tent", "Summit 2-Person Tent"]
    assert "out of stock" in compared.text.splitlines()[1]
    cheap = desk.reply("e", "anything from Northwind under $50?", "en")
    assert _names(cheap) == ["Enamel Mug", "LED Lantern", "Daypack 20L Backpack"]


def test_none_match_says_so_with_the_closest_alternatives(desk: ProductDesk) -> None:
    none = desk.reply("f", "tents under $100", "en")
    assert none.text.splitlines()[0] == "We have no tents under $100.00 USD."
    assert _names(none) == ["Trail 1-Person Tent", "Summit 2-Person Tent", "Ridgeback 4-Person Tent"]
    # An unknown price never passes a price filter and is never called cheap.
    kids = desk.reply("g", "backpacks under $60", "en")
    assert _names(kids) == ["Daypack 20L Backpack"]
    listed = desk.reply("h", "what's the cheapest backpack?", "en")
    assert listed.text.splitlines()[-1].startswith("3. Kids Backpack (Puddle): price not available")


def test_follow_ups_keep_the_filters(desk: ProductDesk) -> None:
    first = desk.reply("s", "backpacks under $200", "en")
    assert _names(first) == ["Daypack 20L Backpack", "Trekker 60L Backpack"]
    blue = desk.reply("s", "and in blue?", "en")
    assert _names(blue) == ["Daypack 20L Backpack"]
    cheaper = desk.reply("s", "any cheaper?", "en")
    assert cheaper.text.startswith("We have no backpacks with blue under $48.99 USD.")
    other = desk.reply("t", "any cheaper?", "en")
    assert other is None  # nothing to narrow in a new conversation


def test_questions_about_one_product_go_to_retrieval(desk: ProductDesk) -> None:
    assert desk.reply("u", "Is the Summit tent in stock?", "en") is None
    assert desk.reply("u", "how much is the enamel mug?", "en") is None


def test_the_assistant_answers_with_cited_products_and_logs_the_sources(desk: ProductDesk) -> None:
    settings = Settings(store_dir=desk.kb.store_dir, parse_isolation=False, chat_provider="extractive")
    assistant = Assistant(settings, desk.kb)
    answer = assistant.ask("cheapest tent in stock?", "z")
    assert answer.model == "catalogue" and not answer.declined
    assert answer.sources[0].metadata["name"] == "Trail 1-Person Tent"
    assert assistant.ask("what about under $200?", "z").answer.startswith("Here are our tents under $200.00 USD")
    off = Assistant(settings.model_copy(update={"product_filters": False}), desk.kb)
    assert off.products is None and off.ask("cheapest tent in stock?", "y").model != "catalogue"


def test_demo_store_questions(tmp_path: Path) -> None:
    from helpers import DATA

    kb = KnowledgeBase(Settings(store_dir=tmp_path / "s", parse_isolation=False), embeddings=HashingEmbeddings())
    assert kb.ingest_paths([DATA / "products.csv"]).ok
    desk = ProductDesk(kb)
    harbor = desk.reply("a", "anything from Harbor & Pine under $15?", "en")
    assert harbor.text.startswith("Here are our products from Harbor & Pine Essentials under $15.00 USD")
    assert all(h.metadata["brand"] == "Harbor & Pine Essentials" and h.metadata["price"] <= 15 for h in harbor.used)


def test_policy_questions_sizes_and_times_are_not_price_filters() -> None:
    vocab = Vocabulary([{"name": "Summit Tent", "brand": "Northwind", "category": "Tents"},
                        {"name": "Shipping Protection", "brand": "Shop", "category": "Services"},
                        {"name": "Trail Backpack", "brand": "Ridgeback", "category": "Backpacks"}])  # fmt: skip
    for question in ("Can I return a tent within 30 days?", "Is shipping free on orders over $50?",
                     "2-3 person tent", "backpacks under 30 liters", "refund on a tent over $25?"):  # fmt: skip
        assert parse_product_query(question, vocab) is None, question
    assert parse_product_query("tents menos de 49,99 €", vocab).max_price == 49.99
    last = parse_product_query("tents under $300", vocab)
    assert parse_product_query("and what about returns?", vocab, last) is None


def test_kinds_match_any_case_and_plural(tmp_path: Path) -> None:
    csv_text = ("sku,name,category,brand,price,stock\nB1,AA Batteries (8 pack),Power,Volta,9.99,4\n"
                "T1,Logo T-Shirt,Apparel,Acme,19.00,2\nP1,iPhone Case,Phone,Casey,15.00,1\n"
                "P2,Desk Lamp,Home,Lumo,30.00,1\n")  # fmt: skip
    path = tmp_path / "c.csv"
    path.write_text(csv_text, encoding="utf-8")
    kb = KnowledgeBase(Settings(store_dir=tmp_path / "s", parse_isolation=False), embeddings=HashingEmbeddings())
    assert kb.ingest_paths([path]).ok
    desk = ProductDesk(kb)
    assert _names(desk.reply("a", "batteries under $20", "en")) == ["AA Batteries (8 pack)"]
    assert _names(desk.reply("b", "t-shirts under $30", "en")) == ["Logo T-Shirt"]
    assert _names(desk.reply("c", "cheapest iphone case", "en")) == ["iPhone Case"]


def test_a_named_product_with_a_cue_word_in_its_name_goes_to_retrieval(desk: ProductDesk) -> None:
    assert desk.reply("v", "How much is the Daypack 20L Backpack, available in blue?", "en") is None
    assert desk.reply("v", "how much are tents under $300?", "en") is not None  # a bound: a list


def test_model_numbers_in_a_name_are_no_price_range() -> None:
    vocab = Vocabulary([{"name": "Perler Instruction Pad", "brand": "Perler", "category": "Crafts"},
                        {"name": "Division Flash Cards", "brand": "Trend", "category": "Learning"},
                        {"name": "Summit Tent", "brand": "Northwind", "category": "Tents"}])  # fmt: skip
    assert parse_product_query("tents 40-60", vocab) is None
    assert parse_product_query("cheapest flash cards 0-12", vocab).min_price is None
    assert (parse_product_query("tents $40-$60", vocab).min_price, parse_product_query("tents 40-60 dollars", vocab)
            .max_price) == (40.0, 60.0)  # fmt: skip


def test_how_much_is_a_named_product_with_digits_goes_to_retrieval(desk: ProductDesk) -> None:
    assert desk.reply("w", "How much is the Trail 1-Person Tent over 1000 feet?", "en") is None
    assert desk.reply("w", "How much is the Summit 2-Person Tent, under 2 kg?", "en") is None


# A marketplace export: several listings under one name, and names that differ by a word or two.
MARKETPLACE = """name,brand,price,description
La Briza Ashley Boots,La Briza,"2,299",Ankle boots.
Salt N Pepper Marsha Red Boots,Salt N Pepper,"2,771",Red boots.
Alisha Solid Women's Cycling Shorts,Alisha,379,Pack of 3.
Alisha Solid Women's Cycling Shorts,Alisha,267,Pack of 2.
Alisha Solid Women's  Cycling Shorts,Alisha,479,Pack of 4.
Alisha Solid Women's Cycling Shorts,Alisha,379,Pack of 3 again.
Alisha Solid Women's Cycling Shorts,Alisha,210,Pack of 1.
"""


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> NamedProducts:
    root = tmp_path_factory.mktemp("market")
    path = root / "marketplace.csv"
    path.write_text(MARKETPLACE, encoding="utf-8")
    settings = Settings(store_dir=root / "store", parse_isolation=False, store_currency="INR")
    kb = KnowledgeBase(settings, embeddings=HashingEmbeddings())
    assert kb.ingest_paths([path]).ok
    return NamedProducts(CatalogueCache(kb))


def _product(named: NamedProducts, name: str, score: float):
    from dataclasses import replace

    row = next(h for h in named.cache.get().rows.values() if h.metadata["name"] == name)
    return replace(named.cache.cited([row])[0], score=score)


def test_a_product_named_in_full_comes_before_a_similar_one(market: NamedProducts) -> None:
    other = _product(market, "Salt N Pepper Marsha Red Boots", 0.8)
    question = "How much is the la briza ashley boots?"
    settled = market.settle(question, [other])
    assert settled[0].metadata["name"] == "La Briza Ashley Boots" and settled[0].score == 0.8
    assert settled[1] is other
    assert market.settle("do you have red boots?", [other]) == [other]  # no name in full: retrieval's order
    assert market.named_listings("price of Briza Ashley?") == []  # part of a name is not the name


def test_policy_hits_are_left_alone(market: NamedProducts) -> None:
    from base.types import Hit

    faq = Hit("f1", "Returns within 30 days.", "faq.md", 0.7, {"type": "faq", "question": "Returns?"})
    assert market.settle("can I return the La Briza Ashley Boots?", [faq]) == [faq]


def test_every_price_of_a_shared_name_is_given_and_cited(market: NamedProducts) -> None:
    settings = Settings(store_dir=market.cache.kb.store_dir, parse_isolation=False, chat_provider="extractive",
                        store_currency="INR")  # fmt: skip
    answer = Assistant(settings, market.cache.kb).ask("How much is the Alisha Solid Women's Cycling Shorts?", "s")
    prices = ["₹210.00", "₹267.00", "₹379.00", "₹479.00"]
    assert all(p in answer.answer for p in prices), answer.answer
    assert "Other listings with the same name cost" in answer.answer
    assert len(answer.sources) == 4  # one per distinct price (the repeated ₹379 is not cited twice)
    assert {s.metadata["name"] for s in answer.sources} == {"Alisha Solid Women's Cycling Shorts"}


def test_many_prices_under_one_name_are_given_as_a_cited_range(tmp_path: Path) -> None:
    rows = "".join(f"Comfort Bra,{100 + 10 * n}\n" for n in range(8))
    path = tmp_path / "bras.csv"
    path.write_text("name,price\n" + rows, encoding="utf-8")
    settings = Settings(store_dir=tmp_path / "s", parse_isolation=False, chat_provider="extractive")
    kb = KnowledgeBase(settings, embeddings=HashingEmbeddings())
    assert kb.ingest_paths([path]).ok
    answer = Assistant(settings, kb).ask("How much is the Comfort Bra?", "r")
    assert "Listings with this name cost from $100.00 USD [2] to $170.00 USD [3]." in answer.answer
    assert [s.metadata["price"] for s in answer.sources][1:] == [100.0, 170.0]


def test_settling_adds_one_listing_per_price_and_keeps_the_extremes(tmp_path: Path) -> None:
    from services import named_products

    rows = "".join(f"Comfort Bra,{100 + n}\n" for n in range(30)) + "Comfort Bra,100\n" * 5
    path = tmp_path / "bras.csv"
    path.write_text("name,price\n" + rows, encoding="utf-8")
    kb = KnowledgeBase(Settings(store_dir=tmp_path / "s", parse_isolation=False), embeddings=HashingEmbeddings())
    assert kb.ingest_paths([path]).ok
    hits = NamedProducts(CatalogueCache(kb)).settle(
        "How much is the Comfort Bra?", kb.search("How much is the Comfort Bra?", 4)
    )
    prices = [h.metadata["price"] for h in hits if h.metadata.get("name") == "Comfort Bra"]
    assert len(prices) == len(set(prices)) == named_products.MAX_TWIN_PRICES + 1  # the top one, then one per price
    assert {100.0, 129.0} <= set(prices)


def test_the_answer_and_the_desk_agree_on_which_listings_share_a_name() -> None:
    """Names differing only in case, spacing or punctuation are one name to the desk (`settle` adds them) and to
    the offline answer (which gives their prices)."""
    from base.types import Hit
    from chains.extractive import Contact, ExtractiveAnswerer
    from chains.gate import DeclineGate

    def product(i: str, name: str, price: float) -> Hit:
        meta = {"type": "product", "doc_id": f"product:{i}", "name": name, "price": price, "currency": "USD"}
        return Hit(i, name, "c.csv", 0.9, meta)

    hits = [product("a", "Analog Watch - For Men, Boys", 10.0), product("b", "analog watch, for men boys", 12.0)]
    answerer = ExtractiveAnswerer(Contact("a@b.example", "1", "always"), DeclineGate(lambda: {"en": 0.1}))
    answer = answerer.answer(hits, "en")
    assert "Another listing with the same name costs $12.00 USD [2]." in answer.text

    # A twin priced as a range says it in the answer's language ("a", not "to", in a Spanish sentence).
    hits[1].metadata["price_max"] = 15.0
    answer = answerer.answer(hits, "es")
    assert "Otro artículo con el mismo nombre cuesta $12.00 USD a $15.00 USD [2]." in answer.text
    assert " to " not in answer.text


WOO_JACKETS = """ID,Type,SKU,Name,Published,Description,Regular price,Sale price,Date sale price ends,Categories,Stock
1,simple,J-1,Rain Jacket,1,Waterproof,45,39.99,2099-12-31,Jackets,5
2,simple,J-2,Fleece Jacket,1,Warm,42,,,Jackets,5
"""


def test_the_desk_reads_a_sale_price_only_while_the_sale_lasts(tmp_path: Path, monkeypatch) -> None:
    import datetime
    import types

    import base.types
    import services.catalogue

    path = tmp_path / "wc-product-export.csv"
    path.write_text(WOO_JACKETS, encoding="utf-8")
    kb = KnowledgeBase(Settings(store_dir=tmp_path / "store", parse_isolation=False), embeddings=HashingEmbeddings())
    assert kb.ingest_paths([path]).ok
    desk = ProductDesk(kb)

    class Day(datetime.date):
        current = datetime.date(2099, 12, 31)

        @classmethod
        def today(cls) -> datetime.date:
            return cls.current

    clock = types.SimpleNamespace(date=Day, timedelta=datetime.timedelta)
    monkeypatch.setattr(services.catalogue, "datetime", clock)
    monkeypatch.setattr(base.types, "datetime", clock)
    last_day = desk.reply("a", "what's the cheapest jacket?", "en")
    assert _names(last_day)[0] == "Rain Jacket" and "$39.99 USD (until 31 Dec 2099)" in last_day.text
    Day.current = datetime.date(2100, 1, 1)  # the same desk, the next morning: the sale is over
    next_day = desk.reply("b", "what's the cheapest jacket?", "en")
    assert _names(next_day) == ["Fleece Jacket", "Rain Jacket"] and "39.99" not in next_day.text
    assert "$45.00 USD" in next_day.text


def test_spanish_questions_filter_an_english_catalogue_and_are_answered_in_spanish(desk: ProductDesk) -> None:
    cheapest = desk.reply("es-1", "¿cuál es la mochila más barata?", "es")
    assert _names(cheapest)[0] == "Daypack 20L Backpack" and "del más barato al más caro" in cheapest.text
    tents = desk.reply("es-2", "tiendas de campaña por menos de 300 dólares que estén disponibles", "es")
    assert _names(tents) == ["Trail 1-Person Tent", "Summit 2-Person Tent"]
    assert "(tents por menos de $300.00 USD disponibles)" in tents.text and "$249.00 USD a $259.00 USD" in tents.text
    cheaper = desk.reply("es-2", "¿y más baratas?", "es")  # a follow-up: "cheaper", as in English
    desk.reply("en-2", "tents under $300 that are in stock", "en")
    assert _names(cheaper) == _names(desk.reply("en-2", "any cheaper?", "en")) and "baratas" not in cheaper.text
