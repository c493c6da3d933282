"""Per-store decline calibration: the decline threshold follows the store's own score distribution.

A fixed cosine cut fitted to one store's wording declines answerable questions on a store written in other
words (measured: 16.7% wrongly declined on another shop's FAQ). Instead, every time the knowledge changes the
store is scored with two fixed banks of messages (chains/banks/): generic in-domain customer questions any shop
gets (orders, refunds, accounts, ...) and out-of-scope messages no shop answers (weather, homework, ...). Their
top-1 scores tell where this store's "matches something" and "matches nothing" lie, and the threshold is placed
between them by a rule whose few parameters were fitted on dev stores only (`python -m eval.calibrate`,
chains/calibration_rule.json) and tested on stores it never saw (docs/retrieval-and-answers.md).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

BANKS = Path(__file__).resolve().parent / "banks"
RULE_FILE = Path(__file__).resolve().parent / "calibration_rule.json"
LANGUAGES = ("en", "es")


@dataclass(frozen=True)
class CalibrationRule:
    """threshold = clamp(oos_q + mix * (in_q - oos_q), floor, ceiling), where oos_q is the `oos_quantile` of the
    out-of-scope bank's top-1 scores on this store and in_q the `in_quantile` of the in-domain bank's."""

    oos_quantile: float = 0.95
    in_quantile: float = 0.25
    mix: float = 0.0
    floor: float = 0.2
    ceiling: float = 0.95

    @classmethod
    def load(cls, path: Path = RULE_FILE) -> CalibrationRule:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{k: float(v) for k, v in data["rule"].items()})

    def threshold(self, in_scores: Sequence[float], oos_scores: Sequence[float]) -> float:
        oos_q = float(np.quantile(np.asarray(oos_scores, dtype=float), self.oos_quantile))
        in_q = float(np.quantile(np.asarray(in_scores, dtype=float), self.in_quantile)) if in_scores else oos_q
        return round(min(self.ceiling, max(self.floor, oos_q + self.mix * (in_q - oos_q))), 4)


def bank(name: str) -> list[str]:
    """One calibration bank: a message per line."""
    return [line for line in (BANKS / f"{name}.txt").read_text(encoding="utf-8").splitlines() if line.strip()]


def banks() -> dict[str, dict[str, list[str]]]:
    """language -> {"in": messages, "oos": messages}, for the languages that have both banks (the others keep
    the gate's fallback threshold)."""
    found = {}
    for lang in LANGUAGES:
        if (BANKS / f"in_domain_{lang}.txt").exists() and (BANKS / f"out_of_scope_{lang}.txt").exists():
            found[lang] = {"in": bank(f"in_domain_{lang}"), "oos": bank(f"out_of_scope_{lang}")}
    return found


@dataclass
class StoreCalibration:
    """The thresholds fitted to one store's content, with the numbers behind them (shown to staff)."""

    thresholds: dict[str, float]
    embedding: str
    fitted_at: str
    stats: dict[str, dict[str, float]] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        """Written whole or not at all (a reader never sees half a file)."""
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> StoreCalibration | None:
        """None when there is no calibration yet or the file is unreadable (the settings' thresholds apply)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                {str(k): float(v) for k, v in data["thresholds"].items()},
                str(data["embedding"]),
                str(data["fitted_at"]),
                data.get("stats", {}),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None


def calibrate(
    top1_scores: Callable[[list[str]], list[float]], embedding: str, rule: CalibrationRule | None = None
) -> StoreCalibration:
    """Fit the thresholds of one store: `top1_scores` gives the store's best score for each message (0.0 when
    the store is empty)."""
    rule = rule or CalibrationRule.load()
    thresholds, stats = {}, {}
    for lang, sets in banks().items():
        scores = top1_scores(sets["in"] + sets["oos"])
        in_scores, oos_scores = scores[: len(sets["in"])], scores[len(sets["in"]) :]
        thresholds[lang] = rule.threshold(in_scores, oos_scores)
        stats[lang] = {
            "in_median": round(float(np.median(in_scores)), 4),
            "oos_median": round(float(np.median(oos_scores)), 4),
            "oos_declined": round(float(np.mean(np.asarray(oos_scores) < thresholds[lang])), 4),
            "in_answered": round(float(np.mean(np.asarray(in_scores) >= thresholds[lang])), 4),
        }
    return StoreCalibration(thresholds, embedding, datetime.now(UTC).isoformat(timespec="seconds"), stats)
