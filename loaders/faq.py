"""FAQ files (JSON or CSV): one document per question–answer pair, the question kept in metadata."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document

from base.text import short_hash, slugify
from loaders.base import LoaderError, base_metadata, csv_rows, make_document

_NOISE = re.compile(r"[^\w\s]")


def question_key(question: str) -> str:
    """When two questions are the same one: lower case, punctuation dropped, spaces collapsed."""
    return " ".join(_NOISE.sub(" ", question.lower()).split())


def faq_json_with_entry(existing: str | None, question: str, answer: str, category: str = "staff") -> str:
    """An FAQ JSON file (`{"questions": [...]}`) with one entry added, or replacing the entry for the same
    question (see `question_key`); `existing` is the current file's text, None for a new file.

    Raises ValueError when `existing` is not an FAQ JSON file."""
    entries: list = []
    if existing is not None:
        try:
            data = json.loads(existing)
            entries = list(data["questions"] if isinstance(data, dict) else data)
        except (ValueError, KeyError, TypeError):
            raise ValueError("not an FAQ JSON file") from None
    key = question_key(question)
    entries = [e for e in entries if not (isinstance(e, dict) and question_key(str(e.get("question", ""))) == key)]
    entry_id = f"{category}-{slugify(question, 40)}-{short_hash(key, length=6)}"
    entries.append({"id": entry_id, "question": question, "answer": answer, "category": category})
    return json.dumps({"questions": entries}, ensure_ascii=False, indent=1)


def is_faq_header(header: list[str]) -> bool:
    """A CSV is an FAQ when it has question and answer columns."""
    cols = {h.strip().lower() for h in header}
    return {"question", "answer"} <= cols


def format_faq(question: str, answer: str) -> str:
    """Stored text of an FAQ entry (what the sources panel shows)."""
    return f"Q: {question}\nA: {answer}"


class FAQLoader(BaseLoader):
    """Question–answer pairs from JSON (`{"questions": [...]}` or a bare list) or CSV (question, answer
    columns; optional id, category). Ids are stable: an explicit `id`, else a hash of the question."""

    def __init__(self, path: str | Path, text: str) -> None:
        self.path = Path(path)
        self.text = text

    def _pairs_json(self) -> list[dict]:
        try:
            data = json.loads(self.text)
        except json.JSONDecodeError as exc:
            raise LoaderError(self.path, f"invalid JSON (line {exc.lineno}: {exc.msg})") from None
        items = data.get("questions") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise LoaderError(self.path, 'FAQ JSON must be {"questions": [...]} or a list of {"question", "answer"}')
        return items

    def _pairs_csv(self) -> list[dict]:
        header, rows = csv_rows(self.path, self.text)
        if not is_faq_header(header):
            raise LoaderError(self.path, "FAQ CSV needs 'question' and 'answer' columns")
        return [row for _, row in rows]

    def lazy_load(self) -> Iterator[Document]:
        items = self._pairs_csv() if self.path.suffix.lower() == ".csv" else self._pairs_json()
        seen: set[str] = set()
        count = 0
        for n, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                raise LoaderError(self.path, f"entry {n} is not an object with question and answer")
            question = str(item.get("question") or "").strip()
            answer = str(item.get("answer") or "").strip()
            if not question and not answer:
                continue
            if not question or not answer:
                raise LoaderError(self.path, f"entry {n} has an empty {'question' if not question else 'answer'}")
            entry_id = str(item.get("id") or "").strip() or f"{slugify(question, 40)}-{short_hash(question, length=8)}"
            if entry_id in seen:
                raise LoaderError(self.path, f"entry {n}: duplicate id or question '{entry_id}'")
            seen.add(entry_id)
            meta = base_metadata(self.path, "faq", f"faq:{self.path.name}:{entry_id}")
            meta.update(
                title=question,
                question=question,
                answer=answer,
                faq_id=entry_id,
                category=str(item.get("category") or ""),
            )
            count += 1
            yield make_document(format_faq(question, answer), meta)
        if count == 0:
            raise LoaderError(self.path, "FAQ file has no question–answer pairs")
