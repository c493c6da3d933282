"""The help-centre crawler (loaders/web.py) against a local site: discovery, robots.txt, same host, redirects,
size and type limits, failures, limits on pages and depth; and the Markdown front matter its pages are stored with."""

from __future__ import annotations

import gzip
import ipaddress
import socket
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from helpcentre_site import GUIDE_PATHS, HTML, SITEMAP_PATHS, HelpCentre, Route, add_guide, html_page
from local_servers import free_port

from loaders import load_file, web
from loaders.documents import split_front_matter
from loaders.web import (
    DEFAULT_MAX_BYTES,
    ENCODING,
    HTTP_STATUS,
    LITTLE_TEXT,
    NOINDEX,
    NOT_HTML,
    OTHER_HOST,
    REDIRECTS,
    ROBOTS,
    TIMEOUT,
    TOO_LARGE,
    USER_AGENT,
    CrawlResult,
    Page,
    Skipped,
    checked_transport,
    crawl,
    hashed_source_name,
    internal_kind,
    normalise_url,
    page_markdown,
    source_name_for,
)


@pytest.fixture
def site() -> Iterator[HelpCentre]:
    with HelpCentre().running() as running:
        yield running


def run(site: HelpCentre, path: str = "/", **options) -> CrawlResult:
    options.setdefault("delay", 0)
    options.setdefault("allow_private", True)  # the local site is on 127.0.0.1
    return crawl(site.url(path), **options)


def paths(result: CrawlResult) -> set[str]:
    return {urlsplit(p.url).path for p in result.pages}


def skips(result: CrawlResult) -> dict[str, str]:
    return {urlsplit(s.url).path if s.url.startswith("http://127.") else s.url: s.reason for s in result.skipped}


def test_sitemap_lists_the_pages_and_every_skip_says_why(site: HelpCentre) -> None:
    result = run(site)

    assert result.error is None and result.discovered_by == "sitemap"
    assert paths(result) == {"/returns", "/shipping", "/gift-cards", "/es/devoluciones"}
    assert skips(result) == {
        "/": LITTLE_TEXT,  # the home page is a list of topics
        "/private/staff-notes": ROBOTS,
        "/partner-offers": OTHER_HOST,  # redirects to another host: dropped
        "/missing-page": HTTP_STATUS,
        "/files/size-chart.pdf": NOT_HTML,
        "/catalogue-dump": TOO_LARGE,
    }
    missing = next(s for s in result.skipped if s.url.endswith("/missing-page"))
    assert (missing.detail, missing.gone, missing.transient) == ("HTTP 404", True, False)
    assert "elsewhere.example" in next(s.detail for s in result.skipped if s.reason == OTHER_HOST)
    # robots.txt keeps the crawler away entirely; the same-host redirect gives one page under its final URL.
    assert site.requested("/private/staff-notes") == 0
    assert site.requested("/old-returns") == 1 and site.requested("/returns") == 1
    assert {agent for _, agent in site.requests} == {USER_AGENT}
    assert result.requests == len(site.requests)


def test_main_text_keeps_the_article_and_drops_navigation_footer_and_cookie_banner(site: HelpCentre) -> None:
    pages = {urlsplit(p.url).path: p for p in run(site).pages}

    returns = pages["/returns"]
    assert returns.title == "Returns and refunds"
    assert "within 30 days of delivery" in returns.text
    assert "## How to start a return" in returns.text  # headings kept as Markdown
    for boilerplate in ("cookies", "Copyright", "Newsletter", "Help Centre home", "Our blog"):
        assert boilerplate not in returns.text
    spanish = pages["/es/devoluciones"]
    assert spanish.title == "Devoluciones y reembolsos"
    assert "cinco días hábiles" in spanish.text and "cookies" not in spanish.text


