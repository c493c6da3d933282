"""The knowledge service: ingest, search, list, delete, re-index. CLI, pages, API and tests all use it."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from base.errors import StoreUnavailable, StoreWriteError
from base.faults import fault_point
from base.files import write_json_atomic
from base.links import foreign_links
from base.settings import Settings
from base.types import Hit
from chains.calibration import StoreCalibration, calibrate
from chains.gate import FALLBACK_THRESHOLDS
from loaders import SUPPORTED_EXTENSIONS, LoaderError, ParsedFile, parse_file
from loaders.base import safe_source_name
from loaders.catalogue import MAPPING_MISMATCH
from loaders.semantic_screen import SemanticScreen
from providers.embeddings import build_embeddings, embed_queries, use_bf16, wheel_minilm
from vectorstore.manifest import HeldPassage, Manifest, SourceInfo, StoreEvent, passage_id
from vectorstore.retrieval import Searcher
from vectorstore.store import Health, KnowledgeStore, UpsertResult, chunk_ids_for

FileProgress = Callable[[str, int, int], None]
logger = logging.getLogger(__name__)
REINDEX_COMPLETE = "reindex.complete"  # written into a staged store once it is whole
CALIBRATION_FILE = "calibration.json"  # the decline thresholds fitted to this store (chains/calibration.py)
COLUMN_MAPS_FILE = "column_maps.json"  # catalogue column mappings staff gave, by source name (loaders/catalogue.py)
SITES_FILE = "sites.json"  # crawled help-centre sites: start URL -> their pages (services/crawl.py)
_UNSET = object()


@dataclass
class IngestReport:
    """Outcome for every file of one ingest call; `failed` holds (file, reason)."""

    done: list[UpsertResult]
    failed: list[tuple[str, str]]

    @property
    def ok(self) -> bool:
        return not self.failed


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


def screen_text(doc: Document) -> str:
    """What the semantic screen reads of a passage: a product's text cells (name, brand, category, tags,
    description, details, options), not the lines our loader writes from numbers (SKU, price, stock, delivery: the
    pattern screen still reads the whole text). The screen is the costliest step of a catalogue ingest
    (bench/catalogue_scale.py); on 200 demo products this lifted it from 12.3 to 14.4 passages/s."""
    meta = doc.metadata
    if meta.get("type") != "product":
        return doc.page_content
    fields = (meta.get(k) for k in ("name", "brand", "category", "tags", "description", "attributes", "options"))
    return "\n".join(str(v) for v in fields if v) or doc.page_content


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


class KnowledgeBase:
    """Owns the embeddings, the store and the searcher for one store directory.

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
        self.recover_in_background = recover_in_background
        self._embeddings = embeddings
        self._screen: SemanticScreen | object | None = _UNSET if screen is None else (screen or None)
        self._store: KnowledgeStore | None = None
        self._searcher: Searcher | None = None
        self._gate = SharedExclusiveLock()  # writes share it, a reindex takes it alone
        self._swap = SharedExclusiveLock()  # searches share it, the swap at the end of a reindex takes it alone
        self._calibration: tuple[int, StoreCalibration | None] | None = None  # (file mtime, what it held)
        self._bank_vectors: dict[str, list[float]] = {}  # calibration messages -> vectors (this embedder)

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
            self._finish_interrupted_swap()
            self._store = KnowledgeStore(
                self.store_dir,
                self.embeddings,
                self.settings.collection,
                self.settings.chroma_url,
                recover_in_background=self.recover_in_background,
            )
        return self._store

    def _sibling(self, suffix: str) -> Path:
        return self.store_dir.with_name(self.store_dir.name + suffix)

    def _finish_interrupted_swap(self) -> None:
        """A reindex killed between its two renames leaves no store directory: finish the swap when the new
        store was complete, else put the old one back (a store is never silently emptied)."""
        if self.store_dir.exists():
            return
        staging, backup = self._sibling(".reindex"), self._sibling(".old")
        if (staging / REINDEX_COMPLETE).exists():
            staging.rename(self.store_dir)
            (self.store_dir / REINDEX_COMPLETE).unlink()
            message = "A re-index was interrupted while swapping stores; the complete new store was put in place."
        elif backup.exists():
            backup.rename(self.store_dir)
            message = "A re-index was interrupted while swapping stores; the previous store was put back."
        else:
            return
        Manifest(self.store_dir / "manifest.sqlite3").add_event("recovered", message)
        logger.warning("knowledge store %s: %s", self.store_dir, message)

    @property
    def searcher(self) -> Searcher:
        if self._searcher is None:
            self._searcher = Searcher(self.store, self.settings.retrieval_mode, self.settings.language_margins)
        return self._searcher

    # -- writes -------------------------------------------------------------------------------------
    def parse(self, path: str | Path, columns: dict[str, str] | None = None) -> ParsedFile:
        """Parse and screen one file with the configured limits (in a child process unless disabled);
        `columns`: a catalogue CSV's column mapping."""
        limits = self.settings.parse_limits()
        if not self.settings.parse_isolation:
            return parse_file(path, limits, columns)
        from loaders.isolated import parse_isolated

        return parse_isolated(path, limits, columns)

    # -- catalogue column mappings ------------------------------------------------------------------
    def column_maps(self) -> dict[str, dict[str, str]]:
        """The column mappings staff gave, by source name: the next upload of that file name uses it again."""
        try:
            data = json.loads((self.store_dir / COLUMN_MAPS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): {str(f): str(c) for f, c in v.items()} for k, v in data.items() if isinstance(v, dict)}

    def column_map(self, name: str) -> dict[str, str] | None:
        """The remembered mapping for a file name (as uploaded or as stored), or None."""
        with contextlib.suppress(ValueError):
            name = safe_source_name(name)
        return self.column_maps().get(name)

    def _remember_columns(self, source: str, columns: dict[str, str]) -> None:
        maps = self.column_maps()
        if maps.get(source) != columns:
            maps[source] = dict(columns)
            self.store_dir.mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.store_dir / COLUMN_MAPS_FILE, maps)

    def ingest_file(
        self,
        path: str | Path,
        progress: Callable[[int, int], None] | None = None,
        columns: dict[str, str] | None = None,
    ) -> UpsertResult:
        """Parse fully, then store; a `LoaderError` leaves the store untouched. A change re-fits the decline
        thresholds to the store. `columns`: a catalogue CSV's column mapping, remembered for the file's name
        (without one, the remembered mapping applies, else the columns are detected).

        The file is stored under its safe name (`safe_source_name`: the same rule as uploads), so a name with
        control characters or longer than the file system allows never reaches the store's directory."""
        result = self._ingest_file(path, progress, columns)
        if result.status != "unchanged":
            self.recalibrate()
        return result

    def _ingest_file(
        self, path: str | Path, progress: Callable[[int, int], None] | None, columns: dict[str, str] | None = None
    ) -> UpsertResult:
        path = Path(path)
        try:
            source = safe_source_name(path.name)
        except ValueError as exc:
            raise LoaderError(path, str(exc)) from None
        if source == path.name:
            return self._ingest_as(path, progress, columns)
        with tempfile.TemporaryDirectory(prefix="ingest-") as tmp:
            renamed = Path(tmp) / source
            try:
                shutil.copyfile(path, renamed)
            except OSError as exc:
                raise LoaderError(path, f"cannot read file ({exc.strerror or exc})") from None
            return self._ingest_as(renamed, progress, columns)

    def _parse_with_columns(self, path: Path, columns: dict[str, str] | None) -> ParsedFile:
        """Parse with the given mapping, else the remembered one (a remembered mapping that no longer fits the
        file's columns gives way to detection; a given one that does not fit is the staff's error to see)."""
        if columns or path.suffix.lower() != ".csv":
            return self.parse(path, columns or None)
        remembered = self.column_maps().get(path.name)
        if remembered:
            try:
                return self.parse(path, remembered)
            except LoaderError as exc:
                if MAPPING_MISMATCH not in exc.reason:
                    raise
        return self.parse(path)

    def _ingest_as(
        self, path: Path, progress: Callable[[int, int], None] | None, columns: dict[str, str] | None = None
    ) -> UpsertResult:
        parsed = self._parse_with_columns(path, columns)  # before the gate: parsing needs no store
        held = self._hold(parsed)
        live = [doc for n, doc in enumerate(parsed.docs) if n not in held]
        if not live:
            raise LoaderError(path, "every passage reads like instructions to the assistant or like fraud; "
                              "nothing to store")  # fmt: skip
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        pairs = [(parsed.docs[n].page_content, reason) for n, reason in sorted(held.items())]
        with self._gate.shared():
            result = self.store.upsert_source(path.name, live, sha256=sha, raw_file=path, progress=progress, held=pairs)
        if columns:
            self._remember_columns(path.name, columns)
        result.warnings = parsed.warnings + self._link_warnings(parsed)
        for n, reason in sorted(held.items()):
            meta = parsed.docs[n].metadata
            where = (meta.get("page") and f"page {meta['page']}") or meta.get("doc_id", "")
            result.warnings.append(f"held a passage ({where}) back for review on the Knowledge page: it {reason}")
        return result

    @property
    def screen(self) -> SemanticScreen | None:
        """The semantic screen (`screen_model`), loaded on first use; None when it is off."""
        if self._screen is _UNSET:
            model = self.settings.screen_model
            if model == "auto":
                model = "off" if self.settings.embedding_provider == "fake" else "minilm"
            self._screen = None
            if model == "minilm":
                self._screen = SemanticScreen(wheel_minilm(use_bf16(self.settings)), self.settings.screen_threshold)
        return self._screen

    def _hold(self, parsed: ParsedFile) -> dict[int, str]:
        """Positions of the passages to keep out until staff review them, with the reason: those the pattern
        screen flagged and those the semantic screen finds close to a known fraud or instruction phrasing,
        except passages staff already approved."""
        reviews = self.store.manifest.reviews()
        ids = [passage_id(doc.page_content) for doc in parsed.docs]
        held = {n: reason for n, reason in parsed.held.items() if reviews.get(ids[n]) != "approved"}
        if self.screen is not None:
            # A chunk already live passed this screen when it went live: a re-upload with 1% of its rows changed
            # screens that 1% (the screen embeds every sentence, the costliest step of a catalogue ingest).
            live, chunk_ids = self.store.active_ids(), chunk_ids_for(parsed.docs)
            todo = [
                n
                for n in range(len(parsed.docs))
                if n not in parsed.held and reviews.get(ids[n]) != "approved" and chunk_ids[n] not in live
            ]
            for n, flag in zip(todo, self.screen.flag([screen_text(parsed.docs[n]) for n in todo]), strict=True):
                if flag is not None:
                    held[n] = flag.reason()
        return held

    def held_passages(self) -> list[HeldPassage]:
        """Passages waiting for staff review, newest first."""
        with self._swap.shared():
            return self.store.manifest.held()

    def review(self, source: str, passage: str, approve: bool) -> UpsertResult | None:
        """Record staff's decision on a held passage; an approved one goes live at once (the kept copy of its
        file is ingested again, and the screens let that passage through from now on)."""
        with self._swap.shared():
            self.store.manifest.set_review(passage, "approved" if approve else "rejected")
        kept = self.kept_copy(source) if approve else None
        return self.ingest_file(kept) if kept is not None else None

    def _link_warnings(self, parsed: ParsedFile) -> list[str]:
        """Tell staff which links customers will not be able to follow, and that images never show (base/links.py)."""
        hosts: Counter[str] = Counter()
        images = 0
        for doc in parsed.docs:
            found, pictures = foreign_links(doc.page_content, self.settings.allowed_link_hosts)
            hosts.update(found)
            images += pictures
        warnings = []
        if hosts:
            listed = ", ".join(f"{host} ({n}×)" if n > 1 else host for host, n in hosts.most_common(8))
            allowed = ", ".join(self.settings.allowed_link_hosts) or "none"
            warnings.append(
                f"links to other sites are shown to customers as plain text, not as links: {listed}. Sites whose "
                f"links stay clickable: {allowed} (ASSISTANT_ALLOWED_LINK_HOSTS)."
            )
        if images:
            warnings.append(f"{images} image(s) in the text are never shown to customers (remote images can track).")
        return warnings

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
            return self._reindex(progress)

    def _reindex(self, progress: FileProgress | None) -> IngestReport:
        sources = self.store.list_sources()
        problems = self._kept_copy_problems(sources)
        if problems:
            return IngestReport([], problems)
        staging, kept = self._sibling(".reindex"), self._sibling(".files")
        report = self._build_fresh(sources, staging, kept, progress)
        if report.failed:
            shutil.rmtree(staging, ignore_errors=True)
        else:
            self._swap_in(staging)
        shutil.rmtree(kept, ignore_errors=True)
        return report

    def _kept_copy_problems(self, sources: list[SourceInfo]) -> list[tuple[str, str]]:
        """The manifest says what the store holds; each kept copy must be that exact version (a crash or a hand
        edit must not bring back old prices or a deleted document)."""
        problems = []
        for info in sources:
            copy = self.store.files_dir / info.source
            if not copy.is_file():
                problems.append((info.source, "its kept copy is missing; upload the file again"))
            elif hashlib.sha256(copy.read_bytes()).hexdigest() != info.sha256:
                problems.append((info.source, "its kept copy does not match the stored version; upload it again"))
        return problems

    def _build_fresh(
        self, sources: list[SourceInfo], staging: Path, kept: Path, progress: FileProgress | None
    ) -> IngestReport:
        """Ingest copies of the kept files into a new store at `staging`, marked complete when nothing failed."""
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(kept, ignore_errors=True)
        kept.mkdir(parents=True)
        for info in sources:
            shutil.copyfile(self.store.files_dir / info.source, kept / info.source)
        fresh = KnowledgeBase(self.settings, staging, self.embeddings, screen=self.screen or False)
        # Catalogues are read again with the mappings staff gave them; a re-crawl still knows each site's pages.
        for name in (COLUMN_MAPS_FILE, SITES_FILE):
            if (self.store_dir / name).is_file():
                staging.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(self.store_dir / name, staging / name)
        fresh.store.manifest.copy_reviews(self.store.manifest)  # staff's decisions on held passages carry over
        report = fresh.ingest_paths(sorted(kept / info.source for info in sources), progress)
        fresh.store.close()  # Chroma caches one client per path: drop it before the directory moves
        if not report.failed:
            staging.mkdir(parents=True, exist_ok=True)  # nothing to index still gives an (empty) store
            (staging / REINDEX_COMPLETE).touch()
        return report

    def _swap_in(self, staging: Path) -> None:
        """Replace the live store with the complete one at `staging` (finished on open if interrupted)."""
        backup = self._sibling(".old")
        shutil.rmtree(backup, ignore_errors=True)
        fault_point("kb.reindex_built")
        with self._swap.exclusive():
            if self._store is not None:
                self._store.close()
            self._store, self._searcher = None, None
            if self.store_dir.exists():
                self.store_dir.rename(backup)
            fault_point("kb.reindex_swap")
            staging.rename(self.store_dir)
            (self.store_dir / REINDEX_COMPLETE).unlink()
        shutil.rmtree(backup, ignore_errors=True)

    # -- decline calibration ------------------------------------------------------------------------
    def calibration(self) -> StoreCalibration | None:
        """The thresholds fitted to this store's content (None before the first fit, or for another embedder).
        Re-read when another process (the CLI, a second server) re-fitted them."""
        path = self.store_dir / CALIBRATION_FILE
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return None
        if self._calibration is None or self._calibration[0] != mtime:
            self._calibration = (mtime, StoreCalibration.load(path))
        found = self._calibration[1]
        return found if found is not None and found.embedding == self.store.embedding_id else None

    def decline_thresholds(self) -> dict[str, float]:
        """What the decline gate uses: the settings' thresholds when set, else the store's fitted ones (the
        fallback ones until the first fit)."""
        if self.settings.decline_thresholds is not None:
            return dict(self.settings.decline_thresholds)
        found = self.calibration() if self.settings.decline_calibration else None
        return {**FALLBACK_THRESHOLDS, **(found.thresholds if found is not None else {})}

    def recalibrate(self) -> StoreCalibration | None:
        """Re-fit the decline thresholds to what the store holds now (after every change; also `cli.py
        calibrate`). A failure is logged and leaves the previous thresholds: it never fails the write."""
        if not self.settings.decline_calibration or self.settings.decline_thresholds is not None:
            return None
        try:
            with self._swap.shared():
                found = calibrate(self._top1_scores, self.store.embedding_id)
                found.save(self.store_dir / CALIBRATION_FILE)
        except Exception:
            logger.exception("could not re-fit the decline thresholds of %s", self.store_dir)
            return None
        return found

    def _top1_scores(self, texts: list[str]) -> list[float]:
        """The store's best score for each calibration message (message vectors are computed once)."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._bank_vectors]
        if todo:
            self._bank_vectors.update(zip(todo, embed_queries(self.embeddings, todo), strict=True))
        hits = self.searcher.search_embedded(texts, [self._bank_vectors[t] for t in texts], 1, batch=True)
        return [h[0].score if h else 0.0 for h in hits]

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
