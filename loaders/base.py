"""Shared pieces of the loaders: the error type, safe file reading and stable ids."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from langchain_core.documents import Document

from base.text import short_hash


class LoaderError(Exception):
    """A file that cannot be ingested; the message names the file and says why in one line."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{Path(path).name}: {reason}")


_UNSAFE_NAME = re.compile(r"[^\w .()+-]")
# Bytes, not characters: file systems cap a name at 255 bytes, and the store writes `<name>.incoming` beside it.
MAX_NAME_BYTES = 200


def safe_source_name(name: str) -> str:
    """The name a file is stored under (uploads and the CLI alike): no directories, no control, invisible or
    shell-special characters, at most `MAX_NAME_BYTES` of UTF-8 (a longer name is cut at a character boundary
    and keeps a hash of the whole, so two long names stay two documents).

    Raises ValueError for names that cannot be made safe (empty, hidden, no extension)."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1].strip()
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")  # controls, U+202E and other formats
    base = _UNSAFE_NAME.sub("_", base)
    if not base or base.startswith("."):
        raise ValueError("file name is empty or hidden")
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem:
        raise ValueError("file name has no extension")
    if len(base.encode("utf-8")) <= MAX_NAME_BYTES:
        return base
    tail = f"-{short_hash(base, length=8)}.{ext}"
    if len(tail.encode("utf-8")) > MAX_NAME_BYTES // 2:
        raise ValueError("file name extension is too long")
    room = MAX_NAME_BYTES - len(tail.encode("utf-8"))
    return stem.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip() + tail


def too_large(size: int, max_bytes: int) -> str | None:
    """The refusal reason for a file of `size` bytes, or None when it is within the limit."""
    return f"file is too large ({size:,} bytes; limit {max_bytes:,})" if size > max_bytes else None


def read_bytes(path: Path, max_bytes: int) -> bytes:
    """Read a whole file with the checks every loader needs (exists, readable, not empty, not huge)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise LoaderError(path, "file not found") from None
    except OSError as exc:
        raise LoaderError(path, f"cannot read file ({exc.strerror or exc})") from None
    if not path.is_file():
        raise LoaderError(path, "not a regular file")
    if size == 0:
        raise LoaderError(path, "file is empty")
    if reason := too_large(size, max_bytes):
        raise LoaderError(path, reason)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise LoaderError(path, f"cannot read file ({exc.strerror or exc})") from None


# Leading bytes of formats people upload by mistake (or on purpose) under a text extension.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (e.g. an Office file)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office file (.doc/.xls)"),
    (b"\x7fELF", "a Linux executable"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"{\\rtf", "an RTF document"),
)
_EXPECTED = {".pdf": "a PDF document", ".docx": "a ZIP archive (e.g. an Office file)"}


def sniff(data: bytes) -> str:
    """What the leading bytes say the file is ('text' when no known binary signature matches)."""
    if data[:1024].lstrip().startswith(b"%PDF-"):  # PDF readers accept whitespace before the header
        return "a PDF document"
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    return "text"


def check_content_type(path: Path, data: bytes) -> None:
    """Refuse a file whose content is not what its extension claims (type by content, not by name)."""
    ext = path.suffix.lower()
    kind = sniff(data)
    expected = _EXPECTED.get(ext, "text")
    if kind == expected:
        return
    if ext == ".pdf":
        raise LoaderError(path, "not a PDF file (missing %PDF header)")
    if ext == ".docx":
        found = "a legacy .doc file; save it as .docx" if kind.startswith("a legacy") else kind
        raise LoaderError(path, f"not a Word .docx file (content is {found if kind != 'text' else 'plain text'})")
    raise LoaderError(path, f"content is {kind}, not {ext} text (the extension does not match the content)")


def decode_text(path: Path, data: bytes) -> str:
    """Strict UTF-8 (BOM allowed): guessing an encoding would store mojibake that nobody notices."""
    if b"\x00" in data[:8192]:
        raise LoaderError(path, "looks like a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoaderError(
            path, f"is not valid UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
        ) from None
    if not text.strip():
        raise LoaderError(path, "file has no text")
    return text


def _csv_reason(exc: csv.Error, lines_read: int) -> str:
    if "field larger than field limit" in str(exc):  # raised before the line that overflows is counted
        limit = csv.field_size_limit()
        return (f"line {lines_read + 1}: a field is longer than {limit:,} characters (the CSV field limit); "
                "a quote left open makes the rest of the file one field")  # fmt: skip
    return f"line {lines_read}: malformed CSV ({exc})"


def csv_rows(path: Path, text: str, keep_case: bool = False) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header (stripped; lower-cased unless `keep_case`) and (line number, row) pairs of a CSV file. csv's
    own errors (a field over its size limit, a stray quote) become one `LoaderError` saying which limit, on
    which line."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [h.strip() if keep_case else h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise LoaderError(path, _csv_reason(exc, reader.line_num)) from None
    reader.fieldnames = header

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        while True:
            try:
                raw = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise LoaderError(path, _csv_reason(exc, reader.line_num)) from None
            yield reader.line_num, {k: v for k, v in raw.items() if k}

    return header, rows()


def base_metadata(path: Path, doc_type: str, doc_id: str) -> dict[str, str]:
    """Metadata every document carries: `source` (the file name, the unit of replace/delete) and its id."""
    return {"source": path.name, "doc_id": doc_id, "type": doc_type}


def make_document(text: str, metadata: dict) -> Document:
    """A LangChain document whose metadata only holds values Chroma can store."""
    clean = {k: v for k, v in metadata.items() if isinstance(v, (str, int, float, bool)) and v != ""}
    return Document(page_content=text, metadata=clean)
