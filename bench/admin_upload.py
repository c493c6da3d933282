"""Admin uploads with the real models: parse cost in the child process, upload time, and the chat's
latency while an upload is being embedded (prints numbers; not a test).

Builds a store in a temporary directory with the default (blend) embedder, ingests the demo FAQ, then:
1. parses every demo file in-process and in the child process (`loaders.isolated`) and prints both times;
2. asks N dev questions with nobody uploading (baseline);
3. uploads the policy and shipping documents through `services.uploads.ingest_uploads` in a thread and asks
   the same questions meanwhile, from the same `Assistant`, as the Streamlit app does.

Usage: .venv/bin/python -m bench.admin_upload [--n 60]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from base.paths import ROOT
from base.settings import Settings
from loaders import parse_file
from loaders.isolated import parse_isolated
from services.assistant import Assistant
from services.knowledge import KnowledgeBase, expand_paths
from services.uploads import ingest_uploads


def _ms(values: list[float]) -> str:
    arr = np.asarray(values) * 1000
    return f"p50 {np.percentile(arr, 50):.0f} ms, p95 {np.percentile(arr, 95):.0f} ms, max {arr.max():.0f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=60)
    args = ap.parse_args()

    print("parse time per file (in-process / child process):")
    for path in expand_paths([ROOT / "data"]):
        t = time.perf_counter()
        parse_file(path)
        local = time.perf_counter() - t
        t = time.perf_counter()
        parse_isolated(path)
        print(f"  {path.name:32s} {local * 1000:7.0f} ms / {(time.perf_counter() - t) * 1000:7.0f} ms")

    questions = [json.loads(x)["query"] for x in (ROOT / "eval/sets/dev.jsonl").read_text().splitlines()][: args.n]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(store_dir=Path(tmp) / "store")
        kb = KnowledgeBase(settings)
        assert kb.ingest_paths([ROOT / "data/faq/store_faq.json"]).ok
        bot = Assistant(settings, kb)
        bot.ask("warm-up")

        idle = []
        for n, q in enumerate(questions):
            t = time.perf_counter()
            bot.ask(q, f"idle-{n}")
            idle.append(time.perf_counter() - t)
        print(f"chat, nobody uploading ({len(idle)} questions): {_ms(idle)}")

        files = [ROOT / "data/policies/terms_and_policies.md", ROOT / "data/policies/shipping_guide.txt"]
        uploads = [(p.name, p.read_bytes()) for p in files]
        outcomes: list = []
        started = time.perf_counter()
        writer = threading.Thread(target=lambda: outcomes.extend(ingest_uploads(kb, uploads)))
        writer.start()
        busy = []
        while writer.is_alive():
            for n, q in enumerate(questions):
                if not writer.is_alive():
                    break
                t = time.perf_counter()
                bot.ask(q, f"busy-{n}")
                busy.append(time.perf_counter() - t)
        writer.join()
        upload_s = time.perf_counter() - started
        chunks = sum(o.chunks for o in outcomes)
        print(f"upload of {len(files)} files ({chunks} chunks) while chatting: {upload_s:.1f} s, {outcomes[0].status}")
        print(f"chat during the upload ({len(busy)} questions): {_ms(busy)}")


if __name__ == "__main__":
    main()
