"""Prepare fine-tuning data from the store's own knowledge and conversations, shaped as production asks.

    python -m finetune.prepare --out DIR [--sources log,staff,faq,bitext,decline] [--qa-csv FILE]
        [--bitext FILE] [--bitext-max N] [--model M] [--epochs N] [--seed N]

Writes DIR/train.jsonl and DIR/validation.jsonl (OpenAI chat format), DIR/heldout.jsonl (examples kept out of
both, with their passages and reference answer, for `finetune.evaluate`), DIR/dpo_train.jsonl and
DIR/dpo_validation.jsonl when there are enough preference pairs, and DIR/report.json. All files appear together
or not at all.

Every example is what the app sends the chat model (`chains.llm.answer_messages`): the system prompt, the earlier
turns, the passages retrieved from the store for the (condensed) question in the same fenced, numbered format,
and the question; the answer is the target. Answers cite the passage that holds them ([n]); when retrieval missed
it, it is put in place of the last passage, so the model learns to answer *from* the passages. Out-of-scope
questions teach the decline sentence. Sources (each switchable):

- log: answers customers rated thumbs-up in the conversation log, with the turns before them;
- staff: answers staff wrote with *Add an answer* (the store's staff FAQ file);
- faq: the store's FAQ entries (question -> answer);
- qa-csv: a plain `question,answer` CSV (`--qa-csv`);
- bitext: the Bitext customer-support sample (real customer wording; its generic answers with the
  {{placeholders}} filled from the settings; CDLA-Sharing-1.0, notice copied into DIR);
- decline: out-of-scope questions (eval/sets, their `dev` split; the `test` splits go to heldout only).

Text written by customers or staff is masked as in the log (emails, phones, cards, IBANs, SSNs), except contact
details the store itself publishes. Exact and near-duplicate questions with the same answer are dropped. The
split is by conversation (a log session, an FAQ entry, a Bitext intent), deterministic for a seed. Exit codes:
0 written, 1 bad input or nothing to train on.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import re
import shutil
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from base.paths import ROOT
from base.pii import PLACEHOLDERS, pii_strings
from base.pii import Masker as StoreMasker
from base.text import print_now
from base.types import Hit
from chains.memory import Turn
from finetune.dataset import DataError, FileCheck, estimate_cost, validate_lines

DEFAULT_MODEL = "gpt-4o-mini-2024-07-18"
SOURCES = ("log", "staff", "faq", "qa-csv", "bitext", "decline")
DEFAULT_SOURCES = ("log", "staff", "faq", "bitext", "decline")
BITEXT = ROOT.parent / "shared" / "data" / "bitext" / "bitext_customer_support_sample.csv"
BITEXT_LICENCE = ROOT / "eval" / "sets" / "LICENSE-bitext-CDLA-Sharing-1.0.txt"
OUT_OF_SCOPE = (ROOT / "eval" / "sets" / "out_of_scope.jsonl", ROOT / "eval" / "sets" / "out_of_scope_es.jsonl")
PRIORITY = {"staff": 0, "log": 1, "faq": 2, "qa-csv": 3, "bitext": 4, "decline": 5}  # kept first among duplicates
NEAR_DUPLICATE = 92  # rapidfuzz ratio (0-100) of normalised questions, and of answers, above which two are one
SPLITS = ("train", "validation", "heldout")


@dataclass
class Example:
    """One question and its target answer before it becomes a chat example."""

    source: str
    conversation: str  # split key: examples of one conversation never land in two splits
    question: str
    answer: str
    target: str | None = None  # doc_id of the passage that holds the answer
    history: list[Turn] = field(default_factory=list)
    declined: bool = False
    heldout_only: bool = False  # from a test split (out-of-scope test questions)
    hits: list[Hit] = field(default_factory=list)
    inserted: bool = False  # the target passage was not retrieved and was put in
    rejected: dict | None = None  # DPO: the thumbs-down answer this corrects
    searched: str | None = None  # the question as the app searched it, when the log kept it


# -- sources ------------------------------------------------------------------------------------------------
def faq_entries(kb, staff: bool) -> list[dict]:
    """FAQ entries of the store (staff = only the *Add an answer* file, else every other FAQ file)."""
    from loaders import load_file
    from services.uploads import STAFF_FAQ

    entries = []
    for info in kb.list_sources():
        if info.doc_type != "faq" or (info.source == STAFF_FAQ) != staff:
            continue
        path = kb.kept_copy(info.source)
        if path is None:
            continue
        for doc in load_file(path):
            meta = doc.metadata
            if meta.get("question") and meta.get("answer"):
                entries.append({"question": meta["question"], "answer": meta["answer"], "doc_id": meta["doc_id"]})
    return entries


def from_faq(kb, staff: bool) -> list[Example]:
    source = "staff" if staff else "faq"
    return [
        Example(source, f"{source}:{e['doc_id']}", e["question"], e["answer"], e["doc_id"])
        for e in faq_entries(kb, staff)
    ]


def from_log(rows: list[dict], memory_turns: int) -> tuple[list[Example], list[dict]]:
    """Thumbs-up answers with the turns before them in their session; and the thumbs-down rows (for DPO)."""
    examples, down = [], []
    sessions: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        if row.get("model") == "orders":  # order-status turns are answered by code, and hold no answer to learn
            continue
        earlier = sessions[row["session_id"]]
        if row.get("rating") == 1 and not row.get("declined"):
            sources = json.loads(row.get("sources") or "[]")
            target = sources[0].get("doc_id") if sources else None
            history = [Turn(r["question"], r["answer"]) for r in earlier[-memory_turns:]]
            example = Example("log", f"log:{row['session_id']}", row["question"], row["answer"], target, history)
            example.searched = row.get("standalone") or None  # as the app searched it (the chat model's rewrite)
            examples.append(example)
        elif row.get("rating") == 0:
            down.append(row)
        earlier.append(row)
    return examples, down


def from_qa_csv(path: Path) -> list[Example]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip().lower() for h in reader.fieldnames or []]
            if "question" not in header or "answer" not in header:
                raise DataError(f"{path}: needs a header with 'question' and 'answer' columns (found {header})")
            rows = [{k.strip().lower(): (v or "") for k, v in r.items() if k} for r in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    out = []
    for n, row in enumerate(rows, 2):
        q, a = row["question"].strip(), row["answer"].strip()
        if q and a:
            out.append(Example("qa-csv", f"qa:{path.name}:{n}", q, a))
    return out


_STORE_SLOTS = {
    "phone": ("customer support phone number", "support phone number", "phone number", "customer service phone"),
    "email": ("customer support email", "customer support email address", "support email", "email address"),
    "hours": ("customer support availability", "customer support hours", "business hours", "working hours"),
    "name": ("website name", "company name", "store name"),
    "url": ("website url", "website", "url"),
}
_SLOT = re.compile(r"\{\{\s*([^}]+?)\s*\}\}")


def fill_bitext_response(text: str, settings) -> str | None:
    """Bitext's {{placeholders}} with the store's details; interface names ({{Order History}}) as plain words;
    None when the response needs a value we don't have (an anonymised order number, a person's name)."""
    host = (settings.allowed_link_hosts or ["our website"])[0]
    values = {
        "phone": settings.contact_phone,
        "email": settings.contact_email,
        "hours": settings.contact_hours,
        "name": settings.store_name,
        "url": host,
    }
    unknown = False

    def replace(match: re.Match) -> str:
        nonlocal unknown
        slot = match.group(1).lower()
        for key, names in _STORE_SLOTS.items():
            if slot in names:
                return values[key]
        if "anonymized" in slot or "number" in slot or "name" in slot or "amount" in slot:
            unknown = True
        return match.group(1)

    filled = _SLOT.sub(replace, text)
    return None if unknown else filled


def from_bitext(path: Path, settings, limit: int, rng: random.Random) -> list[Example]:
    """Up to `limit` Bitext rows, spread evenly over the intents."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read the Bitext sample {path}: {exc}") from exc
    by_intent: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_intent[row.get("intent", "")].append(row)
    for group in by_intent.values():
        rng.shuffle(group)
    picked: list[dict] = []
    while len(picked) < limit and any(by_intent.values()):
        for intent in sorted(by_intent):
            if by_intent[intent] and len(picked) < limit:
                picked.append(by_intent[intent].pop())
    out = []
    for row in picked:
        answer = fill_bitext_response(row.get("response", "").strip(), settings)
        question = row.get("instruction", "").strip()
        if answer and question:
            out.append(Example("bitext", f"bitext:{row.get('intent')}", question, answer))
    return out


