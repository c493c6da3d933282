"""Links and images in knowledge text, as customers and staff see it.

Knowledge files come from staff and suppliers and may carry a phishing link ("our secure refund portal") or a
tracking pixel; the pages render Markdown, which would make both live (and Markdown turns bare addresses into
links by itself). So text is rendered as text, with one exception:

- a link to a host the shop allows (`allowed_link_hosts`, subdomains included; http, https or mailto) stays a link;
- any other Markdown link shows its text only; a bare address or email of another host is shown as code (readable,
  not clickable); reference-style link definitions are dropped;
- images are never loaded, whatever their host: their alt text stays.

`render_safe` is applied to everything knowledge-derived that a page renders (answers, while they stream too,
sources, search preview titles, upload warnings); `foreign_links` tells staff at upload what will be neutralised.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from urllib.parse import urlparse

_TITLE = r"""(?:\s+(?:"[^"]*"|'[^']*'))?"""
_PATTERN = re.compile(
    rf"(?P<image>!\[(?P<alt>[^\]]*)\]\(\s*<?[^)>]*>?{_TITLE}\s*\))"
    rf"|(?P<link>\[(?P<text>[^\]]*)\]\(\s*<?(?P<href>[^\s)>]*)>?{_TITLE}\s*\))"
    r"|(?P<angle><(?P<auto>[a-z][a-z0-9+.-]*:[^<>\s]*)>)"
    r"|(?P<bare>(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s<>`]*[^\s<>`.,;:!?)\]'\"])"
    r"|(?P<email>[\w.+'-]+@[\w-]+(?:\.[\w-]+)+)",
    re.IGNORECASE,
)
_REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*\S.*$", re.MULTILINE)
_HTML_IMAGE = re.compile(r"<\s*img\b[^>]*>", re.IGNORECASE)


def host_of(url: str) -> str:
    """The host a link points at ('' when it has none), for mailto the domain of the address."""
    if url.lower().startswith("mailto:"):
        return url.split("@")[-1].split("?")[0].lower()
    parsed = urlparse(url if "://" in url else f"http://{url}")
    return (parsed.hostname or "").lower()


def is_allowed(url: str, allowed_hosts: Iterable[str]) -> bool:
    scheme = url.split(":", 1)[0].lower() if ":" in url else "http"
    if url.lower().startswith("www."):
        scheme = "http"
    if scheme not in ("http", "https", "mailto"):
        return False  # javascript:, data:, file: ... never
    host = host_of(url)
    return any(host == h or host.endswith("." + h) for h in (h.lower().strip(".") for h in allowed_hosts) if h)


def _code(text: str) -> str:
    return f"`{text.replace('`', '')}`"


def render_safe(text: str, allowed_hosts: Iterable[str]) -> str:
    """Markdown in which only links to allowed hosts are live and no image loads (see module docstring)."""
    allowed = tuple(allowed_hosts)

    def replace(m: re.Match) -> str:
        if m.group("image"):
            return render_safe(m.group("alt"), allowed)
        if m.group("link"):
            if is_allowed(m.group("href"), allowed):
                return m.group(0)
            return render_safe(m.group("text"), allowed)
        if m.group("angle"):
            return m.group(0) if is_allowed(m.group("auto"), allowed) else _code(m.group("auto"))
        if m.group("bare"):
            return m.group(0) if is_allowed(m.group("bare"), allowed) else _code(m.group("bare"))
        return m.group(0) if is_allowed(f"mailto:{m.group('email')}", allowed) else _code(m.group("email"))

    text = _HTML_IMAGE.sub("", _REF_DEF.sub("", text))
    return _PATTERN.sub(replace, text)


def source_link(label: str, url: str | None, allowed_hosts: Iterable[str]) -> str:
    """A source's place as Markdown: a live link to `url` (a crawled help-centre page) when its host is one the
    shop allows and it can be written as a Markdown destination, else `label` as code, as before links existed."""
    plain = _code(label)
    if not url or re.search(r"[\s<>\\]", url) or not url.lower().startswith(("http://", "https://")):
        return plain
    if not is_allowed(url, allowed_hosts):
        return plain
    text = label.replace("[", "(").replace("]", ")").replace("`", "")
    return f"[{text}](<{url}>)"


def foreign_links(text: str, allowed_hosts: Iterable[str]) -> tuple[Counter[str], int]:
    """(hosts of links and addresses in `text` that `render_safe` neutralises, with counts; number of images)."""
    allowed = tuple(allowed_hosts)
    hosts: Counter[str] = Counter()
    images = 0
    for m in _PATTERN.finditer(text):
        images += bool(m.group("image"))
        email = m.group("email")
        url = m.group("href") or m.group("auto") or m.group("bare") or (f"mailto:{email}" if email else "")
        if url and not is_allowed(url, allowed):
            hosts[host_of(url) or url[:40]] += 1
    return hosts, images + len(_HTML_IMAGE.findall(text))