def test_without_a_sitemap_links_are_followed_breadth_first_to_the_depth(site: HelpCentre) -> None:
    site.set_sitemap(None)

    start_only = run(site, depth=0)
    assert start_only.error is None and start_only.discovered_by == "links"
    assert paths(start_only) == set() and skips(start_only) == {"/": LITTLE_TEXT}
    assert any("no sitemap" in note for note in start_only.notes)

    one = run(site, depth=1)
    assert paths(one) == {"/returns", "/shipping", "/es/devoluciones"}  # the gift cards page is linked from shipping
    assert skips(one)["https://elsewhere.example/blog"] == OTHER_HOST
    assert skips(one)["/private/staff-notes"] == ROBOTS

    two = run(site, depth=2)
    assert paths(two) == {"/returns", "/shipping", "/es/devoluciones", "/gift-cards"}
    assert [p.depth for p in two.pages if p.url.endswith("/gift-cards")] == [2]


def test_max_pages_bounds_the_pages_requested(site: HelpCentre) -> None:
    result = run(site, max_pages=3)  # the start page, /old-returns (-> /returns), /shipping

    assert paths(result) == {"/returns", "/shipping"}
    assert {urlsplit(u).path for u in result.not_fetched} >= {"/gift-cards", "/es/devoluciones", "/missing-page"}
    assert site.requested("/gift-cards") == 0 and site.requested("/missing-page") == 0
    assert any("over the page limit" in why for why in result.incomplete)  # unreached pages are not "gone"
    assert run(site).incomplete == []


def test_a_sitemap_with_no_page_under_the_start_folder_falls_back_to_links(site: HelpCentre) -> None:
    add_guide(site)  # the sitemap lists pages, none of them under /guide/

    result = run(site, "/guide/")

    assert result.error is None and result.discovered_by == "links"
    assert paths(result) == set(GUIDE_PATHS)
    assert any("no page under /guide/" in note and "following links" in note for note in result.notes)
    site.set_sitemap(["/guide/", *SITEMAP_PATHS])  # the start page alone: still nothing to go on
    assert paths(run(site, "/guide/")) == set(GUIDE_PATHS)
    site.set_sitemap(["/guide/", "/guide/exchanges"])
    listed = run(site, "/guide/")
    assert listed.discovered_by == "sitemap" and paths(listed) == {"/guide/", "/guide/exchanges"}


def test_refusals_that_may_pass_are_temporary_and_only_404_410_mean_gone() -> None:
    for status in (401, 403, 408, 425, 429, 500, 502, 503):  # 401/403: a firewall turning the bot away for now
        refused = Skipped("https://help.example.com/a", HTTP_STATUS, f"HTTP {status}", status)
        assert refused.transient and not refused.gone, status
    for status in (404, 410):
        missing = Skipped("https://help.example.com/a", HTTP_STATUS, f"HTTP {status}", status)
        assert missing.gone and not missing.transient
    assert not Skipped("https://help.example.com/a", HTTP_STATUS, "HTTP 400", 400).transient


def test_size_cap_holds_without_a_content_length_and_small_pages_stream_fine(site: HelpCentre) -> None:
    site.set("/catalogue-dump", HelpCentre.huge(content_length=False))
    returns = site.routes["/returns"]
    site.set("/returns", Route(returns.status, returns.headers, returns.body, content_length=False))

    result = run(site)

    dump = next(s for s in result.skipped if s.url.endswith("/catalogue-dump"))
    assert dump.reason == TOO_LARGE and "stopped reading" in dump.detail and f"{DEFAULT_MAX_BYTES:,}" in dump.detail
    assert "/returns" in paths(result)


def test_a_compressed_bomb_is_refused_without_being_expanded(site: HelpCentre) -> None:
    # 32 MB of HTML in 32 KB of gzip, sent although the crawler asks for no compression.
    bomb = gzip.compress(b"<html><body><p>" + b"a" * (32 * 1024 * 1024) + b"</p></body></html>", 9)
    assert len(bomb) < DEFAULT_MAX_BYTES // 20
    site.set("/bomb", Route(headers={"Content-Type": HTML, "Content-Encoding": "gzip"}, body=bomb))

    tracemalloc.start()
    try:
        result = run(site, "/bomb")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert peak < 2 * DEFAULT_MAX_BYTES + 1024 * 1024  # the cap and some change, never the expanded body
    bombed = next(s for s in result.skipped if s.url.endswith("/bomb"))
    assert bombed.reason == TOO_LARGE and "decompressed" in bombed.detail and TOO_LARGE in (result.error or "")
    assert set(site.accept_encodings) == {"identity"}


