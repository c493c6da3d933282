"""Numbers for the admin's analytics page, computed from the conversation log (services.conversation_log).

Questions per day, the thumbs-up share of rated answers, and the knowledge gaps: the questions the
assistant declined most often (grouped after case, punctuation and spacing are normalised), and the
answers customers disliked. Pure Python over rows, so the page and the tests read the same numbers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from loaders.faq import question_key


@dataclass
class Day:
    day: str
    questions: int = 0
    declined: int = 0
    rated: int = 0
    thumbs_up: int = 0


@dataclass
class Gap:
    """A question asked `count` times (normalised), shown as its most recent wording."""

    question: str
    count: int


@dataclass
class Summary:
    days: list[Day] = field(default_factory=list)
    questions: int = 0
    declined: int = 0
    rated: int = 0
    thumbs_up: int = 0
    declined_top: list[Gap] = field(default_factory=list)
    disliked_top: list[Gap] = field(default_factory=list)

    @property
    def thumbs_up_share(self) -> float | None:
        """Share of rated answers that got a thumbs up (None before the first rating)."""
        return self.thumbs_up / self.rated if self.rated else None

    @property
    def declined_share(self) -> float | None:
        return self.declined / self.questions if self.questions else None


def _top(questions: list[str], top: int) -> list[Gap]:
    counts: Counter[str] = Counter()
    wording: dict[str, str] = {}
    for q in questions:
        key = question_key(q)
        if key:
            counts[key] += 1
            wording[key] = q.strip()
    return [Gap(wording[key], n) for key, n in counts.most_common(top)]


def summarize(rows: list[dict], top: int = 10) -> Summary:
    """Aggregate `ConversationLog.rows()`; every day between the first and last question gets a row."""
    if not rows:
        return Summary()
    by_day: dict[str, Day] = {}
    for row in rows:
        key = str(row["created_at"])[:10]
        day = by_day.setdefault(key, Day(key))
        day.questions += 1
        day.declined += int(bool(row["declined"]))
        if row["rating"] is not None:
            day.rated += 1
            day.thumbs_up += int(row["rating"] == 1)
    first, last = date.fromisoformat(min(by_day)), date.fromisoformat(max(by_day))
    days = []
    for n in range((last - first).days + 1):
        key = (first + timedelta(days=n)).isoformat()
        days.append(by_day.get(key, Day(key)))
    return Summary(
        days=days,
        questions=len(rows),
        declined=sum(d.declined for d in days),
        rated=sum(d.rated for d in days),
        thumbs_up=sum(d.thumbs_up for d in days),
        declined_top=_top([r["question"] for r in rows if r["declined"]], top),
        disliked_top=_top([r["question"] for r in rows if r["rating"] == 0], top),
    )
