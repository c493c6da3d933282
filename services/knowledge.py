"""The knowledge service: ingest, search, list, delete, re-index. CLI, pages, API and tests all use it."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from langchain_core.embeddings import Embeddings

from base.errors import StoreUnavailable, StoreWriteError
from base.settings import Settings
from base.types import Hit
from chains.calibration import StoreCalibration
from loaders import SUPPORTED_EXTENSIONS, LoaderError, ParsedFile, parse_file
from loaders.base import safe_source_name
from loaders.semantic_screen import SemanticScreen
from providers.embeddings import build_embeddings
from services.kb_calibration import Calibrator
from services.kb_columns import ColumnMaps
from services.kb_host import FileProgress, IngestReport
from services.kb_reindex import Reindexer, finish_interrupted_swap
from services.kb_review import ReviewQueue, screen_text
from services.store_files import CALIBRATION_FILE, COLUMN_MAPS_FILE, REINDEX_COMPLETE, SITES_FILE, StoreFiles
from vectorstore.manifest import HeldPassage, SourceInfo, StoreEvent
from vectorstore.retrieval import Searcher
from vectorstore.store import Health, KnowledgeStore, UpsertResult

# Re-exported: callers name the side files and the screen's text through this module.
__all__ = [
    "CALIBRATION_FILE",
    "COLUMN_MAPS_FILE",
    "REINDEX_COMPLETE",
    "SITES_FILE",
    "FileProgress",
    "IngestReport",
    "KnowledgeBase",
    "screen_text",
]


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, plus supported files found under given directories (sorted, hidden skipped)."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(
                f
                for f in sorted(p.rglob("*"))
                if f.is_file()
                and f.suffix.lower() in SUPPORTED_EXTENSIONS
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
                and f.name.lower() not in {"readme.md", "license.md", "license.txt"}
            )
        else:
            out.append(p)
    return out


class SharedExclusiveLock:
    """Many holders share it; an exclusive holder waits for them to leave and holds new ones back meanwhile.

    Used twice: searches share `_swap` and a store swap (the end of a reindex) takes it for its few milliseconds,
    so no search opens Chroma on a directory being moved; writes share `_gate` and a reindex takes it throughout,
    so no upload lands in a store about to be replaced."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._holders = 0
        self._exclusive = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._exclusive)
            self._holders += 1
        try:
            yield
        finally:
            with self._cond:
                self._holders -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._exclusive)
            self._exclusive = True
            self._cond.wait_for(lambda: self._holders == 0)
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()


@contextmanager
def _under_safe_name(path: Path) -> Iterator[Path]:
    """The file under its safe name (`safe_source_name`: the same rule as uploads; a copy when it differs), so a
    name with control characters or longer than the file system allows never reaches the store's directory."""
    try:
        source = safe_source_name(path.name)
    except ValueError as exc:
        raise LoaderError(path, str(exc)) from None
    if source == path.name:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="ingest-") as tmp:
        renamed = Path(tmp) / source
        try:
            shutil.copyfile(path, renamed)
        except OSError as exc:
            raise LoaderError(path, f"cannot read file ({exc.strerror or exc})") from None
        yield renamed


