"""Shared pieces of the loaders: the error type, safe file reading and stable ids."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from langchain_core.documents import Document


class LoaderError(Exception):
    """A file that cannot be ingested; the message names the file and says why in one line."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{Path(path).name}: {reason}")


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
    if size > max_bytes:
        raise LoaderError(path, f"file is too large ({size:,} bytes; limit {max_bytes:,})")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise LoaderError(path, f"cannot read file ({exc.strerror or exc})") from None


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


def short_hash(*parts: str, length: int = 12) -> str:
    """A short content hash used in deterministic ids."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()[:length]


_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str, max_len: int = 60) -> str:
    """Lowercase ascii slug for readable ids."""
    return _SLUG.sub("-", text.lower()).strip("-")[:max_len] or "item"


def base_metadata(path: Path, doc_type: str, doc_id: str) -> dict[str, str]:
    """Metadata every document carries: `source` (the file name, the unit of replace/delete) and its id."""
    return {"source": path.name, "doc_id": doc_id, "type": doc_type}


def make_document(text: str, metadata: dict) -> Document:
    """A LangChain document whose metadata only holds values Chroma can store."""
    clean = {k: v for k, v in metadata.items() if isinstance(v, (str, int, float, bool)) and v != ""}
    return Document(page_content=text, metadata=clean)
