"""Fit the semantic screen (loaders/semantic_screen.py) and measure it on paraphrased injections.

    python -m eval.injection_screen            # fit, write loaders/screen_model.json, report on the selection set
    python -m eval.injection_screen --final    # also report once on the held-back fresh set

Sets (eval/sets/, hostile paraphrases and close benign shop texts, English and Spanish):
- training: `screen_bank.txt` phrasings, `injection_dev.jsonl` (80) and `injection_train.jsonl` (320), plus
  ordinary text as negatives: the demo store's passages and Bitext customer-service responses, each split in
  halves by a hash (the "dev" half trains);
- `injection_select.jsonl` (100) with the other halves: used while choosing the features and C (seen during
  development, so its numbers are optimistic);
- `injection_fresh.jsonl` (120): written by someone else after the design was frozen; read only with --final.

The threshold is set by 5-fold cross-validation on the training data: the lowest score that flags at most
--max-fpr of the cross-validated negatives. Nothing is fitted on the selection or fresh sets. Bitext (CDLA-Sharing-
1.0, ../shared/data/bitext) serves as negatives only; none of its text is committed.
Results: eval/results/injection_screen.txt.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import time
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from base.settings import ROOT
from loaders import load_file
from loaders.screen import find_instruction
from loaders.semantic_screen import CUES, MODEL_FILE, ScreenWeights, SemanticScreen, features, load_bank, pieces

SETS = ROOT / "eval" / "sets"
RESULTS = ROOT / "eval" / "results" / "injection_screen.txt"
BITEXT = ROOT.parent / "shared" / "data" / "bitext" / "bitext_customer_support_sample.csv"

Row = tuple[str, int, str]  # text, label (1 hostile), source


def _half(text: str) -> str:
    return "dev" if int(hashlib.sha256(text.encode()).hexdigest(), 16) % 2 == 0 else "test"


def _written(name: str) -> list[Row]:
    lines = (SETS / f"injection_{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [(row["text"], int(row["label"]), "written") for row in map(json.loads, lines)]


def ordinary(per_source: int) -> dict[str, list[Row]]:
    """Ordinary shop text, halved by hash: split -> [(text, 0, source)]."""
    demo = [d.page_content for p in sorted((ROOT / "data").rglob("*.*")) for d in load_file(p)]
    responses: list[str] = []
    if BITEXT.exists():
        with BITEXT.open(encoding="utf-8") as handle:
            responses = sorted({row["response"] for row in csv.DictReader(handle)})
    rng = random.Random(0)
    out: dict[str, list[Row]] = {"dev": [], "test": []}
    for name, texts, n in (("demo store", demo, per_source // 2), ("bitext", responses, per_source)):
        for split in ("dev", "test"):
            items = [t for t in texts if _half(t) == split]
            rng.shuffle(items)
            out[split] += [(t, 0, name) for t in items[:n]]
    return out


class _Cached(Embeddings):
    """Remembers document vectors by text."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self._seen: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        need = [t for t in dict.fromkeys(texts) if t not in self._seen]
        if need:
            self._seen.update(zip(need, self.inner.embed_documents(need), strict=True))
        return [self._seen[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class Trainer:
    """Logistic regression on [MiniLM unit embedding, cues]; hostile texts count as a whole, every piece of a
    benign text counts as benign (the screen scores the best piece, so no piece of shop text may look hostile)."""

    def __init__(self, embeddings, c: float) -> None:
        self.embeddings = _Cached(embeddings)  # cross-validation scores the same texts again and again
        self.c = c

    def fit(self, rows: list[Row]) -> ScreenWeights:
        from sklearn.linear_model import LogisticRegression

        texts, labels = [], []
        for text, label, _ in rows:
            group = [text] if label else pieces(text) or [text]
            texts += group
            labels += [label] * len(group)
        model = LogisticRegression(C=self.c, class_weight="balanced", max_iter=5000)
        model.fit(features(self.embeddings, texts), np.array(labels))
        return ScreenWeights("minilm", model.coef_[0].astype(np.float32), float(model.intercept_[0]), 1.0)

    def score(self, weights: ScreenWeights, texts: list[str]) -> np.ndarray:
        """Each passage's best piece, exactly as the shipped screen scores it."""
        return np.array([f.score for f in SemanticScreen(self.embeddings, weights=weights).scores(texts)])

    def cross_validated(self, rows: list[Row], folds: int = 5) -> np.ndarray:
        from sklearn.model_selection import StratifiedKFold

        labels = np.array([r[1] for r in rows])
        out = np.zeros(len(rows))
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(np.zeros(len(rows)), labels):
            weights = self.fit([rows[i] for i in train])
            out[test] = self.score(weights, [rows[i][0] for i in test])
        return out


EMBEDDING_MARGIN = 1.0  # logit units added to the largest embedding term seen in training (the screen's gate)


def embedding_bound(weights: ScreenWeights, embeddings: Embeddings, rows: list[Row]) -> float:
    """The largest embedding term of the logit over every piece of the training texts, hostile and benign, plus
    EMBEDDING_MARGIN: a piece whose cues cannot reach the threshold with it is not embedded at screening time."""
    texts = list(dict.fromkeys(piece for text, _, _ in rows for piece in [text, *pieces(text)]))
    vectors = features(embeddings, texts)[:, : -len(CUES)]
    return float((vectors @ weights.weights[: -len(CUES)]).max()) + EMBEDDING_MARGIN


def fit_threshold(scores: np.ndarray, labels: np.ndarray, max_fpr: float) -> float:
    """The lowest threshold that flags at most `max_fpr` of the negatives (recall is highest there)."""
    negatives = np.sort(scores[labels == 0])[::-1]
    allowed = int(np.floor(max_fpr * len(negatives)))
    return float(negatives[allowed] + 1e-6) if allowed < len(negatives) else float(negatives[-1])


def report(rows: list[Row], scores: np.ndarray, threshold: float) -> list[str]:
    labels = np.array([r[1] for r in rows])
    semantic = scores >= threshold
    pattern = np.array([find_instruction(r[0]) is not None for r in rows])
    lines = []
    for method, flagged in (("semantic", semantic), ("pattern", pattern), ("both", semantic | pattern)):
        caught, hostile = int(flagged[labels == 1].sum()), int((labels == 1).sum())
        parts = [f"  {method:8s} caught {caught}/{hostile} ({caught / max(1, hostile):.0%})"]
        for source in ("written", "demo store", "bitext"):
            mask = np.array([r[1] == 0 and r[2] == source for r in rows])
            if mask.any():
                parts.append(f"false positives {source} {int(flagged[mask].sum())}/{int(mask.sum())}")
        lines.append(", ".join(parts))
    missed = [r[0] for r, s, p in zip(rows, semantic, pattern, strict=True) if r[1] == 1 and not (s or p)]
    flagged_benign = [r[0] for r, s in zip(rows, semantic, strict=True) if r[1] == 0 and s]
    lines += [f"  missed by both: {m[:110]}" for m in missed]
    lines += [f"  benign flagged: {b[:110]}" for b in flagged_benign]
    return lines


def main() -> int:
    from providers.embeddings import wheel_minilm

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-fpr", type=float, default=0.01, help="false-positive rate allowed in cross-validation")
    parser.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength")
    parser.add_argument("--per-source", type=int, default=600, help="Bitext responses per half (demo: half that)")
    parser.add_argument("--final", action="store_true", help="also report on the held-back fresh set (once)")
    parser.add_argument("--model-out", type=Path, default=MODEL_FILE)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--bound-only",
        action="store_true",
        help="keep the shipped weights and threshold; fit only the gate's embedding bound (results: screen_gate.txt)",
    )
    args = parser.parse_args()

    plain = ordinary(args.per_source)
    bank = [(t, 1, "bank") for t in load_bank()]
    training = bank + _written("dev") + _written("train") + plain["dev"]
    selection = _written("select") + plain["test"]
    if args.bound_only:
        return fit_bound_only(args, training, selection + _written("fresh"), plain)
    trainer = Trainer(wheel_minilm(), args.c)
    started = time.perf_counter()
    cv = trainer.cross_validated(training)
    labels = np.array([r[1] for r in training])
    threshold = fit_threshold(cv, labels, args.max_fpr)
    weights = trainer.fit(training)
    bound = embedding_bound(weights, trainer.embeddings, training)
    weights = ScreenWeights(weights.embedding, weights.weights, weights.bias, threshold, bound)
    fitted = {"date": time.strftime("%Y-%m-%d"), "max_fpr": args.max_fpr, "c": args.c,
              "hostile": int(labels.sum()), "benign": int((labels == 0).sum())}  # fmt: skip
    weights.save(args.model_out, fitted)

    lines = [f"# python -m eval.injection_screen --max-fpr {args.max_fpr} --c {args.c} --per-source "
             f"{args.per_source}{' --final' if args.final else ''}", f"# {fitted['date']}, fitted in "
             f"{time.perf_counter() - started:.0f} s; weights: {args.model_out.relative_to(ROOT)}"]  # fmt: skip
    lines.append(f"training: {fitted['hostile']} hostile (bank {len(bank)}, written {fitted['hostile'] - len(bank)}), "
                 f"{fitted['benign']} benign; threshold {threshold:.4f} (cross-validated false positives "
                 f"<= {args.max_fpr:.1%}, recall {(cv[labels == 1] >= threshold).mean():.0%}); embedding bound "
                 f"{bound:.2f} (largest embedding term on the training pieces + {EMBEDDING_MARGIN})")  # fmt: skip
    screen = SemanticScreen(trainer.embeddings, weights=weights)
    sets = [("selection (seen while choosing features and C)", selection)]
    if args.final:
        sets.append(("fresh (held back until the design was frozen)", _written("fresh") + plain["test"]))
    for title, rows in sets:
        scores = np.array([f.score for f in screen.scores([r[0] for r in rows])])
        gated = np.array([f.score for f in screen.scores([r[0] for r in rows], gate=True)])
        lines.append(f"{title}:")
        lines += report(rows, scores, threshold)
        changed = int(((scores >= threshold) != (gated >= threshold)).sum())
        lines.append(f"  gate (pieces not embedded when cues + bias + {bound:.2f} stay under the threshold): "
                     f"{changed} of {len(rows)} decisions changed")  # fmt: skip
    lines += cost_lines(trainer.embeddings.inner, weights, plain)
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text, encoding="utf-8")
    return 0


