"""The shop's help centre as a knowledge source: crawl a site (loaders/web.py), store each page as one Markdown
source through `KnowledgeBase`, and remember which pages came from which site so a re-crawl can replace them and
remove the ones that are gone.

Each page goes through the same path as an upload (screens, kept copy for re-index, atomic replace,
re-calibration); unchanged pages cost nothing because the store skips unchanged content. The record of crawled
sites is `<store_dir>/sites.json`: start URL -> {page URL -> source name, last crawl time, the page limit and link
depth the recorded pages were found with}.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from base.errors import StoreError
from base.files import write_json_atomic
from loaders.documents import split_front_matter
from loaders.web import (
    CrawlResult,
    Page,
    Skipped,
    crawl,
    hashed_source_name,
    normalise_url,
    page_markdown,
    source_name_for,
)
from services.knowledge import KnowledgeBase
from services.store_files import SITES_FILE

LineProgress = Callable[[str], None]
_LOCK = threading.Lock()  # one crawl at a time per process: the record is read, then rewritten


@dataclass
class PageResult:
    """What happened to one page: added, replaced, unchanged, failed (not stored; an earlier version stays),
    kept (a temporary failure or not reached this time: the earlier version stays) or removed (gone from the
    site)."""

    url: str
    source: str
    status: str
    chunks: int = 0
    detail: str = ""


@dataclass
class SiteReport:
    """One crawl of one site, for staff: every page's outcome, and every page skipped with the reason."""

    start_url: str
    pages: list[PageResult] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (source, warning)
    not_fetched: int = 0
    notes: list[str] = field(default_factory=list)
    discovered_by: str = "links"
    requests: int = 0
    error: str | None = None

    def count(self, status: str) -> int:
        return sum(p.status == status for p in self.pages)

    @property
    def stored(self) -> int:
        """Pages the store holds from this crawl (added, replaced or unchanged)."""
        return sum(p.status in ("added", "replaced", "unchanged") for p in self.pages)

    @property
    def ok(self) -> bool:
        return self.error is None and self.stored > 0

    def summary(self) -> str:
        counts = ", ".join(
            f"{self.count(s)} {s}" for s in ("added", "replaced", "unchanged", "removed", "failed", "kept")
        )
        more = f", {self.not_fetched} found but over the page limit" if self.not_fetched else ""
        return (
            f"{self.start_url}: {counts}, {len(self.skipped)} skipped{more} "
            f"(pages from the {'sitemap' if self.discovered_by == 'sitemap' else 'links'}; {self.requests} requests)"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "start_url": self.start_url,
            "error": self.error,
            "pages": [asdict(p) for p in self.pages],
            "skipped": [{"url": s.url, "reason": s.reason, "detail": s.detail} for s in self.skipped],
            "warnings": [{"source": s, "warning": w} for s, w in self.warnings],
            "not_fetched": self.not_fetched,
            "notes": self.notes,
            "discovered_by": self.discovered_by,
            "requests": self.requests,
        }


def describe(item: Page | Skipped) -> str:
    """One progress line for a crawled or skipped page."""
    if isinstance(item, Page):
        return f"fetched {item.url}"
    detail = f" ({item.detail})" if item.detail else ""
    return f"skipped {item.url}: {item.reason}{detail}"