def from_out_of_scope(decline_text) -> list[Example]:
    """Out-of-scope questions: `dev` for training, `test` and `fresh-test` held out for evaluation."""
    out = []
    for path in OUT_OF_SCOPE:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            item = json.loads(line)
            split = item.get("split", "dev")
            lang = "es" if path.name.endswith("_es.jsonl") else "en"
            out.append(
                Example(
                    "decline",
                    f"decline:{path.name}:{n}",
                    item["query"],
                    decline_text(lang),
                    declined=True,
                    heldout_only=split != "dev",
                )
            )
    return out


# -- shaping ------------------------------------------------------------------------------------------------
def normalise(text: str) -> str:
    from base.translate import fold

    return " ".join(re.sub(r"[^\w\s]", " ", fold(text.lower())).split())


def deduplicate(examples: list[Example]) -> tuple[list[Example], int]:
    """Drop exact and near-duplicate questions that have the same answer, keeping the highest-priority source."""
    from rapidfuzz import fuzz, process

    kept: list[Example] = []
    questions: list[str] = []
    answers: list[str] = []
    dropped = 0
    for ex in sorted(examples, key=lambda e: PRIORITY[e.source]):
        q, a = normalise(ex.question), normalise(ex.answer)
        near = process.extract(q, questions, scorer=fuzz.ratio, score_cutoff=NEAR_DUPLICATE, limit=None)
        if any(fuzz.ratio(a, answers[index]) >= NEAR_DUPLICATE for _match, _score, index in near):
            dropped += 1
            continue
        kept.append(ex)
        questions.append(q)
        answers.append(a)
    return kept, dropped


