"""Spanish retrieval on the 80 dev-level queries and the 40 fresh ones, and a lexical rerank experiment
(dense score + w * IDF share of accent-folded, 5-char-prefix query tokens found in the hit's question).
Prints numbers; not shipped (gains within noise, see eval/results/spanish.txt).

Usage: .venv/bin/python -m eval.spanish [STORE_DIR]   (default: the app's store, built with the blend)
"""

import collections
import json
import math
import re
import sys
from pathlib import Path

from base.settings import Settings
from base.translate import fold
from eval.metrics import mean_metrics, rank_metrics
from services.knowledge import KnowledgeBase

kb = KnowledgeBase(Settings(**({"store_dir": Path(sys.argv[1])} if len(sys.argv) > 1 else {})))
STOP = set(
    [
        "a",
        "al",
        "algo",
        "como",
        "con",
        "cual",
        "cuales",
        "cuando",
        "cuanto",
        "cuanta",
        "cuantos",
        "cuantas",
        "de",
        "del",
        "donde",
        "el",
        "en",
        "es",
        "esta",
        "este",
        "eso",
        "hay",
        "la",
        "las",
        "lo",
        "los",
        "me",
        "mi",
        "mis",
        "no",
        "o",
        "para",
        "pero",
        "por",
        "puedo",
        "puede",
        "que",
        "se",
        "si",
        "sin",
        "sobre",
        "su",
        "sus",
        "te",
        "tengo",
        "tiene",
        "tienen",
        "tu",
        "un",
        "una",
        "uno",
        "y",
        "ya",
        "yo",
        "hacen",
        "hago",
        "hace",
        "quiero",
        "quisiera",
        "saber",
    ]
)


def toks(t):
    return [w[:5] for w in re.findall(r"[a-z0-9]+", fold(t)) if w not in STOP and len(w) > 2]


chunks = kb.store.get_chunks()


def field(h):
    m = h.metadata
    return m.get("question") or m.get("name") or h.text[:200]


df = collections.Counter()
for h in chunks:
    df.update(set(toks(field(h))))
N = len(chunks)


def idf(w):
    return math.log((N + 1) / (df.get(w, 0) + 0.5))


sets = {
    n: [json.loads(x) for x in (Path(__file__).parent / "sets" / f"{n}.jsonl").read_text(encoding="utf-8").splitlines()]
    for n in ("queries_es", "queries_es_fresh")
}
cache = {n: kb.search_many([q["query"] for q in qs], 20) for n, qs in sets.items()}


def rerank(q, hits, w):
    qt = set(toks(q))
    tot = sum(idf(t) for t in qt) or 1

    def s(h):
        ht = set(toks(field(h)))
        return h.score + w * sum(idf(t) for t in qt & ht) / tot

    return sorted(hits, key=s, reverse=True)


for w in (0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.08):
    out = []
    for n, qs in sets.items():
        ms = [
            rank_metrics([h.metadata.get("doc_id", h.id) for h in rerank(q["query"], hits, w)], q["relevant"])
            for q, hits in zip(qs, cache[n], strict=True)
        ]
        mm = mean_metrics(ms)
        out.append(f"{n}: {mm['hit@1']:.3f}/{mm['hit@3']:.3f}")
    print(w, " | ".join(out))
