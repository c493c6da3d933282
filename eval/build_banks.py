"""Build chains/banks/in_domain_en.txt: generic customer questions the decline calibration scores every store with.

Taken from the TRAIN split of eval/sets (Bitext utterances, CDLA-Sharing-1.0; never the dev or test families),
12 per intent, one template family at a time so that the bank covers each intent's phrasings rather than
repeating one. Deterministic (seed below). The out-of-scope banks and the Spanish in-domain bank were written
for this project (chains/banks/README.md).

Usage: .venv/bin/python -m eval.build_banks
"""

from __future__ import annotations

import json
import random
from collections import defaultdict

from base.paths import ROOT

PER_INTENT = 12
SEED = 20261124
OUT = ROOT / "chains" / "banks" / "in_domain_en.txt"


def main() -> None:
    by_family: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for line in (ROOT / "eval" / "sets" / "train.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item["kind"] == "faq":
            by_family[item["intent"]][item["family"]].append(item["query"])
    rng = random.Random(SEED)
    bank: list[str] = []
    for intent in sorted(by_family):
        families = [rng.sample(qs, len(qs)) for _, qs in sorted(by_family[intent].items())]
        rng.shuffle(families)
        picked: list[str] = []
        while len(picked) < PER_INTENT and any(families):
            for queue in families:
                if queue and len(picked) < PER_INTENT:
                    picked.append(queue.pop())
        bank.extend(picked)
    OUT.write_text("\n".join(bank) + "\n", encoding="utf-8")
    print(f"{len(bank)} utterances from {len(by_family)} intents -> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
