"""Fit the per-store decline rule (chains/calibration_rule.json) on dev questions, and test it leave-one-store-out.

For every store in eval/stores.py: the top-5 hits of its labelled questions and of the calibration banks (cached).
A rule turns a store's bank scores into per-language thresholds (chains/calibration.py). A question is then
declined (top score under its language's threshold), answered right (top hit is a relevant document) or answered
wrong; a question with no answer in the store (out of scope, or in-domain but not covered) should be declined.

- Fitting: grid search over the rule's parameters on the DEV questions of the fitting stores; the loss counts how
  far each store misses the goals (>= 90% right, <= 5% wrongly declined, <= 3% wrong, >= 95% of no-answer
  questions declined), ties broken by right + declined rates.
- Leave-one-store-out: for each store, fit on the other stores' dev questions and report its TEST questions.
- Shipped rule: fitted on the dev questions of all stores; written to chains/calibration_rule.json.

Usage: .venv/bin/python -m eval.calibrate [--write-rule] [--json eval/results/calibration.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import asdict

import numpy as np

from base.language import detect_language
from base.paths import ROOT
from chains.calibration import RULE_FILE, CalibrationRule, banks
from chains.gate import FALLBACK_THRESHOLDS
from eval.metrics import write_report
from eval.stores import Store, search_results, stores

GOALS = {"right": 0.90, "wrongly_declined": 0.05, "wrong": 0.03, "no_answer_declined": 0.95}
GRID = {
    "oos_quantile": [0.8, 0.9, 0.95, 0.98, 1.0],
    "in_quantile": [0.1, 0.25, 0.5],
    "mix": [-0.2, -0.1, 0.0, 0.1, 0.2, 0.3, 0.4],
}


def prepare(store: Store) -> dict:
    """Questions with their hits and language, and the store's bank scores per language."""
    questions = store.questions()
    bank_sets = banks()
    bank_queries = [q for sets in bank_sets.values() for part in sets.values() for q in part]
    hits = search_results(store, [q["query"] for q in questions] + bank_queries)
    for q in questions:
        q["hits"] = hits[q["query"]]
        q["detected"] = detect_language(q["query"])

    def top1(texts: list[str]) -> list[float]:
        return [hits[t][0]["score"] if hits[t] else 0.0 for t in texts]

    scores = {lang: {part: top1(texts) for part, texts in sets.items()} for lang, sets in bank_sets.items()}
    return {"questions": questions, "bank_scores": scores}


def thresholds_for(prepared: dict, rule: CalibrationRule | None) -> dict[str, float]:
    if rule is None:  # the fixed thresholds of the settings (before calibration)
        return dict(FALLBACK_THRESHOLDS)
    fitted = {lang: rule.threshold(s["in"], s["oos"]) for lang, s in prepared["bank_scores"].items()}
    return {**FALLBACK_THRESHOLDS, **fitted}


def outcome(q: dict, thresholds: dict[str, float]) -> str:
    t = thresholds.get(q["detected"], thresholds["en"])
    top = q["hits"][0] if q["hits"] else None
    if not q["relevant"]:
        return "declined" if top is None or top["score"] < t else "answered"
    if top is None or top["score"] < t:
        return "wrongly_declined"
    return "right" if top["doc_id"] in q["relevant"] else "wrong"


def summarise(answerable: list[str], no_answer: list[str]) -> dict:
    """Outcome rates from the outcomes of answerable questions and of no-answer questions."""
    out = {"n_answerable": len(answerable), "n_no_answer": len(no_answer)}
    for key in ("right", "wrongly_declined", "wrong"):
        out[key] = round(answerable.count(key) / len(answerable), 4) if answerable else None
    out["no_answer_declined"] = round(no_answer.count("declined") / len(no_answer), 4) if no_answer else None
    return out


def rates(prepared: dict, thresholds: dict[str, float], split: str, lang: str | None = None) -> dict[str, float]:
    """Outcome rates on one split: answerable questions and no-answer questions separately."""
    qs = [q for q in prepared["questions"] if q["split"] == split and (lang is None or q["lang"] == lang)]
    return summarise([outcome(q, thresholds) for q in qs if q["relevant"]],
                     [outcome(q, thresholds) for q in qs if not q["relevant"]])  # fmt: skip