def test_a_server_that_compresses_anyway_is_read_and_unknown_encodings_are_skipped(site: HelpCentre) -> None:
    returns, shipping = site.routes["/returns"], site.routes["/shipping"]
    site.set(
        "/returns", Route(headers={**returns.headers, "Content-Encoding": "gzip"}, body=gzip.compress(returns.body))
    )
    site.set(
        "/shipping",
        Route(headers={**shipping.headers, "Content-Encoding": "deflate"}, body=zlib.compress(shipping.body)),
    )
    site.set("/gift-cards", Route(headers={"Content-Type": HTML, "Content-Encoding": "br"}, body=b"\x1b\x00\x00"))

    result = run(site)

    pages = {urlsplit(p.url).path: p for p in result.pages}
    assert "within 30 days of delivery" in pages["/returns"].text and pages["/shipping"].title
    assert skips(result)["/gift-cards"] == ENCODING


def test_redirects_are_followed_by_hand_within_the_site_and_its_rules(site: HelpCentre) -> None:
    for n in range(7):
        site.set(f"/loop{n}", Route(302, {"Location": f"/loop{n + 1}"}))
    site.set("/to-private", Route(301, {"Location": "/private/staff-notes"}))
    site.set("/to-http-elsewhere", Route(307, {"Location": "//localhost.example:1/x"}))
    site.set("/moved", Route(308, {"Location": site.url("/shipping")}))
    site.set("/to-nowhere", Route(302, {"Location": "http://[::1/x"}))
    site.set_sitemap(["/loop0", "/to-private", "/to-http-elsewhere", "/to-nowhere", "/moved"])

    result = run(site)

    assert skips(result) == {
        "/": LITTLE_TEXT,
        "/loop0": REDIRECTS,
        "/to-private": ROBOTS,
        "/to-http-elsewhere": OTHER_HOST,
        "/to-nowhere": REDIRECTS,
    }
    assert "location" in next(s.detail for s in result.skipped if s.url.endswith("/to-nowhere")).lower()
    assert [p.url for p in result.pages] == [site.url("/shipping")]
    assert site.requested("/loop6") == 0  # five redirects followed, no more
    assert site.requested("/private/staff-notes") == 0


def test_pauses_between_requests_and_crawl_delay_from_robots_txt(site: HelpCentre) -> None:
    def fake_time() -> tuple[list[float], dict]:
        now, sleeps = [0.0], []

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            now[0] += seconds

        return sleeps, {"sleep": sleep, "clock": lambda: now[0]}

    sleeps, clock = fake_time()
    result = run(site, delay=0.5, **clock)
    assert sleeps == [0.5] * (result.requests - 1)

    site.set("/robots.txt", Route(headers={"Content-Type": "text/plain"}, body=b"User-agent: *\nCrawl-delay: 2\n"))
    sleeps, clock = fake_time()
    result = run(site, delay=0.5, **clock)
    assert result.error is None and sleeps == [2.0] * (result.requests - 1)
    assert any("Crawl-delay" in note for note in result.notes)
    assert site.requested("/private/staff-notes") == 1  # no Disallow any more

    site.set("/robots.txt", Route(headers={"Content-Type": "text/plain"}, body=b"User-agent: *\nCrawl-delay: 120\n"))
    before = len(site.requests)
    result = run(site)
    assert "120 s" in (result.error or "") and result.pages == []
    assert [p for p, _ in site.requests[before:]] == ["/robots.txt"]


def test_a_robots_txt_that_redirects_to_another_scheme_or_host_stops_the_crawl(site: HelpCentre) -> None:
    port = urlsplit(site.base).port
    for target in (f"https://127.0.0.1:{port}/robots.txt", f"http://localhost:{port}/robots.txt"):
        site.set("/robots.txt", Route(301, {"Location": target}))
        before = len(site.requests)
        result = run(site)
        assert f"robots.txt redirects to {target}" in (result.error or "") and result.pages == []
        assert [p for p, _ in site.requests[before:]] == ["/robots.txt"]  # not taken as "no rules"

    # Within the site the redirect is followed, and the rules found there apply.
    site.set("/robots.txt", Route(301, {"Location": "/rules.txt"}))
    site.set("/rules.txt", Route(headers={"Content-Type": "text/plain"}, body=b"User-agent: *\nDisallow: /shipping\n"))
    result = run(site)
    assert result.error is None and skips(result)["/shipping"] == ROBOTS