def split_of(key: str, seed: int, shares: tuple[float, float]) -> str:
    """train / validation / heldout by a hash of the group key: stable across runs and machines."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    validation, heldout = shares
    return "heldout" if u < heldout else "validation" if u < heldout + validation else "train"


def group_keys(examples: list[Example]) -> list[str]:
    """One key per example such that examples sharing a conversation, or answered from the same entry, share it:
    a conversation never spans two splits, and neither does an entry (its FAQ example and a customer's question
    about it), so nothing held out was trained on under another name."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for ex in examples:
        find(f"c:{ex.conversation}")
        if ex.target:
            a, b = find(f"c:{ex.conversation}"), find(f"t:{ex.target}")
            if a != b:
                parent[max(a, b)] = min(a, b)
    return [find(f"c:{ex.conversation}") for ex in examples]


def place_target(ex: Example, by_doc: dict[str, Hit], rng: random.Random) -> None:
    """Training examples: make sure the passage holding the answer is among the passages (it takes a random
    place, the last passage gives way). Held-out examples keep the passages as retrieved."""
    if not ex.target or any(h.doc_id == ex.target for h in ex.hits):
        return
    hit = by_doc.get(ex.target)
    if hit is None:
        ex.target = None
        return
    hits = ex.hits[:-1] if ex.hits else []
    hits.insert(rng.randint(0, len(hits)), hit)
    ex.hits, ex.inserted = hits, True


