"""Time to mask one customer message (the log masks every question and answer before writing it): p50/p95/max over
the personal-data tables' messages and a sample of the demo store's FAQ answers, after a warm-up, on this machine.
Goal (issue 25): p95 <= 20 ms on 2 cores. Prints the numbers and writes bench/results/pii_mask.json.

    python -m bench.pii_mask [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time

from base.paths import ROOT

RESULT = ROOT / "bench" / "results" / "pii_mask.json"


def messages() -> list[str]:
    texts = []
    for name in ("must_mask", "must_keep", "chat_names_addresses_dev"):
        path = ROOT / "tests" / "fixtures" / "pii" / f"{name}.jsonl"
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    faq = json.loads((ROOT / "data" / "faq" / "store_faq.json").read_text(encoding="utf-8"))
    texts += [e["answer"] for e in faq["questions"][:100]]
    return texts


ADVERSARIAL = {
    "1,000 commas": "," * 1000,
    "'(12) ' x 200": "(12) " * 200,
    "'a-' x 500": "a-" * 500,
    "'born 1/1/1 ' x 165": "born " + "1/1/1 " * 165,
    "'Jane ' x 200": "Jane " * 200,
    "'12 Oak Street, ' x 66": "12 Oak Street, " * 66,
    "'dot at ' x 140": "dot at " * 140,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the messages (default 3)")
    args = parser.parse_args()
    from base.pii import Masker, _findings

    masker = Masker(keep=("support@harborandpine.example", "+1 (800) 555-0142"))
    texts = messages()
    t0 = time.perf_counter()
    masker.mask("warm-up: I'm Jane, 12 Oak Street. ¿Dónde está mi pedido? Soy María.")
    load = time.perf_counter() - t0
    for text in texts:  # both spaCy models loaded, caches of regexes filled
        masker.mask(text)
    times = []
    for _ in range(args.repeat):
        for text in texts:
            _findings.cache_clear()  # time the analysis, not the cache
            a = time.perf_counter()
            masker.mask(text)
            times.append((time.perf_counter() - a) * 1000)
    times.sort()
    q = statistics.quantiles(times, n=100)
    adversarial = {}
    for label, text in ADVERSARIAL.items():  # the question limit is 1,000 characters
        _findings.cache_clear()
        a = time.perf_counter()
        masker.mask(text)
        adversarial[label] = round((time.perf_counter() - a) * 1000, 1)
    result = {
        "messages": len(texts),
        "timed": len(times),
        "chars_median": statistics.median(len(t) for t in texts),
        "first_call_s": round(load, 2),
        "p50_ms": round(q[49], 2),
        "p95_ms": round(q[94], 2),
        "max_ms": round(times[-1], 2),
        "adversarial_1000_chars_ms": adversarial,
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
        "command": "python -m bench.pii_mask",
    }
    print(json.dumps(result, indent=2))
    RESULT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
