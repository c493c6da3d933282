"""The measures of `finetune.evaluate`: ROUGE-L, grounded correctness, decline detection, and the table."""

from __future__ import annotations

import pytest

from finetune.evaluate import Case, format_table, is_decline, rouge_l, states_fact, summarise


def test_rouge_l_is_the_f1_of_the_longest_common_word_subsequence() -> None:
    assert rouge_l("the cat sat on the mat", "the cat sat on the mat") == 1.0
    assert rouge_l("", "anything") == 0.0
    # LCS "the cat the mat" = 4 of 6 candidate words and 4 of 5 reference words.
    assert rouge_l("the cat sat on the mat", "the cat ate the mat") == pytest.approx(
        2 * (4 / 6) * (4 / 5) / (4 / 6 + 4 / 5)
    )
    assert rouge_l("Returns within 30 days [1].", "returns within 30 days") == 1.0  # citations are not words


def test_grounded_correctness_needs_the_numbers_and_the_words_of_the_right_passage() -> None:
    reference = "You have 30 days to return unworn items for a full refund."
    assert states_fact("You can return unworn items within 30 days for a full refund [1].", reference)
    assert not states_fact("You can return unworn items within 14 days for a full refund.", reference)
    assert not states_fact("Shipping takes 30 days.", reference)  # the number alone is not the fact


def test_a_rephrased_decline_is_still_a_decline() -> None:
    text = "I'm sorry, I couldn't find that in our store's information. Please contact our team at a@b.c."
    assert is_decline("I'm sorry, I couldn't find that in our store's information. Contact our team at a@b.c.", text)
    assert not is_decline("Gift cards never expire and carry no fees [1].", text)


def test_summary_counts_each_kind_of_case_once() -> None:
    cases = [
        Case("q1", "en", [], "ref one", False, True, "x"),
        Case("q2", "en", [], "ref two", False, False, "x"),
        Case("oos", "en", [], "decline", True, False, "x"),
    ]
    answers = [
        {"declined": False, "rouge_l": 1.0, "correct": True, "invented": False, "seconds": 1.0},
        {"declined": True, "rouge_l": 0.0, "correct": False, "invented": False, "seconds": 1.0},
        {"declined": True, "rouge_l": 0.0, "correct": False, "invented": False, "seconds": 1.0},
    ]
    s = summarise(cases, answers)
    assert (s["answerable"], s["grounded_cases"], s["out_of_scope"]) == (2, 1, 1)
    assert s["grounded_correct"] == 100.0 and s["wrongly_declined"] == 50.0 and s["out_of_scope_declined"] == 100.0
    assert s["rouge_l"] == 0.5 and s["invented_numbers"] == 0.0
    assert "| extractive | 0.5 | 100.0 | 50.0 | 100.0 | 0.0 | 1.0 |" in format_table({"extractive": s, "_x": {}})
