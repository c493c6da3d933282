"""Word .docx files: the zip is checked (entries, expansion, encryption, damage) before python-docx reads it."""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from loaders.base import LoaderError
from loaders.documents import ChunkedDocumentLoader

MAX_ZIP_ENTRIES = 2_000
MAX_ZIP_UNCOMPRESSED = 200 * 1024 * 1024
MAX_ZIP_RATIO = 100


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
    try:
        bad = archive.testzip()
    except RuntimeError:  # an encrypted entry
        raise LoaderError(path, "the file is encrypted (password-protected)") from None
    except (NotImplementedError, zlib.error, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise LoaderError(path, f"corrupt or unsupported zip data ({type(exc).__name__})") from None
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
