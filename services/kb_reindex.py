"""Re-index: rebuild a whole store from its kept file copies (a new embedding model), in a sibling directory
swapped in at the end, so a failure or a crash leaves the old store or the complete new one, never half."""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from base.faults import fault_point
from services.kb_host import FileProgress, IngestReport, KnowledgeHost
from services.store_files import CARRIED_BY_REINDEX, REINDEX_COMPLETE, StoreFiles
from vectorstore.manifest import Manifest, SourceInfo

logger = logging.getLogger(__name__)


def finish_interrupted_swap(files: StoreFiles) -> None:
    """A reindex killed between its two renames leaves no store directory: finish the swap when the new store was
    complete, else put the old one back (a store is never silently emptied)."""
    store_dir = files.store_dir
    if store_dir.exists():
        return
    staging, backup = files.sibling(".reindex"), files.sibling(".old")
    if (staging / REINDEX_COMPLETE).exists():
        staging.rename(store_dir)
        (store_dir / REINDEX_COMPLETE).unlink()
        message = "A re-index was interrupted while swapping stores; the complete new store was put in place."
    elif backup.exists():
        backup.rename(store_dir)
        message = "A re-index was interrupted while swapping stores; the previous store was put back."
    else:
        return
    Manifest(store_dir / "manifest.sqlite3").add_event("recovered", message)
    logger.warning("knowledge store %s: %s", store_dir, message)


class Reindexer:
    def __init__(self, kb: KnowledgeHost, make: Callable[..., KnowledgeHost]) -> None:
        """`make(settings, store_dir, embeddings, screen=...)` builds the knowledge base of the new store."""
        self.kb = kb
        self.make = make

    def run(self, progress: FileProgress | None) -> IngestReport:
        """Called with the knowledge base's write gate held exclusively."""
        sources = self.kb.store.list_sources()
        problems = self._kept_copy_problems(sources)
        if problems:
            return IngestReport([], problems)
        files = self.kb.files
        staging, kept = files.sibling(".reindex"), files.sibling(".files")
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
            copy = self.kb.store.files_dir / info.source
            if not copy.is_file():
                problems.append((info.source, "its kept copy is missing; upload the file again"))
            elif hashlib.sha256(copy.read_bytes()).hexdigest() != info.sha256:
                problems.append((info.source, "its kept copy does not match the stored version; upload it again"))
        return problems

    def _build_fresh(
        self, sources: list[SourceInfo], staging: Path, kept: Path, progress: FileProgress | None
    ) -> IngestReport:
        """Ingest copies of the kept files into a new store at `staging`, marked complete when nothing failed."""
        kb = self.kb
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(kept, ignore_errors=True)
        kept.mkdir(parents=True)
        for info in sources:
            shutil.copyfile(kb.store.files_dir / info.source, kept / info.source)
        fresh = self.make(kb.settings, staging, kb.embeddings, screen=kb.screen or False)
        for name in CARRIED_BY_REINDEX:
            if kb.files.side(name).is_file():
                staging.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(kb.files.side(name), staging / name)
        fresh.store.manifest.copy_reviews(kb.store.manifest)  # staff's decisions on held passages carry over
        report = fresh.ingest_paths(sorted(kept / info.source for info in sources), progress)
        fresh.store.close()  # Chroma caches one client per path: drop it before the directory moves
        if not report.failed:
            staging.mkdir(parents=True, exist_ok=True)  # nothing to index still gives an (empty) store
            (staging / REINDEX_COMPLETE).touch()
        return report

    def _swap_in(self, staging: Path) -> None:
        """Replace the live store with the complete one at `staging` (finished on open if interrupted)."""
        kb = self.kb
        backup = kb.files.sibling(".old")
        shutil.rmtree(backup, ignore_errors=True)
        fault_point("kb.reindex_built")
        with kb.swapping():
            kb.drop_store()
            if kb.store_dir.exists():
                kb.store_dir.rename(backup)
            fault_point("kb.reindex_swap")
            staging.rename(kb.store_dir)
            (kb.store_dir / REINDEX_COMPLETE).unlink()
        shutil.rmtree(backup, ignore_errors=True)
