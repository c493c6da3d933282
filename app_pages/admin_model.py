"""Admin: which model answers, the last fine-tuning job and its evaluation, and the base / fine-tuned switch."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages.resources import require_admin
from base.settings import get_settings
from services.models import choose_model, model_status

require_admin()
st.title("Model")
settings = get_settings()
status = model_status(settings)
st.metric("Answering now", status.answering, help=f"provider: {status.provider}")

if status.fine_tuned is None:
    st.info(
        "No fine-tuned model yet. Prepare the data, launch the job and compare (docs/fine-tuning.md): "
        "`python -m finetune.prepare --out ft`, `python -m finetune.launch --train ft/train.jsonl "
        "--validation ft/validation.jsonl`, `python -m finetune.evaluate --data ft`."
    )
else:
    record = status.fine_tuned
    options = [f"Base model ({status.base_model})", f"Fine-tuned ({record['fine_tuned_model']})"]

    def switch() -> None:
        choose_model(settings, st.session_state["model-choice"] == options[1])
        st.session_state.model_message = f"From the next question on: {st.session_state['model-choice']}."

    st.radio("Answer with", options, index=1 if status.fine_tuned_active else 0, key="model-choice", on_change=switch)
    if status.provider != "openai":
        st.caption("The switch takes effect when the OpenAI provider answers (an API key is configured).")
    if st.session_state.get("model_message"):
        st.success(st.session_state.pop("model_message"))
    loss = record.get("validation_loss")
    st.caption(
        f"Job {record.get('job_id')} on {record.get('base_model')}, finished {record.get('finished_at')}; "
        f"validation loss {'—' if loss is None else f'{loss:.4f}'}; {record.get('trained_tokens') or '—'} tokens."
    )

job = status.last_job
if job:
    st.subheader("Last fine-tuning job")
    line = f"{job.get('job_id')} on {job.get('model')}: **{job.get('status')}** (seen {job.get('seen_at')})"
    st.markdown(line)
    if job.get("error"):
        st.error(str(job["error"])[:500])

st.subheader("Evaluation")
if status.evaluation:
    columns = {
        "rouge_l": "ROUGE-L",
        "grounded_correct": "grounded correct %",
        "wrongly_declined": "wrongly declined %",
        "out_of_scope_declined": "out of scope declined %",
        "invented_numbers": "invented numbers %",
    }
    table = pd.DataFrame(
        [
            {"system": name, **{label: row.get(key) for key, label in columns.items()}}
            for name, row in status.evaluation.items()
        ]
    )
    st.dataframe(table, hide_index=True)
    st.caption(
        f"From `{settings.fine_tune_eval_file.name}` (`python -m finetune.evaluate`), on questions never "
        "trained on; the gate declines first, as in the chat."
    )
else:
    st.caption("No evaluation yet: `python -m finetune.evaluate --data DIR` compares base and fine-tuned.")
