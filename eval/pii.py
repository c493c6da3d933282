"""Personal-data masking on the hand-written tables (tests/fixtures/pii/): recall by entity type, look-alikes
masked by mistake, and names and addresses in chat messages. This script reads the **dev** chat sets only (tuning
happens here: `dev`, and `dev2`, written later by another hand); `python -m eval.pii_report` reads a held-out set
once and writes the result file.

    python -m eval.pii            # prints the tables and the dev set, misses listed
    python -m eval.pii --quiet    # numbers only
    python -m eval.pii --ablation # names: spaCy's NER alone, the cue words alone, both
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter, defaultdict

from base.paths import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "pii"
STORE_KEEP = ("support@harborandpine.example", "+1 (800) 555-0142", "Harbor & Pine, 400 Pier Road, Portland, OR 97209")


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def covered(text: str, span: str, findings, start: int | None = None) -> bool:
    """Every word and number of `span` (each occurrence) lies inside a finding."""
    starts = [start] if start is not None else [m.start() for m in re.finditer(re.escape(span), text)]
    for s in starts:
        for tok in re.finditer(r"[^\W_]+", span):
            a, b = s + tok.start(), s + tok.end()
            if not any(f.start <= a and b <= f.end for f in findings):
                return False
    return bool(starts)


def score_tables(masker) -> dict:
    """must_mask: recall per type and country; must_keep: look-alikes changed."""
    by_type: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses, changed = [], []
    countries = Counter()
    for row in load("must_mask.jsonl"):
        findings = masker.findings(row["text"])
        ok = all(covered(row["text"], p, findings) for p in row["pii"])
        by_type[row["type"]][0] += ok
        by_type[row["type"]][1] += 1
        countries[row["country"]] += 1
        if not ok:
            misses.append((row["type"], row["country"], row["text"], masker.mask(row["text"])))
    keep_rows = load("must_keep.jsonl")
    for row in keep_rows:
        masked = masker.mask(row["text"])
        if masked != row["text"]:
            changed.append((row["kind"], row["text"], masked))
    total = sum(v[1] for v in by_type.values())
    return {
        "must_mask": {
            "n": total,
            "masked": sum(v[0] for v in by_type.values()),
            "countries": len(countries),
            "by_type": {
                k: {"masked": v[0], "n": v[1], "recall": round(v[0] / v[1], 3)} for k, v in sorted(by_type.items())
            },
        },
        "must_keep": {"n": len(keep_rows), "changed": len(changed)},
        "misses": misses,
        "changed": changed,
    }


def score_chat(masker, rows: list[dict]) -> dict:
    """Names and addresses: recall per type and language; messages with none that were changed; findings on
    messages with some that cover no gold span (over-masking)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses, false_positives, extra = [], [], []
    for row in rows:
        text, lang = row["text"], row["lang"]
        findings = masker.findings(text)
        if not row["spans"]:
            if findings:
                false_positives.append((lang, text, masker.mask(text)))
            continue
        for span in row["spans"]:
            ok = covered(text, span["text"], findings)
            for key in (span["type"], f"{span['type']}/{lang}"):
                counts[key][0] += ok
                counts[key][1] += 1
            if not ok:
                misses.append((span["type"], lang, span["text"], masker.mask(text)))
        for f in findings:
            if f.entity in ("PERSON", "ADDRESS") and not any(
                text.find(s["text"]) < f.end and f.start < text.find(s["text"]) + len(s["text"]) for s in row["spans"]
            ):
                extra.append((f.entity, text[f.start : f.end], text))
    negatives = sum(1 for r in rows if not r["spans"])
    return {
        "recall": {k: {"found": v[0], "n": v[1], "recall": round(v[0] / v[1], 3)} for k, v in sorted(counts.items())},
        "names_and_addresses": _ratio(counts["PERSON"], counts["ADDRESS"]),
        "messages_without_pii": {"n": negatives, "changed": len(false_positives)},
        "findings_outside_gold_spans": len(extra),
        "misses": misses,
        "false_positives": false_positives,
        "extra": extra,
    }


def _ratio(*pairs: list[int]) -> dict:
    found, n = sum(p[0] for p in pairs), sum(p[1] for p in pairs)
    return {"found": found, "n": n, "recall": round(found / n, 3) if n else None}


