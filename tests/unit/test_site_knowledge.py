"""A help-centre site as knowledge (services/crawl.py): crawl -> one source per page with its URL; a re-crawl
replaces changed pages, removes gone ones and keeps the rest; `cli.py ingest-url`; the admin *Add website* form."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

import bcrypt
import pytest
from child_env import child_env
from helpcentre_site import GUIDE_PATHS, HTML, SITEMAP_PATHS, HelpCentre, Route, add_guide, html_page
from streamlit.testing.v1 import AppTest

from base.paths import ROOT
from base.settings import Settings, get_settings
from providers.embeddings import HashingEmbeddings
from services.crawl import ingest_site, load_sites, source_urls
from services.knowledge import SITES_FILE, KnowledgeBase


@pytest.fixture
def site() -> Iterator[HelpCentre]:
    with HelpCentre().running() as running:
        yield running


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The store's settings let the crawler reach the local site on 127.0.0.1 (`ingest_site` reads them)."""
    return settings.model_copy(update={"crawl_allow_private": True})


def name(site: HelpCentre, path: str) -> str:
    """The source name a page of the local site is stored under."""
    return f"127.0.0.1_{urlsplit(site.base).port}_{path.strip('/').replace('/', '_')}.md"


def statuses(report) -> dict[str, str]:
    return {urlsplit(p.url).path: p.status for p in report.pages}


NEW_SHIPPING = html_page(
    "Shipping and delivery",
    [
        "From March, standard delivery takes 2 to 4 business days and is free on every order over $40.",
        "Express delivery still arrives the next business day when you order before 2 pm, now for $9.95.",
    ],
)


def test_crawl_stores_pages_with_their_url_and_a_recrawl_replaces_removes_and_keeps(site: HelpCentre, kb) -> None:
    first = ingest_site(kb, site.url("/"), delay=0)

    assert first.ok and first.error is None
    assert statuses(first) == dict.fromkeys(["/returns", "/shipping", "/gift-cards", "/es/devoluciones"], "added")
    pages = ["/returns", "/shipping", "/gift-cards", "/es/devoluciones"]
    assert {s.source for s in kb.list_sources()} == {name(site, p) for p in pages}
    urls = {name(site, p): site.url(p) for p in pages}
    for chunk in kb.store.get_chunks():
        assert chunk.metadata["url"] == urls[chunk.source]
        assert chunk.metadata["title"] and "url:" not in chunk.text
    assert {urlsplit(s.url).path: s.reason for s in first.skipped}["/private/staff-notes"] == "disallowed by robots.txt"
    top = kb.search("¿En cuántos días me devuelven el dinero de una devolución?", 1)[0]
    assert top.source == name(site, "/es/devoluciones") and top.metadata["url"] == site.url("/es/devoluciones")
    assert source_urls(kb.store_dir)[name(site, "/returns")] == site.url("/returns")

    # On the site: shipping rewritten, gift cards deleted (404), returns no longer listed anywhere, the Spanish
    # page briefly failing (503). The sitemap no longer lists returns or the redirect to it.
    site.set("/shipping", NEW_SHIPPING)
    site.remove("/gift-cards")
    site.set("/es/devoluciones", Route(503, {"Content-Type": HTML}, b"busy"))
    site.set_sitemap([p for p in SITEMAP_PATHS if p not in ("/returns", "/old-returns")])
    before = {s.source: s.sha256 for s in kb.list_sources()}

    second = ingest_site(kb, site.url("/"), delay=0)

    assert statuses(second) == {
        "/shipping": "replaced",
        "/gift-cards": "removed",
        "/returns": "removed",
        "/es/devoluciones": "kept",
    }
    details = {urlsplit(p.url).path: p.detail for p in second.pages}
    assert "404" in details["/gift-cards"] and details["/returns"] == "no longer found on the site"
    assert "503" in details["/es/devoluciones"]
    after = {s.source: s.sha256 for s in kb.list_sources()}
    assert set(after) == {name(site, "/shipping"), name(site, "/es/devoluciones")}
    assert after[name(site, "/es/devoluciones")] == before[name(site, "/es/devoluciones")]
    shipping = " ".join(h.text for h in kb.store.get_chunks() if h.source == name(site, "/shipping"))
    assert "$9.95" in shipping and "$12.95" not in shipping
    record = load_sites(kb.store_dir)[site.url("/")]["pages"]
    assert record == {
        site.url("/shipping"): name(site, "/shipping"),
        site.url("/es/devoluciones"): name(site, "/es/devoluciones"),
    }

    # Nothing changed on the site since: everything stored is unchanged and costs no embedding.
    site.set("/es/devoluciones", HelpCentre().routes["/es/devoluciones"])
    third = ingest_site(kb, site.url("/"), delay=0)
    assert statuses(third) == {"/shipping": "unchanged", "/es/devoluciones": "unchanged"}


