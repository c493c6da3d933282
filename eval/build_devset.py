"""Build the retrieval dev/test sets under eval/sets/ (committed; rerun only to regenerate).

- Bitext customer utterances (../shared/data/bitext, CDLA-Sharing-1.0) mapped from their intent to the
  store's FAQ entries that answer them. Paraphrases of one template are near-duplicates, so a row split
  would leak; two group splits are written instead:
  * `train/dev/test.jsonl` split by TEMPLATE FAMILY within each intent (families = clusters of near-paraphrases,
    base MiniLM embeddings, average linkage, cosine distance < 0.2): unseen phrasings of known topics, the
    situation of a deployed store whose FAQ topics are known. About 60/20/20 per intent.
  * `intent_train/intent_dev/intent_test.jsonl` split BY INTENT (7 test intents never seen): unseen topics.
  Test parts are never used for training or tuning.
- Product questions (price, stock, delivery of a named product) from templates over the catalogue, split by
  product, with informal variants (lower case, shortened names, typos).

Usage: .venv/bin/python -m eval.build_devset [--bitext PATH]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from pathlib import Path

from base.paths import ROOT

OUT = ROOT / "eval" / "sets"
FAQ = "faq:store_faq.json:"

# Which FAQ entries answer each Bitext intent (written from the intent names and the FAQ, not from utterances).
INTENT_TO_FAQ: dict[str, list[str]] = {
    "cancel_order": ["orders-cancel", "orders-cancel-after-shipping"],
    "change_order": ["orders-change-order"],
    "change_shipping_address": ["orders-change-shipping-address", "account-saved-addresses"],
    "check_cancellation_fee": ["orders-cancellation-fee"],
    "check_invoice": ["orders-check-invoice", "orders-invoice-copy"],
    "get_invoice": ["orders-invoice-copy", "orders-check-invoice"],
    "check_payment_methods": ["payment-methods"],
    "check_refund_policy": ["refunds-policy", "returns-policy"],
    "complaint": ["support-complaint", "support-escalate"],
    "contact_customer_service": ["support-contact-hours"],
    "contact_human_agent": ["support-human-agent"],
    "create_account": ["account-create"],
    "delete_account": ["account-delete"],
    "delivery_options": ["shipping-methods-costs"],
    "delivery_period": ["shipping-delivery-time"],
    "edit_account": ["account-edit-details"],
    "newsletter_subscription": ["newsletter-subscribe", "newsletter-unsubscribe"],
    "payment_issue": ["payment-card-declined", "payment-double-charge"],
    "place_order": ["orders-place-order"],
    "recover_password": ["account-password-reset"],
    "registration_problems": ["account-registration-problems", "account-email-already-in-use"],
    "review": ["reviews-write-review", "reviews-store-feedback"],
    "set_up_shipping_address": ["account-saved-addresses"],
    "switch_account": ["account-switch-accounts"],
    "track_order": ["shipping-track-order"],
    "get_refund": ["refunds-request-refund"],
    "track_refund": ["refunds-track-status"],
}

# Split by intent with a fixed seed; printed and recorded in eval/sets/README.md.
SEED = 20261123
N_DEV, N_TEST = 6, 7

_PLACEHOLDER = re.compile(r"\{\{\s*([^}]+?)\s*\}\}")
_NAMES = ["Maria Lopez", "John Smith", "Aisha Khan", "Wei Chen"]
_ACCOUNTS = ["premium", "standard", "business"]
_CITIES = ["Columbus", "Austin", "Toronto"]
_COUNTRIES = ["the US", "Canada", "Mexico"]
FILL_VALUES = [*_NAMES, *_ACCOUNTS, *_CITIES, *_COUNTRIES]  # the word slots' values (eval/leakage.py masks them)


def fill_placeholders(text: str, rng: random.Random) -> str:
    """Bitext utterances contain {{Order Number}}-style slots; give them plausible values."""
    values = {
        "Order Number": lambda: str(rng.randint(10_000_000, 99_999_999)),
        "Invoice Number": lambda: f"INV-{rng.randint(100000, 999999)}",
        "Person Name": lambda: rng.choice(_NAMES),
        "Account Type": lambda: rng.choice(_ACCOUNTS),
        "Account Category": lambda: rng.choice(_ACCOUNTS),
        "Refund Amount": lambda: f"${rng.randint(10, 300)}",
        "Delivery City": lambda: rng.choice(_CITIES),
        "Delivery Country": lambda: rng.choice(_COUNTRIES),
    }
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), lambda: m.group(1).lower())(), text)


def load_bitext(path: Path, rng: random.Random) -> list[dict]:
    """Unique utterances with their intent and the FAQ entries that answer it."""
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    missing = {r["intent"] for r in rows} - set(INTENT_TO_FAQ)
    if missing:
        raise SystemExit(f"no FAQ mapping for intents: {sorted(missing)}")
    items, seen = [], set()
    for r in rows:
        query = fill_placeholders(r["instruction"].strip(), rng)
        if not query or query.lower() in seen:
            continue
        seen.add(query.lower())
        items.append(
            {
                "query": query,
                "relevant": [FAQ + f for f in INTENT_TO_FAQ[r["intent"]]],
                "kind": "faq",
                "intent": r["intent"],
            }
        )
    return items


def split_by_intent(items: list[dict]) -> dict[str, list[dict]]:
    intents = sorted({i["intent"] for i in items})
    random.Random(SEED).shuffle(intents)
    split_of = {i: "test" for i in intents[:N_TEST]}
    split_of.update({i: "dev" for i in intents[N_TEST : N_TEST + N_DEV]})
    out: dict[str, list[dict]] = {"train": [], "dev": [], "test": []}
    for item in items:
        out[split_of.get(item["intent"], "train")].append(item)
    return out


def split_by_family(items: list[dict], threshold: float = 0.2) -> dict[str, list[dict]]:
    """Cluster each intent's utterances into families of near-paraphrases and deal whole families to
    train/dev/test (largest first, each to the split furthest below its 60/20/20 share)."""
    import numpy as np
    from scipy.cluster.hierarchy import fcluster, linkage

    from providers.embeddings import SentenceTransformerEmbeddings, wheel_minilm_dir

    emb = SentenceTransformerEmbeddings(wheel_minilm_dir())
    target = {"train": 0.6, "dev": 0.2, "test": 0.2}
    out: dict[str, list[dict]] = {"train": [], "dev": [], "test": []}
    rng = random.Random(SEED)
    for intent in sorted({i["intent"] for i in items}):
        group = [i for i in items if i["intent"] == intent]
        vectors = np.asarray(emb.embed_documents([i["query"] for i in group]))
        labels = fcluster(linkage(vectors, "average", metric="cosine"), threshold, "distance")
        families: dict[int, list[dict]] = {}
        for item, label in zip(group, labels, strict=True):
            families.setdefault(int(label), []).append({**item, "family": f"{intent}-{label}"})
        order = list(families.values())
        rng.shuffle(order)
        order.sort(key=len, reverse=True)
        count = dict.fromkeys(target, 0)
        for fam in order:
            split = max(target, key=lambda s: target[s] * len(group) - count[s])
            out[split].extend(fam)
            count[split] += len(fam)
    return out


PRODUCT_TEMPLATES = [
    ("price", "How much is the {name}?"),
    ("price", "what does the {short} cost"),
    ("price", "price of {short}?"),
    ("price", "{name} price"),
    ("stock", "Is the {name} in stock?"),
    ("stock", "do you have the {short} available right now"),
    ("stock", "is {short} sold out?"),
    ("delivery", "How long does delivery take for the {name}?"),
    ("delivery", "when would the {short} arrive if i order today"),
    ("delivery", "how many days to ship {short}"),
]


def short_name(name: str, brand: str) -> str:
    """What customers type: the name without the brand prefix."""
    rest = name[len(brand) :].strip() if name.lower().startswith(brand.lower()) else name
    return rest or name


def typo(text: str, rng: random.Random) -> str:
    """Drop or swap one letter inside a longer word."""
    words = text.split()
    idx = [i for i, w in enumerate(words) if len(w) > 5 and w.isalpha()]
    if not idx:
        return text
    i = rng.choice(idx)
    w = words[i]
    j = rng.randint(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1 :] if rng.random() < 0.5 else w[: j - 1] + w[j] + w[j - 1] + w[j + 1 :]
    return " ".join(words)


def build_products(path: Path, rng: random.Random) -> dict[str, list[dict]]:
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    skus = sorted(r["sku"] for r in rows)
    random.Random(SEED + 1).shuffle(skus)
    n = len(skus)
    split_of = {s: "test" for s in skus[: n // 5]}
    split_of.update({s: "dev" for s in skus[n // 5 : 2 * n // 5]})
    out: dict[str, list[dict]] = {"train": [], "dev": [], "test": []}
    for r in rows:
        chosen = rng.sample(PRODUCT_TEMPLATES, 3)
        for aspect, template in chosen:
            q = template.format(name=r["name"], short=short_name(r["name"], r["brand"]))
            if rng.random() < 0.3:
                q = q.lower()
            if rng.random() < 0.25:
                q = typo(q, rng)
            out[split_of.get(r["sku"], "train")].append(
                {"query": q, "relevant": [f"product:{r['sku']}"], "kind": "product", "aspect": aspect}
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--bitext", type=Path, default=ROOT.parent / "shared/data/bitext/bitext_customer_support_sample.csv"
    )
    args = ap.parse_args()
    rng = random.Random(SEED)
    faq_ids = {q["id"] for q in json.loads((ROOT / "data/faq/store_faq.json").read_text())["questions"]}
    unknown = {f for fs in INTENT_TO_FAQ.values() for f in fs} - faq_ids
    if unknown:
        raise SystemExit(f"mapping names unknown FAQ ids: {sorted(unknown)}")
    utterances = load_bitext(args.bitext, rng)
    products = build_products(ROOT / "data/products.csv", rng)
    OUT.mkdir(parents=True, exist_ok=True)
    for prefix, bitext in (("", split_by_family(utterances)), ("intent_", split_by_intent(utterances))):
        for split in ("train", "dev", "test"):
            items = bitext[split] + products[split]
            with (OUT / f"{prefix}{split}.jsonl").open("w", encoding="utf-8") as fh:
                for item in items:
                    fh.write(json.dumps(item, ensure_ascii=False) + "\n")
            intents = sorted({i["intent"] for i in bitext[split]})
            print(
                f"{prefix}{split}: {len(bitext[split])} utterances ({len(intents)} intents), "
                f"{len(products[split])} product questions"
            )


if __name__ == "__main__":
    main()
