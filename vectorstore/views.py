"""What a chunk's vector is made from (its embedding views) and its id: the policy and its measured constants,
apart from the store that applies them (vectorstore/store.py). `View` and `ViewCombiner` (base/types.py) are the
contract with the embedders: a view's shorter `brief` for a blend's multilingual model, and a blend's own way to
combine several views' vectors."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from base.language import detect_language
from base.text import short_hash
from base.types import View, ViewCombiner

# English FAQ entries are embedded from their question and their question with the answer. Measured
# (docs/retrieval-and-answers.md, eval/results/blend_weights*.json): test hit@1 on three shops the project was not
# tuned on rises by 6-13 points.
FAQ_ANSWER_VIEW = True


# A product is embedded from its name, brand, category, options and the start of its description: what customers
# name it by. Measured on dev (eval/product_view.py, eval/results/product_view.json): the whole record (496
# characters on average) embeds 5.7 products/s with the default blend, the name-and-fields view with the first 100
# characters of description 20.1/s, with none 32.1/s; dev hit@1 on product questions 1.000, 0.993, 0.993 and on
# all 1,090 questions 0.918 for each. 100, not 0: on 80 dev questions that describe a product without naming it
# (eval/sets/product_describe_dev.jsonl, eval/results/product_view_describe.json) hit@1 is 0.733 with 100 and 0.500
# with none in English, 0.450 and 0.150 in Spanish. The full text is still stored and answered from.
PRODUCT_VIEW_CHARS = 100
# What a blend's multilingual model (e5, the slowest, which serves Spanish questions) reads of the description
# (-1: the same as the others; see `View`). Measured on the same dev sets: 0 embeds 32.9 products/s instead of 22.1
# with English hit@1 unchanged (describing 0.733, naming 0.993), but Spanish questions that describe a product drop
# from 0.450 to 0.400 (MRR 0.570 -> 0.499): a loss, so it is not the default.
PRODUCT_BRIEF_CHARS = -1


def product_view(meta: dict, chars: int | None = None) -> str:
    """The text a product's vector is made from: its fields and the first `chars` characters of its description
    (default PRODUCT_VIEW_CHARS)."""
    chars = PRODUCT_VIEW_CHARS if chars is None else chars
    lines = [f"Product: {meta.get('name', '')}"]
    for label, key in (("Brand", "brand"), ("Category", "category"), ("Options", "options")):
        if meta.get(key):
            lines.append(f"{label}: {meta[key]}")
    description = str(meta.get("description") or "")
    if chars and description:
        cut = description[:chars]
        lines.append(cut if len(description) <= chars else cut.rsplit(" ", 1)[0])
    return "\n".join(lines)


def embedding_views(doc: Document) -> list[str]:
    """The texts a chunk's vector is made from (the normalised sum of their vectors).

    With FAQ_ANSWER_VIEW, an English FAQ entry: its question, and its question with the answer. The question
    alone matches best when the entry is a full customer question ("How do I cancel my order?"); a help-centre
    title ("Returns window") says too little without its answer. Measured on dev questions (eval/faq_views.py):
    hit@1 0.942 -> 0.950 on the demo store, 0.699 -> 0.849 on another shop's FAQ. Entries in other languages
    keep their question alone, and a blend adds the answer only in the models that serve English queries
    (`BlendEmbeddings.combine_views`). A product: `product_view` (PRODUCT_VIEW_CHARS < 0: its whole text).
    Everything else: its stored text."""
    if doc.metadata.get("type") == "product" and doc.metadata.get("name") and PRODUCT_VIEW_CHARS >= 0:
        view = product_view(doc.metadata)
        if PRODUCT_BRIEF_CHARS < 0 or PRODUCT_BRIEF_CHARS == PRODUCT_VIEW_CHARS:
            return [view]
        return [View(view, product_view(doc.metadata, PRODUCT_BRIEF_CHARS))]
    if doc.metadata.get("type") == "faq" and doc.metadata.get("question"):
        question = str(doc.metadata["question"])
        if not FAQ_ANSWER_VIEW or detect_language(question) != "en":
            return [question]
        return [question, f"{question}\n{doc.metadata.get('answer', '')}".strip()]
    return [doc.page_content]


def embedding_text(doc: Document) -> str:
    """The first view of a chunk (what the embedder adaptation pairs customer questions with)."""
    return embedding_views(doc)[0]


def embed_chunks(embeddings: Embeddings, docs: Sequence[Document]) -> np.ndarray:
    """One vector per chunk: its single view's vector, or the normalised sum of its views' vectors."""
    views = [embedding_views(d) for d in docs]
    flat = np.asarray(embeddings.embed_documents([v for vs in views for v in vs]), dtype=np.float32)
    out, row = [], 0
    for vs in views:
        block = flat[row : row + len(vs)]
        row += len(vs)
        if len(vs) == 1:
            out.append(block[0])
        elif isinstance(embeddings, ViewCombiner):  # a blend decides per model (providers/embeddings.py)
            out.append(np.asarray(embeddings.combine_views(block), dtype=np.float32))
        else:
            total = block.sum(axis=0)
            out.append(total / max(float(np.linalg.norm(total)), 1e-12))
    return np.stack(out) if out else np.zeros((0, 0), dtype=np.float32)


def chunk_ids_for(docs: Sequence[Document]) -> list[str]:
    """Ids for a file's chunks, numbered within each document so that an edit to one product or FAQ
    entry leaves every other entry's id (and vector) untouched."""
    counters: dict[str, int] = {}
    ids = []
    for doc in docs:
        n = counters.get(doc.metadata["doc_id"], 0)
        counters[doc.metadata["doc_id"]] = n + 1
        ids.append(chunk_id(doc, n))
    return ids


def chunk_id(doc: Document, index: int) -> str:
    """Deterministic id: document id + position in the document + content hash; same content, same id."""
    meta = json.dumps(doc.metadata, sort_keys=True, ensure_ascii=False, default=str)
    views = [text for view in embedding_views(doc) for text in (view, view.brief if isinstance(view, View) else view)]
    return f"{doc.metadata['doc_id']}#{index}:{short_hash(doc.page_content, *views, meta)}"