def test_a_failed_crawl_or_one_that_stores_nothing_removes_nothing(site: HelpCentre, kb) -> None:
    assert ingest_site(kb, site.url("/"), delay=0).ok
    before = {s.source: s.sha256 for s in kb.list_sources()}
    record = (kb.store_dir / SITES_FILE).read_text()

    site.set("/", Route(500, {"Content-Type": HTML}, b"down"))
    failed = ingest_site(kb, site.url("/"), delay=0)
    assert not failed.ok and "start page" in (failed.error or "") and failed.pages == []
    assert {s.source: s.sha256 for s in kb.list_sources()} == before
    assert (kb.store_dir / SITES_FILE).read_text() == record

    # The start page is back but every other page is gone from the sitemap and too short: nothing is stored, so
    # nothing earlier is removed either (a site in maintenance must not empty the store).
    site.set("/", HelpCentre().routes["/"])
    site.set_sitemap(["/"])
    for path in ("/returns", "/shipping", "/gift-cards", "/es/devoluciones"):
        site.set(path, html_page("Moved", ["Soon."]))
    empty = ingest_site(kb, site.url("/"), delay=0)
    assert not empty.ok and empty.stored == 0
    assert {s.source: s.sha256 for s in kb.list_sources()} == before
    assert any("nothing" in note or "no page" in note for note in empty.notes)


def test_refusals_that_may_pass_keep_the_earlier_pages(site: HelpCentre, kb) -> None:
    assert ingest_site(kb, site.url("/"), delay=0).ok
    before = {s.source: s.sha256 for s in kb.list_sources()}

    # A firewall rate-limiting the bot (401, 403), a busy server (429): nothing says these pages are gone.
    site.set("/returns", Route(403, {"Content-Type": HTML}, b"Forbidden"))
    site.set("/shipping", Route(401, {"Content-Type": HTML}, b"Unauthorized"))
    site.set("/gift-cards", Route(429, {"Content-Type": HTML, "Retry-After": "60"}, b"Slow down"))
    again = ingest_site(kb, site.url("/"), delay=0)

    assert statuses(again) == {
        "/es/devoluciones": "unchanged",
        "/returns": "kept",
        "/shipping": "kept",
        "/gift-cards": "kept",
    }
    assert {s.source: s.sha256 for s in kb.list_sources()} == before
    assert len(load_sites(kb.store_dir)[site.url("/")]["pages"]) == 4


def test_a_sitemap_that_skips_the_start_folder_does_not_remove_its_pages(site: HelpCentre, kb) -> None:
    add_guide(site)
    site.set_sitemap(None)
    first = ingest_site(kb, site.url("/guide/"), delay=0)
    assert statuses(first) == dict.fromkeys(GUIDE_PATHS, "added")

    # The site gets a sitemap that lists other sections only: the guide's links are still followed.
    site.set_sitemap(SITEMAP_PATHS)
    again = ingest_site(kb, site.url("/guide/"), delay=0)

    assert again.discovered_by == "links" and statuses(again) == dict.fromkeys(GUIDE_PATHS, "unchanged")
    assert {s.source for s in kb.list_sources()} == {name(site, p) for p in GUIDE_PATHS}


def test_a_recrawl_with_lower_limits_keeps_the_pages_it_did_not_reach(site: HelpCentre, kb) -> None:
    site.set_sitemap(None)
    pages = ["/returns", "/shipping", "/es/devoluciones", "/gift-cards"]  # gift cards: linked from shipping only
    assert statuses(ingest_site(kb, site.url("/"), 50, 2, delay=0)) == dict.fromkeys(pages, "added")
    record = load_sites(kb.store_dir)[site.url("/")]
    assert (record["max_pages"], record["depth"]) == (50, 2)

    shallow = ingest_site(kb, site.url("/"), 50, 1, delay=0)
    assert statuses(shallow)["/gift-cards"] == "kept"
    assert "not reached this time (depth 1, 2 before)" in {p.detail for p in shallow.pages}
    assert load_sites(kb.store_dir)[site.url("/")]["depth"] == 2  # the pages kept were found at depth 2
    assert statuses(ingest_site(kb, site.url("/"), 50, 1, delay=0))["/gift-cards"] == "kept"

    few = ingest_site(kb, site.url("/"), 2, 2, delay=0)
    assert few.count("removed") == 0 and {s.source for s in kb.list_sources()} == {name(site, p) for p in pages}

    # Pages the lower limits did reach and found gone are removed all the same.
    site.set("/es/devoluciones", Route(410, {"Content-Type": HTML}, b"Gone"))
    gone = ingest_site(kb, site.url("/"), 50, 1, delay=0)
    assert statuses(gone)["/es/devoluciones"] == "removed" and statuses(gone)["/gift-cards"] == "kept"

    # At the recorded limits, a page no longer linked from anywhere is no longer found: removed.
    shipping = site.routes["/shipping"]
    site.set("/shipping", Route(200, shipping.headers, shipping.body.replace(b'href="/gift-cards"', b"")))
    full = ingest_site(kb, site.url("/"), 50, 2, delay=0)
    assert statuses(full)["/gift-cards"] == "removed"
    assert {p.detail for p in full.pages if p.status == "removed"} == {"no longer found on the site"}


