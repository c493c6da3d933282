"""cli.py run as a real subprocess from the repo root with the fake embedder (inherited from the env)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from child_env import child_env
from helpers import DATA, write_faq

from base.settings import ROOT, Settings
from providers.embeddings import HashingEmbeddings
from services.knowledge import KnowledgeBase


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = child_env()  # ASSISTANT_EMBEDDING_PROVIDER=fake and ASSISTANT_STORE_DIR come from conftest
    assert env["ASSISTANT_EMBEDDING_PROVIDER"] == "fake"
    return subprocess.run(
        [sys.executable, "cli.py", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def build_store(store: Path, paths: list[Path], dim: int = 256) -> dict[str, int]:
    """Build a store in-process (same vectors as the fake provider when dim=256), then let go of it."""
    kb = KnowledgeBase(Settings(store_dir=store), embeddings=HashingEmbeddings(dim))
    assert kb.ingest_paths(paths).ok
    stats = kb.stats()
    kb.store.close()
    return stats


def open_store(store: Path) -> KnowledgeBase:
    return KnowledgeBase(Settings(store_dir=store), embeddings=HashingEmbeddings())


def test_ingest_reports_added_unchanged_replaced_and_stats(tmp_path: Path, faq_entries: list[dict], demo_copy) -> None:
    store = tmp_path / "cli-store"
    faq = write_faq(tmp_path / "faq.json", faq_entries)
    guide = demo_copy("policies/shipping_guide.txt")

    first = run_cli("ingest", faq, guide, "--store", store)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == "added faq.json: 6 documents, 6 chunks"
    assert lines[1].startswith("added shipping_guide.txt: 1 documents, ")
    assert len(lines) == 2 and first.stderr == ""

    again = run_cli("ingest", faq, "--store", store)
    assert (again.returncode, again.stdout) == (0, "unchanged faq.json: 6 documents, 6 chunks\n")

    write_faq(faq, faq_entries[:-1])
    changed = run_cli("ingest", faq, "--store", store)
    assert changed.returncode == 0
    assert changed.stdout == "replaced faq.json: 5 documents, 5 chunks, 1 old chunks removed\n"

    stats = run_cli("stats", "--json", "--store", store)
    guide_chunks = int(lines[1].rsplit(", ", 1)[1].split()[0])
    assert stats.returncode == 0
    chunks = 5 + guide_chunks
    assert json.loads(stats.stdout) == {"documents": 2, "chunks": chunks, "indexed": chunks, "status": "ok"}


def test_bad_files_get_one_line_each_and_good_file_still_lands(tmp_path: Path, faq_entries: list[dict]) -> None:
    store = tmp_path / "cli-store"
    bad_json = tmp_path / "broken.json"
    bad_json.write_text('{"questions": [', encoding="utf-8")
    bad_ext = tmp_path / "catalogue.xlsx"
    bad_ext.write_bytes(b"PK\x03\x04")
    good = write_faq(tmp_path / "faq.json", faq_entries)

    result = run_cli("ingest", bad_json, good, bad_ext, "--store", store)

    assert result.returncode != 0
    errors = result.stderr.splitlines()
    assert len(errors) == 2, result.stderr
    assert errors[0].startswith("error: broken.json: invalid JSON (line 1")
    assert errors[1].startswith("error: catalogue.xlsx: unsupported file type '.xlsx'")
    assert "Traceback" not in result.stderr
    assert result.stdout == "added faq.json: 6 documents, 6 chunks\n"
    kb = open_store(store)
    assert kb.stats() == {"documents": 1, "chunks": 6}
    assert [s.source for s in kb.list_sources()] == ["faq.json"]


@pytest.fixture
def demo_store(tmp_path: Path) -> Path:
    store = tmp_path / "demo-store"
    build_store(store, [DATA / "faq" / "store_faq.json", DATA / "policies" / "shipping_guide.txt"])
    return store


def test_search_json(demo_store: Path) -> None:
    question = "How do I return an item?"
    result = run_cli("search", question, "--store", demo_store, "--k", "3", "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert len(hits) == 3
    for hit in hits:
        assert set(hit) == {"text", "source", "score", "metadata"}
        assert hit["source"] == hit["metadata"]["source"]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert hits[0]["source"] == "store_faq.json"
    assert hits[0]["metadata"]["question"] == question
    assert hits[0]["score"] > 0.75
    assert hits[0]["text"].startswith(f"Q: {question}\nA: ")
    expected = open_store(demo_store).search(question, 3)
    assert [h["text"] for h in hits] == [h.text for h in expected]


def test_search_batch_json(demo_store: Path, tmp_path: Path) -> None:
    queries = ["Do you offer free shipping?", "", "How do I return an item?", "   ", "What is your return policy?"]
    batch = tmp_path / "queries.txt"
    batch.write_text("\n".join(queries) + "\n", encoding="utf-8")
    result = run_cli("search", "--batch", batch, "--store", demo_store, "--k", "2", "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == len(queries)
    for query, hits in zip(queries, lines, strict=True):
        if not query.strip():
            assert hits == []
        else:
            assert len(hits) == 2
            assert hits[0]["metadata"]["question"] == query


def test_search_argument_errors(demo_store: Path) -> None:
    zero = run_cli("search", "shipping", "--k", "0", "--store", demo_store)
    assert (zero.returncode, zero.stderr) == (2, "error: --k must be at least 1\n")


def test_store_defaults_to_env_and_delete(tmp_path: Path, faq_entries: list[dict]) -> None:
    env_store = Path(os.environ["ASSISTANT_STORE_DIR"])
    assert not env_store.exists()
    faq = write_faq(tmp_path / "faq.json", faq_entries)
    other = write_faq(tmp_path / "other.json", [{"question": "Gift wrap?", "answer": "Yes."}])
    ingest = run_cli("ingest", faq, other)  # no --store
    assert ingest.returncode == 0, ingest.stderr
    assert open_store(env_store).stats() == {"documents": 2, "chunks": 7}

    deleted = run_cli("delete", "faq.json", "missing.csv")
    assert deleted.returncode == 1
    assert deleted.stdout == "deleted faq.json: 6 chunks\n"
    assert deleted.stderr == "error: missing.csv: no such document in the store\n"
    kb = open_store(env_store)
    assert kb.stats() == {"documents": 1, "chunks": 1}
    assert [h.source for h in kb.search("Do you offer free shipping?", 5)] == ["other.json"]


def test_store_built_with_another_embedder_exits_2(tmp_path: Path, faq_entries: list[dict]) -> None:
    store = tmp_path / "other-model"
    faq = write_faq(tmp_path / "faq.json", faq_entries)
    build_store(store, [faq], dim=64)
    for args in (("search", "free shipping", "--store", store), ("ingest", faq, "--store", store)):
        result = run_cli(*args)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.splitlines()) == 1
        assert result.stderr.startswith(f"error: the store at {store} was built with embedding model ")
        assert "'fake-hashing-64' but the app is configured with 'fake-hashing-256'" in result.stderr
        assert "reindex" in result.stderr


def test_model_shows_and_switches_the_answering_model(tmp_path: Path) -> None:
    id_file = Path(os.environ["ASSISTANT_FINE_TUNED_MODEL_FILE"])
    result = run_cli("model", "--use", "base")
    assert result.returncode == 1 and "run python -m finetune.launch first" in result.stderr
    id_file.write_text(json.dumps({"fine_tuned_model": "ft:gpt-4o-mini-2024-07-18:shop::x1"}), encoding="utf-8")
    assert "answering: extractive" in run_cli("model").stdout  # no key: the offline answerer
    switched = run_cli("model", "--use", "base", "--json")
    assert switched.returncode == 0, switched.stderr
    assert json.loads(switched.stdout)["fine_tuned"]["active"] is False
    assert json.loads(id_file.read_text(encoding="utf-8"))["active"] is False


def test_orders_seed_fills_the_demo_table_once() -> None:
    seeded = run_cli("orders", "seed", "--count", "5")
    assert seeded.returncode == 0 and seeded.stdout.strip().endswith("5 demo orders")
    again = run_cli("orders", "seed", "--if-missing")
    assert again.returncode == 0 and "5 orders already" in again.stdout
