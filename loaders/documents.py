"""Long documents (.md, .txt, .pdf, .docx) split into overlapping chunks.

Markdown and Word headings become a `section` path on every chunk (and prefix its text), so a chunk
taken out of context still says which policy it belongs to. PDF chunks keep their page number.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document
from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from loaders.base import LoaderError, base_metadata, check_content_type, make_document

# Office files are zips: refuse ones that would inflate far beyond their size before parsing them.
MAX_ZIP_ENTRIES = 2_000
MAX_ZIP_UNCOMPRESSED = 200 * 1024 * 1024
MAX_ZIP_RATIO = 100


class ChunkedDocumentLoader(BaseLoader):
    """Base for long documents: subclasses yield (section, page, text) blocks, this class chunks them."""

    def __init__(self, path: str | Path, data: bytes, chunk_size: int = 900, chunk_overlap: int = 150) -> None:
        self.path = Path(path)
        self.data = data
        self.splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size,
            chunk_overlap=min(chunk_overlap, chunk_size // 2),
            separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
            keep_separator="end",  # sentences keep their full stop; chunks don't start with ". "
        )

    def blocks(self) -> Iterator[tuple[str, int | None, str]]:
        """(section path, 1-based page or None, text) in reading order."""
        raise NotImplementedError

    def lazy_load(self) -> Iterator[Document]:
        doc_id = f"doc:{self.path.name}"
        title = self.path.stem.replace("_", " ").replace("-", " ").strip().capitalize()
        index = 0
        for section, page, text in self.blocks():
            for piece in self.splitter.split_text(text):
                piece = piece.strip()
                if not piece:
                    continue
                meta = base_metadata(self.path, "document", doc_id)
                meta.update(title=title, section=section, chunk_index=index)
                if page is not None:
                    meta["page"] = page
                body = f"{section}\n{piece}" if section else piece
                yield make_document(body, meta)
                index += 1
        if index == 0:
            raise LoaderError(self.path, "no text found in the document")


class TextLoader(ChunkedDocumentLoader):
    """Plain text: paragraphs, no sections."""

    def __init__(self, path: str | Path, text: str, **kw) -> None:
        super().__init__(path, b"", **kw)
        self.text = text

    def blocks(self) -> Iterator[tuple[str, int | None, str]]:
        yield "", None, self.text


class MarkdownLoader(TextLoader):
    """Markdown split on headings first, then by size."""

    def blocks(self) -> Iterator[tuple[str, int | None, str]]:
        headers = [("#", "h1"), ("##", "h2"), ("###", "h3")]
        splitter = MarkdownHeaderTextSplitter(headers_to_split_on=headers, strip_headers=True)
        for part in splitter.split_text(self.text):
            section = " > ".join(part.metadata[k] for k in ("h1", "h2", "h3") if part.metadata.get(k))
            if part.page_content.strip():
                yield section, None, part.page_content


class PDFLoader(ChunkedDocumentLoader):
    """PDF via pypdf (no OCR): page numbers kept; encrypted, corrupt and over-long PDFs refused.

    Text a reader cannot see (invisible render mode, white fill, sub-1pt size) is dropped before extraction:
    it is the classic way to smuggle instructions to an assistant past the person who checks the file."""

    def __init__(self, path: str | Path, data: bytes, max_pages: int = 500, **kw) -> None:
        super().__init__(path, data, **kw)
        self.max_pages = max_pages
        self.hidden_pages: list[int] = []

    def blocks(self) -> Iterator[tuple[str, int | None, str]]:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        check_content_type(self.path, self.data)
        try:
            reader = PdfReader(io.BytesIO(self.data), strict=False)
            if reader.is_encrypted:
                raise LoaderError(self.path, "PDF is encrypted (password-protected)")
            n_pages = len(reader.pages)
        except LoaderError:
            raise
        except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
            raise LoaderError(self.path, f"corrupt or unreadable PDF ({type(exc).__name__})") from None
        if n_pages > self.max_pages:
            raise LoaderError(self.path, f"PDF has {n_pages} pages; limit {self.max_pages}")
        for number in range(n_pages):
            try:
                page = reader.pages[number]
                if strip_hidden_text(page, reader):
                    self.hidden_pages.append(number + 1)
                text = page.extract_text() or ""
            except Exception as exc:  # pypdf raises many types on damaged pages
                raise LoaderError(self.path, f"cannot read page {number + 1} ({type(exc).__name__})") from None
            if text.strip():
                yield "", number + 1, text


_SHOW_TEXT = {b"Tj", b"TJ", b"'", b'"'}


def _floats(operands: list) -> list[float]:
    out = []
    for value in operands:
        try:
            out.append(float(value))
        except (TypeError, ValueError):
            continue
    return out


def _rgb(values: list[float]) -> tuple[float, float, float] | None:
    """Gray, RGB or CMYK operands as RGB in [0, 1]; None for anything else (patterns, spot colours)."""
    if len(values) == 1:
        return (values[0],) * 3
    if len(values) == 3:
        return values[0], values[1], values[2]
    if len(values) == 4:
        c, m, y, k = values
        return (1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)
    return None


def _scale(m: list[float]) -> float:
    """Linear size factor of a 2x3 PDF matrix."""
    return abs(m[0] * m[3] - m[1] * m[2]) ** 0.5 if len(m) >= 4 else 1.0


_DEVICE_SPACES = {"/DeviceGray", "/DeviceRGB", "/DeviceCMYK"}
_IMPLICIT_SPACE = {b"g": "/DeviceGray", b"rg": "/DeviceRGB", b"k": "/DeviceCMYK"}


def _ext_gstates(page) -> dict:
    """The page's named graphics states (for fill/stroke transparency set with `gs`)."""
    try:
        resources = page.get("/Resources")
        states = resources.get_object().get("/ExtGState") if resources is not None else None
        return dict(states.get_object()) if states is not None else {}
    except Exception:  # damaged resources: no transparency information
        return {}


