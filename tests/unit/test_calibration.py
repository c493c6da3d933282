"""Per-store decline calibration: the rule, the saved file, and the re-fit after every knowledge change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from base.paths import ROOT
from base.settings import Settings
from chains.calibration import CalibrationRule, StoreCalibration, banks
from chains.gate import FALLBACK_THRESHOLDS, DeclineGate
from providers.embeddings import HashingEmbeddings
from services.assistant import Assistant
from services.knowledge import CALIBRATION_FILE, KnowledgeBase

DATA = ROOT / "data"


def test_the_rule_places_the_threshold_between_the_banks_and_clamps_it() -> None:
    oos = [0.1, 0.2, 0.3, 0.4, 0.5]
    inside = [0.6, 0.7, 0.8, 0.9, 1.0]
    assert CalibrationRule(oos_quantile=1.0, mix=0.0).threshold(inside, oos) == 0.5
    assert CalibrationRule(oos_quantile=1.0, in_quantile=0.0, mix=0.5).threshold(inside, oos) == 0.55
    assert CalibrationRule(oos_quantile=1.0, mix=0.0, ceiling=0.45).threshold(inside, oos) == 0.45
    assert CalibrationRule(oos_quantile=0.0, mix=0.0, floor=0.3).threshold(inside, oos) == 0.3


def test_the_shipped_rule_and_banks_load() -> None:
    rule = CalibrationRule.load()
    assert 0 <= rule.oos_quantile <= 1 and 0 <= rule.in_quantile <= 1
    sets = banks()
    assert "en" in sets
    assert all(len(part) >= 50 for lang in sets.values() for part in lang.values())
    assert not set(sets["en"]["in"]) & set(sets["en"]["oos"])


def test_a_torn_or_foreign_calibration_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    assert StoreCalibration.load(path) is None
    path.write_text('{"thresholds": {"en": 0.6}', encoding="utf-8")
    assert StoreCalibration.load(path) is None
    StoreCalibration({"en": 0.61}, "fake", "now").save(path)
    assert StoreCalibration.load(path).thresholds == {"en": 0.61}


def test_the_gate_reads_thresholds_when_it_decides() -> None:
    current = {"en": 0.9}
    gate = DeclineGate(lambda: current)
    assert gate.threshold("en") == 0.9
    current["en"] = 0.4
    assert gate.threshold("en") == 0.4


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeBase:
    settings = Settings(store_dir=tmp_path / "store", parse_isolation=False, decline_calibration=True)
    return KnowledgeBase(settings, embeddings=HashingEmbeddings())


def test_every_knowledge_change_refits_the_thresholds(kb: KnowledgeBase, tmp_path: Path) -> None:
    assert kb.decline_thresholds() == FALLBACK_THRESHOLDS  # nothing fitted yet
    assert kb.ingest_paths([DATA / "faq" / "store_faq.json"]).ok
    first = kb.calibration()
    assert first is not None and set(first.thresholds) == set(banks())
    assert kb.decline_thresholds() == {**FALLBACK_THRESHOLDS, **first.thresholds}
    stats = first.stats["en"]
    assert stats["oos_declined"] >= 0.5 and 0 <= stats["in_answered"] <= 1

    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({"questions": [{"question": "Do you sell gift wrap?", "answer": "Yes, $4."}]}))
    kb.ingest_file(extra)
    second = kb.calibration()
    assert second is not None and second.fitted_at >= first.fitted_at
    assert json.loads((kb.store_dir / CALIBRATION_FILE).read_text())["thresholds"] == second.thresholds

    before = (kb.store_dir / CALIBRATION_FILE).stat().st_mtime_ns
    kb.ingest_file(extra)  # unchanged: nothing to re-fit
    assert (kb.store_dir / CALIBRATION_FILE).stat().st_mtime_ns == before
    kb.delete("extra.json")
    assert (kb.store_dir / CALIBRATION_FILE).stat().st_mtime_ns != before


def test_thresholds_set_in_the_settings_win_and_nothing_is_fitted(tmp_path: Path) -> None:
    settings = Settings(
        store_dir=tmp_path / "store", parse_isolation=False, decline_calibration=True, decline_thresholds={"en": 0.42}
    )
    kb = KnowledgeBase(settings, embeddings=HashingEmbeddings())
    assert kb.ingest_paths([DATA / "faq" / "store_faq.json"]).ok
    assert kb.calibration() is None and kb.decline_thresholds() == {"en": 0.42}
    assert Assistant(settings, kb).preview("Do gift cards expire?", 3).decision.threshold == 0.42


def test_another_process_refit_is_picked_up(kb: KnowledgeBase) -> None:
    assert kb.ingest_paths([DATA / "faq" / "store_faq.json"]).ok
    bot = Assistant(kb.settings, kb)
    other = KnowledgeBase(kb.settings, embeddings=HashingEmbeddings())  # e.g. `cli.py calibrate` elsewhere
    fitted = other.calibration()
    assert fitted is not None
    StoreCalibration({"en": 0.99, "es": 0.99}, fitted.embedding, "later").save(kb.store_dir / CALIBRATION_FILE)
    assert bot.ask("Do gift cards expire?").declined  # the new thresholds apply at once
    assert bot.preview("Do gift cards expire?", 3).fitted.thresholds["en"] == 0.99


def test_calibration_is_off_by_default_and_the_fallback_applies(tmp_path: Path) -> None:
    kb = KnowledgeBase(Settings(store_dir=tmp_path / "store", parse_isolation=False), embeddings=HashingEmbeddings())
    assert kb.ingest_paths([DATA / "faq" / "store_faq.json"]).ok
    assert not (kb.store_dir / CALIBRATION_FILE).exists()
    assert kb.decline_thresholds() == FALLBACK_THRESHOLDS
