"""Admin uploads: untrusted bytes in, one outcome per file out (added, replaced, unchanged or rejected).

The checks that need the whole upload (file count, total size, names) happen here; the per-file ones
(size, type by content, zip bombs, PDF pages, hidden text, instruction-like passages, parse time and memory)
happen in `KnowledgeBase.ingest_file`. Every rejection names the file and the reason and leaves the store
as it was; good files in the same upload still land.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from base.errors import StoreError
from base.pii import PLACEHOLDER, Masker
from loaders import LoaderError
from loaders.base import csv_rows, safe_source_name, too_large
from loaders.catalogue import FIELDS, CataloguePreview, preview_catalogue
from loaders.faq import faq_json_with_entry, is_faq_header
from loaders.screen import find_instruction
from services.knowledge import KnowledgeBase

# (position in the upload, file name, stage, fraction done); stages: checking, parsing, embedding, done, rejected.
UploadProgress = Callable[[int, str, str, float], None]

logger = logging.getLogger(__name__)


@dataclass
class UploadOutcome:
    """What happened to one uploaded file."""

    name: str
    status: str  # added | replaced | unchanged | rejected
    chunks: int = 0
    reason: str = ""
    warnings: list[str] = field(default_factory=list)


def ingest_uploads(
    kb: KnowledgeBase,
    uploads: Sequence[tuple[str, bytes]],
    progress: UploadProgress | None = None,
    columns: dict[str, dict[str, str]] | None = None,
) -> list[UploadOutcome]:
    """Check the upload as a whole, then ingest each file on its own (see module docstring). `columns`: a
    catalogue CSV's column mapping by file name (the admin's corrected mapping; remembered for that name)."""
    settings = kb.settings
    report = progress or (lambda _index, _name, _stage, _fraction: None)
    total = sum(len(data) for _, data in uploads)
    whole_upload_reason = ""
    if len(uploads) > settings.max_upload_files:
        whole_upload_reason = (
            f"this upload has {len(uploads)} files; the limit is {settings.max_upload_files} per upload"
        )
    elif total > settings.max_upload_bytes:
        whole_upload_reason = (
            f"this upload is {total:,} bytes in total; the limit is {settings.max_upload_bytes:,} per upload"
        )
    if whole_upload_reason:
        for index, (name, _) in enumerate(uploads):
            report(index, name, "rejected", 1.0)
        return [UploadOutcome(name, "rejected", reason=whole_upload_reason) for name, _ in uploads]

    outcomes: list[UploadOutcome] = []
    seen: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="upload-") as tmp:
        for index, (name, data) in enumerate(uploads):
            step = partial(report, index, name)
            step("checking", 0.0)
            outcome = _ingest_one(kb, name, data, Path(tmp), seen, step, (columns or {}).get(name))
            step("rejected" if outcome.status == "rejected" else "done", 1.0)
            outcomes.append(outcome)
    return outcomes


def _ingest_one(
    kb: KnowledgeBase,
    name: str,
    data: bytes,
    tmp: Path,
    seen: set[str],
    step: Callable[[str, float], None],
    columns: dict[str, str] | None = None,
) -> UploadOutcome:
    try:
        source = safe_source_name(name)
    except ValueError as exc:
        return UploadOutcome(name, "rejected", reason=str(exc))
    if source in seen:
        return UploadOutcome(name, "rejected", reason="the same file name appears twice in this upload")
    seen.add(source)
    if reason := too_large(len(data), kb.settings.max_file_bytes):  # before writing it anywhere
        return UploadOutcome(name, "rejected", reason=reason)
    path = tmp / source
    try:
        path.write_bytes(data)
        step("parsing", 0.05)
        result = kb.ingest_file(
            path, lambda done, total: step("embedding", 0.1 + 0.9 * done / max(total, 1)), columns=columns
        )
    except LoaderError as exc:
        return UploadOutcome(name, "rejected", reason=exc.reason)
    except StoreError as exc:
        return UploadOutcome(name, "rejected", reason=f"the store cannot be written: {exc}")
    except Exception as exc:  # embedding service, Chroma or disk failure: this file only, store as it was
        logger.exception("upload of %s failed", name)
        return UploadOutcome(
            name, "rejected", reason=f"internal error while storing it ({type(exc).__name__}); nothing was changed"
        )
    finally:
        path.unlink(missing_ok=True)
    return UploadOutcome(source, result.status, result.chunks, warnings=result.warnings)


CATALOGUE_FIELDS = FIELDS  # what a column mapping may name (the admin page's selectors)


def catalogue_preview(
    kb: KnowledgeBase, name: str, data: bytes, columns: dict[str, str] | None = None
) -> tuple[CataloguePreview, bool] | None:
    """How an uploaded CSV will be read as a catalogue, before anything is stored: its first products with
    `columns`, else the mapping remembered for its name (when it still fits), else the detected one; and whether
    the remembered mapping was used. None for a file that is not a catalogue CSV (an FAQ CSV, another type, or
    one the upload's own checks will refuse with the reason)."""
    if not name.lower().endswith(".csv"):
        return None
    try:
        text = data.decode("utf-8-sig")
        header, _ = csv_rows(Path(name), text)
    except (UnicodeDecodeError, LoaderError):
        return None
    if is_faq_header(header):
        return None
    currency = kb.settings.store_currency
    if columns is not None:
        return preview_catalogue(name, text, columns, currency=currency), False
    remembered = kb.column_map(name)
    if remembered:
        preview = preview_catalogue(name, text, remembered, currency=currency)
        if preview.column_map is not None:
            return preview, True
    return preview_catalogue(name, text, currency=currency), False


def personal_data_in(settings, *texts: str) -> str:
    """The kinds of personal data in `texts` ('[email], [name]'), '' when none; the store's own published contacts
    do not count."""
    masker = Masker.of(settings)
    kinds = {f.placeholder for text in texts for f in masker.findings(text)}
    return ", ".join(sorted(kinds))


STAFF_FAQ = "staff_faq.json"
MAX_FAQ_QUESTION_CHARS = 300  # a staff-written FAQ question (customers may type up to assistant.MAX_QUESTION_CHARS)
MAX_ANSWER_CHARS = 2000


def add_faq_entry(kb: KnowledgeBase, question: str, answer: str, source: str = STAFF_FAQ) -> UploadOutcome:
    """Add (or update, when the same question is already there) one answer in the staff FAQ file, through
    the same checks as an upload: the quick way to fill a knowledge gap seen in the analytics.

    The kept copy of `source` is the file of record; the entry goes in and the whole file is ingested again
    (only the new or changed entry is embedded)."""
    question, answer = " ".join(question.split()), answer.strip()
    if not question or not answer:
        return UploadOutcome(source, "rejected", reason="both a question and an answer are needed")
    if len(question) > MAX_FAQ_QUESTION_CHARS or len(answer) > MAX_ANSWER_CHARS:
        limits = f"{MAX_FAQ_QUESTION_CHARS} characters for the question, {MAX_ANSWER_CHARS} for the answer"
        return UploadOutcome(source, "rejected", reason=f"too long (at most {limits})")
    flagged = find_instruction(question) or find_instruction(answer)
    if flagged:
        return UploadOutcome(source, "rejected", reason=f"reads like instructions to the assistant: “{flagged}”")
    personal = personal_data_in(kb.settings, question, answer)
    if PLACEHOLDER.search(question + answer):
        return UploadOutcome(
            source,
            "rejected",
            reason="holds masked personal data ([email], [name], …): write the "
            "question and the answer as any customer would read them",
        )
    if personal:
        return UploadOutcome(
            source, "rejected", reason=f"holds personal data ({personal}): an FAQ entry is shown to every customer"
        )
    kept = kb.kept_copy(source)
    try:
        body = faq_json_with_entry(kept.read_text(encoding="utf-8") if kept else None, question, answer)
    except (OSError, ValueError):
        return UploadOutcome(source, "rejected", reason=f"{source} in the store is not an FAQ JSON file")
    return ingest_uploads(kb, [(source, body.encode("utf-8"))])[0]
