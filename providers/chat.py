"""Chat models: which provider answers (`ASSISTANT_CHAT_PROVIDER`) and how its client is built.

`auto` picks OpenAI when a key is configured and the offline extractive answerer otherwise; `openai` uses the
fine-tuned model id written by the fine-tune script when there is one.
"""

from __future__ import annotations

import json
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from base.files import write_json_atomic
from base.settings import Settings


def fine_tune_job_file(id_file: Path) -> Path:
    """Where `finetune.launch` keeps its last job's status, beside the id file."""
    return id_file.with_name("fine_tune_job.json")


def fine_tuned_record(id_file: Path) -> dict | None:
    """What `finetune.launch` wrote about the fine-tuned model (id, base, job, validation loss), or None."""
    try:
        record = json.loads(id_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("fine_tuned_model") else None


def use_fine_tuned(active: bool, id_file: Path) -> dict:
    """Switch between the fine-tuned and the base model by the id file's `active` flag (the file stays the one
    source of truth; written atomically). Raises FileNotFoundError when there is no fine-tuned model."""
    record = fine_tuned_record(id_file)
    if record is None:
        raise FileNotFoundError(f"no fine-tuned model in {id_file}")
    record["active"] = bool(active)
    write_json_atomic(id_file, record)
    return record


def chat_model_name(settings: Settings) -> str:
    """The fine-tuned model of the id file when OpenAI answers and it is active, else the configured model."""
    if settings.answering_provider() == "openai":
        record = fine_tuned_record(settings.fine_tuned_model_file)
        if record and record.get("active", True):
            return str(record["fine_tuned_model"])
    return settings.chat_model


def build_chat_model(settings: Settings) -> BaseChatModel:
    """ChatOpenAI for `openai` and `openai-compatible` (short timeout, a few retries, streaming)."""
    from langchain_openai import ChatOpenAI

    if settings.chat_provider == "openai-compatible" and not settings.openai_base_url:
        raise ValueError("the openai-compatible provider needs ASSISTANT_OPENAI_BASE_URL")
    return ChatOpenAI(
        model=chat_model_name(settings),
        api_key=settings.openai_api_key or "not-needed",
        base_url=settings.openai_base_url,
        timeout=settings.openai_timeout,
        max_retries=settings.openai_max_retries,
        temperature=0,
        streaming=True,
    )
