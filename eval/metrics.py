"""Ranking metrics over document ids (several chunks of one document count once)."""

from __future__ import annotations

from collections.abc import Sequence


def dedupe_doc_ids(doc_ids: Sequence[str]) -> list[str]:
    """Document ids in rank order, first occurrence only."""
    seen: set[str] = set()
    out = []
    for d in doc_ids:
        if d not in seen:
            seen.add(d)
            out.append(d)
    return out


def rank_metrics(ranked: Sequence[str], relevant: Sequence[str], cutoff: int = 10) -> dict[str, float]:
    """hit@1, hit@3 and reciprocal rank (0 past `cutoff`) of the first relevant document."""
    rel = set(relevant)
    ranked = dedupe_doc_ids(ranked)[:cutoff]
    first = next((n for n, d in enumerate(ranked, 1) if d in rel), None)
    return {
        "hit@1": float(first == 1),
        "hit@3": float(first is not None and first <= 3),
        "mrr": 1.0 / first if first else 0.0,
    }


def mean_metrics(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    """Average of per-query metrics, with the query count."""
    if not rows:
        return {"n": 0, "hit@1": 0.0, "hit@3": 0.0, "mrr": 0.0}
    keys = ("hit@1", "hit@3", "mrr")
    return {"n": len(rows), **{k: sum(r[k] for r in rows) / len(rows) for k in keys}}


def write_report(report: dict, path: str) -> None:
    """An evaluation's numbers as indented JSON (a relative path is under the project root)."""
    import json

    from base.paths import ROOT

    out = ROOT / path if not path.startswith("/") else path
    with open(out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
