"""Which decline decision holds on a store it was not fitted on: fixed thresholds, the bank rule, or a
classifier on score features.

Leave-one-store-out: every method is fitted on the DEV questions of the other stores and reported on the held-out
store's TEST questions (eval/stores.py splits another store's questions by the FAQ entry they ask about).

- fixed: the gate's fallback thresholds (chains/gate.py) as they stand.
- one threshold: a single English cut (Spanish keeps its fallback), grid-fitted on the other stores' dev questions.
- Spanish: only the demo store has Spanish questions; its threshold is fitted on the Spanish dev sets (answerable
  and out-of-scope) and reported on the Spanish test sets (queries_es_fresh2, out_of_scope_es test).
- bank rule: chains/calibration.py's rule, grid-fitted as in eval/calibrate.py.
- classifier: logistic regression on the top hits' scores, each also taken relative to where the store's
  calibration banks land (generic in-domain and out-of-scope messages; chains/banks/). Label 1 = answerable and
  the top hit is right; 0 = no answer in the store, or the top hit is wrong (a decline beats a wrong answer). Its
  probability cut is chosen on the same dev questions by the goals' loss (eval/calibrate.py `loss`).

Usage: .venv/bin/python -m eval.decline_methods [--json eval/results/decline_methods.json]
"""

from __future__ import annotations

import argparse

import numpy as np

from base.paths import ROOT
from chains.gate import FALLBACK_THRESHOLDS
from eval.calibrate import GOALS, fit, loss, prepare, rates, selection_key, summarise, thresholds_for
from eval.metrics import write_report
from eval.stores import stores

CUTS = np.round(np.arange(0.05, 0.96, 0.025), 3)
FEATURES = ("s1", "margin", "s1_minus_rest", "s1_over_oos_q95", "s1_over_in_median", "s1_scaled")


def bank_stats(prepared: dict, lang: str) -> dict[str, float] | None:
    scores = prepared["bank_scores"].get(lang) or prepared["bank_scores"].get("en")
    if not scores:
        return None
    oos, ins = np.asarray(scores["oos"]), np.asarray(scores["in"])
    return {"oos_q95": float(np.quantile(oos, 0.95)), "oos_med": float(np.median(oos)), "in_med": float(np.median(ins))}


def features(q: dict, stats: dict[str, float] | None) -> list[float]:
    s = [h["score"] for h in q["hits"]] + [0.0] * 5
    s1, s2 = s[0], s[1]
    rest = float(np.mean(s[1:5]))
    st = stats or {"oos_q95": 0.5, "oos_med": 0.4, "in_med": 0.6}
    spread = max(1e-3, st["in_med"] - st["oos_med"])
    return [s1, s1 - s2, s1 - rest, s1 - st["oos_q95"], s1 - st["in_med"], (s1 - st["oos_med"]) / spread]


def label(q: dict) -> int:
    return int(bool(q["relevant"]) and bool(q["hits"]) and q["hits"][0]["doc_id"] in q["relevant"])


class ScoreClassifier:
    """Logistic regression on `features`, with a probability cut."""

    def __init__(self, cut: float = 0.5) -> None:
        self.cut = cut
        self.model = None

    def fit_model(self, rows: list[tuple[dict, dict | None]]) -> ScoreClassifier:
        from sklearn.linear_model import LogisticRegression

        x = np.asarray([features(q, st) for q, st in rows])
        y = np.asarray([label(q) for q, _ in rows])
        self.model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000).fit(x, y)
        return self

    def answers(self, q: dict, stats: dict | None) -> bool:
        return bool(self.model.predict_proba([features(q, stats)])[0, 1] >= self.cut)


def classifier_outcome(q: dict, answers: bool) -> str:
    top = q["hits"][0] if q["hits"] else None
    if not q["relevant"]:
        return "answered" if answers and top is not None else "declined"
    if not answers or top is None:
        return "wrongly_declined"
    return "right" if top["doc_id"] in q["relevant"] else "wrong"


def select(p: dict, split: str, lang: str | None = None) -> list[dict]:
    return [q for q in p["questions"] if q["split"] == split and (lang is None or q["lang"] == lang)]


def classifier_rates(clf: ScoreClassifier, p: dict, split: str, lang: str | None = None) -> dict:
    qs = select(p, split, lang)
    res = {True: [], False: []}
    for q in qs:
        res[bool(q["relevant"])].append(classifier_outcome(q, clf.answers(q, bank_stats(p, q["detected"]))))
    return summarise(res[True], res[False])


def fit_classifier(prepared: dict[str, dict]) -> ScoreClassifier:
    rows = [(q, bank_stats(p, q["detected"])) for p in prepared.values() for q in select(p, "dev")]
    clf = ScoreClassifier().fit_model(rows)
    best = None
    for cut in CUTS:
        clf.cut = float(cut)
        key = selection_key([classifier_rates(clf, p, "dev") for p in prepared.values()])
        if best is None or key < best[0]:
            best = (key, float(cut))
    clf.cut = best[1]
    return clf


