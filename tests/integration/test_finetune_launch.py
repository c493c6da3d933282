"""`python -m finetune.launch` against the local OpenAI fake over real HTTP: upload, create, follow the job to its
end, write the id file the chat provider reads; failed and cancelled jobs, Ctrl-C then --resume, bad data, no key.
Polling never sleeps here (`--poll-seconds 0`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_openai import FakeOpenAIServer, FakeState

from base.paths import ROOT
from base.settings import Settings
from finetune import launch
from providers.embeddings import HashingEmbeddings
from services.assistant import Assistant
from services.knowledge import KnowledgeBase

pytestmark = pytest.mark.integration

SYSTEM = "You answer questions for Harbor & Pine from the numbered passages only."


def _example(n: int) -> dict:
    passage = f"[1] Part {n} ships in {n % 5 + 1} business days."
    return {
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Passages:\n{passage}\n\nQuestion: how fast does part {n} ship?"},
            {"role": "assistant", "content": f"Part {n} ships in {n % 5 + 1} business days [1]."},
        ]
    }


def _write(path: Path, examples: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in examples), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return (
        _write(tmp_path / "train.jsonl", [_example(n) for n in range(12)]),
        _write(tmp_path / "validation.jsonl", [_example(n) for n in range(100, 110)]),
    )


def _args(files: tuple[Path, Path], id_file: Path | None, *extra: str) -> list[str]:
    train, validation = files
    chosen = ["--id-file", str(id_file)] if id_file else []
    return ["--train", str(train), "--validation", str(validation), *chosen, "--poll-seconds", "0", *extra]


def _ctrl_c(_seconds: float) -> None:
    """In place of the wait between polls: the user presses Ctrl-C."""
    raise KeyboardInterrupt


def _use(server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)


def test_a_job_runs_to_success_and_the_app_uses_the_model(
    files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    id_file = tmp_path / "id.json"
    monkeypatch.setenv("ASSISTANT_FINE_TUNED_MODEL_FILE", str(id_file))  # the default --id-file
    with FakeOpenAIServer(FakeState(fine_tune_polls_per_status=2)) as server:
        _use(server, monkeypatch)
        code = launch.main(_args(files, None, "--epochs", "2", "--suffix", "support", "--seed", "7"))
        [job] = list(server.state.jobs.values())
        uploads = [f for f in server.state.files.values() if f.purpose == "fine-tune"]
        settings = Settings(chat_provider="openai", decline_thresholds={"en": 0.0, "es": 0.0})
        kb = KnowledgeBase(settings, embeddings=HashingEmbeddings())
        assert kb.ingest_paths([ROOT / "data/faq/store_faq.json"]).ok
        answer = Assistant(settings, kb).ask("Do gift cards expire?")
        [chat] = server.state.bodies("/chat/completions")
    out = capsys.readouterr().out
    assert code == 0, out
    assert len(uploads) == 2
    assert job.public["hyperparameters"]["n_epochs"] == 2 and job.public["seed"] == 7
    for step in ("status: validating_files", "status: queued", "status: running", "status: succeeded"):
        assert step in out
    assert "step 1/10, train_loss 1.2300" in out  # metrics events are shown as they arrive
    record = json.loads(id_file.read_text(encoding="utf-8"))
    assert record["fine_tuned_model"].startswith("ft:gpt-4o-mini-2024-07-18:harbor-pine:support:")
    assert record["base_model"] == "gpt-4o-mini-2024-07-18" and record["job_id"] == job.public["id"]
    assert record["data_sha256"] == launch.data_hash(*files)
    assert not list(tmp_path.glob(".id.json.*tmp"))
    assert record["active"] is True
    assert chat["model"] == record["fine_tuned_model"] == answer.model  # the app answered with the new model


@pytest.mark.parametrize("stage", ["validating_files", "running"])
def test_a_failed_job_says_why_and_writes_nothing(
    files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
    stage: str,
) -> None:  # fmt: skip
    id_file = tmp_path / "id.json"
    state = FakeState(fine_tune_outcome="failed", fine_tune_fail_stage=stage)
    state.fine_tune_error = {"code": "invalid_training_file", "message": "Too many tokens in line 3.", "param": None}
    with FakeOpenAIServer(state) as server:
        _use(server, monkeypatch)
        code = launch.main(_args(files, id_file))
    err = capsys.readouterr().err
    assert code == 1
    assert "failed: Too many tokens in line 3." in err and "Nothing was written" in err
    assert not id_file.exists()


def test_ctrl_c_leaves_the_job_running_and_resume_finishes_it(
    files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    id_file = tmp_path / "id.json"
    with FakeOpenAIServer(FakeState(fine_tune_polls_per_status=1)) as server:
        _use(server, monkeypatch)
        assert launch.main(_args(files, id_file), sleep=_ctrl_c) == 130
        [job_id] = list(server.state.jobs)
        err = capsys.readouterr().err
        assert f"--resume {job_id}" in err and server.state.jobs[job_id].public["status"] not in launch.TERMINAL
        assert not id_file.exists()
        assert launch.main(["--resume", job_id, "--id-file", str(id_file), "--poll-seconds", "0"]) == 0
    assert json.loads(id_file.read_text(encoding="utf-8"))["job_id"] == job_id


def test_cancel_then_following_the_cancelled_job_writes_nothing(
    files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    id_file = tmp_path / "id.json"
    with FakeOpenAIServer(FakeState()) as server:
        _use(server, monkeypatch)
        launch.main(_args(files, id_file), sleep=_ctrl_c)
        [job_id] = list(server.state.jobs)
        assert launch.main(["--cancel", job_id]) == 0
        assert server.state.jobs[job_id].public["status"] == "cancelled"
        assert launch.main(["--resume", job_id, "--id-file", str(id_file), "--poll-seconds", "0"]) == 1
    assert "cancelled" in capsys.readouterr().err
    assert not id_file.exists()


def test_bad_data_is_refused_by_line_before_any_upload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    rows = [json.dumps(_example(n)) for n in range(12)]
    rows[2] = "{not json"
    rows[4] = json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "user", "content": "again"}]})
    rows[6] = json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": " "}]})
    rows[8] = json.dumps({"messages": [{"role": "user", "content": "no answer"}]})
    train = tmp_path / "train.jsonl"
    train.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with FakeOpenAIServer(FakeState()) as server:
        _use(server, monkeypatch)
        code = launch.main(["--train", str(train), "--id-file", str(tmp_path / "id.json")])
        assert server.state.files == {} and server.state.jobs == {}
    err = capsys.readouterr().err
    assert code == 1
    assert "line 3: not JSON" in err
    assert "line 5: messages: user and assistant messages must alternate" in err
    assert "line 7: messages: message 2 (assistant) has empty content" in err
    assert "line 9: messages: the last message must be the assistant's answer" in err
    _write(train, [_example(n) for n in range(3)])
    assert launch.main(["--train", str(train), "--dry-run"]) == 1
    assert "3 examples; a fine-tune needs at least 10" in capsys.readouterr().err


def test_dry_run_needs_no_key_and_no_key_is_one_sentence(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    id_file = tmp_path / "id.json"
    assert launch.main(_args(files, id_file, "--dry-run")) == 0
    assert "12 supervised examples, valid" in capsys.readouterr().out
    assert launch.main(_args(files, id_file)) == 2
    assert capsys.readouterr().err.strip() == (
        "No OpenAI key: set OPENAI_API_KEY (and OPENAI_BASE_URL for another server)."
    )


def test_api_errors_are_one_line_and_transient_ones_are_retried(
    files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    id_file = tmp_path / "id.json"
    with FakeOpenAIServer(FakeState(fail_next=[429, 503])) as server:
        _use(server, monkeypatch)
        assert launch.main(_args(files, id_file)) == 0  # the SDK retried both, with backoff
    with FakeOpenAIServer(FakeState()) as server:
        _use(server, monkeypatch)
        assert launch.main(["--resume", "ftjob-missing", "--id-file", str(id_file)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: the API refused the request (404): Could not find fine-tuning job: ftjob-missing"]


def test_dpo_lines_are_checked_and_a_small_validation_file_is_fine(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    def pair(n: int) -> dict:
        return {"input": {"messages": [{"role": "user", "content": f"how fast does part {n} ship?"}]},
                "preferred_output": [{"role": "assistant", "content": "In 2 days [1]."}],
                "non_preferred_output": [{"role": "assistant", "content": "Soon."}]}  # fmt: skip

    rows = [pair(n) for n in range(12)]
    rows[1] = {**pair(1), "input": "how fast?"}
    rows[3] = {
        **pair(3),
        "input": {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
    }
    rows[5] = {**pair(5), "non_preferred_output": []}
    train = _write(tmp_path / "dpo.jsonl", rows)
    assert launch.main(["--train", str(train), "--method", "dpo", "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert "line 2: input: 'messages' must be a non-empty list" in err
    assert "line 4: input: the last message must be the user's" in err
    assert "line 6: non_preferred_output must be one non-empty assistant message" in err
    good = _write(tmp_path / "good.jsonl", [pair(n) for n in range(12)])
    small = _write(tmp_path / "val.jsonl", [pair(n) for n in range(3)])
    assert launch.main(["--train", str(good), "--validation", str(small), "--method", "dpo", "--dry-run"]) == 0
