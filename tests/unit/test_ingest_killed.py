"""A real crash: `cli.py ingest` is SIGKILLed half-way through writing a new version of a file.

Readers must keep seeing the whole old version (never half of each), and the next ingest must finish
the job and sweep what the killed one left behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.embeddings import HashingEmbeddings
from core.knowledge import KnowledgeBase
from core.settings import ROOT, Settings

N = 5000  # entries: the killed write phase lasts about 4 s here, so the kill lands in the middle


def _write(path: Path, version: str) -> None:
    entries = [
        {"id": f"e{n}", "question": f"Question {n} about item {n * 7}?", "answer": f"Answer {n} ({version})."}
        for n in range(N)
    ]
    path.write_text(json.dumps({"questions": entries}), encoding="utf-8")


def _cli(store: Path, *args: str) -> subprocess.Popen:
    env = dict(
        os.environ,
        ASSISTANT_STORE_DIR=str(store),
        ASSISTANT_EMBEDDING_PROVIDER="fake",
        ASSISTANT_PARSE_ISOLATION="false",
    )
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), *args], env=env, cwd=ROOT)


def _reader(store: Path) -> KnowledgeBase:
    return KnowledgeBase(Settings(store_dir=store, embedding_provider="fake"), embeddings=HashingEmbeddings())


def test_killed_ingest_leaves_the_old_version_whole_and_the_next_ingest_recovers(tmp_path: Path) -> None:
    store, faq = tmp_path / "store", tmp_path / "faq.json"
    _write(faq, "v1")
    assert _cli(store, "ingest", str(faq)).wait(timeout=120) == 0
    v1_sha = _reader(store).store.get_source("faq.json").sha256

    _write(faq, "v2")  # every entry changes: every chunk of v2 is new
    proc = _cli(store, "ingest", str(faq))
    marker = store / "ingest.inprogress"
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, "ingest ended before it started writing"
        assert time.monotonic() < deadline
        time.sleep(0.002)
    time.sleep(1.0)  # some batches of v2 are in Chroma, the manifest still points at v1
    assert proc.poll() is None, "ingest finished before the kill: make N larger"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert marker.exists()

    kb = _reader(store)
    info = kb.store.get_source("faq.json")
    assert info.sha256 == v1_sha and info.chunks == N
    in_chroma = set(kb.store.collection().get(include=[])["ids"])
    assert set(info.chunk_ids) <= in_chroma  # the old version is complete
    assert len(in_chroma) > N, "the kill should have left some v2 chunks behind"
    hits = kb.search("Question 1234 about item 8638?", 10)
    assert hits and all("(v1)" in h.metadata["answer"] for h in hits)  # never a v2 chunk
    assert hits[0].metadata["answer"] == "Answer 1234 (v1)."
    kb.store.close()

    assert _cli(store, "ingest", str(faq)).wait(timeout=120) == 0
    kb = _reader(store)
    info = kb.store.get_source("faq.json")
    assert info.chunks == N and not marker.exists()
    assert set(kb.store.collection().get(include=[])["ids"]) == set(info.chunk_ids)  # orphans swept
    assert kb.search("Question 1234 about item 8638?", 1)[0].metadata["answer"] == "Answer 1234 (v2)."
