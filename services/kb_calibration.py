"""The decline thresholds fitted to one store's content (chains/calibration.py), kept in its side file and re-fitted
after every change; the gate reads them through `thresholds`."""

from __future__ import annotations

import logging

from chains.calibration import StoreCalibration, calibrate
from chains.gate import FALLBACK_THRESHOLDS
from providers.embeddings import embed_queries
from services.kb_host import KnowledgeHost
from services.store_files import CALIBRATION_FILE

logger = logging.getLogger(__name__)


class Calibrator:
    def __init__(self, kb: KnowledgeHost) -> None:
        self.kb = kb
        self._loaded: tuple[int, StoreCalibration | None] | None = None  # (file mtime, what it held)
        self._bank_vectors: dict[str, list[float]] = {}  # calibration messages -> vectors (this embedder)

    def current(self) -> StoreCalibration | None:
        """The thresholds fitted to this store's content (None before the first fit, or for another embedder).
        Re-read when another process (the CLI, a second server) re-fitted them."""
        path = self.kb.files.side(CALIBRATION_FILE)
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return None
        if self._loaded is None or self._loaded[0] != mtime:
            self._loaded = (mtime, StoreCalibration.load(path))
        found = self._loaded[1]
        return found if found is not None and found.embedding == self.kb.store.embedding_id else None

    def thresholds(self) -> dict[str, float]:
        """What the decline gate uses: the settings' thresholds when set, else the store's fitted ones (the
        fallback ones until the first fit)."""
        settings = self.kb.settings
        if settings.decline_thresholds is not None:
            return dict(settings.decline_thresholds)
        found = self.current() if settings.decline_calibration else None
        return {**FALLBACK_THRESHOLDS, **(found.thresholds if found is not None else {})}

    def refit(self) -> StoreCalibration | None:
        """Re-fit to what the store holds now (after every change; also `cli.py calibrate`). A failure is logged
        and leaves the previous thresholds: it never fails the write."""
        settings = self.kb.settings
        if not settings.decline_calibration or settings.decline_thresholds is not None:
            return None
        try:
            with self.kb.reading():
                found = calibrate(self._top1_scores, self.kb.store.embedding_id)
                found.save(self.kb.files.side(CALIBRATION_FILE))
        except Exception:
            logger.exception("could not re-fit the decline thresholds of %s", self.kb.store_dir)
            return None
        return found

    def _top1_scores(self, texts: list[str]) -> list[float]:
        """The store's best score for each calibration message (message vectors are computed once)."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._bank_vectors]
        if todo:
            self._bank_vectors.update(zip(todo, embed_queries(self.kb.embeddings, todo), strict=True))
        hits = self.kb.searcher.search_embedded(texts, [self._bank_vectors[t] for t in texts], 1, batch=True)
        return [h[0].score if h else 0.0 for h in hits]
