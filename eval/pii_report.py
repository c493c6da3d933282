"""The personal-data report: the tables (must_mask by type, must_keep) and a **held-out** chat set of names and
addresses (tests/fixtures/pii/chat_names_addresses_<set>.jsonl), each read once here and nowhere else; tuning reads
the dev sets only (`python -m eval.pii`). Writes eval/results/pii_report_<set>.json stamped with commit and command.

    python -m eval.pii_report --set test     # the first held-out set (read once, at d0cbb87: see docs/privacy.md)
    python -m eval.pii_report --set test2    # the second, written after the first was spent
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

from base.paths import ROOT
from eval.pii import STORE_KEEP, load, print_report, score_chat, score_tables


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default="test", choices=("test", "test2"))
    args = parser.parse_args()
    from base.pii import Masker

    result = ROOT / "eval" / "results" / f"pii_report_{args.set}.json"
    masker = Masker(keep=STORE_KEEP)
    tables = score_tables(masker)
    chat = score_chat(masker, load(f"chat_names_addresses_{args.set}.jsonl"))
    print_report(tables, chat, quiet=False)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "base/pii"], cwd=ROOT, capture_output=True, text=True)
    report = {
        "commit": commit.stdout.strip() + (" (base/pii modified)" if dirty.stdout.strip() else ""),
        "command": f"python -m eval.pii_report --set {args.set}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "must_mask": tables["must_mask"],
        "must_keep": tables["must_keep"],
        "must_mask_missed": tables["misses"],
        "must_keep_changed": tables["changed"],
        "chat_test": {
            k: chat[k]
            for k in (
                "recall",
                "names_and_addresses",
                "messages_without_pii",
                "findings_outside_gold_spans",
                "misses",
                "false_positives",
                "extra",
            )
        },
    }
    result.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {result.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