def cited(answer: str, ex: Example) -> str:
    """The answer citing its passage's number among these passages ([n], as the system prompt asks). Citations a
    logged answer already had are dropped: they numbered the passages of that day's retrieval."""
    answer = " ".join(re.sub(r"\s*\[\d+\]", "", answer).split(" ")).strip()
    number = next((n for n, h in enumerate(ex.hits, 1) if h.doc_id == ex.target), None) if ex.target else None
    return f"{answer} [{number}]" if number else answer


class Masker:
    """Personal-data masking as in the log (the store's `base.pii.Masker`), keeping the contact details the store
    publishes (in the settings and in the example's own passages), so the model still learns to give the store's
    phone number."""

    def __init__(self, settings) -> None:
        self.masker = StoreMasker.of(settings)

    def __call__(self, text: str, passages: str = "") -> str:
        if not passages:
            return self.masker.mask(text)
        keep = (*self.masker.keep, *pii_strings(passages, self.masker.region))
        return replace(self.masker, keep=keep).mask(text)


MASKS = tuple(sorted(set(PLACEHOLDERS.values())))


def chat_dicts(messages: list) -> list[dict]:
    """LangChain messages as OpenAI chat dicts (the training file's and the evaluation's format)."""
    roles = {"system": "system", "human": "user", "ai": "assistant"}
    return [{"role": roles[m.type], "content": str(m.content)} for m in messages]


def to_messages(ex: Example, settings, mask: Masker) -> list[dict]:
    from chains.llm import answer_messages, format_context

    passages = format_context(ex.hits)
    history = [Turn(mask(t.question, passages), mask(t.answer, passages)) for t in ex.history]
    messages = chat_dicts(answer_messages(settings, mask(ex.question, passages), ex.hits, history))
    return [*messages, {"role": "assistant", "content": mask(cited(ex.answer, ex), passages)}]


def dpo_pairs(down: list[dict], staff: list[Example]) -> list[Example]:
    """A thumbs-down answer paired with the staff answer written for the same question (same normalised text, or
    one a typo away). The pair belongs to the staff entry's group, so it lands in the split its answer is in."""
    from rapidfuzz import fuzz

    pairs = []
    for row in down:
        q = normalise(row["question"])
        best = max(staff, key=lambda s: fuzz.ratio(q, normalise(s.question)), default=None)
        if best is not None and fuzz.ratio(q, normalise(best.question)) >= NEAR_DUPLICATE:
            ex = Example("dpo", best.conversation, row["question"], best.answer, best.target)
            ex.rejected = row
            pairs.append(ex)
    return pairs


# -- the run ------------------------------------------------------------------------------------------------
def collect(args: argparse.Namespace, settings, kb, rng: random.Random) -> tuple[list[Example], list[Example]]:
    from chains.extractive import Contact, decline_sentence
    from services.conversation_log import ConversationLog

    examples: list[Example] = []
    down: list[dict] = []
    staff = from_faq(kb, staff=True)
    if "staff" in args.sources:
        examples += staff
    if "faq" in args.sources:
        examples += from_faq(kb, staff=False)
    if "log" in args.sources:
        logged, down = from_log(ConversationLog(settings.feedback_db).rows(), settings.memory_turns)
        examples += logged
    if "qa-csv" in args.sources:
        examples += from_qa_csv(args.qa_csv)
    if "bitext" in args.sources:
        examples += from_bitext(args.bitext, settings, args.bitext_max, rng)
    if "decline" in args.sources:
        contact = Contact.of(settings)
        examples += from_out_of_scope(lambda lang: decline_sentence(contact, lang))
    return examples, dpo_pairs(down, staff)