def _alpha(value, default: float) -> float:
    try:
        return float(value.get_object() if hasattr(value, "get_object") else value)
    except (TypeError, ValueError):
        return default


def strip_hidden_text(page, reader) -> int:
    """Blank the text-showing operators a reader cannot see; returns how many were blanked.

    Tracks, through q/Q, the render mode (3 and 7 draw nothing), the fill and stroke colours (white on the
    assumed white page; colours in other colour spaces count as visible), transparency from `gs` (alpha
    under 0.05), horizontal scaling (`Tz` near 0) and the effective font size (Tf size x text and page
    matrices, under 1 pt). Not covered: clipping paths, text drawn off the page, form XObjects."""
    from pypdf.generic import ArrayObject, ContentStream, NameObject, TextStringObject

    contents = page.get_contents()
    if contents is None:
        return 0
    stream = contents if isinstance(contents, ContentStream) else ContentStream(contents, reader)
    gstates = _ext_gstates(page)
    state: dict = {
        "render": 0, "size": 12.0, "cm": 1.0, "tm": 1.0, "hscale": 1.0,
        "fill": (0.0, 0.0, 0.0), "stroke": (0.0, 0.0, 0.0), "fill_space": "/DeviceGray",
        "stroke_space": "/DeviceGray", "fill_alpha": 1.0, "stroke_alpha": 1.0,
    }  # fmt: skip
    stack: list[dict] = []
    hidden = 0
    operations = stream.operations
    for index, (operands, op) in enumerate(operations):
        numbers = _floats(operands)
        if op == b"q":
            stack.append(dict(state))
        elif op == b"Q":
            state = stack.pop() if stack else state
        elif op == b"Tr":
            state["render"] = int(numbers[0]) if numbers else 0
        elif op.lower() == b"cs" and operands:
            key = "stroke" if op.isupper() else "fill"
            state[f"{key}_space"], state[key] = str(operands[0]), (0.0, 0.0, 0.0)
        elif op.lower() in (b"g", b"rg", b"k", b"sc", b"scn"):
            key = "stroke" if op.isupper() else "fill"
            if op.lower() in _IMPLICIT_SPACE:
                state[f"{key}_space"] = _IMPLICIT_SPACE[op.lower()]
            rgb = _rgb(numbers) if state[f"{key}_space"] in _DEVICE_SPACES else None
            state[key] = rgb if rgb is not None else (0.0, 0.0, 0.0)  # unknown colour: assume visible
        elif op == b"gs" and operands:
            gstate = gstates.get(operands[0])
            gstate = gstate.get_object() if gstate is not None else {}
            state["fill_alpha"] = _alpha(gstate.get("/ca"), state["fill_alpha"])
            state["stroke_alpha"] = _alpha(gstate.get("/CA"), state["stroke_alpha"])
        elif op == b"Tf" and len(operands) >= 2:
            state["size"] = abs(numbers[-1]) if numbers else 12.0
        elif op == b"Tz":
            state["hscale"] = abs(numbers[0]) / 100 if numbers else 1.0
        elif op == b"cm":
            state["cm"] *= _scale(numbers)
        elif op == b"Tm":
            state["tm"] = _scale(numbers)
        elif op == b"BT":
            state["tm"] = 1.0
        elif op in _SHOW_TEXT and _is_hidden(state):
            if op == b"TJ":
                operations[index] = ([ArrayObject()], op)
            elif op == b"Tj":
                operations[index] = ([TextStringObject("")], op)
            else:  # ' and " move to the next line, then show text: keep the move
                operations[index] = ([], b"T*")
            hidden += 1
    if hidden:
        stream.operations = operations
        page[NameObject("/Contents")] = stream
    return hidden