def test_internal_addresses_are_refused_by_default(site: HelpCentre, tmp_path) -> None:
    settings = Settings(store_dir=tmp_path / "default-store", embedding_provider="fake", parse_isolation=False)
    assert settings.crawl_allow_private is False
    default = KnowledgeBase(settings, embeddings=HashingEmbeddings())

    refused = ingest_site(default, site.url("/"), delay=0)

    assert not refused.ok and "127.0.0.1 is a loopback address" in (refused.error or "") and refused.pages == []
    assert site.requests == [] and default.list_sources() == []
    assert not (default.store_dir / SITES_FILE).exists()
    assert ingest_site(default, site.url("/"), delay=0, allow_private=True).ok  # an explicit choice wins


def test_a_page_never_overwrites_an_uploaded_document_of_the_same_name(site: HelpCentre, kb, tmp_path) -> None:
    uploaded = tmp_path / name(site, "/returns")
    uploaded.write_text("# Our own returns notes\n\nStaff wrote this file and uploaded it.\n", encoding="utf-8")
    assert kb.ingest_paths([uploaded]).ok

    report = ingest_site(kb, site.url("/"), delay=0)

    page = next(p for p in report.pages if p.url == site.url("/returns"))
    assert page.status == "added" and page.source != uploaded.name and page.source.endswith(".md")
    assert kb.kept_copy(uploaded.name).read_text(encoding="utf-8").startswith("# Our own returns notes")
    assert source_urls(kb.store_dir)[page.source] == site.url("/returns")

    # Staff upload a file under a crawled page's name; the page then disappears: their file is left alone.
    shipping = name(site, "/shipping")
    (tmp_path / shipping).write_text("# Shipping notes\n\nStaff replaced the crawled page.\n", encoding="utf-8")
    assert kb.ingest_paths([tmp_path / shipping]).ok
    site.remove("/shipping")
    again = ingest_site(kb, site.url("/"), delay=0)
    assert statuses(again)["/shipping"] == "removed"
    assert kb.kept_copy(shipping).read_text(encoding="utf-8").startswith("# Shipping notes")
    assert site.url("/shipping") not in source_urls(kb.store_dir).values()


def test_reindex_keeps_the_urls_and_the_record_of_sites(site: HelpCentre, kb) -> None:
    assert ingest_site(kb, site.url("/"), delay=0).ok
    assert kb.reindex().ok
    assert load_sites(kb.store_dir)[site.url("/")]["pages"]
    assert all(h.metadata.get("url", "").startswith(site.base) for h in kb.store.get_chunks())

    # Even with the record lost, a page's own earlier source is recognised by its URL and replaced in place.
    (kb.store_dir / SITES_FILE).unlink()
    site.set("/shipping", NEW_SHIPPING)
    again = ingest_site(kb, site.url("/"), delay=0)
    assert statuses(again)["/shipping"] == "replaced" and statuses(again)["/returns"] == "unchanged"
    assert len(kb.list_sources()) == 4


