"""LangChain document loaders for the store's knowledge files, and `load_file`, which picks one by type."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from langchain_core.documents import Document

from loaders.base import LoaderError, decode_text, read_bytes

SUPPORTED_EXTENSIONS = (".csv", ".json", ".md", ".markdown", ".txt", ".pdf", ".docx")

__all__ = ["SUPPORTED_EXTENSIONS", "LoaderError", "load_file"]


def load_file(
    path: str | Path,
    *,
    chunk_size: int = 900,
    chunk_overlap: int = 150,
    max_bytes: int = 25 * 1024 * 1024,
    max_pdf_pages: int = 500,
) -> list[Document]:
    """Parse one file completely (or raise `LoaderError`) before anything touches the store."""
    from loaders.documents import DocxLoader, MarkdownLoader, PDFLoader, TextLoader
    from loaders.faq import FAQLoader, is_faq_header
    from loaders.products import ProductCSVLoader, is_product_header

    path = Path(path)
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        kinds = ", ".join(SUPPORTED_EXTENSIONS)
        raise LoaderError(path, f"unsupported file type '{ext or '(none)'}' (supported: {kinds})")
    data = read_bytes(path, max_bytes)
    chunking = {"chunk_size": chunk_size, "chunk_overlap": chunk_overlap}
    if ext == ".pdf":
        return list(PDFLoader(path, data, max_pages=max_pdf_pages, **chunking).lazy_load())
    if ext == ".docx":
        return list(DocxLoader(path, data, **chunking).lazy_load())
    text = decode_text(path, data)
    if ext == ".json":
        return list(FAQLoader(path, text).lazy_load())
    if ext == ".csv":
        header = next(csv.reader(io.StringIO(text)), [])
        if is_product_header(header):
            return list(ProductCSVLoader(path, text).lazy_load())
        if is_faq_header(header):
            return list(FAQLoader(path, text).lazy_load())
        raise LoaderError(
            path, "CSV must have question,answer columns (FAQ) or sku,name,price,... columns (product catalogue)"
        )
    if ext in (".md", ".markdown"):
        return list(MarkdownLoader(path, text, **chunking).lazy_load())
    return list(TextLoader(path, text, **chunking).lazy_load())