def load_sites(store_dir: Path) -> dict[str, dict[str, Any]]:
    """The record of crawled sites: start URL -> {"pages": {url: source}, "crawled_at": ..., ...}."""
    try:
        data = json.loads((Path(store_dir) / SITES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    sites = data.get("sites", {}) if isinstance(data, dict) else {}
    return {k: v for k, v in sites.items() if isinstance(v, dict) and isinstance(v.get("pages"), dict)}


def source_urls(store_dir: Path) -> dict[str, str]:
    """Source name -> the page URL it was crawled from (for the document list)."""
    return {source: url for site in load_sites(store_dir).values() for url, source in site["pages"].items()}


def _crawled_from(kb: KnowledgeBase, source: str) -> str | None:
    """The URL a stored source was crawled from (its kept copy's front matter), or None."""
    kept = kb.kept_copy(source)
    if kept is None:
        return None
    with kept.open(encoding="utf-8", errors="replace") as fh:
        page, _ = split_front_matter(fh.read(4096))
    return page.get("url")


def _ours(kb: KnowledgeBase, source: str, url: str) -> bool:
    """Whether `source` is free or holds the page `url` (not a document staff uploaded under that name)."""
    return kb.resolve_source(source) is None or _crawled_from(kb, source) == url


def _name_for(url: str, known: dict[str, str], taken: set[str], kb: KnowledgeBase) -> str:
    """The page's source name: the one it had before, else a readable one, with a hash of the URL when that name
    belongs to another page or to a document staff uploaded (a page never overwrites one)."""
    name = known.get(url) or source_name_for(url)
    if (url not in known and name in taken) or not _ours(kb, name, url):
        name = hashed_source_name(url)
    return name


def ingest_site(
    kb: KnowledgeBase,
    start_url: str,
    max_pages: int = 50,
    depth: int = 2,
    *,
    allow_private: bool | None = None,
    progress: LineProgress | None = None,
    **crawl_options: Any,
) -> SiteReport:
    """Crawl `start_url` and make the store hold its pages: new ones added, changed ones replaced, pages that are
    gone removed (see `_store_pages` for which). A failed crawl (start page or robots.txt unreachable) or one that
    stored nothing removes nothing; a page that failed only for now (timeout, 5xx, 401/403/429) keeps its earlier
    version, and so does one not reached this time when the crawl was cut short or ran with lower limits.

    `allow_private` (None: the store's setting `crawl_allow_private`) lets the crawler request internal addresses.
    Raises ValueError for a start URL that is not http(s). `crawl_options` go to `loaders.web.crawl` (delay,
    timeout, max_bytes, min_chars, ...)."""
    start = normalise_url(start_url)
    say = progress or (lambda _line: None)
    private = kb.settings.crawl_allow_private if allow_private is None else allow_private
    with _LOCK:
        result = crawl(
            start,
            max_pages,
            depth,
            progress=lambda item: say(describe(item)),
            allow_private=private,
            **crawl_options,
        )
        report = SiteReport(
            start,
            skipped=result.skipped,
            not_fetched=len(result.not_fetched),
            notes=result.notes,
            discovered_by=result.discovered_by,
            requests=result.requests,
            error=result.error,
        )
        if result.error:
            return report
        _store_pages(kb, start, result, report, say, max_pages, depth)
        return report


def _store_pages(
    kb: KnowledgeBase,
    start: str,
    result: CrawlResult,
    report: SiteReport,
    say: LineProgress,
    max_pages: int,
    depth: int,
) -> None:
    """Store the crawled pages, then settle each page the record held for this site and this crawl did not store:

    - skipped for a reason that may pass (timeout, network, 5xx, 401/403/408/425/429): kept;
    - skipped for a lasting reason (404/410, noindex, not HTML, too large, too little text, robots.txt, another
      host, a redirect problem): removed;
    - not reached at all: kept when the crawl was cut short (page limit hit, a sitemap failing, or, following
      links, a page failing for now) or ran with a lower page limit or depth than the record's; else removed as
      no longer found on the site.

    Nothing is removed when no page could be stored. The record keeps the higher limits while pages found with
    them are kept unreached, so a later crawl with the lower limits does not remove them either."""
    sites = load_sites(kb.store_dir)
    record = sites.get(start, {})
    previous: dict[str, str] = dict(record.get("pages", {}))
    last_pages, last_depth = _recorded(record, "max_pages", max_pages), _recorded(record, "depth", depth)
    lower = [f"page limit {max_pages}, {last_pages} before"] if max_pages < last_pages else []
    lower += [f"depth {depth}, {last_depth} before"] if depth < last_depth else []
    cut_short = "; ".join(result.incomplete + lower)
    kept_unreached = False
    elsewhere = {u: s for site, rec in sites.items() if site != start for u, s in rec["pages"].items()}
    known = {**elsewhere, **previous}
    taken = set(known.values())
    names: dict[str, str] = {}  # url -> source, this crawl
    with tempfile.TemporaryDirectory(prefix="crawl-") as tmp:
        paths = []
        for page in result.pages:
            name = _name_for(page.url, known, taken, kb)
            taken.add(name)
            names[page.url] = name
            path = Path(tmp) / name
            path.write_text(page_markdown(page), encoding="utf-8")
            paths.append(path)
        say(f"storing {len(paths)} pages")
        ingest = kb.ingest_paths(paths)
    by_source = {r.source: r for r in ingest.done}
    failed = dict(ingest.failed)
    current: dict[str, str] = {}
    for url, name in names.items():
        if name in by_source:
            done = by_source[name]
            report.pages.append(PageResult(url, name, done.status, done.chunks))
            report.warnings.extend((name, w) for w in done.warnings)
            current[url] = name
        else:
            report.pages.append(PageResult(url, name, "failed", detail=failed.get(name, "not stored")))
            if url in previous:
                current[url] = previous[url]  # the store still holds the earlier version
        say(f"{report.pages[-1].status} {url} -> {name}")
    skipped = {s.url: s for s in result.skipped}
    unfetched = set(result.not_fetched)
    for url, name in previous.items():
        if url in current:
            continue
        why = skipped.get(url)
        if why is not None and why.transient:
            current[url] = name
            report.pages.append(PageResult(url, name, "kept", detail=f"{why.detail or why.reason} this time"))
            continue
        if why is None and (url in unfetched or cut_short):
            current[url] = name
            kept_unreached = True
            detail = "over the page limit this time" if url in unfetched else f"not reached this time ({cut_short})"
            report.pages.append(PageResult(url, name, "kept", detail=detail))
            continue
        if report.stored == 0:
            current[url] = name  # nothing came through this time: removing everything would be a guess
            continue
        keep = name in current.values() or name in elsewhere.values() or not _ours(kb, name, url)
        try:
            removed = 0 if keep else kb.delete(name)
        except StoreError as exc:
            report.pages.append(PageResult(url, name, "failed", detail=f"could not remove it: {exc}"))
            current[url] = name
            continue
        gone = f"{why.reason} ({why.detail})" if why is not None else "no longer found on the site"
        report.pages.append(PageResult(url, name, "removed", removed, gone))
        say(f"removed {url} -> {name}")
    if report.stored == 0 and previous:
        report.notes.append("no page could be stored this time, so no earlier page was removed")
    sites[start] = {
        "crawled_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "max_pages": max(max_pages, last_pages) if kept_unreached else max_pages,
        "depth": max(depth, last_depth) if kept_unreached else depth,
        "pages": dict(sorted(current.items())),
    }
    write_json_atomic(kb.store_dir / SITES_FILE, {"version": 1, "sites": sites})


def _recorded(record: dict[str, Any], key: str, default: int) -> int:
    """A limit the record holds for a site (`default` when it holds none, or nonsense)."""
    value = record.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else default
