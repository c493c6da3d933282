"""Answer quality of the shipped assistant on a store's questions: right, wrongly declined, wrong, out of scope.

Builds a throw-away store from the knowledge directory with the configured offline provider, asks every
question in a fresh session through `Assistant.ask` (exactly what the chat does), and scores the first source
of the answer against the question's relevant documents. `--dump` writes one line per question (answer text,
declined, source ids) so two runs can be compared line by line (a refactor must leave this file unchanged).

Usage: .venv/bin/python -m eval.answers [--knowledge data] [--questions eval/sets/dev.jsonl ...]
       [--split dev] [--dump FILE.jsonl] [--json FILE.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from base.paths import ROOT
from base.settings import Settings
from base.types import Hit
from services.assistant import Assistant
from services.knowledge import KnowledgeBase

EVAL = ROOT / "eval" / "sets"
DEFAULT_QUESTIONS = [EVAL / "dev.jsonl", EVAL / "queries_es.jsonl", EVAL / "out_of_scope.jsonl"]


def load_questions(files: list[Path], split: str | None) -> list[dict]:
    """Questions from JSONL files; rows carrying a `split` other than `split` are skipped."""
    items = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            if split and item.get("split", split) != split:
                continue
            item["file"] = path.name
            items.append(item)
    return items


def source_ids(sources: list[Hit]) -> list[str]:
    """The document ids of an answer's sources, in order."""
    return [s.doc_id for s in sources]


def score(item: dict, declined: bool, ids: list[str]) -> str:
    """right | wrongly_declined | wrong for answerable questions; declined | answered for out-of-scope ones."""
    if not item["relevant"]:
        return "declined" if declined else "answered"
    if declined:
        return "wrongly_declined"
    return "right" if ids and ids[0] in item["relevant"] else "wrong"


def summarise(rows: list[dict]) -> dict[str, dict]:
    """Outcome rates per group (file, kind and language) and overall."""
    groups: dict[str, list[str]] = {}
    for row in rows:
        kind = "out_of_scope" if not row["relevant"] else "answerable"
        for g in ("all/" + kind, f"{row['lang']}/{kind}", f"{row['file']}/{kind}"):
            groups.setdefault(g, []).append(row["outcome"])
    out = {}
    for g, outcomes in sorted(groups.items()):
        n = len(outcomes)
        out[g] = {"n": n, **{o: round(outcomes.count(o) / n, 4) for o in sorted(set(outcomes))}}
    return out


def run(knowledge: Path, questions: list[dict], settings: Settings) -> list[dict]:
    """Ask every question of a fresh store built from `knowledge`; one row per question."""
    kb = KnowledgeBase(settings)
    report = kb.ingest_paths([knowledge])
    if not report.ok:
        raise SystemExit(f"ingest failed: {report.failed}")
    bot = Assistant(settings, kb=kb)
    rows = []
    for n, item in enumerate(questions):
        result = bot.ask(item["query"], session_id=f"q{n}")
        ids = source_ids(result.sources)
        rows.append(
            {
                "query": item["query"],
                "relevant": item["relevant"],
                "file": item["file"],
                "lang": result.language,
                "answer": result.answer,
                "declined": result.declined,
                "sources": ids,
                "outcome": score(item, result.declined, ids),
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--knowledge", type=Path, default=ROOT / "data")
    ap.add_argument("--questions", type=Path, nargs="+", default=DEFAULT_QUESTIONS)
    ap.add_argument("--split", default="dev", help="keep rows whose `split` is this (rows without one are kept)")
    ap.add_argument("--dump", type=Path, help="write one JSON line per question here")
    ap.add_argument("--json", type=Path, help="write the summary here")
    args = ap.parse_args()
    questions = load_questions(args.questions, args.split)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        rows = run(args.knowledge, questions, Settings(store_dir=Path(tmp), feedback_db=Path(tmp) / "log.db"))
    summary = summarise(rows)
    print(f"{len(rows)} questions, {time.perf_counter() - t0:.0f} s")
    for group, numbers in summary.items():
        print(f"{group:<40}" + "  ".join(f"{k}={v}" for k, v in numbers.items()))
    if args.dump:
        args.dump.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