class KnowledgeBase:
    """Owns the embeddings, the store and the searcher for one store directory; a thin facade over its parts:
    column maps (services/kb_columns.py), the review queue and screens (kb_review.py), decline calibration
    (kb_calibration.py) and re-index (kb_reindex.py). The side files are named in services/store_files.py.

    Thread-safe for the app's pattern: many searches (chat sessions) alongside writers. Writes to different sources
    run side by side (a long upload does not hold up *Add an answer*; the store serialises writes per source);
    a reindex waits for the writes in flight and holds new ones back until it has swapped the store in.
    """

    def __init__(
        self,
        settings: Settings,
        store_dir: str | Path | None = None,
        embeddings: Embeddings | None = None,
        recover_in_background: bool = False,
        screen: SemanticScreen | Literal[False] | None = None,
    ) -> None:
        """`embeddings` and `screen` (the semantic screen; False: none) default to what the settings build."""
        self.settings = settings
        self.store_dir = Path(store_dir or settings.store_dir)
        self.files = StoreFiles(self.store_dir)
        self.recover_in_background = recover_in_background
        self._embeddings = embeddings
        self._store: KnowledgeStore | None = None
        self._searcher: Searcher | None = None
        self._gate = SharedExclusiveLock()  # writes share it, a reindex takes it alone
        self._swap = SharedExclusiveLock()  # searches share it, the swap at the end of a reindex takes it alone
        self.columns = ColumnMaps(self.files)
        self.review_queue = ReviewQueue(self, screen)
        self.calibrator = Calibrator(self)
        self.reindexer = Reindexer(self, type(self))

    formats: tuple[str, ...] = SUPPORTED_EXTENSIONS
    """File extensions the knowledge base accepts (what an upload form offers)."""

    @property
    def embeddings(self) -> Embeddings:
        if self._embeddings is None:
            self._embeddings = build_embeddings(self.settings)
        return self._embeddings

    @property
    def store(self) -> KnowledgeStore:
        if self._store is None:
            finish_interrupted_swap(self.files)
            self._store = KnowledgeStore(
                self.store_dir,
                self.embeddings,
                self.settings.collection,
                self.settings.chroma_url,
                recover_in_background=self.recover_in_background,
            )
        return self._store

    @property
    def searcher(self) -> Searcher:
        if self._searcher is None:
            self._searcher = Searcher(self.store, self.settings.retrieval_mode, self.settings.language_margins)
        return self._searcher

    def reading(self):
        """Held while the store is read: the swap at the end of a reindex waits for it."""
        return self._swap.shared()

    def swapping(self):
        """Held while the store directory is replaced (no read meanwhile)."""
        return self._swap.exclusive()

    def drop_store(self) -> None:
        """Close the open store (its directory is about to move); the next use opens the one in place."""
        if self._store is not None:
            self._store.close()
        self._store, self._searcher = None, None

    # -- writes -------------------------------------------------------------------------------------
    def parse(self, path: str | Path, columns: dict[str, str] | None = None) -> ParsedFile:
        """Parse and screen one file with the configured limits (in a child process unless disabled);
        `columns`: a catalogue CSV's column mapping."""
        limits = self.settings.parse_limits()
        if not self.settings.parse_isolation:
            return parse_file(path, limits, columns)
        from loaders.isolated import parse_isolated

        return parse_isolated(path, limits, columns)

    def column_maps(self) -> dict[str, dict[str, str]]:
        """The column mappings staff gave, by source name: the next upload of that file name uses it again."""
        return self.columns.all()

    def column_map(self, name: str) -> dict[str, str] | None:
        """The remembered mapping for a file name (as uploaded or as stored), or None."""
        return self.columns.get(name)

    def ingest_file(
        self,
        path: str | Path,
        progress: Callable[[int, int], None] | None = None,
        columns: dict[str, str] | None = None,
    ) -> UpsertResult:
        """Parse fully, then store; a `LoaderError` leaves the store untouched. A change re-fits the decline
        thresholds to the store. `columns`: a catalogue CSV's column mapping, remembered for the file's name
        (without one, the remembered mapping applies, else the columns are detected). The file is stored under its
        safe name (`_under_safe_name`)."""
        result = self._ingest_file(path, progress, columns)
        if result.status != "unchanged":
            self.recalibrate()
        return result

    def _ingest_file(
        self, path: str | Path, progress: Callable[[int, int], None] | None, columns: dict[str, str] | None = None
    ) -> UpsertResult:
        with _under_safe_name(Path(path)) as named:
            return self._ingest_as(named, progress, columns)

    def _ingest_as(
        self, path: Path, progress: Callable[[int, int], None] | None, columns: dict[str, str] | None = None
    ) -> UpsertResult:
        parsed = self.columns.parse(path, columns, self.parse)  # before the gate: parsing needs no store
        held = self.review_queue.hold(parsed)
        live = [doc for n, doc in enumerate(parsed.docs) if n not in held]
        if not live:
            raise LoaderError(path, "every passage reads like instructions to the assistant or like fraud; "
                              "nothing to store")  # fmt: skip
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        pairs = [(parsed.docs[n].page_content, reason) for n, reason in sorted(held.items())]
        with self._gate.shared():
            result = self.store.upsert_source(path.name, live, sha256=sha, raw_file=path, progress=progress, held=pairs)
        if columns:
            self.columns.remember(path.name, columns)
        result.warnings = parsed.warnings + self.review_queue.link_warnings(parsed)
        for n, reason in sorted(held.items()):
            meta = parsed.docs[n].metadata
            where = (meta.get("page") and f"page {meta['page']}") or meta.get("doc_id", "")
            result.warnings.append(f"held a passage ({where}) back for review on the Knowledge page: it {reason}")
        return result

    @property
    def screen(self) -> SemanticScreen | None:
        """The semantic screen (`screen_model`), loaded on first use; None when it is off."""
        return self.review_queue.screen

    def held_passages(self) -> list[HeldPassage]:
        """Passages waiting for staff review, newest first."""
        return self.review_queue.waiting()

    def review(self, source: str, passage: str, approve: bool) -> UpsertResult | None:
        """Record staff's decision on a held passage; an approved one goes live at once."""
        return self.review_queue.decide(source, passage, approve)

    def ingest_paths(
        self,
        paths: Sequence[str | Path],
        progress: FileProgress | None = None,
        columns: dict[str, str] | None = None,
    ) -> IngestReport:
        """Ingest each file independently: good files land, bad ones are reported with the reason. `columns`:
        the column mapping for every catalogue CSV among them."""
        report = IngestReport([], [])
        for path in expand_paths(paths):
            cb = (lambda done, total, _p=path: progress(_p.name, done, total)) if progress else None
            given = columns if columns and path.suffix.lower() == ".csv" else None
            try:
                report.done.append(self._ingest_file(path, cb, given))
            except LoaderError as exc:
                report.failed.append((path.name, exc.reason))
            except (StoreUnavailable, StoreWriteError) as exc:  # this file did not land; the store is as it was
                report.failed.append((path.name, str(exc)))
        if any(r.status != "unchanged" for r in report.done) or not self.calibration():
            self.recalibrate()  # once for the whole batch
        return report

    def delete(self, source: str) -> int:
        """Delete a source by its stored name; returns the number of chunks removed."""
        with self._gate.shared():
            removed = self.store.delete_source(source)
        if removed:
            self.recalibrate()
        return removed

    def resolve_source(self, name: str) -> str | None:
        """The stored source for a file name as given to ingest (stored under its safe name), or None."""
        with self._swap.shared():
            if self.store.get_source(name) is not None:
                return name
            with contextlib.suppress(ValueError):
                safe = safe_source_name(name)
                if self.store.get_source(safe) is not None:
                    return safe
            return None

    def reindex(self, progress: FileProgress | None = None) -> IngestReport:
        """Rebuild the whole store from its kept file copies with the current embedding model.

        Built in a sibling directory and swapped in at the end, so a failure leaves the old store; so does
        any file that no longer loads (it is reported), rather than silently dropping that source.
        Searches go on against the old store meanwhile; writes wait for the end."""
        with self._gate.exclusive():
            return self.reindexer.run(progress)

    # -- decline calibration ------------------------------------------------------------------------
    def calibration(self) -> StoreCalibration | None:
        """The thresholds fitted to this store's content (None before the first fit, or for another embedder)."""
        return self.calibrator.current()

    def decline_thresholds(self) -> dict[str, float]:
        """What the decline gate uses (services/kb_calibration.py)."""
        return self.calibrator.thresholds()

    def recalibrate(self) -> StoreCalibration | None:
        """Re-fit the decline thresholds to what the store holds now; never fails the write."""
        return self.calibrator.refit()

    # -- reads --------------------------------------------------------------------------------------
    def search(self, query: str, k: int | None = None) -> list[Hit]:
        with self._swap.shared():
            return self.searcher.search(query, k or self.settings.top_k)

    def search_many(self, queries: Sequence[str], k: int | None = None) -> list[list[Hit]]:
        with self._swap.shared():
            return self.searcher.search_many(queries, k or self.settings.top_k)

    def stats(self) -> dict[str, int]:
        with self._swap.shared():
            return self.store.stats()

    def health(self) -> Health:
        """Open the index (checking and, after a crash, rebuilding it) and say what it can serve."""
        with self._swap.shared():
            return self.store.health()

    def events(self, limit: int = 20) -> list[StoreEvent]:
        """Recoveries and other things that happened to the store, newest first."""
        with self._swap.shared():
            return self.store.events(limit)

    def list_sources(self) -> list[SourceInfo]:
        with self._swap.shared():
            return self.store.list_sources()

    def kept_copy(self, source: str) -> Path | None:
        """The stored file of `source` (what staff download to edit and upload again), or None."""
        with self._swap.shared():
            if self.store.get_source(source) is None:
                return None
            path = self.store.files_dir / source
            return path if path.is_file() else None