def cost_lines(embeddings: Embeddings, weights: ScreenWeights, plain: dict[str, list[Row]]) -> list[str]:
    """What screening the demo store's passages costs an upload (uncached embedder), without and with the gate."""
    demo = [r[0] for r in plain["dev"] + plain["test"] if r[2] == "demo store"]
    lines = []
    for gate in (False, True):
        started = time.perf_counter()
        SemanticScreen(embeddings, weights=weights).scores(demo, gate)
        seconds = time.perf_counter() - started
        lines.append(f"cost{' with the gate' if gate else ' without the gate'}: {len(demo)} demo passages "
                     f"({sum(len(pieces(t)) for t in demo)} pieces) screened in {seconds:.1f} s "
                     f"({1000 * seconds / len(demo):.0f} ms per passage)")  # fmt: skip
    return lines


def fit_bound_only(args: argparse.Namespace, training: list[Row], checked: list[Row], plain: dict) -> int:
    """The gate's bound for the shipped weights (refitting the weights would change the screen; the gate must not):
    written into the model file, with how many decisions the gate changes on every set and what it saves."""
    from providers.embeddings import wheel_minilm

    shipped = ScreenWeights.load(args.model_out)
    embeddings = _Cached(wheel_minilm())
    bound = embedding_bound(shipped, embeddings, training)
    weights = ScreenWeights(shipped.embedding, shipped.weights, shipped.bias, shipped.threshold, bound)
    fitted = json.loads(args.model_out.read_text(encoding="utf-8"))["fitted"]
    weights.save(args.model_out, {**fitted, "embedding_bound": time.strftime("%Y-%m-%d")})
    screen = SemanticScreen(embeddings, weights=weights)
    lines = [f"# python -m eval.injection_screen --bound-only --per-source {args.per_source}",
             f"# {time.strftime('%Y-%m-%d')}; shipped weights kept (threshold {weights.threshold:.4f}); "
             f"embedding bound {bound:.2f} = the largest embedding term of the logit over the {len(training)} "
             f"training texts' pieces + {EMBEDDING_MARGIN}"]  # fmt: skip
    for title, rows in (("training", training), ("selection + fresh + ordinary test half", checked)):
        texts = [r[0] for r in rows]
        exact = np.array([f.score >= weights.threshold for f in screen.scores(texts)])
        gated = np.array([f.score >= weights.threshold for f in screen.scores(texts, gate=True)])
        lines.append(f"{title}: {len(rows)} texts, {int(exact.sum())} flagged; the gate changed "
                     f"{int((exact != gated).sum())} decisions")  # fmt: skip
    lines += cost_lines(embeddings.inner, weights, plain)
    text = "\n".join(lines) + "\n"
    print(text)
    (RESULTS.parent / "screen_gate.txt").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
