"""Chat models: which provider answers (`ASSISTANT_CHAT_PROVIDER`) and how its client is built.

`auto` picks OpenAI when a key is configured and the offline extractive answerer otherwise; `openai` uses the
fine-tuned model id written by the fine-tune script when there is one.
"""

from __future__ import annotations

import json
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from base.settings import ROOT, Settings

FINE_TUNED_ID_FILE = ROOT / "finetune" / "fine_tuned_model_id.json"


def chat_model_name(settings: Settings, id_file: Path = FINE_TUNED_ID_FILE) -> str:
    """The fine-tuned model id written by the fine-tune script if present, else the configured model."""
    if settings.chat_provider == "openai" and id_file.exists():
        try:
            model = json.loads(id_file.read_text(encoding="utf-8")).get("fine_tuned_model")
        except (OSError, ValueError):
            model = None
        if model:
            return str(model)
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
