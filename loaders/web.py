"""A polite crawler for the shop's own help centre, and each page's main text as Markdown.

Same scheme and host as the start page only (redirects are followed by hand so one that leaves the host is
dropped), and no host that resolves to an internal address (loopback, private, link-local, ...) unless the caller
allows it, checked again at every connection on the address connected to (so a DNS answer that changes between
the check and the request, DNS rebinding, cannot reach an internal address); robots.txt and its Crawl-delay
honoured, a pause between requests, a timeout per request, HTML only and at most `max_bytes` read per page (bytes
on the wire and, when a server compresses anyway, once decompressed).
Pages come from the sitemap when it lists pages under the start page's folder, else from following links.
Nothing here touches the store: services/crawl.py turns the pages into knowledge sources.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
import unicodedata
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

import httpcore
import httpx

from base.text import short_hash
from loaders.base import safe_source_name

USER_AGENT = "ShopAssistantBot/1.0"  # robots.txt rules for "ShopAssistantBot" apply to us
DEFAULT_DELAY = 0.5  # seconds between two requests to the site (robots.txt's Crawl-delay when longer)
DEFAULT_TIMEOUT = 10.0  # seconds per request (connect, each read, and the whole body)
DEFAULT_MAX_BYTES = 2 * 1024 * 1024  # a page over this is not read further
MIN_TEXT_CHARS = 100  # main text (not counting spaces or link labels) under this: a hub or empty page
MAX_REDIRECTS = 5
MAX_CRAWL_DELAY = 30.0  # a site asking for longer pauses is not crawled (an admin page would wait for hours)
MAX_SITEMAPS = 20  # sitemap files read per crawl (an index and its children)
SITEMAP_MAX_BYTES = 10 * 1024 * 1024
ROBOTS_MAX_BYTES = 512 * 1024
HTML_TYPES = ("text/html", "application/xhtml+xml")
READ_CHUNK = 16 * 1024  # bytes read from the socket at a time, and most bytes decompressed from them at a time
# Statuses that say "not now" rather than "not at all": a firewall turning the bot away for a while answers 401 or
# 403, a busy server 408, 425, 429 or 5xx.
TEMPORARY_STATUSES = frozenset({401, 403, 408, 425, 429})

# Why a page was skipped (the report groups by these).
ROBOTS = "disallowed by robots.txt"
OTHER_HOST = "other host"
NOT_HTML = "not HTML"
TOO_LARGE = "too large"
HTTP_STATUS = "HTTP error"
TIMEOUT = "timeout"
NETWORK = "network error"
REDIRECTS = "redirect problem"
BAD_URL = "unusable address"
LITTLE_TEXT = "too little text"
NOINDEX = "noindex"
ENCODING = "unsupported encoding"
INTERNAL = "internal address"


@dataclass
class Page:
    """A crawled page: its final URL (after redirects), title and main text as Markdown."""

    url: str
    title: str
    text: str
    depth: int = 0


@dataclass
class Skipped:
    """A page that was not taken, and why (`reason` is one of the constants above, `detail` says more)."""

    url: str
    reason: str
    detail: str = ""
    status: int | None = None

    @property
    def transient(self) -> bool:
        """A failure that may pass (timeout, network, 5xx, 401/403/408/425/429): the page's previous version is
        kept."""
        if self.reason in (TIMEOUT, NETWORK):
            return True
        status = self.status
        return self.reason == HTTP_STATUS and status is not None and (status >= 500 or status in TEMPORARY_STATUSES)

    @property
    def gone(self) -> bool:
        """The server says the page no longer exists."""
        return self.reason == HTTP_STATUS and self.status in (404, 410)


@dataclass
class CrawlResult:
    """Everything one crawl found. `error` set means the crawl as a whole failed (nothing should be removed)."""

    start_url: str
    pages: list[Page] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    not_fetched: list[str] = field(default_factory=list)  # found, but over max_pages
    discovered_by: str = "links"  # or "sitemap"
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    requests: int = 0
    # Why pages not reached this time may still be on the site (the page limit was hit, a page or a sitemap failed
    # for now): empty means every page within the limits was reached.
    incomplete: list[str] = field(default_factory=list)


CrawlProgress = Callable[[Page | Skipped], None]


@dataclass
class _Fetched:
    url: str
    content_type: str
    body: bytes
    charset: str | None


def normalise_url(url: str) -> str:
    """One spelling per page: scheme and host lower-cased, default port and fragment dropped, '/' for no path.

    Raises ValueError for anything but an absolute http(s) URL."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port  # ValueError for a bad port
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path or "/", parts.query, ""))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def internal_kind(address: str) -> str | None:
    """What kind of internal address an IP address is ("loopback", "private", ...), or None for a public one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 scope (fe80::1%eth0) says nothing more
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    kinds = (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("unspecified", ip.is_unspecified),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("non-public", not ip.is_global),
    )
    return next((kind for kind, matches in kinds if matches), None)


NOT_CRAWLED = (
    "internal addresses are not crawled unless allowed (setting crawl_allow_private, "
    "ASSISTANT_CRAWL_ALLOW_PRIVATE=true)"
)


def resolve(host: str, port: int) -> list[str]:
    """The addresses DNS gives for `host`, in its order, each once (OSError or UnicodeError when it cannot)."""
    return list(dict.fromkeys(str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)))


def first_internal(addresses: list[str]) -> tuple[str, str] | None:
    """(address, kind) of the first internal address among `addresses` in sorted order, or None: one is enough
    to refuse the host, whichever the connection would pick."""
    return next(((a, kind) for a in sorted(addresses) if (kind := internal_kind(a))), None)


class _InternalAddress(httpcore.ConnectError):
    """A connection refused because the host resolved to an internal address when connecting."""


class _CheckedBackend(httpcore.NetworkBackend):
    """httpcore's sockets, with the host resolved here and every address checked before connecting to it.

    The crawler's early check (`_Crawler.refused_address`) gives a clear reason before any request, but httpx then
    resolves the name again to connect: a DNS server answering a public address to the check and 127.0.0.1 to the
    connection (DNS rebinding) would get past it. Here the address checked is the address connected to."""

    def __init__(self) -> None:
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options=None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"{host} could not be resolved ({_one_line(str(exc), 120)})") from exc
        if found := first_internal(addresses):
            address, kind = found
            raise _InternalAddress(f"{host} resolved to {address} when connecting, a {kind} address: {NOT_CRAWLED}")
        failure: httpcore.ConnectError | None = None
        for address in addresses:  # as socket.create_connection would: the first that answers
            try:
                return self._sockets.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"{host} has no address")

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise httpcore.ConnectError("the crawler does not use Unix sockets")

    def sleep(self, seconds: float) -> None:
        self._sockets.sleep(seconds)


def checked_transport() -> httpx.HTTPTransport:
    """An httpx transport whose connections go through `_CheckedBackend` (no proxies from the environment).
    httpx takes no network backend itself; its pool reads one when it opens a connection, and none is open yet
    (a private attribute: `test_crawl` checks it is used)."""
    transport = httpx.HTTPTransport(trust_env=False)
    transport._pool._network_backend = _CheckedBackend()
    return transport


def _inflater(encoding: str) -> zlib._Decompress | str | None:
    """A decompressor for a Content-Encoding (None for none), or the encoding itself when not supported."""
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(zlib.MAX_WBITS | 32)  # a gzip or zlib header, told apart by zlib
    return encoding


def source_name_for(url: str) -> str:
    """A readable source name for a page URL, e.g. `help.example.com_returns.md` (the hash variant,
    `source_name_for(url) + hash`, is `hashed_source_name`)."""
    parts = urlsplit(url)
    path = re.sub(r"\.(html?|php|aspx?)$", "", unquote(parts.path), flags=re.IGNORECASE).strip("/")
    stem = parts.netloc + ("_" + path.replace("/", "_") if path else "_index")
    if parts.query:
        stem += "_" + parts.query
    return safe_source_name(stem + ".md")


def hashed_source_name(url: str) -> str:
    """The readable name with a short hash of the URL: distinct URLs that read alike stay distinct sources."""
    readable = source_name_for(url).removesuffix(".md")
    return safe_source_name(f"{readable}-{short_hash(url, length=8)}.md")


def _one_line(text: str, limit: int = 200) -> str:
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return re.sub(r"\s+", " ", text).strip()[:limit]


def page_markdown(page: Page) -> str:
    """The file a page is stored as: a small front matter (url, title; loaders/documents.py reads it back into
    each chunk's metadata), then the main text under the title as its top heading."""
    title = _one_line(page.title) or page.url
    body = page.text.strip()
    if not body.startswith("# "):
        body = f"# {title}\n\n{body}"
    return f"---\nurl: {page.url}\ntitle: {title}\n---\n\n{body}\n"


def extract_main_text(html: str, url: str) -> tuple[str, str]:
    """(title, main text as Markdown) with navigation, footers and cookie banners left out (trafilatura)."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_formatting=True,
        include_links=False,
        include_images=False,
        include_comments=False,
        include_tables=True,
    )
    if doc is None:
        return "", ""
    return _one_line(doc.title or ""), (doc.text or "").strip()


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)


def _decode(fetched: _Fetched) -> str:
    charset = fetched.charset
    if not charset and (m := _META_CHARSET.search(fetched.body[:4096])):
        charset = m.group(1).decode("ascii")
    try:
        return fetched.body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return fetched.body.decode("utf-8", errors="replace")


@dataclass
class _Markup:
    links: list[str] = field(default_factory=list)  # absolute, nofollow left out
    link_texts: list[str] = field(default_factory=list)
    noindex: bool = False
    nofollow: bool = False


def _read_markup(html: str, base_url: str) -> _Markup:
    """The page's links and their texts, and its meta robots noindex/nofollow."""
    import lxml.etree
    import lxml.html

    try:
        doc = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return _Markup()
    robots = " ".join(doc.xpath("//meta[translate(@name,'ROBTS','robts')='robots']/@content")).lower()
    base = next(iter(doc.xpath("//base/@href")), None)
    base_url = urljoin(base_url, base) if base else base_url
    found = _Markup(noindex="noindex" in robots, nofollow="nofollow" in robots)
    for a in doc.iter("a"):
        found.link_texts.append(_one_line(a.text_content(), 500))
        href = (a.get("href") or "").strip()
        if not href or "nofollow" in (a.get("rel") or "").lower():
            continue
        absolute = urljoin(base_url, href)
        if urlsplit(absolute).scheme in ("http", "https"):
            found.links.append(absolute)
    return found


def prose_chars(text: str, link_texts: list[str]) -> int:
    """Characters of `text` that are not link labels: a topic list (a help centre's home) has next to none."""
    flat = _one_line(re.sub(r"[#*_>`|-]", " ", text), len(text))
    for label in sorted(set(filter(None, link_texts)), key=len, reverse=True):
        flat = flat.replace(label, " ", 1)
    return len(re.sub(r"\s+", "", flat))


def _sitemap_locs(body: bytes) -> tuple[list[str], list[str]]:
    """(page URLs, child sitemap URLs) of a sitemap or sitemap index; nothing for anything else.
    No entities, DTDs or network: the file comes from the network."""
    import lxml.etree

    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = lxml.etree.fromstring(body, parser=parser)
    except lxml.etree.XMLSyntaxError:
        return [], []
    pages = [(e.text or "").strip() for e in root.findall("{*}url/{*}loc")]
    children = [(e.text or "").strip() for e in root.findall("{*}sitemap/{*}loc")]
    return [p for p in pages if p], [c for c in children if c]


class _Crawler:
    """One crawl's state; `crawl()` is the public entry point."""

    def __init__(
        self,
        start_url: str,
        max_pages: int,
        depth: int,
        *,
        delay: float,
        timeout: float,
        max_bytes: int,
        min_chars: int,
        client: httpx.Client,
        progress: CrawlProgress | None,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        allow_private: bool,
    ) -> None:
        self.start = normalise_url(start_url)
        self.origin = _origin(self.start)
        self.scope = self.start[: self.start.rindex("/") + 1]  # the start page's folder: sitemap URLs outside it
        self.max_pages, self.depth = max_pages, depth
        self.delay, self.timeout, self.max_bytes, self.min_chars = delay, timeout, max_bytes, min_chars
        self.client, self.progress, self.sleep, self.clock = client, progress, sleep, clock
        self.allow_private = allow_private
        self.robots: RobotFileParser | None = None
        self.result = CrawlResult(self.start)
        self.seen: set[str] = set()
        self.attempted = 0
        self.failed_for_now = 0  # pages skipped for a reason that may pass
        self._last_request: float | None = None
        self._hosts: dict[tuple[str, int], Skipped | None] = {}  # the address check, once per host and port

    # -- requests -------------------------------------------------------------------------------------
    def same_site(self, url: str) -> bool:
        return _origin(url) == self.origin

    def allowed(self, url: str) -> bool:
        return self.robots is None or self.robots.can_fetch(USER_AGENT, url)

    def refused_address(self, url: str) -> Skipped | None:
        """A Skipped when `url`'s host resolves (socket.getaddrinfo) to an internal address and those are not
        allowed, or cannot be resolved at all; None when it may be requested."""
        if self.allow_private:
            return None
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        if (host, port) not in self._hosts:
            self._hosts[host, port] = self._check_host(url, host, port)
        found = self._hosts[host, port]
        return None if found is None else Skipped(url, found.reason, found.detail)

    @staticmethod
    def _check_host(url: str, host: str, port: int) -> Skipped | None:
        try:
            found = first_internal(resolve(host, port))
        except (OSError, UnicodeError) as exc:
            return Skipped(url, NETWORK, f"{host} could not be resolved ({_one_line(str(exc), 120)})")
        if found is None:
            return None
        address, kind = found
        where = f"{host} is" if host.strip("[]") == address else f"{host} resolves to {address},"
        return Skipped(url, INTERNAL, f"{where} a {kind} address: {NOT_CRAWLED}")

    def _wait(self) -> None:
        if self._last_request is not None:
            pause = self.delay - (self.clock() - self._last_request)
            if pause > 0:
                self.sleep(pause)

    def fetch(self, url: str, *, html: bool = True, limit: int | None = None) -> _Fetched | Skipped:
        """GET `url`, following up to MAX_REDIRECTS redirects within the site (and robots.txt) by hand."""
        limit = limit or self.max_bytes
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            if not self.same_site(current):
                return Skipped(url, OTHER_HOST, f"redirects to {current}")
            if not self.allowed(current):
                return Skipped(url, ROBOTS, "" if current == url else f"redirects to {current}")
            if refused := self.refused_address(current):
                return refused
            outcome = self._get(url, current, html, limit)
            if not isinstance(outcome, str):
                return outcome
            try:
                current = normalise_url(urljoin(current, outcome))
            except ValueError:
                return Skipped(url, REDIRECTS, f"redirects to an unusable address ({_one_line(outcome, 100)})")
        return Skipped(url, REDIRECTS, f"more than {MAX_REDIRECTS} redirects")

    def _get(self, url: str, current: str, html: bool, limit: int) -> _Fetched | Skipped | str:
        """One request: the response, a Skipped, or the Location to go to next."""
        self._wait()
        self.result.requests += 1
        deadline = self.clock() + self.timeout
        try:
            # No compression asked for: the raw bytes are the page, counted as they arrive.
            with self.client.stream("GET", current, headers={"Accept-Encoding": "identity"}) as resp:
                if resp.has_redirect_location:
                    return resp.headers["location"]
                if resp.status_code >= 300:
                    return Skipped(url, HTTP_STATUS, f"HTTP {resp.status_code}", resp.status_code)
                ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                if html and ctype not in HTML_TYPES:
                    return Skipped(url, NOT_HTML, ctype or "no Content-Type")
                declared = resp.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    return Skipped(url, TOO_LARGE, f"{int(declared):,} bytes; the limit is {limit:,}")
                encoding = resp.headers.get("content-encoding", "").strip().lower()
                inflater = _inflater(encoding)
                if isinstance(inflater, str):
                    return Skipped(url, ENCODING, f"Content-Encoding {_one_line(inflater, 60)}")
                body, raw = bytearray(), 0
                for chunk in resp.iter_raw(READ_CHUNK):
                    raw += len(chunk)
                    if raw > limit:
                        return Skipped(url, TOO_LARGE, f"over {limit:,} bytes (stopped reading)")
                    if inflater is None:
                        body += chunk
                    elif not self._inflate(inflater, chunk, body, limit):
                        return Skipped(url, TOO_LARGE, f"over {limit:,} bytes once decompressed (stopped reading)")
                    if self.clock() > deadline:
                        return Skipped(url, TIMEOUT, f"no complete page within {self.timeout:g} s")
                if inflater is not None:
                    body += inflater.flush()  # small: all input was taken with room to spare
                    if len(body) > limit:
                        return Skipped(url, TOO_LARGE, f"over {limit:,} bytes once decompressed (stopped reading)")
                return _Fetched(current, ctype, bytes(body), resp.charset_encoding)
        except zlib.error as exc:
            return Skipped(url, NETWORK, f"the {encoding} body could not be decompressed ({_one_line(str(exc), 100)})")
        except httpx.TimeoutException:
            return Skipped(url, TIMEOUT, f"no answer within {self.timeout:g} s")
        except httpx.ConnectError as exc:
            if isinstance(exc.__cause__, _InternalAddress):
                return Skipped(url, INTERNAL, str(exc.__cause__))
            return Skipped(url, NETWORK, _one_line(str(exc) or type(exc).__name__, 160))
        except httpx.HTTPError as exc:
            detail = _one_line(str(exc) or type(exc).__name__, 160)
            if isinstance(exc, httpx.RemoteProtocolError) and "location" in detail.lower():
                return Skipped(url, REDIRECTS, detail)  # httpx refuses an unusable Location header itself
            return Skipped(url, NETWORK, detail)
        except (httpx.InvalidURL, ValueError) as exc:  # e.g. a host name IDNA cannot encode
            return Skipped(url, BAD_URL, _one_line(str(exc) or type(exc).__name__, 160))
        finally:
            self._last_request = self.clock()

    @staticmethod
    def _inflate(inflater: zlib._Decompress, data: bytes, body: bytearray, limit: int) -> bool:
        """Decompress `data` onto `body`, at most READ_CHUNK bytes at a time; False once `body` passes `limit`
        (a small compressed body can expand a thousandfold: it is never expanded past the limit)."""
        while data and not inflater.eof:
            body += inflater.decompress(data, min(READ_CHUNK, limit - len(body) + 1))
            if len(body) > limit:
                return False
            data = inflater.unconsumed_tail
        return True

    # -- robots.txt and the sitemap -------------------------------------------------------------------
    def read_robots(self) -> str | None:
        """Load robots.txt (RFC 9309: 4xx means no rules; 5xx, 429 or unreachable means stay away, and so does a
        redirect to another scheme or host, or a file over the size limit); an error or None. 401/403 keep the
        crawler out of the whole site."""
        got = self.fetch(f"{self.origin}/robots.txt", html=False, limit=ROBOTS_MAX_BYTES)
        parser = RobotFileParser(f"{self.origin}/robots.txt")
        if isinstance(got, _Fetched):
            parser.parse(_decode(got).splitlines())
        elif got.reason == HTTP_STATUS and got.status in (401, 403):
            parser.disallow_all = True
        elif got.reason == HTTP_STATUS and not got.transient and got.status is not None and 400 <= got.status < 500:
            parser.allow_all = True  # 404 and other client errors: no rules
        elif got.reason == OTHER_HOST:
            return (
                f"robots.txt {got.detail}, another scheme or host: its rules cannot be read for this address, so it "
                "is not crawled (start from the address robots.txt moved to)"
            )
        else:
            return f"robots.txt could not be read ({got.detail or got.reason}); not crawling without it"
        self.robots = parser
        asked = parser.crawl_delay(USER_AGENT)
        if asked is not None:
            asked = float(asked)
            if asked > MAX_CRAWL_DELAY:
                most = f"this crawler waits at most {MAX_CRAWL_DELAY:g} s"
                return f"robots.txt asks for {asked:g} s between requests; {most}"
            if asked > self.delay:
                self.delay = asked
                self.result.notes.append(f"waiting {asked:g} s between requests (robots.txt Crawl-delay)")
        return None

    def sitemap_urls(self) -> list[str]:
        """Page URLs from the sitemaps robots.txt names, else /sitemap.xml (an index is followed)."""
        listed = [u for u in (self.robots.site_maps() or []) if self.same_site(u)] if self.robots else []
        todo = deque(listed or [f"{self.origin}/sitemap.xml"])
        pages: list[str] = []
        read = 0
        while todo and read < MAX_SITEMAPS:
            try:
                url = normalise_url(todo.popleft())
            except ValueError:
                continue
            read += 1
            got = self.fetch(url, html=False, limit=SITEMAP_MAX_BYTES)
            if isinstance(got, Skipped):
                self.result.notes.append(f"no sitemap at {url} ({got.detail or got.reason})")
                if got.transient:
                    self.result.incomplete.append(f"the sitemap {url} failed for now ({got.detail or got.reason})")
                continue
            found, children = _sitemap_locs(got.body)
            pages.extend(found)
            todo.extend(c for c in children if self.same_site(c))
        if todo:
            self.result.incomplete.append(f"more than {MAX_SITEMAPS} sitemap files; the rest were not read")
        return pages

    # -- pages ----------------------------------------------------------------------------------------
    def skip(self, skipped: Skipped) -> None:
        self.failed_for_now += skipped.transient
        self.result.skipped.append(skipped)
        if self.progress:
            self.progress(skipped)

    def visit(self, url: str, depth: int) -> list[str]:
        """Fetch one page and record it; returns its links (for the link-following mode)."""
        self.attempted += 1
        got = self.fetch(url)
        if isinstance(got, Skipped):
            self.skip(got)
            return []
        if got.url != url and got.url in self.seen:
            return []  # a redirect to a page already taken
        self.seen.add(got.url)
        html = _decode(got)
        markup = _read_markup(html, got.url)
        title, text = extract_main_text(html, got.url)
        if markup.noindex:
            self.skip(Skipped(url, NOINDEX, "the page asks not to be indexed (meta robots)"))
        elif (prose := prose_chars(text, markup.link_texts)) < self.min_chars:
            self.skip(Skipped(url, LITTLE_TEXT, f"{prose} characters of main text besides links"))
        else:
            page = Page(got.url, title, text, depth)
            self.result.pages.append(page)
            if self.progress:
                self.progress(page)
        return [] if markup.nofollow else markup.links

    def run(self) -> CrawlResult:
        if refused := self.refused_address(self.start):
            self.result.error = refused.detail
            return self.result
        if error := self.read_robots():
            self.result.error = error
            return self.result
        self.seen.add(self.start)
        before = len(self.result.skipped)
        links = self.visit(self.start, 0)
        start_skip = next(iter(self.result.skipped[before:]), None)
        if start_skip is not None and start_skip.reason not in (LITTLE_TEXT, NOINDEX):
            self.result.error = f"the start page could not be crawled: {start_skip.reason} {start_skip.detail}".strip()
            return self.result
        queue: deque[tuple[str, int]] = deque()
        listed = self.sitemap_urls()
        in_scope, other_host, outside = [], [], 0
        for raw in listed:
            try:
                url = normalise_url(raw)
            except ValueError:
                continue
            if not self.same_site(url):
                other_host.append(url)
            elif not url.startswith(self.scope):
                outside += 1
            else:
                in_scope.append(url)
        folder = urlsplit(self.scope).path
        from_sitemap = any(url != self.start for url in in_scope)
        if from_sitemap:
            self.result.discovered_by = "sitemap"
            for url in other_host:
                self.skip(Skipped(url, OTHER_HOST, "listed in the sitemap"))
            queue.extend((url, 1) for url in in_scope)
            if outside:
                self.result.notes.append(f"{outside} sitemap URLs outside {folder} left out")
        else:
            if listed:
                note = f"the sitemap lists no page under {folder} besides the start page: following links instead"
                self.result.notes.append(note)
            queue.extend(self.new_links(links, 1))
        while queue:
            url, depth = queue.popleft()
            if url in self.seen:
                continue
            self.seen.add(url)
            if not self.allowed(url):
                self.skip(Skipped(url, ROBOTS))
                continue
            if self.attempted >= self.max_pages:
                self.result.not_fetched.append(url)
                continue
            links = self.visit(url, depth)
            if not from_sitemap and depth < self.depth:
                queue.extend(self.new_links(links, depth + 1))
        if self.result.not_fetched:
            self.result.incomplete.append(f"{len(self.result.not_fetched)} pages found over the page limit")
        if self.failed_for_now and not from_sitemap:
            self.result.incomplete.append(f"{self.failed_for_now} pages failed for now, so their links were not read")
        return self.result

    def new_links(self, links: list[str], depth: int) -> list[tuple[str, int]]:
        """Links not seen yet, at `depth` (none past the depth limit); links to other hosts are recorded as
        skipped (once each)."""
        out: list[tuple[str, int]] = []
        if depth > self.depth:
            return out
        for raw in links:
            try:
                url = normalise_url(raw)
            except ValueError:
                continue
            if url in self.seen or any(url == u for u, _ in out):
                continue
            if not self.same_site(url):
                self.seen.add(url)
                self.skip(Skipped(url, OTHER_HOST, "linked from the site"))
                continue
            out.append((url, depth))
        return out


def crawl(
    start_url: str,
    max_pages: int = 50,
    depth: int = 2,
    *,
    delay: float | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    min_chars: int = MIN_TEXT_CHARS,
    client: httpx.Client | None = None,
    progress: CrawlProgress | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    allow_private: bool = False,
) -> CrawlResult:
    """Crawl one site politely (see the module docstring) and return its pages and what was skipped, and why.

    `max_pages` bounds the pages requested (the start page included); `depth` bounds link following (0: the start
    page only); `delay` defaults to DEFAULT_DELAY. `progress` hears of each page or skip as it happens. A host that
    resolves to a loopback, private, link-local, multicast, reserved or unspecified address is refused unless
    `allow_private` (an intranet help centre). Raises ValueError for a start URL that is not http(s); a site that
    cannot be crawled at all comes back with `error` set."""
    delay = DEFAULT_DELAY if delay is None else delay
    if max_pages < 1 or depth < 0 or delay < 0:
        raise ValueError("max pages must be at least 1, depth and delay at least 0")
    own = client is None
    client = client or httpx.Client(
        trust_env=False,  # no proxies or netrc from the environment
        transport=None if allow_private else checked_transport(),  # the address check at each connection too
        timeout=timeout,
        follow_redirects=False,  # followed by hand: each hop is checked for host and robots.txt
        headers={"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"},
    )
    try:
        crawler = _Crawler(
            start_url,
            max_pages,
            depth,
            delay=delay,
            timeout=timeout,
            max_bytes=max_bytes,
            min_chars=min_chars,
            client=client,
            progress=progress,
            sleep=sleep,
            clock=clock,
            allow_private=allow_private,
        )
        return crawler.run()
    finally:
        if own:
            client.close()