def run_cli(*args: str, allow_private: str = "true") -> subprocess.CompletedProcess[str]:
    env = child_env(ASSISTANT_CRAWL_ALLOW_PRIVATE=allow_private)  # the local site is on 127.0.0.1
    return subprocess.run(
        [sys.executable, "cli.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_cli_ingest_url_prints_a_line_per_page_and_a_summary(site: HelpCentre, tmp_path) -> None:
    store = str(tmp_path / "cli-store")

    result = run_cli("ingest-url", site.url("/"), "--delay", "0", "--store", store)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"added {site.url('/returns')} -> {name(site, '/returns')}: ") for line in lines)
    assert f"skipped {site.url('/private/staff-notes')}: disallowed by robots.txt" in lines
    assert any(line.startswith(f"skipped {site.url('/catalogue-dump')}: too large") for line in lines)
    assert lines[-1].startswith(f"{site.url('/')}: 4 added, 0 replaced, 0 unchanged, 0 removed")
    assert "Traceback" not in result.stderr

    again = run_cli("ingest-url", site.url("/"), "--delay", "0", "--store", store, "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert {p["status"] for p in report["pages"]} == {"unchanged"} and len(report["pages"]) == 4
    assert {s["reason"] for s in report["skipped"]} >= {"disallowed by robots.txt", "not HTML", "HTTP error"}

    site.set_sitemap(None)
    nothing = run_cli("ingest-url", site.url("/"), "--depth", "0", "--delay", "0", "--store", store)
    assert nothing.returncode == 1 and "no page could be stored" in nothing.stderr
    down = run_cli("ingest-url", site.url("/no-such-page"), "--delay", "0", "--store", store)
    assert down.returncode == 1 and "start page" in down.stderr and "nothing was changed" in down.stderr
    bad = run_cli("ingest-url", "help.example.com", "--store", store)
    assert bad.returncode == 2 and "not an http(s) URL" in bad.stderr
    internal = run_cli("ingest-url", site.url("/"), "--delay", "0", "--store", store, allow_private="false")
    assert (
        internal.returncode == 1 and "loopback address" in internal.stderr and "nothing was changed" in internal.stderr
    )


PASSWORD = "harbor-and-pine-staff"


@pytest.fixture
def admin(monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    """A signed-in session on the Knowledge page; the crawler's pause is 0 (the form has no field for it)."""
    import streamlit as st

    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    monkeypatch.setenv("ASSISTANT_ADMIN_PASSWORD_HASH", hashed)
    monkeypatch.setenv("ASSISTANT_CRAWL_ALLOW_PRIVATE", "true")  # the local site is on 127.0.0.1
    monkeypatch.setattr("loaders.web.DEFAULT_DELAY", 0.0)
    get_settings.cache_clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    at.switch_page("app_pages/login.py").run()
    at.text_input[0].input(PASSWORD)
    at.button[0].click().run()
    at.switch_page("app_pages/admin_knowledge.py").run()
    assert not at.exception, at.exception
    yield at
    st.cache_resource.clear()


def test_admin_add_website_form_crawls_and_shows_the_report(site: HelpCentre, admin: AppTest) -> None:
    admin.text_input(key="site-url").input(site.url("/"))
    admin.number_input(key="site-pages-max").set_value(20)
    next(b for b in admin.button if b.label == "Crawl and add").click().run()

    assert not admin.exception, admin.exception
    summary = [s.value for s in admin.success]
    assert len(summary) == 1 and site.url("/") in summary[0] and ": 4 added, 0 replaced" in summary[0]
    progress = [t.value for t in admin.text]
    assert f"fetched {site.url('/returns')}" in progress and f"added {site.url('/returns')} -> " in " ".join(progress)
    tables = [df.value for df in admin.dataframe]
    pages = next(t for t in tables if "result" in t.columns)
    assert set(pages["result"]) == {"added"} and len(pages) == 4
    skipped = next(t for t in tables if "reason" in t.columns)
    assert "disallowed by robots.txt" in set(skipped["reason"])
    documents = next(t for t in tables if "web page" in t.columns).set_index("source")
    assert documents.loc[name(site, "/returns"), "web page"] == site.url("/returns")
    assert KnowledgeBase(get_settings()).store.get_source(name(site, "/shipping")) is not None

    admin.text_input(key="site-url").input("ftp://help.example.com/")
    next(b for b in admin.button if b.label == "Crawl and add").click().run()
    assert not admin.exception
    assert any("not an http(s) URL" in e.value for e in admin.error)


@pytest.mark.parametrize("shop_host", [True, False])
def test_chat_sources_link_to_crawled_pages_only_on_the_shops_site(
    site: HelpCentre, monkeypatch: pytest.MonkeyPatch, shop_host: bool
) -> None:
    """A crawled page cited in a chat answer links to its page when its host is one of the shop's own
    (`allowed_link_hosts`); otherwise its address is shown as text, like any other foreign address."""
    import streamlit as st

    monkeypatch.setenv("ASSISTANT_DECLINE_THRESHOLDS", '{"en": 0.3, "es": 0.3}')  # fits the hashing embeddings
    monkeypatch.setenv("ASSISTANT_CRAWL_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("ASSISTANT_ALLOWED_LINK_HOSTS", '["127.0.0.1"]' if shop_host else '["harborandpine.example"]')
    get_settings.cache_clear()
    st.cache_resource.clear()
    kb = KnowledgeBase(get_settings())
    assert ingest_site(kb, site.url("/"), delay=0).ok
    kb.store.close()

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    at.chat_input[0].set_value("Do gift cards expire, and can I use several gift cards on one order?").run()
    assert not at.exception, at.exception
    shown = "\n".join(md.value for md in at.markdown)
    page = site.url("/gift-cards")
    if shop_host:
        assert f"[{page}](<{page}>)" in shown
    else:
        assert f"`{page}`" in shown and f"(<{page}>)" not in shown
    st.cache_resource.clear()
