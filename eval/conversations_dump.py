"""Multi-turn conversations through the whole assistant, one JSON line per turn, so a refactor of conversation state
can be checked byte for byte (run it at two commits and compare the files; eval.answers covers single questions).

The conversations: product questions from the dev set each followed by "how much is it?", "is it in stock?" and
"do you have cheaper ones?"; catalogue filters with follow-ups; order-status slot filling on the demo orders
(number then e-mail, a wrong e-mail, a number given with the postcode); hand-off (two declines then an offer, a
request for a person, "no thanks", an e-mail). Built on a fresh store of `data/` with the default offline provider.

Usage: .venv/bin/python -m eval.conversations_dump --out FILE.jsonl [--products 40]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from base.paths import ROOT
from base.settings import Settings


def conversations(products: int) -> list[list[str]]:
    from services.orders import demo_orders

    dev = [json.loads(x) for x in (ROOT / "eval/sets/dev.jsonl").read_text(encoding="utf-8").splitlines()]
    out = [
        [d["query"], "how much is it?", "is it in stock?", "do you have cheaper ones?"]
        for d in [d for d in dev if d["kind"] == "product"][:products]
    ]
    out += [
        ["show me tents under $300", "any cheaper ones?", "only the ones in stock", "which brands do you carry?"],
        ["cheapest skillet", "and the most expensive one?", "is it in stock?"],
        ["jackets from Ridgeline under 200 dollars", "in blue?", "how long does shipping take?"],
    ]
    orders = demo_orders()
    first, second = orders[0], orders[1]
    out += [
        ["where is my order?", f"it's HP-{first.number[-6:]}", first.email],
        ["track my order", f"HP{second.number[-6:]}", "wrong@example.org", f"HP {second.number[-6:]} {second.email}"],
        [f"order status HP-{first.number[-6:]} zip {first.postcode}"],
    ]
    out += [
        ["can I pay with llamas?", "do you sell spaceships?", "no thanks", "what is your return policy?"],
        ["I want to talk to a human", "no", "ok then, do you ship to Canada?"],
        ["can I speak to a person please", "sure, it's jane.doe@example.com", "thanks! and do gift cards expire?"],
        ["hola, ¿cuánto cuesta el envío?", "¿y a Canadá?", "quiero hablar con una persona", "no gracias"],
    ]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--products", type=int, default=40)
    args = ap.parse_args()
    from services.assistant import open_assistant
    from services.orders import SqliteOrders, demo_orders

    work = Path(tempfile.mkdtemp(prefix="conversations-dump-"))
    settings = Settings(
        store_dir=work / "store",
        feedback_db=work / "log.sqlite3",
        tickets_db=work / "tickets.sqlite3",
        orders_db=work / "orders.sqlite3",
    )
    SqliteOrders(settings.orders_db).put(demo_orders())
    bot = open_assistant(settings)
    report = bot.kb.ingest_paths([ROOT / "data"])
    if not report.ok:
        raise SystemExit(f"ingest failed: {report.failed}")
    lines = []
    for n, turns in enumerate(conversations(args.products)):
        for turn, message in enumerate(turns):
            answer = bot.ask(message, session_id=f"c{n}")
            row = {
                "conversation": n,
                "turn": turn,
                "message": message,
                "answer": answer.answer,
                "model": answer.model,
                "declined": answer.declined,
                "standalone": answer.standalone_question,
                "sources": [s.doc_id for s in answer.sources],
            }
            lines.append(json.dumps(row, ensure_ascii=False))
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} turns in {n + 1} conversations -> {args.out}")


if __name__ == "__main__":
    main()
