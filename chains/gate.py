"""The decline gate: the one rule that decides whether the store's knowledge can answer a question.

Every path asks it: the offline answerer (decline with the contact route), the chat-model path (no model call
below it, so a model never answers from passages that do not hold the answer) and the staff search preview
(which shows the same decision). Thresholds are per language, on the top hit's score.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from base.types import Hit

DEFAULT_THRESHOLD = 0.5  # when neither the language nor English has a threshold
# The thresholds unless a store is calibrated (chains/calibration.py, off by default), both fitted by
# `python -m eval.decline_methods` (eval/results/decline_methods.json). English: one cut fitted on the dev questions
# of four stores ("one_cut_fitted_on_all_dev"); leave-one-store-out it beat the per-store rule. Spanish: fitted on
# the demo store's Spanish dev questions, answerable and out-of-scope ("spanish"), the only store with Spanish.
FALLBACK_THRESHOLDS = {"en": 0.50, "es": 0.75}


@dataclass(frozen=True)
class GateDecision:
    """Answer or decline, with the numbers behind it (shown to staff in the search preview)."""

    answer: bool
    language: str
    threshold: float
    top_score: float | None

    @property
    def declined(self) -> bool:
        return not self.answer


class DeclineGate:
    """Declines when the best hit scores under the language's threshold (English's when it has none).

    `thresholds` is a mapping, or a function returning the current one (the store's calibration changes with its
    knowledge: services/knowledge.py re-fits it after every change)."""

    def __init__(self, thresholds: dict[str, float] | Callable[[], dict[str, float]]) -> None:
        self._thresholds = thresholds

    @property
    def thresholds(self) -> dict[str, float]:
        return self._thresholds() if callable(self._thresholds) else dict(self._thresholds)

    def threshold(self, lang: str) -> float:
        thresholds = self.thresholds
        return thresholds.get(lang, thresholds.get("en", DEFAULT_THRESHOLD))

    def decide(self, hits: Sequence[Hit], lang: str) -> GateDecision:
        threshold = self.threshold(lang)
        top = hits[0].score if hits else None
        return GateDecision(top is not None and top >= threshold, lang, threshold, top)
