"""Crash recovery for the Chroma index: notice an unclean shutdown, check the index where a crash of the
check cannot hurt, and rebuild it from the manifest's copies when it is unreadable.

Why it is needed (measured, docs/crash-safety.md): a SIGKILL while Chroma persists its HNSW index can leave it torn
(`index_metadata.pickle` cut short, or logs that no longer apply); every read then fails, and some torn
states crash the reading process outright. Three pieces:

- `OpenMarkers`: every process that opens the index leaves a file `open/<pid>-<start time>` and removes it
  when it closes. A marker whose process is gone means that process died with the index open.
- `probe_index`: after such a death (or a Chroma error), the index is opened, counted, listed and queried
  with known vectors in a child process (`python -m vectorstore.recovery`). A torn index that segfaults
  kills only the child.
- `rebuild_index`: a fresh index is built beside the old one from the manifest's chunk copies (no parsing,
  no embedding), then swapped in; the unreadable one is kept as `chroma.broken` for inspection.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from base.faults import fault_point
from base.paths import ROOT
from vectorstore.chroma import chroma_reason, open_collection, persistent_client, release_chroma
from vectorstore.manifest import Manifest, StoredChunk

PROBE_SAMPLES = 16
PROBE_TIMEOUT_SECONDS = 300.0


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks (tells a live process from a new one reusing its pid)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, counted after the command name


_registered: dict[Path, int] = {}
_registered_lock = threading.Lock()


class OpenMarkers:
    """`<store>/open/<pid>-<start>` while a process has the index open (see module docstring)."""

    def __init__(self, store_dir: Path) -> None:
        self.dir = store_dir / "open"

    @staticmethod
    def _name(pid: int) -> str:
        return f"{pid}-{_start_time(pid) or 0}"

    def register(self) -> None:
        """Idempotent per process and store; removed by `unregister` or at interpreter exit."""
        mine = self.dir / self._name(os.getpid())
        with _registered_lock:
            _registered[mine] = _registered.get(mine, 0) + 1
            self.dir.mkdir(parents=True, exist_ok=True)
            mine.touch()

    def unregister(self) -> None:
        mine = self.dir / self._name(os.getpid())
        with _registered_lock:
            left = _registered.get(mine, 0) - 1
            if left > 0:
                _registered[mine] = left
                return
            _registered.pop(mine, None)
            mine.unlink(missing_ok=True)

    def others(self) -> tuple[list[Path], list[int]]:
        """(markers of processes that died with the index open, pids of other live processes using it)."""
        stale, live = [], []
        if not self.dir.is_dir():
            return stale, live
        for marker in self.dir.iterdir():
            pid_text, _, start = marker.name.partition("-")
            if not pid_text.isdigit() or int(pid_text) == os.getpid():
                continue
            pid = int(pid_text)
            if _start_time(pid) == start or (start == "0" and Path(f"/proc/{pid}").exists()):
                live.append(pid)
            else:
                stale.append(marker)
        return stale, live

    @staticmethod
    def clear(markers: list[Path]) -> None:
        for marker in markers:
            marker.unlink(missing_ok=True)


@atexit.register
def _unregister_all() -> None:
    with _registered_lock:
        for marker in _registered:
            marker.unlink(missing_ok=True)
        _registered.clear()


@dataclass
class Verdict:
    """What the probe found: `ok`, or the reason the index cannot be used."""

    ok: bool
    reason: str = ""


def probe_index(chroma_dir: Path, collection: str, samples: list[StoredChunk], expect_at_least: int) -> Verdict:
    """Open, count, list and query the index in a child process (a torn index may crash its reader)."""
    if not chroma_dir.exists():
        return Verdict(expect_at_least == 0, "" if expect_at_least == 0 else "the index directory is missing")
    request = {
        "path": str(chroma_dir),
        "collection": collection,
        "expect_at_least": expect_at_least,
        "samples": [[s.id, s.vector.tolist()] for s in samples],
    }
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "vectorstore.recovery"],
            input=json.dumps(request).encode(),
            capture_output=True,
            timeout=PROBE_TIMEOUT_SECONDS,
            cwd=ROOT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Verdict(False, f"checking the index took longer than {PROBE_TIMEOUT_SECONDS:g} s")
    if proc.returncode < 0:
        return Verdict(False, f"reading the index crashed the reader ({signal.Signals(-proc.returncode).name})")
    try:
        reply = json.loads(proc.stdout.decode("utf-8"))
        return Verdict(bool(reply["ok"]), str(reply.get("reason", "")))
    except (ValueError, KeyError, TypeError):
        last = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        return Verdict(False, f"the index check failed ({last[0][:200]})")


def same_vector(a, b, tolerance: float = 1e-4) -> bool:
    """Two vectors point the same way (cosine within `tolerance` of 1): a stored vector is the one expected, not
    numbers a torn data file returned."""
    import numpy as np

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return abs(float(a @ b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12) - 1.0) <= tolerance


def _check_samples(col, samples: list) -> dict:
    """The stored vectors of sample chunks are the manifest's (a torn data file returns other numbers), and a
    search can reach every chunk the collection counts."""
    ids = [chunk_id for chunk_id, _ in samples]
    got = col.get(ids=ids, include=["embeddings"])
    stored = dict(zip(got["ids"], got["embeddings"], strict=True))
    for chunk_id, vector in samples:
        if chunk_id not in stored:
            return {"ok": False, "reason": f"the index lost chunk {chunk_id}"}
        if not same_vector(stored[chunk_id], vector):
            return {"ok": False, "reason": f"the index holds a different vector for chunk {chunk_id}"}
    # A query for as many results as the collection counts walks the whole search graph: after a kill, Chroma's
    # records can hold chunks its HNSW graph lost (get() finds them, no search ever returns them).
    total = col.count()
    res = col.query(query_embeddings=[samples[0][1]], n_results=max(1, total), include=[])
    if not res["ids"][0]:
        return {"ok": False, "reason": "a search of the index returned nothing"}
    if len(res["ids"][0]) < total:
        return {"ok": False, "reason": f"the search graph holds {len(res['ids'][0])} of the {total} chunks"}
    return {"ok": True}


def _probe_child() -> int:
    """Child side of `probe_index`: one JSON verdict on stdout."""
    request = json.loads(sys.stdin.buffer.read())
    fault_point("probe.read")
    try:
        client = persistent_client(Path(request["path"]))
        names = {c.name if hasattr(c, "name") else str(c) for c in client.list_collections()}
        if request["collection"] not in names:
            reply = {"ok": request["expect_at_least"] == 0, "reason": "the collection is missing"}
        else:
            col = client.get_collection(request["collection"])
            count = col.count()
            listed = len(col.get(include=[])["ids"])
            reply = {"ok": True}
            if min(count, listed) < request["expect_at_least"]:
                reply = {"ok": False, "reason": f"the index holds {min(count, listed)} of "
                         f"{request['expect_at_least']} live chunks"}  # fmt: skip
            if reply["ok"] and request["samples"]:
                reply = _check_samples(col, request["samples"])
    except Exception as exc:  # any failure to read is the verdict, not a crash of the check
        reply = {"ok": False, "reason": chroma_reason(exc)}
    sys.stdout.write(json.dumps(reply))
    sys.stdout.flush()
    return 0


@dataclass
class RebuildReport:
    chunks: int
    sources: int
    seconds: float
    kept_as: Path | None


class RebuildError(Exception):
    """The index cannot be rebuilt from the manifest alone (e.g. a store written before chunk copies existed)."""


def rebuild_index(store_dir: Path, manifest: Manifest, collection: str, embedding_id: str) -> RebuildReport:
    """Build a fresh index from the manifest's copies of the live chunks and swap it in for `store_dir/chroma`.

    The old index is renamed to `chroma.broken` (replacing an older one), never deleted here; a crash at any
    step leaves either the old index or the complete new one in place, and the next open checks again."""
    t0 = time.perf_counter()
    sources = manifest.select()
    live = {cid for info in sources for cid in info.chunk_ids}
    missing = live - manifest.chunk_ids()
    if missing:
        raise RebuildError(
            f"{len(missing)} live chunks have no copy in the manifest (the store predates chunk copies); "
            "run `python cli.py reindex` to rebuild it from the kept files"
        )
    target, fresh, broken = store_dir / "chroma", store_dir / "chroma.rebuild", store_dir / "chroma.broken"
    shutil.rmtree(fresh, ignore_errors=True)
    col = open_collection(persistent_client(fresh), collection, embedding_id)
    for batch in manifest.get_chunks(live):
        fault_point("store.rebuild_batch")
        col.add(
            ids=[c.id for c in batch],
            embeddings=[c.vector.tolist() for c in batch],
            documents=[c.text for c in batch],
            metadatas=[c.metadata or None for c in batch],
        )
    if col.count() != len(live):
        raise RebuildError(f"the rebuilt index holds {col.count()} chunks instead of {len(live)}")
    release_chroma(fresh)
    release_chroma(target)
    kept_as = None
    if target.exists():
        shutil.rmtree(broken, ignore_errors=True)
        target.rename(broken)
        kept_as = broken
    fault_point("store.rebuild_swap")
    fresh.rename(target)
    return RebuildReport(len(live), len(sources), time.perf_counter() - t0, kept_as)


if __name__ == "__main__":
    sys.exit(_probe_child())
