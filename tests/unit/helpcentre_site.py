"""A small help centre served on 127.0.0.1 (port 0) for the crawler tests: pages from tests/fixtures/helpcentre/,
a sitemap, robots.txt, redirects (same host, another host, a loop), a 404, a PDF, an oversized page, a page that
never finishes. Tests change pages while it runs (`set`, `remove`) and read what was requested (`requests`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from helpers import pdf_bytes

from base.paths import ROOT
from loaders.web import DEFAULT_MAX_BYTES

FIXTURES = ROOT / "tests" / "fixtures" / "helpcentre"
HUGE_BYTES = DEFAULT_MAX_BYTES + 100_000  # over the crawler's byte limit
HTML = "text/html; charset=utf-8"

# What the sitemap lists: every kind of page the crawler must take or skip.
SITEMAP_PATHS = [
    "/",
    "/old-returns",
    "/returns",
    "/shipping",
    "/gift-cards",
    "/es/devoluciones",
    "/private/staff-notes",
    "/partner-offers",
    "/missing-page",
    "/files/size-chart.pdf",
    "/catalogue-dump",
]


@dataclass
class Route:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_length: bool = True  # False: no Content-Length, the body ends when the connection closes
    hang: bool = False  # send the headers, then never finish the body (until the server stops)


def _page(name: str) -> Route:
    return Route(headers={"Content-Type": HTML}, body=(FIXTURES / name).read_bytes())


def html_page(title: str, paragraphs: list[str]) -> Route:
    """A plain page (no boilerplate) for tests that change or add pages."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    head = f"<!doctype html><html><head><title>{title}</title></head>"
    html = f"{head}<body><article><h1>{title}</h1>{body}</article></body></html>"
    return Route(headers={"Content-Type": HTML}, body=html.encode())


GUIDE_PATHS = ["/guide/", "/guide/returns", "/guide/exchanges"]  # a section the sitemap does not list


def add_guide(site: HelpCentre) -> None:
    """A /guide/ section of three pages with enough text each, the start page linking to the other two."""
    filler = "Every answer in this guide applies to orders placed on the website and in the app alike."
    links = "See <a href='/guide/returns'>returns</a> and <a href='/guide/exchanges'>exchanges</a>."
    site.set(
        "/guide/", html_page("Customer guide", ["The guide walks you through after-sales questions.", filler, links])
    )
    site.set(
        "/guide/returns", html_page("Returning an order", ["Send items back within 30 days for a refund.", filler])
    )
    site.set("/guide/exchanges", html_page("Exchanging a size", ["Exchanges for another size ship for free.", filler]))


class HelpCentre:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []  # (path, user agent)
        self.accept_encodings: list[str] = []  # each request's Accept-Encoding header
        self.release = threading.Event()  # lets hanging responses end when the test is over
        self.routes: dict[str, Route] = {
            "/": _page("index.html"),
            "/returns": _page("returns.html"),
            "/shipping": _page("shipping.html"),
            "/gift-cards": _page("gift-cards.html"),
            "/es/devoluciones": _page("es/devoluciones.html"),
            "/private/staff-notes": _page("staff-notes.html"),
            "/robots.txt": Route(headers={"Content-Type": "text/plain"}, body=(FIXTURES / "robots.txt").read_bytes()),
            "/old-returns": Route(301, {"Location": "/returns"}),
            "/partner-offers": Route(302, {"Location": "https://elsewhere.example/offers"}),
            "/missing-page": Route(404, {"Content-Type": HTML}, b"<html><body><h1>Not found</h1></body></html>"),
            "/files/size-chart.pdf": Route(
                headers={"Content-Type": "application/pdf"}, body=pdf_bytes([["Size chart: S, M, L, XL"]])
            ),
            "/catalogue-dump": self.huge(),
        }
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.set_sitemap(SITEMAP_PATHS)

    @staticmethod
    def huge(content_length: bool = True) -> Route:
        filler = "<p>" + "Every product in the catalogue, listed at length. " * 40 + "</p>\n"
        body = "<html><body><article>" + filler * (HUGE_BYTES // len(filler) + 1) + "</article></body></html>"
        return Route(headers={"Content-Type": HTML}, body=body.encode(), content_length=content_length)

    def url(self, path: str) -> str:
        return self.base + path

    def set(self, path: str, route: Route) -> None:
        self.routes[path] = route

    def remove(self, path: str) -> None:
        self.routes.pop(path, None)

    def set_sitemap(self, paths: list[str] | None) -> None:
        """The sitemap listing `paths` (None: no sitemap, the crawler follows links)."""
        if paths is None:
            self.remove("/sitemap.xml")
            return
        urls = "".join(f"<url><loc>{self.url(p)}</loc></url>" for p in paths)
        xml = f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        self.set("/sitemap.xml", Route(headers={"Content-Type": "application/xml"}, body=xml.encode()))

    def requested(self, path: str) -> int:
        return sum(p == path for p, _ in self.requests)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append((self.path, self.headers.get("User-Agent", "")))
                site.accept_encodings.append(self.headers.get("Accept-Encoding", ""))
                route = site.routes.get(self.path, Route(404, {"Content-Type": HTML}, b"<h1>Not found</h1>"))
                with suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(route.status)
                    for name, value in route.headers.items():
                        self.send_header(name, value)
                    if route.content_length and not route.hang:
                        self.send_header("Content-Length", str(len(route.body)))
                    self.end_headers()
                    if route.hang:
                        self.wfile.write(b"<html><body>")
                        self.wfile.flush()
                        site.release.wait(30)
                        return
                    for start in range(0, len(route.body), 16_384):
                        self.wfile.write(route.body[start : start + 16_384])

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    @contextmanager
    def running(self) -> Iterator[HelpCentre]:
        thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.release.set()
            self.server.shutdown()
            self.server.server_close()
