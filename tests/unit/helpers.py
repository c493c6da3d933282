"""Builders for unit-test input files (imported by the tests; no fixtures here)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from base.paths import ROOT

DATA = ROOT / "data"


def write_faq(path: Path, entries: list[dict]) -> Path:
    path.write_text(json.dumps({"questions": entries}), encoding="utf-8")
    return path


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_bytes(pages: list[list[str | bytes]]) -> bytes:
    """A minimal but valid text PDF written by hand: one content stream per page with Tj operators.

    A `str` line is shown with Tj; a `bytes` line is raw content-stream operators (e.g. b"3 Tr" to make
    the next lines invisible). An empty list of lines gives a page without text."""
    objects: list[bytes] = []
    n_pages = len(pages)
    page_ids = [4 + 2 * i for i in range(n_pages)]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{p} 0 R" for p in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, lines in enumerate(pages):
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            ops.append(line.decode("latin-1") if isinstance(line, bytes) else f"({_pdf_escape(line)}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> "
            f"/ExtGState << /Clear << /ca 0 /CA 0 >> /Opaque << /ca 1 /CA 1 >> >> >> "
            f"/Contents {page_ids[i] + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    return pdf_from_objects(objects)


def pdf_from_objects(objects: list[bytes]) -> bytes:
    """A PDF file (header, numbered objects, a correct xref table, trailer) around the given object bodies;
    object 1 must be the catalog."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n" % (len(objects) + 1))
    out.write(b"0000000000 65535 f \n")
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def docx_bytes(blocks: list[tuple[str, str]]) -> bytes:
    """A .docx from (kind, text) blocks: kind is 'title', 'h1', 'h2' or 'p'."""
    import docx

    document = docx.Document()
    for kind, text in blocks:
        if kind == "title":
            document.add_heading(text, level=0)
        elif kind in ("h1", "h2"):
            document.add_heading(text, level=int(kind[1]))
        else:
            document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def faq_store(root: Path, **settings):
    """Settings for a store under `root` (the fake embedder, in-process parsing, `settings` on top) and its
    knowledge base holding the demo FAQ (ingested once)."""
    from base.settings import Settings
    from providers.embeddings import HashingEmbeddings
    from services.knowledge import KnowledgeBase

    config = Settings(store_dir=root / "store", embedding_provider="fake", parse_isolation=False, **settings)
    kb = KnowledgeBase(config, embeddings=HashingEmbeddings())
    if kb.stats()["chunks"] == 0:
        assert kb.ingest_paths([DATA / "faq" / "store_faq.json"]).ok
    return config, kb