def loss(r: dict[str, float]) -> float:
    """How far one store misses the goals (0 = all met)."""
    miss = 0.0
    if r["right"] is not None:
        miss += max(0.0, GOALS["right"] - r["right"]) + max(0.0, r["wrongly_declined"] - GOALS["wrongly_declined"])
        miss += 2 * max(0.0, r["wrong"] - GOALS["wrong"])
    if r["no_answer_declined"] is not None:
        miss += max(0.0, GOALS["no_answer_declined"] - r["no_answer_declined"])
    return miss


def selection_key(per_store: list[dict]) -> tuple[float, float]:
    """How a candidate ranks (lower is better): mean loss over the stores, ties broken by right + declined."""
    mean_loss = float(np.mean([loss(r) for r in per_store]))
    gain = float(np.mean([(r["right"] or 0) + (r["no_answer_declined"] or 0) for r in per_store]))
    return (round(mean_loss, 6), -gain)


def fit(prepared: dict[str, dict]) -> CalibrationRule:
    """The grid point with the lowest mean loss over the stores' dev questions."""
    best, best_key = None, None
    for values in itertools.product(*GRID.values()):
        rule = CalibrationRule(**dict(zip(GRID, values, strict=True)))
        key = selection_key([rates(p, thresholds_for(p, rule), "dev") for p in prepared.values()])
        if best_key is None or key < best_key:
            best, best_key = rule, key
    assert best is not None
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write-rule", action="store_true", help="write the rule fitted on all dev stores")
    ap.add_argument("--json", default=str(ROOT / "eval" / "results" / "calibration.json"))
    args = ap.parse_args()
    prepared = {name: prepare(store) for name, store in stores().items()}
    report: dict = {"goals": GOALS, "grid": GRID, "leave_one_store_out": {}, "stores": sorted(prepared)}
    print(f"{'held-out store':<14}{'rule':<44}{'split':<6}{'n':>5}{'right':>8}{'w.decl':>8}{'wrong':>8}"
          f"{'n_none':>7}{'declined':>9}")  # fmt: skip
    for held in prepared:
        others = {n: p for n, p in prepared.items() if n != held}
        rule = fit(others)
        entry = {"fitted_on": sorted(others), "rule": asdict(rule)}
        for label, r in (("fixed", None), ("calibrated", rule)):
            th = thresholds_for(prepared[held], r)
            res = {"thresholds": th, "test": rates(prepared[held], th, "test")}
            for lang in ("en", "es"):
                res[f"test_{lang}"] = rates(prepared[held], th, "test", lang)
            entry[label] = res
            t = res["test"]
            desc = "fixed " + json.dumps(th) if r is None else f"calibrated {th}"
            cells = [t["right"], t["wrongly_declined"], t["wrong"]]
            print(f"{held:<14}{desc[:43]:<44}{'test':<6}{t['n_answerable']:>5}" + "".join(f"{c!s:>8}" for c in cells)
                  + f"{t['n_no_answer']:>7}{t['no_answer_declined']!s:>9}")  # fmt: skip
        report["leave_one_store_out"][held] = entry
    shipped = fit(prepared)
    report["shipped_rule"] = {"fitted_on": sorted(prepared), "split": "dev", "rule": asdict(shipped)}
    report["dev"] = {}
    for name, p in prepared.items():  # what the fit saw (not a quality claim): fixed vs the shipped rule
        report["dev"][name] = {
            "fixed": rates(p, thresholds_for(p, None), "dev"),
            "calibrated": rates(p, thresholds_for(p, shipped), "dev"),
        }
        for label, r in report["dev"][name].items():
            print(f"dev {name:<10}{label:<12}" + "  ".join(f"{k}={v}" for k, v in r.items()))
    print(f"rule fitted on the dev questions of {', '.join(sorted(prepared))}: {asdict(shipped)}")
    if args.write_rule:
        RULE_FILE.write_text(json.dumps(report["shipped_rule"], indent=1) + "\n", encoding="utf-8")
        print(f"wrote {RULE_FILE.relative_to(ROOT)}")
    write_report(report, args.json)


if __name__ == "__main__":
    main()