def print_report(tables: dict, chat: dict | None, quiet: bool) -> None:
    mm = tables["must_mask"]
    print(f"must_mask: {mm['masked']}/{mm['n']} masked ({mm['countries']} countries)")
    for k, v in mm["by_type"].items():
        print(f"  {k:16s} {v['masked']:3d}/{v['n']:3d}  {v['recall']:.3f}")
    print(f"must_keep: {tables['must_keep']['changed']}/{tables['must_keep']['n']} changed")
    if not quiet:
        for m in tables["misses"]:
            print("  MISS", m)
        for c in tables["changed"]:
            print("  CHANGED", c)
    if chat is None:
        return
    print("chat names and addresses:", chat["names_and_addresses"])
    for k, v in chat["recall"].items():
        print(f"  {k:12s} {v['found']:3d}/{v['n']:3d}  {v['recall']:.3f}")
    print("messages without personal data changed:", chat["messages_without_pii"])
    print("findings outside the gold spans:", chat["findings_outside_gold_spans"])
    if not quiet:
        for m in chat["misses"]:
            print("  MISS", m)
        for m in chat["false_positives"]:
            print("  FALSE", m)
        for m in chat["extra"]:
            print("  EXTRA", m)


class _Only:
    """A masker view that keeps the findings of some recognizers only (the NER ablation)."""

    def __init__(self, masker, prefixes: tuple[str, ...]) -> None:
        self.masker, self.prefixes = masker, prefixes

    def findings(self, text: str):
        from base.language import detect_language
        from base.pii import Finding, _engine, _resolve

        engine = _engine(self.masker.region, tuple(sorted(set(self.masker.countries))))
        results = engine.analyze(text, detect_language(text))
        keep = [r for r in results if str(r.recognition_metadata.get("recognizer_name", "")).startswith(self.prefixes)]
        return _resolve([Finding(r.entity_type, r.start, r.end) for r in keep])

    def mask(self, text: str) -> str:
        out = text
        for f in sorted(self.findings(text), key=lambda f: f.start, reverse=True):
            out = out[: f.start] + f.placeholder + out[f.end :]
        return out


class _RawNer(_Only):
    """spaCy's PERSON/PER entities as the models give them, no filter (what the small models are worth alone)."""

    def findings(self, text: str):
        from base.language import detect_language
        from base.pii import Finding, _engine

        engine = _engine(self.masker.region, tuple(sorted(set(self.masker.countries))))
        doc = engine.engine.nlp_engine.nlp[detect_language(text)](text)
        return [Finding("PERSON", e.start_char, e.end_char) for e in doc.ents if e.label_ in ("PERSON", "PER")]


def ner_ablation(masker, rows: list[dict]) -> dict:
    """PERSON recall on the dev chat set with spaCy's NER as the models give it, with the shop's filter, the cue
    words alone, and everything."""
    out = {}
    raw = score_chat(_RawNer(masker, ()), rows)
    out["spaCy NER raw (no filter)"] = {k: v for k, v in raw["recall"].items() if k.startswith("PERSON")}
    out["spaCy NER raw (no filter)"]["messages_without_pii_changed"] = raw["messages_without_pii"]["changed"]
    out["spaCy NER raw (no filter)"]["false_positives"] = [m[1] for m in raw["false_positives"]]
    out["spaCy NER raw (no filter)"]["missed"] = [m[2] for m in raw["misses"] if m[0] == "PERSON"]
    for label, prefixes in (
        ("spaCy NER filtered", ("SpacyPeople",)),
        ("cue words only", ("NameCues",)),
        ("both (shipped)", ("SpacyPeople", "NameCues")),
    ):
        result = score_chat(_Only(masker, prefixes), rows)
        out[label] = {k: v for k, v in result["recall"].items() if k.startswith("PERSON")}
        out[label]["messages_without_pii_changed"] = result["messages_without_pii"]["changed"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--ablation", action="store_true", help="PERSON recall of spaCy's NER alone vs cue words")
    parser.add_argument("--set", default="dev", choices=("dev", "dev2"), help="the dev chat set (default: dev)")
    args = parser.parse_args()
    from base.pii import Masker

    masker = Masker(keep=STORE_KEEP)
    if args.ablation:
        rows = load(f"chat_names_addresses_{args.set}.jsonl")
        print(json.dumps(ner_ablation(masker, rows), indent=1, ensure_ascii=False))
        return
    tables = score_tables(masker)
    chat = score_chat(masker, load(f"chat_names_addresses_{args.set}.jsonl"))
    print_report(tables, chat, args.quiet)


if __name__ == "__main__":
    main()