def retrieve(examples: list[Example], kb, settings, progress=print_now) -> dict[str, Hit]:
    """The passages production would send for each example (top_k, for the question as the app searched it: the
    log keeps that; otherwise the offline rewrite of a follow-up), in batches; returns a passage of every document
    seen, to put a missed target in place (`place_target`)."""
    from chains.condense import condense_question

    by_doc: dict[str, Hit] = {}
    batch = 128
    for start in range(0, len(examples), batch):
        chunk = examples[start : start + batch]
        queries = [e.searched or condense_question(e.question, e.history) for e in chunk]
        for ex, hits in zip(chunk, kb.search_many(queries, settings.top_k), strict=True):
            ex.hits = hits
            for hit in hits:
                by_doc.setdefault(hit.doc_id, hit)
        progress(f"  retrieved passages for {min(start + batch, len(examples))}/{len(examples)} questions")
    need = [e for e in examples if e.target and e.target not in by_doc]
    for start in range(0, len(need), batch):  # a target retrieval missed: find its own passage by its text
        chunk = need[start : start + batch]
        for hits in kb.search_many([f"{e.question}\n{e.answer}" for e in chunk], 10):
            for hit in hits:
                by_doc.setdefault(hit.doc_id, hit)
    return by_doc


OUTPUT_FILES = frozenset(
    {
        "train.jsonl",
        "validation.jsonl",
        "heldout.jsonl",
        "dpo_train.jsonl",
        "dpo_validation.jsonl",
        "report.json",
        "LICENSE-bitext-CDLA-Sharing-1.0.txt",
    }
)


