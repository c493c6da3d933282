"""Opening and releasing Chroma the one way this project does it (cosine space, no Chroma-side embedder,
no telemetry), shared by the store, its crash recovery and the probe child process."""

from __future__ import annotations

import contextlib
from pathlib import Path
from urllib.parse import urlparse


def chroma_settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def persistent_client(path: Path):
    import chromadb

    return chromadb.PersistentClient(path=str(path), settings=chroma_settings())


def http_client(url: str):
    """Chroma server mode (`chroma run`): several processes share one Chroma."""
    import chromadb

    parsed = urlparse(url)
    return chromadb.HttpClient(
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 8000,
        ssl=parsed.scheme == "https",
        settings=chroma_settings(),
    )


# How many candidates HNSW keeps while searching (Chroma's default is 10). Approximate search among many
# near-identical entries (an FAQ of "Do you stock spare lids for model N?") missed exact matches at 10, even in the
# top 20 (the crash matrix's check, with FAQ vectors that include the answers); 100 costs well under a millisecond.
SEARCH_EF = 100


def open_collection(client, name: str, embedding_id: str):
    """The store's collection, created on first use (the space cannot change after creation); a collection made
    with a smaller search breadth gets SEARCH_EF."""
    col = client.get_or_create_collection(
        name,
        embedding_function=None,
        configuration={"hnsw": {"space": "cosine", "ef_search": SEARCH_EF}},
        metadata={"embedding_id": embedding_id},
    )
    hnsw = (col.configuration or {}).get("hnsw") or {}
    if hnsw.get("ef_search", SEARCH_EF) < SEARCH_EF:
        with contextlib.suppress(Exception):  # best effort: searches still work at the old breadth
            col.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})
    return col


def release_chroma(chroma_dir: Path) -> None:
    """Drop Chroma's process-wide client for `chroma_dir`: Chroma caches one per path, so after the
    directory is moved or replaced (reindex, recovery) it would keep serving the old files."""
    from chromadb.api.shared_system_client import SharedSystemClient

    key = str(chroma_dir)
    system = SharedSystemClient._identifier_to_system.pop(key, None)
    SharedSystemClient._identifier_to_refcount.pop(key, None)
    if system is not None:
        system.stop()


def is_chroma_error(exc: BaseException) -> bool:
    """Errors raised by Chroma itself (a torn index, a failed write), as opposed to our own bugs."""
    from chromadb.errors import ChromaError

    return isinstance(exc, ChromaError)


def chroma_reason(exc: BaseException) -> str:
    """The telling end of a Chroma error ("Error executing plan: ...: Error deserializing pickle file: EOF")."""
    text = str(exc)
    cut = text.rfind("Error ")
    return (text[cut:] if cut > 0 else text)[:200]