def test_internal_addresses_are_refused_unless_allowed(site: HelpCentre) -> None:
    refused = crawl(site.url("/"), delay=0)
    assert "127.0.0.1 is a loopback address" in (refused.error or "")
    assert "crawl_allow_private" in (refused.error or "") and refused.pages == []
    named = crawl(f"http://localhost:{urlsplit(site.base).port}/", delay=0)
    assert "localhost resolves to" in (named.error or "") and "loopback address" in (named.error or "")
    assert site.requests == []  # not even robots.txt
    assert run(site).error is None  # allow_private=True

    kinds = {
        "10.1.2.3": "private",
        "192.168.0.10": "private",
        "169.254.169.254": "link-local",  # cloud metadata
        "::1": "loopback",
        "fe80::1%eth0": "link-local",
        "::ffff:127.0.0.1": "loopback",
        "0.0.0.0": "unspecified",
        "224.0.0.1": "multicast",
        "240.0.0.1": "reserved",
        "100.64.0.1": "non-public",
        "93.184.216.34": None,
        "2606:4700::1111": None,
    }
    assert {address: internal_kind(address) for address in kinds} == kinds


def test_robots_rules_for_this_user_agent_apply(site: HelpCentre) -> None:
    rules = b"User-agent: ShopAssistantBot\nDisallow: /shipping\n\nUser-agent: *\nDisallow: /\n"
    site.set("/robots.txt", Route(headers={"Content-Type": "text/plain"}, body=rules))

    result = run(site)

    assert skips(result)["/shipping"] == ROBOTS and "/returns" in paths(result)
    assert site.requested("/shipping") == 0


def test_a_crawl_that_cannot_start_fails_as_a_whole(site: HelpCentre) -> None:
    site.set("/robots.txt", Route(503, {"Content-Type": HTML}, b"busy"))
    result = run(site)
    assert "robots.txt could not be read" in (result.error or "") and result.pages == []
    assert [p for p, _ in site.requests] == ["/robots.txt"]  # RFC 9309: a 5xx robots.txt means stay away

    site.remove("/robots.txt")  # a 404 robots.txt means no rules
    assert "start page" in (run(site, "/no-such-page").error or "")
    assert run(site).error is None

    closed = crawl(f"http://127.0.0.1:{free_port()}/", delay=0, allow_private=True)
    assert closed.error is not None and closed.pages == []


def test_a_page_that_never_finishes_times_out(site: HelpCentre) -> None:
    site.set("/slow", Route(headers={"Content-Type": HTML}, hang=True))

    result = run(site, "/slow", timeout=1.0)

    assert result.error is not None and TIMEOUT in result.error


def test_noindex_pages_are_skipped_but_their_links_followed(site: HelpCentre) -> None:
    topics = html_page("Topics", ["All topics: <a href='/returns'>returns</a>."])
    topics.body = topics.body.replace(b"<head>", b"<head><meta name='robots' content='noindex'>")
    site.set("/topics", topics)
    site.set_sitemap(None)

    result = run(site, "/topics", depth=1)

    assert skips(result) == {"/topics": NOINDEX}
    assert paths(result) == {"/returns"}


