"""The Knowledge page's catalogue check: detected mapping, 5-product preview, a corrected mapping that is used
and remembered for the file's name."""

from __future__ import annotations

from test_admin_pages import _admin_env, _app, _kb, _messages, _sign_in  # noqa: F401 (the autouse fixture)

FEED = b"Item,Price,Maker,Notes\nLamp,$5,Acme,n/a\nDesk,$90,Acme,n/a\nStool,,Acme,n/a\n"


def test_catalogue_upload_shows_mapping_and_preview_and_remembers_a_correction() -> None:
    at = _sign_in(_app())
    at.file_uploader[0].set_value([("feed.csv", FEED, "text/csv")])
    at.run()
    assert not at.exception, at.exception
    assert [e.label for e in at.expander if "feed.csv" in e.label] == ["Columns of feed.csv (columns guessed)"]
    preview = at.dataframe[0].value
    assert list(preview["name"]) == ["Lamp", "Desk", "Stool"]
    assert list(preview["price"]) == ["$5.00 USD", "$90.00 USD", "unknown"]
    assert "brand" not in preview or set(preview["brand"]) == {""}  # "Maker" is not a known brand column name
    at.selectbox(key="map-0-feed.csv-brand").set_value("Maker").run()
    assert list(at.dataframe[0].value["brand"]) == ["Acme", "Acme", "Acme"]
    next(b for b in at.button if b.label == "Add to knowledge base").click().run()
    assert not at.exception, at.exception
    assert "feed.csv** added: 3 chunks" in _messages(at)
    assert "price missing (unknown) on 1 row: 4" in _messages(at)
    kb = _kb()
    assert kb.column_map("feed.csv") == {"name": "Item", "price": "Price", "brand": "Maker"}
    assert sorted(h.metadata["brand"] for h in kb.store.get_chunks()) == ["Acme", "Acme", "Acme"]
