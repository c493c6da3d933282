"""Loaders: one document per product / FAQ entry, chunked long documents, and clear errors for bad files
that leave the store exactly as it was."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import DATA, docx_bytes, pdf_bytes

from base.settings import Settings
from base.types import ParseLimits
from loaders import LoaderError, load_file
from providers.embeddings import HashingEmbeddings
from services.knowledge import KnowledgeBase

PRODUCT_HEADER = "sku,name,category,brand,price,currency,stock,delivery_days,description,attributes"


def product_csv(path: Path, rows: list[str], header: str = PRODUCT_HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


# -- product catalogue ----------------------------------------------------------------------------------


def test_product_csv_one_document_per_product_with_typed_metadata(tmp_path: Path) -> None:
    path = product_csv(
        tmp_path / "catalogue.csv",
        [
            'SK-1,Cast Iron Skillet,Kitchen,Copperleaf,39.95,USD,142,4,"Pre-seasoned, 10 inch.",material: iron',
            'SK-2,Big Grill,Outdoor,Emberline,"$1,299.00",USD,0,9,Freight item.,',
            "SK-3,Tea Towel,Kitchen,Copperleaf,5,,,,Cotton towel.,",
        ],
    )
    docs = load_file(path)
    assert [d.metadata["doc_id"] for d in docs] == ["product:SK-1", "product:SK-2", "product:SK-3"]
    first, grill, towel = (d.metadata for d in docs)
    assert first == {
        "source": "catalogue.csv",
        "doc_id": "product:SK-1",
        "type": "product",
        "title": "Cast Iron Skillet",
        "sku": "SK-1",
        "name": "Cast Iron Skillet",
        "category": "Kitchen",
        "brand": "Copperleaf",
        "price": 39.95,
        "currency": "USD",
        "stock": 142,
        "delivery_days": 4,
        "description": "Pre-seasoned, 10 inch.",
        "attributes": "material: iron",
        "in_stock": True,
    }
    assert isinstance(first["stock"], int) and isinstance(first["delivery_days"], int)
    assert grill["price"] == 1299.0 and grill["stock"] == 0 and "attributes" not in grill
    # An empty currency falls back to USD; empty stock and delivery days are unknown, never 0.
    assert towel["currency"] == "USD" and "stock" not in towel and "delivery_days" not in towel
    text = docs[0].page_content
    assert "Product: Cast Iron Skillet" in text and "Price: $39.95 USD" in text and "In stock (142 available)" in text
    assert "Details: material: iron" in text
    assert "Out of stock" in docs[1].page_content and "$1,299.00 USD" in docs[1].page_content
    assert "Availability" not in docs[2].page_content and "Delivery" not in docs[2].page_content


def test_product_ids_are_stable_and_demo_catalogue_loads(tmp_path: Path) -> None:
    docs = load_file(DATA / "products.csv")
    with (DATA / "products.csv").open(encoding="utf-8") as fh:
        skus = [row["sku"] for row in csv.DictReader(fh)]
    assert len(docs) == len(skus) == 241
    assert [d.metadata["doc_id"] for d in docs] == [f"product:{s}" for s in skus]
    again = load_file(DATA / "products.csv")
    assert [d.metadata for d in again] == [d.metadata for d in docs]
    assert all(isinstance(d.metadata["price"], float) for d in docs)


# -- FAQ ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["object", "bare-list"])
def test_faq_json_both_shapes(tmp_path: Path, shape: str) -> None:
    entries = [
        {"id": "ship-free", "category": "shipping", "question": "Is shipping free?", "answer": "Over $50."},
        {"question": "Can I return sale items?", "answer": "Yes, within 30 days."},
    ]
    payload = {"questions": entries} if shape == "object" else entries
    path = tmp_path / "faq.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    docs = load_file(path)
    assert len(docs) == 2
    explicit, hashed = docs
    assert explicit.metadata["doc_id"] == "faq:faq.json:ship-free"
    assert explicit.metadata["question"] == "Is shipping free?"
    assert explicit.metadata["answer"] == "Over $50."
    assert explicit.metadata["category"] == "shipping"
    assert explicit.page_content == "Q: Is shipping free?\nA: Over $50."
    assert hashed.metadata["question"] == "Can I return sale items?"
    assert re.fullmatch(r"faq:faq\.json:can-i-return-sale-items-[0-9a-f]{8}", hashed.metadata["doc_id"])
    assert "category" not in hashed.metadata


def test_faq_ids_are_stable_explicit_or_question_hash(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text("question,answer\nDo you ship abroad?,Yes.\nDo gift cards expire?,No.\n", encoding="utf-8")
    ids = [d.metadata["doc_id"] for d in load_file(path)]
    # A new answer keeps the id; a new question gives a new one.
    path.write_text("question,answer\nDo you ship abroad?,Only to Canada.\nDo gift cards ever expire?,No.\n")
    edited = [d.metadata["doc_id"] for d in load_file(path)]
    assert edited[0] == ids[0]
    assert edited[1] != ids[1]
    assert ids[0].endswith(hashlib.sha256(b"Do you ship abroad?\x1f").hexdigest()[:8])


def test_faq_csv_demo_file_with_explicit_ids() -> None:
    docs = load_file(DATA / "faq" / "preguntas_frecuentes.csv")
    with (DATA / "faq" / "preguntas_frecuentes.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(docs) == len(rows) == 23
    for doc, row in zip(docs, rows, strict=True):
        assert doc.metadata["doc_id"] == f"faq:preguntas_frecuentes.csv:{row['id']}"
        assert doc.metadata["question"] == row["question"]
        assert doc.metadata["type"] == "faq"


def test_faq_blank_rows_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text("Question , Answer\nA question?,An answer.\n,\n", encoding="utf-8")
    docs = load_file(path)
    assert [d.metadata["question"] for d in docs] == ["A question?"]


# -- long documents -------------------------------------------------------------------------------------


def test_markdown_chunks_overlap_and_carry_section_path(tmp_path: Path) -> None:
    body = " ".join(f"Returns rule {i:02d} applies." for i in range(40))
    path = tmp_path / "policies.md"
    path.write_text(f"# Policies\n\nIntro line.\n\n## Returns\n\n{body}\n\n## Shipping\n\nWe ship fast.\n")
    docs = load_file(path, ParseLimits(chunk_size=200, chunk_overlap=60))
    sections = [d.metadata["section"] for d in docs]
    assert sections[0] == "Policies" and sections[-1] == "Policies > Shipping"
    returns = [d for d in docs if d.metadata["section"] == "Policies > Returns"]
    assert len(returns) >= 4
    assert [d.metadata["chunk_index"] for d in docs] == list(range(len(docs)))
    numbers = []
    for doc in returns:
        head, _, piece = doc.page_content.partition("\n")
        assert head == "Policies > Returns"  # the chunk names its section in its text too
        assert len(piece) <= 200
        numbers.append(set(re.findall(r"rule (\d\d)", piece)))
    for before, after in itertools.pairwise(numbers):
        assert before & after, "consecutive chunks must overlap"
    assert set().union(*numbers) == {f"{i:02d}" for i in range(40)}
    assert {d.metadata["doc_id"] for d in docs} == {"doc:policies.md"}
    assert docs[0].metadata["title"] == "Policies"


def test_text_file_chunks(tmp_path: Path) -> None:
    path = tmp_path / "shipping_notes.txt"
    path.write_text("Orders ship in one day.\n\n" + "Freight items take longer. " * 30, encoding="utf-8")
    docs = load_file(path, ParseLimits(chunk_size=200, chunk_overlap=50))
    assert len(docs) > 1
    assert all(d.metadata["type"] == "document" and "section" not in d.metadata for d in docs)
    assert docs[0].page_content.startswith("Orders ship in one day.")
    assert docs[0].metadata["title"] == "Shipping notes"


def test_pdf_keeps_page_numbers(tmp_path: Path) -> None:
    path = tmp_path / "manual.pdf"
    path.write_bytes(
        pdf_bytes([["Warranty (two years)", "Covers manufacturing defects."], [], ["Care: hand wash only."]])
    )
    docs = load_file(path)
    assert [d.metadata["page"] for d in docs] == [1, 3]  # the blank page 2 gives no chunk
    assert "Warranty (two years)" in docs[0].page_content
    assert "Covers manufacturing defects." in docs[0].page_content
    assert docs[1].page_content == "Care: hand wash only."
    assert {d.metadata["source"] for d in docs} == {"manual.pdf"}


def test_pdf_page_limit(tmp_path: Path) -> None:
    path = tmp_path / "long.pdf"
    path.write_bytes(pdf_bytes([[f"page {i}"] for i in range(4)]))
    assert len(load_file(path, ParseLimits(max_pdf_pages=4))) == 4
    with pytest.raises(LoaderError, match=r"^long\.pdf: PDF has 4 pages; limit 3$"):
        load_file(path, ParseLimits(max_pdf_pages=3))


def test_docx_headings_become_sections(tmp_path: Path) -> None:
    path = tmp_path / "care_guide.docx"
    path.write_bytes(
        docx_bytes(
            [
                ("title", "Care guide"),
                ("p", "Read this first."),
                ("h1", "Returns"),
                ("p", "Return within 30 days."),
                ("h2", "Exchanges"),
                ("p", "Exchanges are free."),
                ("h1", "Warranty"),
                ("p", "Two years on cookware."),
            ]
        )
    )
    docs = load_file(path)
    assert [(d.metadata["section"], d.page_content.split("\n", 1)[1]) for d in docs] == [
        ("Care guide", "Read this first."),
        ("Care guide > Returns", "Return within 30 days."),
        ("Care guide > Returns > Exchanges", "Exchanges are free."),
        ("Care guide > Warranty", "Two years on cookware."),
    ]
    assert all(d.page_content.startswith(d.metadata["section"] + "\n") for d in docs)


def _every_kind(tmp_path: Path) -> list[Path]:
    (tmp_path / "manual.pdf").write_bytes(pdf_bytes([["Some text."]]))
    (tmp_path / "guide.docx").write_bytes(docx_bytes([("h1", "Head"), ("p", "Body.")]))
    return [
        DATA / "products.csv",
        DATA / "faq" / "store_faq.json",
        DATA / "faq" / "preguntas_frecuentes.csv",
        DATA / "policies" / "terms_and_policies.md",
        DATA / "policies" / "shipping_guide.txt",
        tmp_path / "manual.pdf",
        tmp_path / "guide.docx",
    ]


def test_every_document_has_source_and_doc_id(tmp_path: Path) -> None:
    for path in _every_kind(tmp_path):
        docs = load_file(path)
        assert docs, path
        for doc in docs:
            assert doc.metadata["source"] == path.name
            assert doc.metadata["doc_id"]
            assert doc.page_content.strip()
            assert all(isinstance(v, (str, int, float, bool)) for v in doc.metadata.values())


# -- bad inputs -----------------------------------------------------------------------------------------

QUERY = "can I return a cast iron skillet and how long does shipping take"


def _good_docx() -> bytes:
    return docx_bytes([("h1", "Gift wrap"), ("p", "Gift wrap costs $4.99 per item.")])


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"\0" * (50 * 1024 * 1024))
    data = buf.getvalue()
    assert len(data) < 200 * 1024  # small on disk, 50 MB once inflated
    return data


def _encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes([["Secret price list."]]))))
    writer.encrypt("secret")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _faq_with_empty_answer() -> bytes:
    entries = [{"question": "Is shipping free?", "answer": "Over $50."}, {"question": "Gift cards?", "answer": " "}]
    return json.dumps({"questions": entries}).encode()


LATIN1 = "question,answer\nCafé?,Sí, claro.\n".encode("latin-1")

# (file name, content, expected reason (regex, matched from the start), settings overrides)
BAD_FILES: dict[str, tuple[str, Callable[[], bytes], str, dict]] = {
    "empty": ("store_faq.json", lambda: b"", r"file is empty$", {}),
    "binary-as-pdf": (
        "manual.pdf",
        lambda: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
        r"not a PDF file \(missing %PDF header\)$",
        {},
    ),
    "truncated-docx": (
        "gift_wrap.docx",
        lambda: _good_docx()[: len(_good_docx()) // 2],
        r"corrupt or truncated file",
        {},
    ),
    "unsupported-extension": ("catalogue.xlsx", lambda: b"PK\x03\x04 junk", r"unsupported file type '\.xlsx'", {}),
    "header-only-products": ("products.csv", lambda: (PRODUCT_HEADER + "\n").encode(), r"product CSV has a header", {}),
    "header-only-faq": ("preguntas.csv", lambda: b"id,question,answer\n", r"FAQ file has no question", {}),
    "csv-wrong-columns": (
        "products.csv",
        lambda: b"code,colour,size\nA,B,1\n",
        r"CSV must have question,answer columns \(FAQ\) or be a product catalogue",
        {},
    ),
    "latin1-txt": (
        "shipping_guide.txt",
        lambda: "Envío gratis en pedidos grandes.".encode("latin-1"),
        r"is not valid UTF-8 text \(byte 0xed at offset 3\); save it as UTF-8$",
        {},
    ),
    "latin1-md": (
        "terms_and_policies.md",
        lambda: "# Política\n\nDevoluciones.".encode("latin-1"),
        r"is not valid UTF-8 text \(byte 0xed",
        {},
    ),
    "latin1-csv": ("preguntas.csv", lambda: LATIN1, r"is not valid UTF-8 text \(byte 0xe9", {}),
    "invalid-json": ("store_faq.json", lambda: b'{"questions": [{"question": "x",', r"invalid JSON \(line 1", {}),
    "faq-empty-answer": ("store_faq.json", _faq_with_empty_answer, r"entry 2 has an empty answer$", {}),
    "zip-bomb-docx": ("gift_wrap.docx", _zip_bomb, r"archive expands too much \(possible zip bomb\)$", {}),
    "encrypted-pdf": ("manual.pdf", _encrypted_pdf, r"PDF is encrypted \(password-protected\)$", {}),
    "oversized": (
        "shipping_guide.txt",
        lambda: b"Ships fast. " * 200,
        r"file is too large \(2,400 bytes; limit 1,000\)$",
        {"max_file_bytes": 1000},
    ),
}


@pytest.fixture(scope="module")
def populated_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """A store with every kind of source; the bad files below reuse these names where they can."""
    root = tmp_path_factory.mktemp("populated")
    good = root / "good"
    good.mkdir()
    (good / "manual.pdf").write_bytes(pdf_bytes([["Warranty: two years on all cookware."]]))
    (good / "gift_wrap.docx").write_bytes(_good_docx())
    settings = Settings(store_dir=root / "store", embedding_provider="fake", parse_isolation=False)
    kb = KnowledgeBase(settings, embeddings=HashingEmbeddings())
    report = kb.ingest_paths(
        [
            DATA / "products.csv",
            DATA / "faq" / "store_faq.json",
            DATA / "policies" / "terms_and_policies.md",
            DATA / "policies" / "shipping_guide.txt",
            good,
        ]
    )
    assert report.ok and len(report.done) == 6
    return kb


def snapshot(kb: KnowledgeBase) -> tuple:
    store = kb.store
    return (
        kb.stats(),
        [(s.source, s.doc_type, s.sha256, s.chunks, s.documents, s.updated_at) for s in kb.list_sources()],
        sorted(store.collection().get(include=[])["ids"]),
        [(h.id, round(h.score, 6)) for h in kb.search(QUERY, 6)],
        sorted((p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in store.files_dir.iterdir()),
    )


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_is_refused_and_store_unchanged(case: str, populated_kb: KnowledgeBase, tmp_path: Path) -> None:
    name, content, reason, overrides = BAD_FILES[case]
    path = tmp_path / name
    path.write_bytes(content())
    before = snapshot(populated_kb)
    assert before[0]["documents"] == 6

    with pytest.raises(LoaderError) as err:
        load_file(path, ParseLimits(max_bytes=overrides["max_file_bytes"]) if overrides else ParseLimits())
    assert str(err.value).startswith(f"{name}: ")
    assert re.match(reason, err.value.reason), err.value.reason
    assert "\n" not in str(err.value)

    settings = populated_kb.settings.model_copy(update=overrides)
    writer = KnowledgeBase(settings, populated_kb.store_dir, embeddings=populated_kb.embeddings)
    with pytest.raises(LoaderError, match=re.escape(f"{name}: ") + reason):
        writer.ingest_file(path)
    report = writer.ingest_paths([path])
    assert report.done == [] and report.failed == [(name, err.value.reason)]

    assert snapshot(populated_kb) == before
    assert snapshot(writer) == before
