"""Long documents (.md, .txt, .pdf, .docx) split into overlapping chunks.

Markdown and Word headings become a `section` path on every chunk (and prefix its text), so a chunk
taken out of context still says which policy it belongs to. PDF chunks keep their page number.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document
from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from loaders.base import LoaderError, base_metadata, make_document

# Office files are zips: refuse ones that would inflate far beyond their size before parsing them.
MAX_ZIP_ENTRIES = 2_000
MAX_ZIP_UNCOMPRESSED = 200 * 1024 * 1024
MAX_ZIP_RATIO = 100


class ChunkedDocumentLoader(BaseLoader):
    """Base for long documents: subclasses yield (section, page, text) blocks, this class chunks them."""

    def __init__(self, path: str | Path, data: bytes, chunk_size: int = 900, chunk_overlap: int = 150) -> None:
        self.path = Path(path)
        self.data = data
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
        index = 0
        for section, page, text in self.blocks():
            for piece in self.splitter.split_text(text):
                piece = piece.strip()
                if not piece:
                    continue
                meta = base_metadata(self.path, "document", doc_id)
                meta.update(title=title, section=section, chunk_index=index)
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


class MarkdownLoader(TextLoader):
    """Markdown split on headings first, then by size."""

    def blocks(self) -> Iterator[tuple[str, int | None, str]]:
        headers = [("#", "h1"), ("##", "h2"), ("###", "h3")]
        splitter = MarkdownHeaderTextSplitter(headers_to_split_on=headers, strip_headers=True)
        for part in splitter.split_text(self.text):
            section = " > ".join(part.metadata[k] for k in ("h1", "h2", "h3") if part.metadata.get(k))
            if part.page_content.strip():
                yield section, None, part.page_content


class PDFLoader(ChunkedDocumentLoader):
    """PDF via pypdf (no OCR): page numbers kept; encrypted, corrupt and over-long PDFs refused."""

    def __init__(self, path: str | Path, data: bytes, max_pages: int = 500, **kw) -> None:
        super().__init__(path, data, **kw)
        self.max_pages = max_pages

    def blocks(self) -> Iterator[tuple[str, int | None, str]]:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        if not self.data.lstrip()[:5].startswith(b"%PDF-"):
            raise LoaderError(self.path, "not a PDF file (missing %PDF header)")
        try:
            reader = PdfReader(io.BytesIO(self.data), strict=False)
            if reader.is_encrypted:
                raise LoaderError(self.path, "PDF is encrypted (password-protected)")
            n_pages = len(reader.pages)
        except LoaderError:
            raise
        except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
            raise LoaderError(self.path, f"corrupt or unreadable PDF ({type(exc).__name__})") from None
        if n_pages > self.max_pages:
            raise LoaderError(self.path, f"PDF has {n_pages} pages; limit {self.max_pages}")
        for number in range(n_pages):
            try:
                text = reader.pages[number].extract_text() or ""
            except Exception as exc:  # pypdf raises many types on damaged pages
                raise LoaderError(self.path, f"cannot read page {number + 1} ({type(exc).__name__})") from None
            if text.strip():
                yield "", number + 1, text


def check_zip(path: Path, data: bytes) -> zipfile.ZipFile:
    """Open an office file's zip after checking entry count, declared size and compression ratio."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError):
        raise LoaderError(path, "corrupt or truncated file (not a valid .docx zip)") from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise LoaderError(path, f"archive has {len(infos)} entries; limit {MAX_ZIP_ENTRIES}")
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > MAX_ZIP_UNCOMPRESSED or total / packed > MAX_ZIP_RATIO:
        raise LoaderError(path, "archive expands too much (possible zip bomb)")
    if "word/document.xml" not in archive.namelist():
        raise LoaderError(path, "not a Word document (word/document.xml missing)")
    bad = archive.testzip()
    if bad is not None:
        raise LoaderError(path, f"corrupt or truncated file (bad entry {bad})")
    return archive


class DocxLoader(ChunkedDocumentLoader):
    """Word .docx via python-docx: headings become sections, tables become 'a | b' lines."""

    def blocks(self) -> Iterator[tuple[str, int | None, str]]:
        import docx

        check_zip(self.path, self.data)
        try:
            document = docx.Document(io.BytesIO(self.data))
        except Exception as exc:  # python-docx raises KeyError/ValueError/lxml errors on damage
            raise LoaderError(self.path, f"corrupt Word document ({type(exc).__name__})") from None
        headings: list[tuple[int, str]] = []  # (level, text) of the open headings: the section path
        section, buffer = "", []
        for para in document.paragraphs:
            style = (para.style.name if para.style is not None else "") or ""
            text = para.text.strip()
            if style.lower().startswith(("heading", "title")) and text:
                if buffer:
                    yield section, None, "\n".join(buffer)
                level = _heading_level(style)
                headings = [h for h in headings if h[0] < level] + [(level, text)]
                section, buffer = " > ".join(t for _, t in headings), []
            elif text:
                buffer.append(text)
        for table in document.tables:
            for row in table.rows:
                buffer.append(" | ".join(cell.text.strip() for cell in row.cells))
        if buffer:
            yield section, None, "\n".join(buffer)


def _heading_level(style: str) -> int:
    """0 for Title, N for 'Heading N' (1 when the style has no number)."""
    last = style.split()[-1]
    if style.lower().startswith("title"):
        return 0
    return int(last) if last.isdigit() else 1
