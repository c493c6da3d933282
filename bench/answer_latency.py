"""Offline answer latency and the app process's memory (prints numbers; not a test).

Loads the Assistant as the app does (default settings and store), asks N dev questions one by one, and
reports full-answer time p50/p95 (the extractive answer is one piece, so time to first token is the same)
and the peak RSS of the process.

Usage: .venv/bin/python -m bench.answer_latency [--n 200]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time

import numpy as np

from base.paths import ROOT
from base.settings import get_settings
from services.assistant import Assistant


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args()
    items = [json.loads(x)["query"] for x in (ROOT / "eval/sets/dev.jsonl").read_text().splitlines()]
    items += [json.loads(x)["query"] for x in (ROOT / "eval/sets/queries_es.jsonl").read_text().splitlines()]
    random.Random(3).shuffle(items)
    t0 = time.perf_counter()
    bot = Assistant(get_settings())
    bot.ask("warm-up: do you ship to canada?")
    print(f"load + first answer: {time.perf_counter() - t0:.1f}s")
    first, full = [], []
    for n, q in enumerate(items[: args.n]):
        t = time.perf_counter()
        pending = bot.ask_stream(q, session_id=f"bench-{n}")
        it = pending.chunks()
        next(it)
        first.append(1000 * (time.perf_counter() - t))
        for _ in it:
            pass
        full.append(1000 * (time.perf_counter() - t))

    def pct(values: list[float], q: float) -> float:
        return float(np.percentile(values, q))

    print(
        f"{len(full)} questions, provider {bot.provider}: first piece p50 {pct(first, 50):.0f} ms "
        f"p95 {pct(first, 95):.0f} ms; full answer p50 {pct(full, 50):.0f} ms p95 {pct(full, 95):.0f} ms"
    )
    print(f"peak memory (max RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
