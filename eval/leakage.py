"""Leakage between the Bitext splits, and the clean test set without it.

Bitext utterances are paraphrases of templates; the dev/test split is by template family, but families were
clusters of base-MiniLM vectors, so some test utterances are still a training utterance with another order
number, amount, name or typo. This script masks those slots and writes `eval/sets/test_clean.jsonl`: the test
set minus every Bitext utterance that, once masked, equals a train/dev utterance or has one at character
similarity >= 0.9 (rapidfuzz ratio). Product questions are kept (they are split by product). The counts go to
`eval/results/leakage.json`. Re-splitting instead would change the adapter's training data and every fitted
number; the clean test measures the same shipped model without the leaked part.

Usage: .venv/bin/python -m eval.leakage
"""

from __future__ import annotations

import json
import re

from rapidfuzz import fuzz, process

from base.paths import ROOT
from eval.build_devset import FILL_VALUES

SETS = ROOT / "eval" / "sets"
RESULT = ROOT / "eval" / "results" / "leakage.json"
SIMILAR = 90.0  # rapidfuzz ratio, 0-100

_SLOT_WORDS = re.compile(
    r"\b(?:" + "|".join(re.escape(v.lower()) for v in sorted(FILL_VALUES, key=len, reverse=True)) + r")\b"
)
_CODE = re.compile(r"\binv-\d+\b")
_AMOUNT = re.compile(r"[$€£]\s?\d[\d,.]*|\d[\d,.]*\s?(?:usd|eur|dollars?|euros?)\b")
_NUMBER = re.compile(r"\d[\d,.-]*")
_PUNCT = re.compile(r"[^\w<> ]+")


def mask(text: str) -> str:
    """The template behind an utterance: slot values, codes, amounts and numbers replaced, punctuation dropped."""
    t = text.lower()
    t = _SLOT_WORDS.sub(" <slot> ", t)
    t = _CODE.sub(" <code> ", t)
    t = _AMOUNT.sub(" <amount> ", t)
    t = _NUMBER.sub(" <num> ", t)
    t = _PUNCT.sub(" ", t)
    return " ".join(t.split())


def _read(name: str) -> list[dict]:
    return [json.loads(line) for line in (SETS / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def find_leaks(test: list[dict], seen: list[dict]) -> dict[int, dict]:
    """Index of every leaking Bitext test row -> its closest seen utterance, masked similarity and whether identical."""
    seen_masked = [mask(s["query"]) for s in seen if s["kind"] == "faq"]
    exact = set(seen_masked)
    leaks = {}
    for i, item in enumerate(test):
        if item["kind"] != "faq":
            continue
        m = mask(item["query"])
        if m in exact:
            leaks[i] = {"query": item["query"], "neighbour": m, "similarity": 100.0, "identical": True}
            continue
        best = process.extractOne(m, seen_masked, scorer=fuzz.ratio, score_cutoff=SIMILAR)
        if best is not None:
            leaks[i] = {"query": item["query"], "neighbour": best[0], "similarity": best[1], "identical": False}
    return leaks


def main() -> None:
    train, dev, test = _read("train.jsonl"), _read("dev.jsonl"), _read("test.jsonl")
    bitext_test = sum(1 for t in test if t["kind"] == "faq")
    report = {}
    for name, seen in (("train", train), ("train+dev", train + dev)):
        leaks = find_leaks(test, seen)
        report[name] = {
            "test_bitext": bitext_test,
            "identical_after_masking": sum(1 for v in leaks.values() if v["identical"]),
            "similar_ge_0.9_or_identical": len(leaks),
        }
        print(f"test vs {name}: {report[name]}")
    leaks = find_leaks(test, train + dev)
    clean = [t for i, t in enumerate(test) if i not in leaks]
    with (SETS / "test_clean.jsonl").open("w", encoding="utf-8") as fh:
        for item in clean:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
    covered = sorted({r for t in clean if t["kind"] == "faq" for r in t["relevant"]})
    report["clean"] = {
        "rows": len(clean),
        "bitext": sum(1 for t in clean if t["kind"] == "faq"),
        "products": sum(1 for t in clean if t["kind"] == "product"),
        "faq_entries_covered": len(covered),
        "intents": len({t["intent"] for t in clean if t["kind"] == "faq"}),
    }
    report["examples"] = [leaks[i] for i in sorted(leaks)[:15]]
    print(f"clean test: {report['clean']}")
    RESULT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
