"""Small text utilities shared by several layers."""

from __future__ import annotations

import hashlib
import re


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


_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def name_key(text: str) -> str:
    """A product name (or a question) as words in lower case, one space apart: "Watch - For Men,  Boys" -> "watch
    for men boys". Listings whose names have the same key are one name to a customer (services/products.py
    `ProductDesk.settle`, chains/extractive.py)."""
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def print_now(message: str) -> None:
    """A progress line, flushed at once (long CLI jobs are often followed through a pipe or a log file)."""
    print(message, flush=True)
