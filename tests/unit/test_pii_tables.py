"""The personal-data tables written by someone other than the implementer (tests/fixtures/pii/): every format that
must be masked is, no look-alike is touched, and names and addresses in the dev chat messages are found. The held-out
chat set (chat_names_addresses_test.jsonl) is read only by `python -m eval.pii_report`."""

from __future__ import annotations

import pytest

from base.pii import Masker
from eval.pii import STORE_KEEP, covered, load, score_chat

MASKER = Masker(keep=STORE_KEEP)
MUST_MASK = load("must_mask.jsonl")
MUST_KEEP = load("must_keep.jsonl")


def test_the_tables_are_as_big_as_the_issue_asks() -> None:
    assert len(MUST_MASK) >= 120 and len({r["country"] for r in MUST_MASK} - {"INTL"}) >= 15
    assert len(MUST_KEEP) >= 60


@pytest.mark.parametrize("row", MUST_MASK, ids=lambda r: f"{r['type']}-{r['country']}")
def test_every_format_is_masked(row: dict) -> None:
    findings = MASKER.findings(row["text"])
    for pii in row["pii"]:
        assert covered(row["text"], pii, findings), MASKER.mask(row["text"])
        assert pii not in MASKER.mask(row["text"])


@pytest.mark.parametrize("row", MUST_KEEP, ids=lambda r: r["kind"])
def test_no_look_alike_is_masked(row: dict) -> None:
    assert MASKER.mask(row["text"]) == row["text"]


def test_names_and_addresses_in_chat_messages() -> None:
    result = score_chat(MASKER, load("chat_names_addresses_dev.jsonl"))
    assert result["names_and_addresses"]["recall"] >= 0.95, result["misses"]
    for kind in ("PERSON/en", "PERSON/es", "ADDRESS/en", "ADDRESS/es"):
        assert result["recall"][kind]["recall"] >= 0.9, (kind, result["misses"])
    assert result["messages_without_pii"]["changed"] == 0, result["false_positives"]
