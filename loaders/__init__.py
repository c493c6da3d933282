"""LangChain document loaders for the store's knowledge files, and `load_file`, which picks one by type."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document

from base.types import DEFAULT_LIMITS, ParseLimits
from loaders.base import LoaderError, check_content_type, csv_rows, decode_text, read_bytes

SUPPORTED_EXTENSIONS = (".csv", ".json", ".md", ".markdown", ".txt", ".pdf", ".docx")

__all__ = ["SUPPORTED_EXTENSIONS", "LoaderError", "ParsedFile", "load_file", "parse_file"]


@dataclass
class ParsedFile:
    """A file's documents in order, and what the uploader should know. `held` maps the position of a document
    that must not go live before staff review it (it reads like instructions to the assistant) to the reason."""

    docs: list[Document]
    warnings: list[str] = field(default_factory=list)
    held: dict[int, str] = field(default_factory=dict)


def load_file(
    path: str | Path, limits: ParseLimits = DEFAULT_LIMITS, columns: dict[str, str] | None = None
) -> list[Document]:
    """The documents of one file that may go live without a review (or `LoaderError`)."""
    parsed = parse_file(path, limits, columns)
    return [doc for n, doc in enumerate(parsed.docs) if n not in parsed.held]


def parse_file(
    path: str | Path, limits: ParseLimits = DEFAULT_LIMITS, columns: dict[str, str] | None = None
) -> ParsedFile:
    """Parse and screen one file in this process: hidden PDF text is left out (with a warning) and passages
    that address the assistant are held back for review; a file over the limits is refused (`LoaderError`).
    `columns`: a catalogue CSV's column mapping (loaders/catalogue.py); only a CSV may have one."""
    from loaders.screen import screen_documents

    path = Path(path)
    loader = _loader(path, limits, columns)
    docs = _take(path, loader.lazy_load(), limits.max_entries)
    hidden = getattr(loader, "hidden_pages", [])
    pages = ", ".join(map(str, hidden))
    warnings = [f"left out hidden text (invisible, white or under 1 pt) on page(s) {pages}"] if hidden else []
    warnings += getattr(loader, "warnings", [])  # a catalogue's problem summary
    return ParsedFile(docs, warnings, screen_documents(docs))


def _take(path: Path, docs: Iterator[Document], max_entries: int) -> list[Document]:
    """All of `docs`, or a `LoaderError` naming the limit (counted to the end, so staff know by how much)."""
    taken: list[Document] = []
    total = 0
    for doc in docs:
        total += 1
        if total <= max_entries:
            taken.append(doc)
    if total > max_entries:
        raise LoaderError(
            path, f"the file has {total:,} entries; the limit is {max_entries:,} per file (split it into smaller "
            "files, or raise ASSISTANT_MAX_ENTRIES_PER_FILE)"
        )  # fmt: skip
    return taken


def _loader(path: Path, limits: ParseLimits, columns: dict[str, str] | None = None) -> BaseLoader:
    """The loader for `path` by its type (checked by content), after the size and encoding checks."""
    from loaders.catalogue import CatalogueLoader, looks_like_catalogue
    from loaders.documents import MarkdownLoader, TextLoader
    from loaders.docx import DocxLoader
    from loaders.faq import FAQLoader, is_faq_header
    from loaders.pdf import PDFLoader

    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        kinds = ", ".join(SUPPORTED_EXTENSIONS)
        raise LoaderError(path, f"unsupported file type '{ext or '(none)'}' (supported: {kinds})")
    if columns and ext != ".csv":
        raise LoaderError(path, "a column mapping applies to catalogue CSV files only")
    data = read_bytes(path, limits.max_bytes)
    check_content_type(path, data)
    chunking = {"chunk_size": limits.chunk_size, "chunk_overlap": limits.chunk_overlap}
    if ext == ".pdf":
        return PDFLoader(path, data, max_pages=limits.max_pdf_pages, **chunking)
    if ext == ".docx":
        return DocxLoader(path, data, **chunking)
    text = decode_text(path, data)
    if ext == ".json":
        return FAQLoader(path, text)
    if ext == ".csv":
        header, _ = csv_rows(path, text)
        if columns:
            return CatalogueLoader(path, text, columns, limits.currency)
        if is_faq_header(header):
            return FAQLoader(path, text)
        if looks_like_catalogue(header):
            return CatalogueLoader(path, text, currency=limits.currency)
        raise LoaderError(
            path,
            "CSV must have question,answer columns (FAQ) or be a product catalogue: a name or title column "
            "and a price, SKU, brand, category or stock column (or give a column mapping)",
        )
    if ext in (".md", ".markdown"):
        return MarkdownLoader(path, text, **chunking)
    return TextLoader(path, text, **chunking)
