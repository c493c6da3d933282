"""Which chat model answers, the last fine-tuning job and its evaluation; the switch between base and fine-tuned.

The id file that `finetune.launch` writes is the one source of truth: switching only flips its `active` flag, and
the assistant reads it before every answer (services/assistant.py), so a switch from the CLI or the admin page
reaches a running app with its next question.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from base.settings import Settings
from providers.chat import chat_model_name, fine_tune_job_file, fine_tuned_record, use_fine_tuned


@dataclass
class ModelStatus:
    provider: str  # openai, openai-compatible, extractive, fake
    answering: str  # the model that answers now
    base_model: str
    fine_tuned: dict | None  # the id file's record
    last_job: dict | None  # finetune.launch's last status of its job
    evaluation: dict | None  # finetune.evaluate's table, per system

    @property
    def fine_tuned_active(self) -> bool:
        return bool(self.fine_tuned) and bool(self.fine_tuned.get("active", True))


def _read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def model_status(settings: Settings) -> ModelStatus:
    provider = settings.answering_provider()
    answering = "extractive (the store's own answers)" if provider == "extractive" else chat_model_name(settings)
    evaluation = _read_json(settings.fine_tune_eval_file)
    systems = {k: v for k, v in (evaluation or {}).items() if not k.startswith("_") and isinstance(v, dict)}
    return ModelStatus(
        provider=provider,
        answering=answering,
        base_model=settings.chat_model,
        fine_tuned=fine_tuned_record(settings.fine_tuned_model_file),
        last_job=_read_json(fine_tune_job_file(settings.fine_tuned_model_file)),
        evaluation=systems or None,
    )


def choose_model(settings: Settings, fine_tuned: bool) -> ModelStatus:
    """Answer with the fine-tuned model (True) or the base one (False) from the next question on."""
    use_fine_tuned(fine_tuned, settings.fine_tuned_model_file)
    return model_status(settings)
