"""What the parts of the knowledge base (kb_columns, kb_review, kb_calibration, kb_reindex) need from it, as a
Protocol, so they depend on this small interface and not on services/knowledge.py (which builds them); and the
report every ingest returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from langchain_core.embeddings import Embeddings

from base.settings import Settings
from loaders.semantic_screen import SemanticScreen
from services.store_files import StoreFiles
from vectorstore.retrieval import Searcher
from vectorstore.store import KnowledgeStore, UpsertResult

FileProgress = Callable[[str, int, int], None]


@dataclass
class IngestReport:
    """Outcome for every file of one ingest call; `failed` holds (file, reason)."""

    done: list[UpsertResult]
    failed: list[tuple[str, str]]

    @property
    def ok(self) -> bool:
        return not self.failed


class KnowledgeHost(Protocol):
    settings: Settings
    store_dir: Path
    files: StoreFiles

    @property
    def embeddings(self) -> Embeddings: ...

    @property
    def store(self) -> KnowledgeStore: ...

    @property
    def searcher(self) -> Searcher: ...

    @property
    def screen(self) -> SemanticScreen | None: ...

    def reading(self) -> AbstractContextManager[None]: ...

    def swapping(self) -> AbstractContextManager[None]: ...

    def drop_store(self) -> None: ...

    def kept_copy(self, source: str) -> Path | None: ...

    def ingest_file(self, path: str | Path) -> UpsertResult: ...

    def ingest_paths(self, paths: Sequence[str | Path], progress: FileProgress | None = None) -> IngestReport: ...
