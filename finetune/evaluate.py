"""Does a fine-tuned model answer better? Base and fine-tuned side by side on questions never trained on.

    python -m finetune.evaluate --data DIR [--questions FILE ...] [--systems extractive,base,fine-tuned]
        [--adapter models/lora-smollm2] [--limit N] [--out FILE]

Cases: DIR/heldout.jsonl from `finetune.prepare` (kept out of train and validation, with the passages production
retrieved), plus any `--questions` files in the eval-set format (`{"query", "relevant": [doc ids]}`; empty
`relevant` = out of scope), whose passages are retrieved from the store now. Every system answers exactly as in
production: when the decline gate says the passages don't hold the answer, no model is asked.

Systems: `extractive` (the offline answerer), `base` (the configured chat model), `fine-tuned` (the model in the
id file), `local` (SmolLM2-135M with the LoRA adapter of `finetune.local`), `local-base` (without it).

Measures, per system:
- ROUGE-L F1 against the reference answer (word-level longest common subsequence; what older systems reported);
- grounded correctness, on cases whose answer is an entry of the store: not declined, states every number of the
  reference, and recalls at least half of its content words (the fact of the right passage, not another's);
- wrongly declined (answerable cases), out-of-scope declined, and invented numbers (share of answers stating a
  number found neither in the question nor in the passages).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from base.files import write_json_atomic
from base.paths import ROOT
from base.text import print_now
from base.types import Hit
from finetune.dataset import CITATION, NUMBER, DataError, invented_numbers

SYSTEMS = ("extractive", "base", "fine-tuned", "local", "local-base")
_WORD = re.compile(r"\w+")
_STOP = frozenset(  # words of four letters or more that say nothing about which fact an answer states
    {
        "your",
        "with",
        "that",
        "this",
        "from",
        "have",
        "will",
        "what",
        "when",
        "which",
        "there",
        "they",
        "them",
        "para",
        "como",
        "está",
        "este",
        "esta",
        "pero",
        "puedes",
        "tienes",
        "nuestro",
        "nuestra",
    }
)


@dataclass
class Case:
    question: str
    lang: str
    hits: list[Hit]
    reference: str
    declined: bool  # out of scope: the right answer is the decline
    grounded: bool  # the reference is the store's own answer (grounded correctness applies)
    origin: str
    messages: list[dict] = field(default_factory=list)


# -- metrics ------------------------------------------------------------------------------------------------
def words(text: str) -> list[str]:
    return _WORD.findall(CITATION.sub(" ", text).lower())


def rouge_l(candidate: str, reference: str) -> float:
    """F1 of the longest common word subsequence."""
    a, b = words(candidate), words(reference)
    if not a or not b:
        return 0.0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[-1]))
        prev = cur
    lcs = prev[-1]
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(a), lcs / len(b)
    return 2 * precision * recall / (precision + recall)


def states_fact(answer: str, reference: str) -> bool:
    """Every number of the reference, and at least half its content words, are in the answer."""
    ref = CITATION.sub(" ", reference)
    said = set(NUMBER.findall(CITATION.sub(" ", answer)))
    if any(n not in said for n in set(NUMBER.findall(ref))):
        return False
    content = {w for w in words(ref) if len(w) > 3 and w not in _STOP and not w.isdigit()}
    if not content:
        return True
    return len(content & set(words(answer))) / len(content) >= 0.5


def is_decline(answer: str, decline_text: str) -> bool:
    """The answer is the decline sentence, or close to it (a model may rephrase it slightly)."""
    return rouge_l(answer, decline_text) >= 0.5


# -- cases --------------------------------------------------------------------------------------------------
def _hit(record: dict) -> Hit:
    return Hit(record["id"], record["text"], record["source"], float(record["score"]), record["metadata"])


def heldout_cases(path: Path) -> list[Case]:
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            cases.append(
                Case(
                    r["question"],
                    r["lang"],
                    [_hit(h) for h in r["hits"]],
                    r["reference"],
                    bool(r["declined"]),
                    bool(r.get("target")),
                    f"heldout:{r['source']}",
                    r["messages"][:-1],
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"{path} line {n}: not a held-out record of finetune.prepare ({exc})") from exc
    return cases


def question_cases(path: Path, kb, settings, answers: dict[str, str], trained: set[str] | None = None) -> list[Case]:
    """Eval-set questions: FAQ-answerable ones (reference = the first relevant entry's answer) and out-of-scope
    ones; product questions are left out (their answers are built from fields, not a reference text). With the
    prepared data's trained entries (`trained`), a case says whether its entry's answer was a training target
    (`seen`: a new wording of a trained answer) or not (`unseen`)."""
    from base.language import detect_language
    from chains.extractive import Contact, decline_sentence

    contact = Contact.of(settings)
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [i for i in items if not i["relevant"] or any(r in answers for r in i["relevant"])]
    hits = kb.search_many([i["query"] for i in items], settings.top_k)
    cases = []
    for item, found in zip(items, hits, strict=True):
        lang = detect_language(item["query"])
        relevant = [answers[r] for r in item["relevant"] if r in answers]
        reference = relevant[0] if relevant else decline_sentence(contact, lang)
        origin = f"questions:{path.name}"
        if trained is not None and item["relevant"]:
            origin += ":seen" if any(r in trained for r in item["relevant"]) else ":unseen"
        cases.append(Case(item["query"], lang, found, reference, not item["relevant"], bool(item["relevant"]), origin))
    return cases


# -- systems ------------------------------------------------------------------------------------------------
def _openai_system(settings, model: str) -> Callable[[Case], str]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
    from langchain_openai import ChatOpenAI

    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    chat = ChatOpenAI(
        model=model,
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        timeout=settings.openai_timeout,
        max_retries=settings.openai_max_retries,
        temperature=0,
    )

    def answer(case: Case) -> str:
        return str(chat.invoke([kinds[m["role"]](m["content"]) for m in case.messages]).content)

    return answer


def build_systems(names: list[str], settings, adapter: Path) -> dict[str, Callable[[Case], str]]:
    from providers.chat import fine_tuned_record

    systems: dict[str, Callable[[Case], str]] = {}
    for name in names:
        if name in ("base", "fine-tuned") and not settings.openai_api_key:
            raise DataError(f"the {name} system needs OPENAI_API_KEY (and OPENAI_BASE_URL for another server)")
        if name == "base":
            systems[f"base ({settings.chat_model})"] = _openai_system(settings, settings.chat_model)
        elif name == "fine-tuned":
            record = fine_tuned_record(settings.fine_tuned_model_file)
            if not record:
                raise DataError(f"no fine-tuned model in {settings.fine_tuned_model_file} (run finetune.launch)")
            systems[f"fine-tuned ({record['fine_tuned_model']})"] = _openai_system(settings, record["fine_tuned_model"])
        elif name in ("local", "local-base"):
            from finetune.local import LocalGenerator

            if name == "local" and not (adapter / "adapter_config.json").is_file():
                raise DataError(f"no LoRA adapter in {adapter} (run finetune.local)")
            generator = LocalGenerator(adapter if name == "local" else None)
            systems[generator.name] = lambda case, g=generator: g(case.messages)
        elif name != "extractive":
            raise DataError(f"unknown system {name!r}; choose among {', '.join(SYSTEMS)}")
    return systems


def evaluate(
    cases: list[Case],
    systems: dict[str, Callable[[Case], str]],
    settings,
    kb,
    progress: Callable[[str], None] = print_now,
) -> dict:
    """Answer every case with every system (the gate first, as in production) and score the answers."""
    from chains.extractive import Contact, ExtractiveAnswerer
    from chains.gate import DeclineGate
    from chains.llm import answer_messages
    from finetune.prepare import chat_dicts

    gate = DeclineGate(kb.decline_thresholds)
    extractive = ExtractiveAnswerer(Contact.of(settings), gate)
    rows: dict[str, list[dict]] = {"extractive": [], **{name: [] for name in systems}}
    for n, case in enumerate(cases, 1):
        if not case.messages:
            case.messages = chat_dicts(answer_messages(settings, case.question, case.hits, []))
        offline = extractive.answer(case.hits, case.lang)
        decline_text = extractive.decline_text(case.lang)
        grounds = case.question + " " + " ".join(h.text for h in case.hits)
        for name in rows:
            t0 = time.perf_counter()
            text = offline.text if name == "extractive" or offline.declined else systems[name](case)
            declined = offline.declined or is_decline(text, decline_text)
            rows[name].append(
                {
                    "declined": declined,
                    "rouge_l": rouge_l(text, case.reference),
                    "correct": (not declined) and states_fact(text, case.reference),
                    "invented": bool(invented_numbers(text, grounds)) and not declined,
                    "seconds": time.perf_counter() - t0,
                    "answer": text[:400],
                }
            )
        if n % 10 == 0 or n == len(cases):
            progress(f"  {n}/{len(cases)} cases")
    origins = sorted({c.origin for c in cases})
    results: dict = {}
    for name, answers in rows.items():
        results[name] = summarise(cases, answers)
        results[name]["by_origin"] = {
            origin: summarise(
                *zip(*[(c, a) for c, a in zip(cases, answers, strict=True) if c.origin == origin], strict=True)
            )
            for origin in origins
        }
    return results | {
        "_examples": [
            {
                "question": c.question,
                "origin": c.origin,
                "reference": c.reference[:300],
                **{name: rows[name][i]["answer"] for name in rows},
            }
            for i, c in enumerate(cases[:12])
        ]
    }


def summarise(cases: list[Case], answers: list[dict]) -> dict:
    def share(flags: list[bool]) -> float | None:
        return round(100 * sum(flags) / len(flags), 1) if flags else None

    answerable = [(c, a) for c, a in zip(cases, answers, strict=True) if not c.declined]
    grounded = [(c, a) for c, a in answerable if c.grounded]
    out_of_scope = [a for c, a in zip(cases, answers, strict=True) if c.declined]
    spoken = [a for a in answers if not a["declined"]]
    return {
        "answerable": len(answerable),
        "grounded_cases": len(grounded),
        "out_of_scope": len(out_of_scope),
        "rouge_l": round(sum(a["rouge_l"] for _, a in answerable) / len(answerable), 3) if answerable else None,
        "grounded_correct": share([a["correct"] for _, a in grounded]),
        "wrongly_declined": share([a["declined"] for _, a in answerable]),
        "out_of_scope_declined": share([a["declined"] for a in out_of_scope]),
        "invented_numbers": share([a["invented"] for a in spoken]),
        "seconds_per_answer": round(sum(a["seconds"] for a in answers) / max(len(answers), 1), 2),
    }


def format_table(results: dict, origin: str | None = None) -> str:
    """The Markdown table of every system, over all cases or over the cases of one origin."""
    head = (
        "| system | ROUGE-L | grounded correct % | wrongly declined % | out-of-scope declined % | "
        "invented numbers % | s/answer |\n|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for name, overall in results.items():
        if name.startswith("_"):
            continue
        r = overall["by_origin"][origin] if origin else overall
        lines.append(
            f"| {name} | {r['rouge_l']} | {r['grounded_correct']} | {r['wrongly_declined']} | "
            f"{r['out_of_scope_declined']} | {r['invented_numbers']} | {r['seconds_per_answer']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="the folder finetune.prepare wrote (its heldout.jsonl)")
    ap.add_argument("--questions", type=Path, nargs="*", default=[], help="eval-set JSONL files")
    ap.add_argument("--systems", default="extractive,base,fine-tuned")
    ap.add_argument("--adapter", type=Path, default=ROOT / "models" / "lora-smollm2")
    ap.add_argument("--limit", type=int, help="at most this many questions from each --questions file (evenly spaced)")
    ap.add_argument("--out", type=Path, help="default: the settings' fine_tune_eval_file (the admin page shows it)")
    args = ap.parse_args(argv)
    if args.data is None and not args.questions:
        ap.error("give --data DIR and/or --questions FILE")
    import openai

    from base.settings import Settings
    from finetune.local import LocalModelError
    from finetune.prepare import faq_entries
    from services.knowledge import KnowledgeBase

    settings = Settings()
    args.out = args.out or settings.fine_tune_eval_file
    try:
        names = [s.strip() for s in args.systems.split(",") if s.strip()]
        kb = KnowledgeBase(settings)
        cases: list[Case] = []
        trained = None
        if args.data is not None:
            cases += heldout_cases(args.data / "heldout.jsonl")
            report = json.loads((args.data / "report.json").read_text(encoding="utf-8"))
            trained = set(report.get("trained_targets", []))
        if args.questions:
            answers = {e["doc_id"]: e["answer"] for staff in (False, True) for e in faq_entries(kb, staff)}
            for path in args.questions:
                cases += _limit(question_cases(path, kb, settings, answers, trained), args.limit)
        systems = build_systems([n for n in names if n != "extractive"], settings, args.adapter)
        print(f"{len(cases)} cases; systems: extractive, {', '.join(systems)}")
        results = evaluate(cases, systems, settings, kb)
    except (DataError, LocalModelError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except openai.OpenAIError as exc:  # after the SDK's retries: one line, never a stack trace
        print(f"error: the model could not answer ({type(exc).__name__}: {str(exc)[:300]})", file=sys.stderr)
        return 1
    results["_inputs"] = {
        "data": str(args.data) if args.data else None,
        "questions": [str(q) for q in args.questions],
        "limit": args.limit,
        "cases": len(cases),
    }
    write_json_atomic(args.out, results)
    print(format_table(results))
    for origin in sorted({c.origin for c in cases}):
        print(f"\n{origin}:\n{format_table(results, origin)}")
    print(f"saved {args.out}")
    return 0


def _limit(cases: list[Case], limit: int | None) -> list[Case]:
    if not limit or len(cases) <= limit:
        return cases
    step = len(cases) / limit
    return [cases[int(i * step)] for i in range(limit)]


if __name__ == "__main__":
    sys.exit(main())