def write_outputs(out: Path, files: dict[str, list[str]], report: dict) -> None:
    """Write every file into a temporary sibling folder, then swap the folders: DIR holds all of one run or all of
    the previous one, never a mix. A DIR holding anything else is refused rather than replaced."""
    if out.exists() and (not out.is_dir() or any(p.name not in OUTPUT_FILES for p in out.iterdir())):
        raise DataError(f"{out} holds other files; give --out a new or earlier finetune.prepare folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.{os.getpid()}.tmp"
    old = out.parent / f".{out.name}.{os.getpid()}.old"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        for name, lines in files.items():
            (tmp / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        (tmp / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if report["sources"].get("bitext"):
            shutil.copy(BITEXT_LICENCE, tmp / "LICENSE-bitext-CDLA-Sharing-1.0.txt")
        if out.exists():
            os.replace(out, old)
        os.replace(tmp, out)
    except BaseException:
        if old.exists() and not out.exists():
            os.replace(old, out)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def _hit_json(hit: Hit) -> dict:
    return {"id": hit.id, "text": hit.text, "source": hit.source, "score": hit.score, "metadata": hit.metadata}


def build(args: argparse.Namespace, settings, kb, progress=print_now) -> dict:
    """Collect, retrieve, split, mask, validate and write; returns the report."""
    from base.language import detect_language

    rng = random.Random(args.seed)
    examples, pairs = collect(args, settings, kb, rng)
    collected = Counter(e.source for e in examples)
    examples, duplicates = deduplicate(examples)
    progress(f"{len(examples)} examples from {dict(collected)} ({duplicates} duplicates dropped)")
    by_doc = retrieve(examples + pairs, kb, settings, progress)
    keys = group_keys(examples + pairs)
    splits = []
    for ex, key in zip(examples + pairs, keys, strict=True):
        if ex.heldout_only:
            split = "heldout"
        elif ex.source == "decline":  # out-of-scope dev questions train; their test splits are the held-out ones
            split = split_of(key, args.seed, (args.shares[0], 0.0))
        else:
            split = split_of(key, args.seed, args.shares)
        if split != "heldout":
            place_target(ex, by_doc, rng)
        splits.append(split)
    mask = Masker(settings)
    split_lines: dict[str, list[str]] = {s: [] for s in SPLITS}
    per_split: dict[str, Counter] = {s: Counter() for s in SPLITS}
    flagged: list[dict] = []
    masked_answers = 0
    for ex, split in zip(examples, splits[: len(examples)], strict=True):
        messages = to_messages(ex, settings, mask)
        if any(token in messages[-1]["content"] for token in MASKS):
            masked_answers += 1  # an answer that gave a customer's details: not one to learn to say
            continue
        check = validate_lines([json.dumps({"messages": messages})], min_examples=0)
        if check.flags and split != "heldout" and not args.keep_flagged:
            why = check.flags[0].reason
            flagged.append({"source": ex.source, "question": mask(ex.question)[:200], "why": why})
            continue
        if split == "heldout":
            record = {
                "messages": messages,
                "source": ex.source,
                "question": mask(ex.question),
                "lang": detect_language(ex.question),
                "reference": messages[-1]["content"],
                "declined": ex.declined,
                "target": ex.target,
                "hits": [_hit_json(h) for h in ex.hits],
            }
            split_lines[split].append(json.dumps(record, ensure_ascii=False, sort_keys=True))
        else:
            split_lines[split].append(json.dumps({"messages": messages}, ensure_ascii=False))
        per_split[split][ex.source] += 1
    files = {"train.jsonl": split_lines["train"], "heldout.jsonl": split_lines["heldout"]}
    if split_lines["validation"]:
        files["validation.jsonl"] = split_lines["validation"]
    checks: dict[str, FileCheck] = {}
    for name in ("train.jsonl", "validation.jsonl"):
        if name in files:
            checks[name] = validate_lines(
                files[name], "supervised", 10 if name == "train.jsonl" else 1, args.max_tokens
            )
            if checks[name].problems:
                shown = "; ".join(str(p) for p in checks[name].problems[:5])
                raise DataError(f"{name} would not be a valid training file: {shown}")
    dpo = _dpo_files(pairs, splits[len(examples) :], settings, mask, args)
    files.update(dpo)
    report = {
        "model": args.model,
        "seed": args.seed,
        "sources": dict(collected),
        "duplicates_dropped": duplicates,
        "flagged_dropped": len(flagged),
        "flagged_examples": flagged[:20],
        "answers_with_masked_details_dropped": masked_answers,
        "target_passage_inserted": sum(e.inserted for e in examples),
        "heldout_targets": sorted(
            {e.target for e, sp in zip(examples, splits, strict=False) if e.target and sp == "heldout"}
        ),
        "trained_targets": sorted(
            {e.target for e, sp in zip(examples, splits, strict=False) if e.target and sp != "heldout"}
        ),
        "splits": {s: dict(per_split[s]) for s in SPLITS},
        "examples": {s: len(split_lines[s]) for s in SPLITS},
        "tokens": {n.removesuffix(".jsonl"): c.total_tokens for n, c in checks.items()},
        "max_example_tokens": max(checks["train.jsonl"].tokens, default=0),
        "tokenizer": "cl100k_base",
        "cost": estimate_cost(checks["train.jsonl"], args.model, args.epochs),
        "dpo_pairs": len(pairs),
        "dpo_written": sum(len(v) for v in dpo.values()),
    }
    write_outputs(args.out, files, report)
    return report


def _dpo_files(
    pairs: list[Example], splits: list[str], settings, mask: Masker, args: argparse.Namespace
) -> dict[str, list[str]]:
    """OpenAI DPO lines for the pairs outside the held-out split, checked like the other files."""
    lines: dict[str, list[str]] = {"dpo_train.jsonl": [], "dpo_validation.jsonl": []}
    for ex, split in zip(pairs, splits, strict=True):
        if split == "heldout":
            continue
        messages = to_messages(ex, settings, mask)
        rejected = mask(str(ex.rejected["answer"]), messages[-2]["content"]).strip()
        line = {
            "input": {"messages": messages[:-1]},
            "preferred_output": [messages[-1]],
            "non_preferred_output": [{"role": "assistant", "content": rejected}],
        }
        name = "dpo_validation.jsonl" if split == "validation" else "dpo_train.jsonl"
        lines[name].append(json.dumps(line, ensure_ascii=False))
    if len(lines["dpo_train.jsonl"]) < args.dpo_min:
        return {}
    check = validate_lines(lines["dpo_train.jsonl"], "dpo", args.dpo_min, args.max_tokens)
    if check.problems:
        raise DataError("dpo_train.jsonl would not be valid: " + "; ".join(str(p) for p in check.problems[:5]))
    return {k: v for k, v in lines.items() if v}


def format_report(report: dict, out: Path) -> str:
    lines = [f"wrote {out}/: " + ", ".join(f"{n} {s}" for s, n in report["examples"].items())]
    lines.append("  sources: " + ", ".join(f"{k} {v}" for k, v in report["sources"].items()))
    lines.append(
        f"  dropped: {report['duplicates_dropped']} duplicates, {report['flagged_dropped']} answers with numbers "
        f"not in their passages, {report['answers_with_masked_details_dropped']} answers giving masked details"
    )
    tokens = ", ".join(f"{name} {count:,}" for name, count in report["tokens"].items())
    lines.append(f"  tokens (cl100k_base): {tokens}; longest example {report['max_example_tokens']:,}")
    if not report["examples"]["validation"]:
        lines.append("  no validation file (no conversation fell in that split): launch without --validation")
    lines.append(f"  cost for {report['model']}: {report['cost']}")
    if report["dpo_pairs"]:
        written = report["dpo_written"]
        state = f"{written} written" if written else "too few to write"
        lines.append(f"  preference pairs (thumbs-down + staff answer): {report['dpo_pairs']} ({state})")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="directory for the files")
    ap.add_argument("--sources", default=",".join(DEFAULT_SOURCES), help=f"comma-separated, among {SOURCES}")
    ap.add_argument("--qa-csv", type=Path, help="a question,answer CSV (adds the qa-csv source)")
    ap.add_argument("--bitext", type=Path, default=BITEXT, help="the Bitext sample CSV")
    ap.add_argument("--bitext-max", type=int, default=100, help="Bitext rows to use, spread over intents")
    ap.add_argument("--model", default=DEFAULT_MODEL, help="priced and token-checked for this model")
    ap.add_argument("--epochs", type=int, help="for the cost estimate; default: what OpenAI would pick")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--validation-share", type=float, default=0.1)
    ap.add_argument("--heldout-share", type=float, default=0.15)
    ap.add_argument("--dpo-min", type=int, default=10, help="preference pairs needed to write the DPO files")
    ap.add_argument("--keep-flagged", action="store_true", help="keep answers whose numbers are not in passages")
    args = ap.parse_args(argv)
    args.sources = [s.strip() for s in args.sources.split(",") if s.strip()]
    if args.qa_csv and "qa-csv" not in args.sources:
        args.sources.append("qa-csv")
    unknown = [s for s in args.sources if s not in SOURCES]
    if unknown:
        ap.error(f"unknown source(s) {unknown}; choose among {', '.join(SOURCES)}")
    if "qa-csv" in args.sources and not args.qa_csv:
        ap.error("the qa-csv source needs --qa-csv FILE")
    for flag, value in (("--validation-share", args.validation_share), ("--heldout-share", args.heldout_share)):
        if not 0 <= value < 0.5:
            ap.error(f"{flag} must be in [0, 0.5)")
    args.shares = (args.validation_share, args.heldout_share)
    if "bitext" in args.sources and not args.bitext.is_file():
        print(f"note: no Bitext sample at {args.bitext}; that source is skipped", file=sys.stderr)
        args.sources.remove("bitext")
    from finetune.dataset import model_entry

    entry = model_entry(args.model)
    args.max_tokens = entry["max_tokens_per_example"] if entry else None
    return args


def main(argv: list[str] | None = None) -> int:
    from base.settings import Settings
    from services.knowledge import KnowledgeBase

    args = parse_args(argv)
    settings = Settings()
    try:
        kb = KnowledgeBase(settings)
        if kb.stats()["chunks"] == 0:
            raise DataError(
                f"the store at {settings.store_dir} holds no knowledge: run `python cli.py ingest data/` first"
            )
        report = build(args, settings, kb)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(format_report(report, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
