"""PDF files via pypdf (no OCR), with the hidden-text filter.

Text a reader cannot see is the classic way to smuggle instructions to an assistant past the person who
checks the file. Before extraction, every text-showing operator drawn invisibly is blanked: render modes
3 and 7 (nothing drawn), white fill or stroke on the assumed white page (colours in other colour spaces count
as visible), transparency from `gs` (alpha under 0.05), horizontal scaling near 0 (`Tz`) and an effective
font size under 1 pt (Tf size x text and page matrices). Not covered: clipping paths, text drawn off the
page, form XObjects.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from loaders.base import LoaderError, check_content_type
from loaders.documents import ChunkedDocumentLoader


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
_DEVICE_SPACES = {"/DeviceGray", "/DeviceRGB", "/DeviceCMYK"}
_IMPLICIT_SPACE = {b"g": "/DeviceGray", b"rg": "/DeviceRGB", b"k": "/DeviceCMYK"}
BLACK = (0.0, 0.0, 0.0)


@dataclass
class _TextState:
    """The part of the PDF graphics state that decides whether shown text can be seen."""

    render: int = 0
    size: float = 12.0
    cm: float = 1.0
    tm: float = 1.0
    hscale: float = 1.0
    fill: tuple[float, float, float] = BLACK
    stroke: tuple[float, float, float] = BLACK
    fill_space: str = "/DeviceGray"
    stroke_space: str = "/DeviceGray"
    fill_alpha: float = 1.0
    stroke_alpha: float = 1.0

    def colour_space(self, key: str, operands: list) -> None:
        setattr(self, f"{key}_space", str(operands[0]))
        setattr(self, key, BLACK)

    def colour(self, key: str, op: bytes, numbers: list[float]) -> None:
        if op in _IMPLICIT_SPACE:
            setattr(self, f"{key}_space", _IMPLICIT_SPACE[op])
        rgb = _rgb(numbers) if getattr(self, f"{key}_space") in _DEVICE_SPACES else None
        setattr(self, key, rgb if rgb is not None else BLACK)  # unknown colour: assume visible

    def graphics_state(self, gstate) -> None:
        gstate = gstate.get_object() if gstate is not None else {}
        self.fill_alpha = _alpha(gstate.get("/ca"), self.fill_alpha)
        self.stroke_alpha = _alpha(gstate.get("/CA"), self.stroke_alpha)

    def hidden(self) -> bool:
        if self.render in (3, 7) or self.hscale < 0.01 or self.size * self.cm * self.tm < 1.0:
            return True
        fill_unseen = min(self.fill) >= 0.95 or self.fill_alpha <= 0.05
        stroke_unseen = min(self.stroke) >= 0.95 or self.stroke_alpha <= 0.05
        if self.render in (0, 4):  # fill only
            return fill_unseen
        if self.render in (1, 5):  # stroke only
            return stroke_unseen
        return fill_unseen and stroke_unseen  # fill and stroke


# Operator -> how it changes the state: (state, operands, numbers, named graphics states).
_Update = Callable[[_TextState, list, list[float], dict], None]


def _set(name: str, value: Callable[[list[float]], float]) -> _Update:
    return lambda state, _operands, numbers, _gstates: setattr(state, name, value(numbers))


def _colour_ops() -> dict[bytes, _Update]:
    ops: dict[bytes, _Update] = {}
    for op in (b"g", b"rg", b"k", b"sc", b"scn"):
        for cased, key in ((op, "fill"), (op.upper(), "stroke")):
            ops[cased] = lambda s, _o, n, _g, key=key, op=op: s.colour(key, op, n)
    ops[b"cs"] = lambda s, o, _n, _g: s.colour_space("fill", o) if o else None
    ops[b"CS"] = lambda s, o, _n, _g: s.colour_space("stroke", o) if o else None
    return ops


_STATE_OPS: dict[bytes, _Update] = {
    b"Tr": _set("render", lambda n: int(n[0]) if n else 0),
    b"Tz": _set("hscale", lambda n: abs(n[0]) / 100 if n else 1.0),
    b"Tm": _set("tm", lambda n: _scale(n)),
    b"BT": _set("tm", lambda _n: 1.0),
    b"cm": lambda s, _o, n, _g: setattr(s, "cm", s.cm * _scale(n)),
    b"Tf": lambda s, o, n, _g: setattr(s, "size", abs(n[-1]) if n else 12.0) if len(o) >= 2 else None,
    b"gs": lambda s, o, _n, g: s.graphics_state(g.get(o[0])) if o else None,
    **_colour_ops(),
}


def strip_hidden_text(page, reader) -> int:
    """Blank the text-showing operators a reader cannot see (module docstring); returns how many were blanked."""
    from pypdf.generic import ContentStream, NameObject

    contents = page.get_contents()
    if contents is None:
        return 0
    stream = contents if isinstance(contents, ContentStream) else ContentStream(contents, reader)
    gstates = _ext_gstates(page)
    state, stack = _TextState(), []
    hidden = 0
    operations = stream.operations
    for index, (operands, op) in enumerate(operations):
        if op == b"q":
            stack.append(replace(state))
        elif op == b"Q":
            state = stack.pop() if stack else state
        elif op in _SHOW_TEXT:
            if state.hidden():
                operations[index] = _blanked(op)
                hidden += 1
        elif op in _STATE_OPS:
            _STATE_OPS[op](state, operands, _floats(operands), gstates)
    if hidden:
        stream.operations = operations
        page[NameObject("/Contents")] = stream
    return hidden


def _blanked(op: bytes) -> tuple[list, bytes]:
    """The operator with nothing to show (' and " move to the next line, then show text: the move is kept)."""
    from pypdf.generic import ArrayObject, TextStringObject

    if op == b"TJ":
        return [ArrayObject()], op
    if op == b"Tj":
        return [TextStringObject("")], op
    return [], b"T*"


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
