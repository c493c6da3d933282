"""Price questions on a real, messy, held-out export: is the right price stated, and is a wrong one ever stated?

The file (not in the repository: the PromptCloud Amazon 2020 sample, 1,999 rows; provenance and licence notes in
../shared/data/heldout_catalogue/SOURCE.md) is ingested as a shop would upload it: no column mapping, the
columns detected by name. Each product is then asked "How much is the <name>?" through the Assistant (default
embedder, offline answerer), with the full product name and with its first six words (what a customer types).

Ground truth comes from the raw price cell by a rule independent of the importer: "$12.34" (optionally
"$1,234.56") is that price; "$a - $b" is that range; an empty cell is unknown; anything else is junk, for which
no price is expected and any price stated must be one of the cell's own amounts. An answer:
- states the right price: its amounts are exactly the expected price (both ends for a range), about the product
  asked (the answer names it);
- states a wrong price: it names the product asked and gives other amounts, or it gives a price for a product
  whose cell was empty or junk that is not in the cell;
- answers about another product: it names a different product (whose own price it states correctly or not:
  counted separately);
- gives no price (declines, or says the price is not available).

A second export can be read with other column names (`--name-column`, `--price-column`) and a store currency
(`--currency`, for bare amounts such as Flipkart's "379"). Bare numbers are then plain prices. When several
listings share a name, the question cannot tell them apart: the expected price is the set of their prices, an
answer stating all of them is right, a true subset is "some of the same-name prices", and any other amount wrong.
Names that differ only in letter case or spacing count as one (a question cannot tell them apart either). Each
distinct name is asked once.

Run once per export, at the end:
    python -m eval.heldout_catalogue --file PATH [--limit N] [--json eval/results/heldout_catalogue.json]
    python -m eval.heldout_catalogue --file flipkart.csv --name-column product_name --price-column discounted_price \
        --currency INR --json eval/results/heldout_catalogue_flipkart.json
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from base.settings import Settings
from services.assistant import Assistant
from services.knowledge import KnowledgeBase

PLAIN = re.compile(r"^\$(\d{1,3}(?:,\d{3})*|\d+)\.(\d{2})$")
RANGE = re.compile(r"^\$(\d[\d,]*\.\d{2}) - \$(\d[\d,]*\.\d{2})$")
AMOUNT = re.compile(r"\$\s?(\d[\d,]*(?:\.\d{2})?)")
BARE = re.compile(r"^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$")
STATED = re.compile(r"[$€£₹¥]\s?(\d[\d,]*(?:\.\d{1,2})?)")


def truth(cell: str) -> tuple[str, tuple[float, ...]]:
    """(shape, amounts) of a raw price cell, by the independent rule in the module docstring."""
    cell = cell.strip()
    if not cell:
        return "empty", ()
    if m := PLAIN.match(cell):
        return "plain", (float(m.group(1).replace(",", "") + "." + m.group(2)),)
    if m := RANGE.match(cell):
        return "range", tuple(sorted(float(g.replace(",", "")) for g in m.groups()))
    if m := BARE.match(cell):
        return "plain", (float(m.group(1).replace(",", "") + "." + (m.group(2) or "0")),)
    return "junk", tuple(float(a.replace(",", "")) for a in AMOUNT.findall(cell))


def stated(answer: str) -> tuple[float, ...]:
    return tuple(sorted({float(a.replace(",", "")) for a in STATED.findall(answer)}))


def same_name(name: str) -> str:
    """Names a customer's question cannot tell apart: runs of spaces collapsed (as the importer stores names) and
    letter case ignored ("COTTON NET" and "Cotton Net" listings are the same words to a customer)."""
    return " ".join(name.lower().split())


def judge(name: str, cells: list[str], text: str, top_name: str) -> str:
    """The verdict on one answer about `name`, whose listings have the price `cells` (one, or several that share
    the name)."""
    amounts = stated(text)
    if not amounts:
        return "no price"
    if same_name(top_name) != same_name(name):
        return "other product"
    truths = [truth(c) for c in cells]
    if len(truths) == 1 and truths[0][0] in ("plain", "range"):
        return "right" if amounts == tuple(sorted(set(truths[0][1]))) else "wrong"
    if len(truths) == 1:
        return "wrong" if any(a not in truths[0][1] for a in amounts) else "right (junk cell)"
    known = {a for shape, values in truths if shape in ("plain", "range") for a in values}
    allowed = known | {a for _, values in truths for a in values}
    if any(a not in allowed for a in amounts):
        return "wrong"
    return "right" if set(amounts) >= known else "some of the same-name prices"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, required=True)
    ap.add_argument("--limit", type=int, default=0, help="ask about the first N products only (0: all)")
    ap.add_argument("--rows", type=int, default=0, help="ingest the first N rows of the file only (0: all)")
    ap.add_argument("--skip", type=int, default=0, help="start after the first N rows (rows already used)")
    ap.add_argument("--name-column", default="Product Name")
    ap.add_argument("--price-column", default="Selling Price")
    ap.add_argument("--currency", default=None, help="the store's currency (ASSISTANT_STORE_CURRENCY)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = list(csv.DictReader(args.file.open(encoding="utf-8")))
    with tempfile.TemporaryDirectory(prefix="heldout-") as tmp:
        extra = {"store_currency": args.currency} if args.currency else {}
        settings = Settings(store_dir=Path(tmp) / "store", chat_provider="extractive", **extra)
        kb = KnowledgeBase(settings)
        upload = Path(tmp) / "catalogue_export.csv"
        if args.rows or args.skip:
            rows = rows[args.skip : args.skip + args.rows] if args.rows else rows[args.skip :]
            with upload.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
        else:
            shutil.copyfile(args.file, upload)
        t0 = time.perf_counter()
        result = kb.ingest_file(upload)
        ingest_s = time.perf_counter() - t0
        print(f"ingested {result.documents} products in {ingest_s:.0f} s; importer said:")
        for warning in result.warnings:
            print(f"  {warning}")
        assistant = Assistant(settings, kb)
        cells: dict[str, list[str]] = {}
        spelling: dict[str, str] = {}  # same_name -> the first spelling, which the question uses
        for row in rows:
            name = " ".join(row[args.name_column].split())
            key = spelling.setdefault(same_name(name), name)
            cells.setdefault(key, []).append(row[args.price_column])
        names = list(cells)[: args.limit] if args.limit else list(cells)
        report: dict = {"products": result.documents, "ingest_s": ingest_s, "warnings": result.warnings, "forms": {}}
        report["distinct_names"] = len(cells)
        report["names_shared_by_several_listings"] = sum(1 for c in cells.values() if len(c) > 1)
        for form in ("full name", "first six words"):
            outcomes: Counter[str] = Counter()
            by_shape: dict[str, Counter[str]] = {}
            examples: dict[str, list] = {}
            for n, name in enumerate(names):
                shown = name if form == "full name" else " ".join(name.split()[:6])
                answer = assistant.ask(f"How much is the {shown}?", f"{form}-{n}")
                top = answer.sources[0].metadata.get("name", "") if answer.sources else ""
                verdict = judge(name, cells[name], answer.answer, str(top))
                outcomes[verdict] += 1
                shapes = {truth(c)[0] for c in cells[name]}
                shape = "several listings" if len(cells[name]) > 1 else shapes.pop()
                by_shape.setdefault(shape, Counter())[verdict] += 1
                if not verdict.startswith("right"):  # every miss, so its causes can be counted
                    examples.setdefault(verdict, []).append(
                        {
                            "question": shown,
                            "cell": " | ".join(cells[name]),
                            "answer": answer.answer[:300],
                            "model": answer.model,
                        }
                    )
            known = sum(by_shape.get(s, Counter()).total() for s in ("plain", "range", "several listings"))
            right_known = sum(by_shape.get(s, Counter())["right"] for s in ("plain", "range", "several listings"))
            summary = {
                "questions": len(names),
                "outcomes": dict(outcomes),
                "by_cell_shape": {k: dict(v) for k, v in by_shape.items()},
                "right_price_share_of_known": right_known / known if known else None,
                "wrong_prices": outcomes["wrong"],
                "other_product": outcomes["other product"],
                "examples": examples,
            }
            report["forms"][form] = summary
            print(f"{form}: {len(names)} questions; right price {right_known}/{known} known-price products "
                  f"({100 * summary['right_price_share_of_known']:.1f}%); wrong price stated {outcomes['wrong']}; "
                  f"answered about another product {outcomes['other product']}; no price {outcomes['no price']}; "
                  f"{dict(outcomes)}", flush=True)  # fmt: skip
        kb.store.close()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
