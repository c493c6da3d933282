"""LangChain document loaders for the store's knowledge files, and `load_file`, which picks one by type."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.documents import Document

from loaders.base import LoaderError, check_content_type, csv_rows, decode_text, read_bytes

SUPPORTED_EXTENSIONS = (".csv", ".json", ".md", ".markdown", ".txt", ".pdf", ".docx")

__all__ = ["SUPPORTED_EXTENSIONS", "LoaderError", "ParsedFile", "load_file", "parse_file"]


@dataclass
class ParsedFile:
    """A file's documents ready to store, and what the uploader should know (dropped passages...)."""

    docs: list[Document]
    warnings: list[str] = field(default_factory=list)


def load_file(
    path: str | Path,
    *,
    chunk_size: int = 900,
    chunk_overlap: int = 150,
    max_bytes: int = 25 * 1024 * 1024,
    max_pdf_pages: int = 500,
) -> list[Document]:
    """Parse one file completely (or raise `LoaderError`) before anything touches the store."""
    return parse_file(
        path, chunk_size=chunk_size, chunk_overlap=chunk_overlap, max_bytes=max_bytes, max_pdf_pages=max_pdf_pages
    ).docs


def parse_file(
    path: str | Path,
    *,
    chunk_size: int = 900,
    chunk_overlap: int = 150,
    max_bytes: int = 25 * 1024 * 1024,
    max_pdf_pages: int = 500,
) -> ParsedFile:
    """Parse and screen one file: hidden PDF text and passages that address the assistant are left out
    (with a warning each); a file with nothing left is refused."""
    from loaders.screen import screen_documents

    path = Path(path)
    parsed = _parse(path, chunk_size, chunk_overlap, max_bytes, max_pdf_pages)
    docs, warnings = screen_documents(parsed.docs)
    if not docs:
        raise LoaderError(path, "every passage reads like instructions to the assistant; nothing to store")
    return ParsedFile(docs, parsed.warnings + warnings)


def _parse(path: Path, chunk_size: int, chunk_overlap: int, max_bytes: int, max_pdf_pages: int) -> ParsedFile:
    from loaders.documents import DocxLoader, MarkdownLoader, PDFLoader, TextLoader
    from loaders.faq import FAQLoader, is_faq_header
    from loaders.products import ProductCSVLoader, is_product_header

    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        kinds = ", ".join(SUPPORTED_EXTENSIONS)
        raise LoaderError(path, f"unsupported file type '{ext or '(none)'}' (supported: {kinds})")
    data = read_bytes(path, max_bytes)
    check_content_type(path, data)
    chunking = {"chunk_size": chunk_size, "chunk_overlap": chunk_overlap}
    if ext == ".pdf":
        pdf = PDFLoader(path, data, max_pages=max_pdf_pages, **chunking)
        docs = list(pdf.lazy_load())
        pages = ", ".join(map(str, pdf.hidden_pages))
        hidden = [f"left out hidden text (invisible, white or under 1 pt) on page(s) {pages}"] if pages else []
        return ParsedFile(docs, hidden)
    if ext == ".docx":
        return ParsedFile(list(DocxLoader(path, data, **chunking).lazy_load()))
    text = decode_text(path, data)
    if ext == ".json":
        return ParsedFile(list(FAQLoader(path, text).lazy_load()))
    if ext == ".csv":
        header, _ = csv_rows(path, text)
        if is_product_header(header):
            return ParsedFile(list(ProductCSVLoader(path, text).lazy_load()))
        if is_faq_header(header):
            return ParsedFile(list(FAQLoader(path, text).lazy_load()))
        raise LoaderError(
            path, "CSV must have question,answer columns (FAQ) or sku,name,price,... columns (product catalogue)"
        )
    if ext in (".md", ".markdown"):
        return ParsedFile(list(MarkdownLoader(path, text, **chunking).lazy_load()))
    return ParsedFile(list(TextLoader(path, text, **chunking).lazy_load()))
