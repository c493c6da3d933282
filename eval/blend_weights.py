"""How much weight English queries should give the store-adapted MiniLM versus the wheel's base MiniLM, judged on
stores the weight was not chosen on (hit@1 of the top chunk's document).

The blend's score is a weighted sum of the models' cosines (providers/embeddings.py `BlendEmbeddings`), so every
weight can be scored from one ingest per store: each model's cosine between every English answerable question
and every chunk, then any mix. The adapter was trained on the demo store's documents and Bitext utterances, so
the demo store's numbers flatter it; each held-out store gets the weight that maximises the mean dev hit@1 of the
OTHER stores (stores weigh equally), and is reported on its TEST questions.

Usage: .venv/bin/python -m eval.blend_weights [--no-faq-answer-view] [--json eval/results/blend_weights.json]
"""

from __future__ import annotations

import argparse

import numpy as np

from base.paths import ROOT
from base.settings import Settings
from eval.metrics import write_report
from eval.stores import Store, chunk_cosines, stores

WEIGHTS = [round(w, 2) for w in np.arange(0.0, 1.01, 0.1)]  # weight of the adapted model; base MiniLM gets 1 - w


def cosines(store: Store) -> dict:
    """Per English answerable question: its relevant ids, split, and each MiniLM's cosine with every chunk."""
    questions = [q for q in store.questions() if q["relevant"] and q["lang"] == "en"]
    c = chunk_cosines(store, questions, Settings(), models=("minilm", "adapted"))
    # English questions take English chunks when there are any (the shipped language margin, settings
    # `language_margins`): Spanish entries, glossed into English for Spanish questions, are left out here.
    english = [i for i, lang in enumerate(c["langs"]) if lang == "en"]
    out = {name: c[name][:, english] for name in ("minilm", "adapted")}
    return {"questions": questions, "doc_ids": [c["doc_ids"][i] for i in english], **out}


def hit1(c: dict, w: float, split: str) -> float:
    scores = (1 - w) * c["minilm"] + w * c["adapted"]
    top = scores.argmax(axis=1)
    sel = [i for i, q in enumerate(c["questions"]) if q["split"] == split]
    return float(np.mean([c["doc_ids"][top[i]] in c["questions"][i]["relevant"] for i in sel]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-faq-answer-view", action="store_true", help="embed FAQ entries from their question only")
    ap.add_argument("--json", default=str(ROOT / "eval" / "results" / "blend_weights.json"))
    args = ap.parse_args()
    from vectorstore import views as store_module

    store_module.FAQ_ANSWER_VIEW = not args.no_faq_answer_view
    data = {name: cosines(store) for name, store in stores().items()}
    table = {name: {split: {str(w): round(hit1(c, w, split), 4) for w in WEIGHTS} for split in ("dev", "test")}
             for name, c in data.items()}  # fmt: skip
    print("hit@1 by adapted weight (base MiniLM = 1 - w)")
    print(f"{'store':<10}{'split':<6}" + "".join(f"{w:>7}" for w in WEIGHTS))
    for name, splits in table.items():
        for split, row in splits.items():
            print(f"{name:<10}{split:<6}" + "".join(f"{row[str(w)]:>7.3f}" for w in WEIGHTS))
    report: dict = {"faq_answer_view": not args.no_faq_answer_view, "hit1": table, "leave_one_store_out": {}}
    for held in data:
        others = [n for n in data if n != held]
        best = max(WEIGHTS, key=lambda w: (np.mean([table[n]["dev"][str(w)] for n in others]), -abs(w - 0.5)))
        report["leave_one_store_out"][held] = {
            "weight_fitted_on_others_dev": best,
            "test_hit1": table[held]["test"][str(best)],
            "test_hit1_at_0.7": table[held]["test"]["0.7"],
            "test_hit1_base_only": table[held]["test"]["0.0"],
        }
        r = report["leave_one_store_out"][held]
        shipped, base = r["test_hit1_at_0.7"], r["test_hit1_base_only"]
        print(f"held out {held:<10} weight fitted on the others' dev {best}: test hit@1 {r['test_hit1']:.3f} "
              f"(at 0.7: {shipped:.3f}, base only: {base:.3f})")  # fmt: skip
    all_best = max(WEIGHTS, key=lambda w: (np.mean([table[n]["dev"][str(w)] for n in data]), -abs(w - 0.5)))
    report["fitted_on_all_dev"] = all_best
    print(f"weight fitted on every store's dev: {all_best}")
    write_report(report, args.json)


if __name__ == "__main__":
    main()