def fit_global(prepared: dict[str, dict]) -> dict[str, float]:
    """One English threshold for every store, by the goals' loss over the stores' dev questions."""
    best = None
    for t in np.round(np.arange(0.30, 0.801, 0.01), 2):
        th = {**FALLBACK_THRESHOLDS, "en": float(t)}
        key = selection_key([rates(p, th, "dev") for p in prepared.values()])
        if best is None or key < best[0]:
            best = (key, th)
    return best[1]


def fit_spanish(p: dict) -> float:
    """The Spanish threshold, by the goals' loss on one store's Spanish dev questions (answerable and not)."""
    best = None
    for t in np.round(np.arange(0.30, 0.951, 0.01), 2):
        key = selection_key([rates(p, {**FALLBACK_THRESHOLDS, "es": float(t)}, "dev", "es")])
        if best is None or key < best[0]:
            best = (key, float(t))
    return best[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", default=str(ROOT / "eval" / "results" / "decline_methods.json"))
    ap.add_argument("--no-faq-answer-view", action="store_true", help="embed FAQ entries from their question only")
    args = ap.parse_args()
    from vectorstore import views as store_module

    store_module.FAQ_ANSWER_VIEW = not args.no_faq_answer_view
    prepared = {name: prepare(store) for name, store in stores().items()}
    report: dict = {"faq_answer_view": not args.no_faq_answer_view, "goals": GOALS, "features": FEATURES}
    report["leave_one_store_out"] = {}
    head = f"{'held-out':<10}{'method':<12}{'n':>5}{'right':>8}{'w.decl':>8}{'wrong':>8}{'n_none':>7}{'declined':>9}"
    print(head)
    totals: dict[str, list[dict]] = {}
    for held, p in prepared.items():
        others = {n: o for n, o in prepared.items() if n != held}
        rule = fit(others)
        clf = fit_classifier(others)
        one = fit_global(others)
        methods = {
            "fixed": lambda split, lang=None, p=p: rates(p, thresholds_for(p, None), split, lang),
            "one_cut": lambda split, lang=None, p=p, th=one: rates(p, th, split, lang),
            "bank_rule": lambda split, lang=None, p=p, r=rule: rates(p, thresholds_for(p, r), split, lang),
            "classifier": lambda split, lang=None, p=p, c=clf: classifier_rates(c, p, split, lang),
        }
        entry = {"fitted_on": sorted(others), "one_cut": one["en"], "classifier_cut": clf.cut,
                 "classifier_coef": np.round(clf.model.coef_[0], 3).tolist()}  # fmt: skip
        for name, fn in methods.items():
            t = fn("test")
            entry[name] = {"test": t, "test_en": fn("test", "en"), "test_es": fn("test", "es")}
            totals.setdefault(name, []).append(t)
            cells = [t["right"], t["wrongly_declined"], t["wrong"]]
            print(f"{held:<10}{name:<12}{t['n_answerable']:>5}" + "".join(f"{c!s:>8}" for c in cells)
                  + f"{t['n_no_answer']:>7}{t['no_answer_declined']!s:>9}")  # fmt: skip
        report["leave_one_store_out"][held] = entry
    report["mean_over_held_out_stores"] = {}
    for name, rows in totals.items():
        mean = {k: round(float(np.mean([r[k] for r in rows if r[k] is not None])), 4)
                for k in ("right", "wrongly_declined", "wrong", "no_answer_declined")}  # fmt: skip
        mean["loss"] = round(float(np.mean([loss(r) for r in rows])), 4)
        report["mean_over_held_out_stores"][name] = mean
        print(f"{'mean':<10}{name:<12}" + "  ".join(f"{k}={v}" for k, v in mean.items()))
    report["one_cut_fitted_on_all_dev"] = fit_global(prepared)["en"]
    print(f"one English threshold fitted on every store's dev: {report['one_cut_fitted_on_all_dev']}")
    # Spanish: only the demo store has Spanish questions, so no store is left out; dev and test are separate sets.
    demo = prepared["demo"]
    es_cut = fit_spanish(demo)
    shipped = {**FALLBACK_THRESHOLDS, "es": es_cut}
    report["spanish"] = {
        "threshold_fitted_on_demo_dev": es_cut,
        "shipped_threshold": FALLBACK_THRESHOLDS["es"],
        "dev_at_fitted": rates(demo, shipped, "dev", "es"),
        "test_at_fitted": rates(demo, shipped, "test", "es"),
        "test_at_shipped": rates(demo, FALLBACK_THRESHOLDS, "test", "es"),
    }
    print(f"Spanish threshold fitted on the demo store's Spanish dev: {es_cut} (shipped {FALLBACK_THRESHOLDS['es']})")
    print(f"  dev {report['spanish']['dev_at_fitted']}\n  test {report['spanish']['test_at_fitted']}")
    write_report(report, args.json)


if __name__ == "__main__":
    main()
