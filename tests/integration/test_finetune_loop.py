"""The fine-tuning loop end to end: `finetune.prepare` on a store, `finetune.evaluate` comparing the base and the
fine-tuned model over real HTTP against the local OpenAI fake, and a tiny real LoRA run of `finetune.local`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fake_openai import FakeOpenAIServer, FakeState

from base.paths import ROOT
from base.settings import Settings
from finetune import evaluate, local, prepare
from services.knowledge import KnowledgeBase

pytestmark = pytest.mark.integration
FINE_TUNED = "ft:gpt-4o-mini-2024-07-18:harbor-pine:support:abc123"


def _store() -> None:
    kb = KnowledgeBase(Settings())  # the fake embedder and a tmp_path store (tests/conftest.py)
    assert kb.ingest_paths([ROOT / "data/faq/store_faq.json"]).ok


def _responder(messages: list[dict], model: str) -> str:
    """The fine-tuned model quotes the answer of passage [1]; the base model rambles without the facts."""
    if model != FINE_TUNED:
        return "Thanks for reaching out! Our team is always happy to help with anything you need."
    found = re.search(r"\[1\] \(.*?\)\n(?:Q: .*?\n)?A: (.*?)(?:\n\n\[2\]|\n</passages>)", messages[-1]["content"], re.S)
    return (found.group(1).strip() if found else "Sorry") + " [1]"


def test_prepare_then_evaluate_base_against_fine_tuned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    _store()
    data = tmp_path / "data"
    assert prepare.main(["--out", str(data), "--sources", "faq,decline", "--heldout-share", "0.3"]) == 0
    report = json.loads((data / "report.json").read_text(encoding="utf-8"))
    assert report["examples"]["train"] >= 10 and report["examples"]["heldout"] > 0
    assert "training tokens" in capsys.readouterr().out
    id_file = tmp_path / "fine_tuned_model_id.json"
    id_file.write_text(json.dumps({"fine_tuned_model": FINE_TUNED, "base_model": "gpt-4o-mini-2024-07-18"}))
    monkeypatch.setenv("ASSISTANT_FINE_TUNED_MODEL_FILE", str(id_file))
    out = tmp_path / "eval.json"
    with FakeOpenAIServer(FakeState(chat_responder=_responder)) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        code = evaluate.main(["--data", str(data), "--systems", "extractive,base,fine-tuned", "--out", str(out)])
        models = {body["model"] for body in server.state.bodies("/chat/completions")}
    assert code == 0, capsys.readouterr().err
    assert models == {"gpt-4o-mini", FINE_TUNED}
    results = json.loads(out.read_text(encoding="utf-8"))
    base, tuned = results["base (gpt-4o-mini)"], results[f"fine-tuned ({FINE_TUNED})"]
    assert tuned["grounded_cases"] > 0
    assert tuned["grounded_correct"] > base["grounded_correct"]
    assert tuned["rouge_l"] > base["rouge_l"]
    assert "| extractive |" in capsys.readouterr().out


def test_evaluate_without_a_key_says_so_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _store()
    data = tmp_path / "data"
    assert prepare.main(["--out", str(data), "--sources", "faq,decline"]) == 0
    assert evaluate.main(["--data", str(data), "--systems", "extractive,base", "--out", str(tmp_path / "e")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "error: the base system needs OPENAI_API_KEY (and OPENAI_BASE_URL for another server)"


def test_prepare_refuses_an_empty_store_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert prepare.main(["--out", str(tmp_path / "d")]) == 1
    assert "holds no knowledge" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_a_tiny_real_lora_run_trains_saves_and_answers(tmp_path: Path) -> None:
    """SmolLM2-135M from its wheel, a few steps on short production-shaped examples: the loss is computed on the
    answers, the adapter is saved atomically with its record, and the generator loads it and answers."""
    data = tmp_path / "data"
    data.mkdir()
    lines = []
    for n in range(12):
        lines.append(
            json.dumps(
                {
                    "messages": [
                        {"role": "system", "content": "Answer from the passages."},
                        {
                            "role": "user",
                            "content": f"<passages>\n[1] Part {n} ships in {n % 5 + 1} days.\n</passages>\n"
                            f"Customer question: when does part {n} ship?",
                        },
                        {"role": "assistant", "content": f"Part {n} ships in {n % 5 + 1} days [1]."},
                    ]
                }
            )
        )
    (data / "train.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "adapter"
    record = local.train(data, out, max_steps=4, minutes=10, rank=4, progress=lambda _m: None)
    assert record["steps"] == 4 and record["stopped"] == "finished" and record["examples"] == 12
    assert (out / "adapter_config.json").is_file() and (out / "training.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".adapter.")]
    generator = local.LocalGenerator(out, max_new_tokens=12)
    answer = generator(json.loads(lines[0])["messages"][:-1])
    assert isinstance(answer, str) and answer.strip()