def test_proxies_from_the_environment_are_not_used(site: HelpCentre, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://10.0.0.1:3128")
    monkeypatch.setenv("ALL_PROXY", "http://10.0.0.1:3128")
    assert run(site).error is None


def test_start_url_must_be_http() -> None:
    for bad in ("ftp://help.example.com/", "file:///etc/passwd", "help.example.com", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            crawl(bad, delay=0)


def test_urls_and_source_names() -> None:
    assert normalise_url("HTTPS://Help.Example.com:443/returns#top") == "https://help.example.com/returns"
    assert normalise_url("http://help.example.com") == "http://help.example.com/"
    assert normalise_url("http://127.0.0.1:8080/a?b=1") == "http://127.0.0.1:8080/a?b=1"

    assert source_name_for("https://help.example.com/returns") == "help.example.com_returns.md"
    assert source_name_for("https://help.example.com/") == "help.example.com_index.md"
    assert source_name_for("https://help.example.com/es/devoluciones.html") == "help.example.com_es_devoluciones.md"
    assert source_name_for("http://127.0.0.1:8080/faq") == "127.0.0.1_8080_faq.md"
    # Distinct URLs that read alike: the hashed variant keeps them apart.
    a, b = "https://help.example.com/a/b", "https://help.example.com/a_b"
    assert source_name_for(a) == source_name_for(b)
    assert hashed_source_name(a) != hashed_source_name(b)
    assert hashed_source_name(a).startswith("help.example.com_a_b-") and hashed_source_name(a).endswith(".md")
    long_name = source_name_for("https://help.example.com/" + "very-long-section/" * 30)
    assert len(long_name.encode()) <= 200 and long_name.endswith(".md")


def test_front_matter_becomes_chunk_metadata(tmp_path: Path) -> None:
    page = Page("https://help.example.com/returns", "Returns and refunds", "You can return items within 30 days.")
    path = tmp_path / "help.example.com_returns.md"
    path.write_text(page_markdown(page), encoding="utf-8")

    docs = load_file(path)

    assert docs and all(d.metadata["url"] == page.url for d in docs)
    assert all(d.metadata["title"] == "Returns and refunds" for d in docs)
    assert docs[0].metadata["section"] == "Returns and refunds"
    assert all("url:" not in d.page_content and "---" not in d.page_content for d in docs)


def test_markdown_without_our_front_matter_reads_as_before(tmp_path: Path) -> None:
    for text in (
        "# Shipping\n\nWe ship in 3 days.\n",
        "---\n\n# Shipping\n\nA rule first, then text.\n",
        "---\nlayout: post\ntitle: Shipping\n---\n\nYAML without a url stays text.\n",
        "---\nurl: javascript:alert(1)\n---\n\nNot an http address.\n",
        "---\nurl: https://x.example/\nthis is not a key value line\n---\n\nText.\n",
    ):
        assert split_front_matter(text) == ({}, text)
    path = tmp_path / "shipping_guide.md"
    path.write_text("---\nlayout: post\n---\n\n# Shipping\n\nWe ship in 3 days.\n", encoding="utf-8")
    docs = load_file(path)
    assert "url" not in docs[0].metadata and docs[0].metadata["title"] == "Shipping guide"
    assert docs[0].page_content.startswith("---\nlayout: post\n---")  # as before: the block is text


def _resolver(answers: list[str]):
    """A getaddrinfo that answers a name with the next of `answers` (the last one repeats) and an IP literal with
    itself, and records the names asked."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        try:
            ipaddress.ip_address(host)
            return real(host, port, *args, **kwargs)
        except ValueError:
            asked.append(host)
            address = answers[min(len(asked), len(answers)) - 1]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    return getaddrinfo, asked


def test_a_name_that_resolves_elsewhere_when_connecting_is_refused(site: HelpCentre, monkeypatch) -> None:
    """DNS rebinding: the early check hears a public address, the connection would go to 127.0.0.1."""
    getaddrinfo, asked = _resolver(["93.184.216.34", "127.0.0.1"])
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    port = urlsplit(site.base).port

    result = crawl(f"http://help.test:{port}/", delay=0)

    assert asked[0] == "help.test" and len(asked) >= 2  # checked, then resolved again to connect
    assert "resolved to 127.0.0.1 when connecting, a loopback address" in (result.error or "")
    assert result.pages == [] and site.requests == []  # nothing reached the local server


def test_the_checked_connection_carries_the_crawl(site: HelpCentre, monkeypatch) -> None:
    """The same crawl through the checked transport, with 127.0.0.1 counted as public: it connects to the address
    it resolved and crawls the site as usual (so the guard above is the transport's doing, not a broken client)."""
    getaddrinfo, asked = _resolver(["127.0.0.1"])
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(web, "internal_kind", lambda address: None)
    port = urlsplit(site.base).port

    result = crawl(f"http://help.test:{port}/", delay=0)

    assert result.error is None and {urlsplit(p.url).path for p in result.pages} >= {"/returns", "/shipping"}
    assert asked.count("help.test") >= 2  # the early check and the connections
    assert isinstance(checked_transport()._pool._network_backend, web._CheckedBackend)
