"""How much Spanish questions should lean on the English models reading them glossed into English
(base/translate.py) versus multilingual e5 reading the original, chosen on Spanish dev questions only.

One ingest of the demo store with the glossing blend; each model's cosine between every Spanish question and
every chunk (e5 on the original text, MiniLM and the adapted MiniLM on the glossed text); then any mix
`(1 - t) * e5 + t * (English mix of the blend)` is scored without re-embedding. Dev = the 80 + 40 Spanish
questions seen during earlier work (queries_es, queries_es_fresh); test = queries_es_fresh2 (60, written before
any of this and never used to choose anything). `t` is the one fitted number (best dev hit@1, ties to the
smaller t). Also reported: how often the top hit is a Spanish document when the question has one to find
(a Spanish customer should get the Spanish entry, not its English twin).

Usage: .venv/bin/python -m eval.spanish_weights [--json eval/results/spanish_weights.json]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from base.paths import ROOT
from base.settings import Settings
from eval.metrics import write_report
from eval.stores import chunk_cosines, stores

SETS = ROOT / "eval" / "sets"
SHARES = [round(t, 2) for t in np.arange(0.0, 0.61, 0.05)]
MARGINS = [0.0, 0.01, 0.02, 0.03, 0.05]
FUZZY = [1, 0]  # typo correction of unknown words within one edit (base/translate.py), on / off
DEV = ("queries_es.jsonl", "queries_es_fresh.jsonl")
TEST = ("queries_es_fresh2.jsonl",)


def _read(names: tuple[str, ...], split: str) -> list[dict]:
    out = []
    for name in names:
        for line in (SETS / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append({**json.loads(line), "split": split})
    return out


def cosines(questions: list[dict], fuzzy: int) -> dict:
    """Each model's cosine between every question (glossed for English-only models) and every chunk of the demo
    store, built with typo correction `fuzzy`."""
    from base import translate

    translate.FUZZY_EDITS = fuzzy
    translate._word.cache_clear()
    translate.glossary_id.cache_clear()
    c = chunk_cosines(stores()["demo"], questions, Settings(gloss_spanish=True))
    return {**c, "spanish_doc": np.asarray([lang == "es" for lang in c["langs"]])}


def ranked(c: dict, t: float, margin: float, en_mix: dict[str, float], k: int = 4) -> np.ndarray:
    """Each question's top-k chunk indexes as the app ranks them: blend score, then `prefer_language` among
    the k + Searcher.EXTRA best (every question here is Spanish)."""
    from vectorstore.retrieval import Searcher

    english = sum(w * c[n] for n, w in en_mix.items())
    scores = (1 - t) * c["e5"] + t * english
    pool = np.argsort(-scores, axis=1)[:, : k + (Searcher.EXTRA if margin > 0 else 0)]
    adjusted = np.take_along_axis(scores, pool, axis=1) + margin * c["spanish_doc"][pool]
    order = np.argsort(-adjusted, axis=1, kind="stable")
    return np.take_along_axis(pool, order, axis=1)[:, :k]


def metrics(c: dict, questions: list[dict], t: float, margin: float, en_mix: dict[str, float], split: str) -> dict:
    ranks = ranked(c, t, margin, en_mix)
    top = ranks[:, 0]
    sel = [i for i, q in enumerate(questions) if q["split"] == split]
    hit = [c["doc_ids"][top[i]] in questions[i]["relevant"] for i in sel]
    hit3 = [any(c["doc_ids"][j] in questions[i]["relevant"] for j in ranks[i, :3]) for i in sel]
    wants_es = [i for i in sel if any("preguntas" in r for r in questions[i]["relevant"])]
    es_top = [bool(c["spanish_doc"][top[i]]) for i in wants_es]
    return {
        "n": len(sel),
        "hit@1": round(float(np.mean(hit)), 4),
        "hit@3": round(float(np.mean(hit3)), 4),
        "spanish_top_when_one_is_relevant": round(float(np.mean(es_top)), 4) if es_top else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", default=str(ROOT / "eval" / "results" / "spanish_weights.json"))
    args = ap.parse_args()
    questions = _read(DEV, "dev") + _read(TEST, "test")
    en_mix = Settings().blend_weights["en"]
    table: dict[str, dict] = {}
    print(f"English mix {en_mix}; t = share of the English models for Spanish questions (e5 gets 1 - t)")
    print(
        f"{'fuzzy':>5}{'t':>5}{'margin':>7}  {'dev@1':>6}{'dev@3':>6}{'dev es':>7}  "
        f"{'test@1':>6}{'test@3':>7}{'test es':>8}"
    )
    for fuzzy in FUZZY:
        c = cosines(questions, fuzzy)
        for t in SHARES:
            for margin in MARGINS:
                key = f"fuzzy={fuzzy} t={t} margin={margin}"
                row = table[key] = {s: metrics(c, questions, t, margin, en_mix, s) for s in ("dev", "test")}
                d, te = row["dev"], row["test"]
                print(f"{fuzzy:>5}{t:>5}{margin:>7}  {d['hit@1']:>6.3f}{d['hit@3']:>6.3f}"
                      f"{d['spanish_top_when_one_is_relevant']:>7.3f}  {te['hit@1']:>6.3f}{te['hit@3']:>7.3f}"
                      f"{te['spanish_top_when_one_is_relevant']:>8.3f}")  # fmt: skip

    def rank_key(key: str) -> tuple:
        d = table[key]["dev"]
        fuzzy, t, margin = (float(part.split("=")[1]) for part in key.split())
        return (d["hit@1"], d["spanish_top_when_one_is_relevant"], -t, -margin, -fuzzy)

    best = max(table, key=rank_key)
    print(f"fitted on dev: {best}; dev {table[best]['dev']}; test {table[best]['test']}")
    base = f"fuzzy={FUZZY[0]} t=0.0 margin=0.0"
    print(f"before (e5 alone, no margin): dev {table[base]['dev']}; test {table[base]['test']}")
    write_report({"english_mix": en_mix, "results": table, "fitted_on_dev": best, "e5_alone": base}, args.json)


if __name__ == "__main__":
    main()
