"""Fixtures for the fast unit suite: fake embeddings and a store in tmp_path."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import DATA

from base.settings import Settings
from providers.embeddings import HashingEmbeddings
from services.knowledge import KnowledgeBase


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # In-process parsing keeps the store tests fast; the child-process path has its own tests
    # (test_upload_guards.py) and is what the pages and the CLI use.
    return Settings(store_dir=tmp_path / "store", embedding_provider="fake", parse_isolation=False)


@pytest.fixture
def kb(settings: Settings) -> KnowledgeBase:
    return KnowledgeBase(settings, embeddings=HashingEmbeddings())


@pytest.fixture
def faq_entries() -> list[dict]:
    """Six small FAQ entries with explicit ids (shared by store and retrieval tests)."""
    return [
        {"id": "free-shipping", "question": "Do you offer free shipping?", "answer": "Yes, on orders over $50."},
        {"id": "returns", "question": "How long do I have to return an item?", "answer": "You have 30 days."},
        {"id": "gift-cards", "question": "Do gift cards expire?", "answer": "No, gift cards never expire."},
        {"id": "price-match", "question": "Do you price match competitors?", "answer": "Only within 14 days."},
        {"id": "warranty", "question": "Is there a warranty on cookware?", "answer": "Most cookware has one."},
        {"id": "pickup", "question": "Can I pick up my order in a store?", "answer": "Not yet, we ship only."},
    ]


@pytest.fixture
def demo_copy(tmp_path: Path) -> Callable[[str], Path]:
    """Copy a demo file from data/ into tmp_path (tests never write into the repo)."""

    def copy(rel: str) -> Path:
        target = tmp_path / "in" / Path(rel).name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DATA / rel, target)
        return target

    return copy
