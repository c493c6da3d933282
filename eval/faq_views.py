"""Which text an FAQ entry's vector is made from: question, question + answer, answer, or a mix (hit@1).

Scored on DEV questions only (the demo store's dev set; another store's dev half), with the shipped blend
embedder, FAQ questions only. The store's answer-view scheme: vectorstore/store.py `embedding_views` with
FAQ_ANSWER_VIEW (on by default: README, "Answering on a store it was not tuned on").

Usage: .venv/bin/python -m eval.faq_views [--stores demo,kibble] [--split dev]
"""

from __future__ import annotations

import argparse

import numpy as np

from base.settings import Settings
from eval.stores import stores
from loaders import load_file
from providers.embeddings import build_embeddings, embed_queries
from services.knowledge import expand_paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stores", default="demo,kibble")
    ap.add_argument("--split", default="dev")
    args = ap.parse_args()
    emb = build_embeddings(Settings())
    for name in args.stores.split(","):
        store = stores()[name]
        docs = [d for p in expand_paths(list(store.knowledge)) for d in load_file(p) if d.metadata.get("type") == "faq"]
        ids = [d.metadata["doc_id"] for d in docs]
        wanted = {"split": args.split, "kind": "faq", "lang": "en"}
        qs = [q for q in store.questions() if q["relevant"] and all(q.get(k) == v for k, v in wanted.items())]
        queries = np.asarray(embed_queries(emb, [q["query"] for q in qs]))
        question = np.asarray(emb.embed_documents([d.metadata["question"] for d in docs]))
        both = np.asarray(emb.embed_documents([f"{d.metadata['question']}\n{d.metadata['answer']}" for d in docs]))
        answer = np.asarray(emb.embed_documents([d.metadata["answer"] for d in docs]))

        def unit(m: np.ndarray) -> np.ndarray:
            return m / np.linalg.norm(m, axis=1, keepdims=True)

        variants = {
            "question": question,
            "question+answer": both,
            "answer": answer,
            "normalise(question + question+answer)": unit(question + both),
            "the store's scheme (vectorstore/store.py embed_chunks)": np.stack(
                [emb.combine_views(np.stack([q, b])) for q, b in zip(question, both, strict=True)]
            ),
            "normalise(question + question+answer + answer)": unit(question + both + answer),
        }
        for label, vectors in variants.items():
            top = (queries @ vectors.T).argmax(1)
            hit = np.mean([ids[t] in q["relevant"] for t, q in zip(top, qs, strict=True)])
            print(f"{name:<8} {args.split:<5} n={len(qs):<5} {label:<50} hit@1 {hit:.3f}")


if __name__ == "__main__":
    main()
