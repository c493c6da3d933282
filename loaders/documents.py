"""Long documents split into overlapping chunks: the shared chunker, plain text and Markdown.

Markdown and Word headings become a `section` path on every chunk (and prefix its text), so a chunk
taken out of context still says which policy it belongs to. PDF chunks keep their page number. The
PDF (loaders/pdf.py) and Word (loaders/docx.py) loaders build on `ChunkedDocumentLoader`.

A Markdown file that begins with a small front matter naming a `url` (how crawled help-centre pages are stored,
loaders/web.py) has it stripped; its `url` and `title` go into every chunk's metadata.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document
from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from loaders.base import LoaderError, base_metadata, make_document


class ChunkedDocumentLoader(BaseLoader):
    """Base for long documents: subclasses yield (section, page, text) blocks, this class chunks them."""

    def __init__(self, path: str | Path, data: bytes, chunk_size: int = 900, chunk_overlap: int = 150) -> None:
        self.path = Path(path)
        self.data = data
        self.front_matter: dict[str, str] = {}  # a crawled page's url and title (MarkdownLoader)
        self.splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size,
            chunk_overlap=min(chunk_overlap, chunk_size // 2),
            separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
            keep_separator="end",  # sentences keep their full stop; chunks don't start with ". "
        )

    def blocks(self) -> Iterator[tuple[str, int | None, str]]:
        """(section path, 1-based page or None, text) in reading order."""
        raise NotImplementedError

    def lazy_load(self) -> Iterator[Document]:
        doc_id = f"doc:{self.path.name}"
        title = self.path.stem.replace("_", " ").replace("-", " ").strip().capitalize()
        title = self.front_matter.get("title") or title
        index = 0
        for section, page, text in self.blocks():
            for piece in self.splitter.split_text(text):
                piece = piece.strip()
                if not piece:
                    continue
                meta = base_metadata(self.path, "document", doc_id)
                meta.update(title=title, section=section, chunk_index=index)
                if "url" in self.front_matter:
                    meta["url"] = self.front_matter["url"]
                if page is not None:
                    meta["page"] = page
                body = f"{section}\n{piece}" if section else piece
                yield make_document(body, meta)
                index += 1
        if index == 0:
            raise LoaderError(self.path, "no text found in the document")


class TextLoader(ChunkedDocumentLoader):
    """Plain text: paragraphs, no sections."""

    def __init__(self, path: str | Path, text: str, **kw) -> None:
        super().__init__(path, b"", **kw)
        self.text = text

    def blocks(self) -> Iterator[tuple[str, int | None, str]]:
        yield "", None, self.text


_FRONT_MATTER_LINE = re.compile(r"([a-z_]+):[ \t]*(.*)")
_MAX_FRONT_MATTER_LINES = 10


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """({'url', 'title'}, the rest) when `text` opens with a `---` block of `key: value` lines naming an http(s)
    `url`; else ({}, text) unchanged, so any other Markdown (a horizontal rule first, YAML without a url) reads
    as before. Values are taken as written (one line each), not parsed as YAML."""
    lines = text.split("\n", _MAX_FRONT_MATTER_LINES + 2)
    if not lines or lines[0].rstrip("\r") != "---":
        return {}, text
    fields: dict[str, str] = {}
    for n, raw in enumerate(lines[1 : _MAX_FRONT_MATTER_LINES + 2], start=1):
        line = raw.rstrip("\r")
        if line == "---":
            url = fields.get("url", "")
            if not url.startswith(("http://", "https://")) or any(ch.isspace() for ch in url):
                return {}, text
            rest = "\n".join(lines[n + 1 :])
            return {k: v for k, v in fields.items() if k in ("url", "title") and v}, rest
        match = _FRONT_MATTER_LINE.fullmatch(line)
        if match is None:
            return {}, text
        fields[match.group(1)] = match.group(2).strip()
    return {}, text


class MarkdownLoader(TextLoader):
    """Markdown split on headings first, then by size (a crawled page's front matter becomes metadata)."""

    def __init__(self, path: str | Path, text: str, **kw) -> None:
        front_matter, body = split_front_matter(text)
        super().__init__(path, body, **kw)
        self.front_matter = front_matter

    def blocks(self) -> Iterator[tuple[str, int | None, str]]:
        headers = [("#", "h1"), ("##", "h2"), ("###", "h3")]
        splitter = MarkdownHeaderTextSplitter(headers_to_split_on=headers, strip_headers=True)
        for part in splitter.split_text(self.text):
            section = " > ".join(part.metadata[k] for k in ("h1", "h2", "h3") if part.metadata.get(k))
            if part.page_content.strip():
                yield section, None, part.page_content