def _is_hidden(state: dict) -> bool:
    render = state["render"]
    if render in (3, 7) or state["hscale"] < 0.01 or state["size"] * state["cm"] * state["tm"] < 1.0:
        return True
    unseen = [min(state[c]) >= 0.95 or state[f"{c}_alpha"] <= 0.05 for c in ("fill", "stroke")]
    if render in (0, 4):  # fill only
        return unseen[0]
    if render in (1, 5):  # stroke only
        return unseen[1]
    return all(unseen)  # fill and stroke


def check_zip(path: Path, data: bytes) -> zipfile.ZipFile:
    """Open an office file's zip after checking entry count, declared size and compression ratio."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError):
        raise LoaderError(path, "corrupt or truncated file (not a valid .docx zip)") from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise LoaderError(path, f"archive has {len(infos)} entries; limit {MAX_ZIP_ENTRIES}")
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > MAX_ZIP_UNCOMPRESSED or total / packed > MAX_ZIP_RATIO:
        raise LoaderError(path, "archive expands too much (possible zip bomb)")
    if "word/document.xml" not in archive.namelist():
        raise LoaderError(path, "not a Word document (word/document.xml missing)")
    try:
        bad = archive.testzip()
    except RuntimeError:  # an encrypted entry
        raise LoaderError(path, "the file is encrypted (password-protected)") from None
    except (NotImplementedError, zlib.error, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise LoaderError(path, f"corrupt or unsupported zip data ({type(exc).__name__})") from None
    if bad is not None:
        raise LoaderError(path, f"corrupt or truncated file (bad entry {bad})")
    return archive


class DocxLoader(ChunkedDocumentLoader):
    """Word .docx via python-docx: headings become sections, tables become 'a | b' lines."""

    def blocks(self) -> Iterator[tuple[str, int | None, str]]:
        import docx

        check_zip(self.path, self.data)
        try:
            document = docx.Document(io.BytesIO(self.data))
        except Exception as exc:  # python-docx raises KeyError/ValueError/lxml errors on damage
            raise LoaderError(self.path, f"corrupt Word document ({type(exc).__name__})") from None
        headings: list[tuple[int, str]] = []  # (level, text) of the open headings: the section path
        section, buffer = "", []
        for para in document.paragraphs:
            style = (para.style.name if para.style is not None else "") or ""
            text = para.text.strip()
            if style.lower().startswith(("heading", "title")) and text:
                if buffer:
                    yield section, None, "\n".join(buffer)
                level = _heading_level(style)
                headings = [h for h in headings if h[0] < level] + [(level, text)]
                section, buffer = " > ".join(t for _, t in headings), []
            elif text:
                buffer.append(text)
        for table in document.tables:
            for row in table.rows:
                buffer.append(" | ".join(cell.text.strip() for cell in row.cells))
        if buffer:
            yield section, None, "\n".join(buffer)


def _heading_level(style: str) -> int:
    """0 for Title, N for 'Heading N' (1 when the style has no number)."""
    last = style.split()[-1]
    if style.lower().startswith("title"):
        return 0
    return int(last) if last.isdigit() else 1
