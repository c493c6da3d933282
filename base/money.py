"""Prices as shops export them, read into numbers, and amounts written back for customers.

Exports hold "$1,234.50", "USD 12", "12,50 €", "1.234,50", ranges such as "$22.50 - $49.88", a price
repeated ("$12.99 $12.99"), empty cells and page junk (CSS, "Total price: …" strings). A cell is read when it
is unambiguous; anything else is *unknown*, never 0: a wrong price stated to a customer is worse than none.
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass

SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "C$": "CAD", "A$": "AUD"}
_CODE_LIST = "USD EUR GBP CAD AUD NZD JPY INR CHF SEK NOK DKK PLN MXN BRL ZAR SGD HKD CNY KRW TRY CZK HUF ILS AED"
CODES = frozenset(_CODE_LIST.split(" "))
_SHOWN = {"USD": "$", "CAD": "$", "AUD": "$", "NZD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}
# Words a price cell may carry besides the amount; anything else (CSS, sentences) makes the cell junk.
_FILLER = re.compile(r"\b(?:only|each|incl\.?|vat|price|now)\b|:", re.IGNORECASE)
_RANGE_WORDS = re.compile(r"\b(?:from|to)\b", re.IGNORECASE)
_SYMBOL = re.compile(r"US\$|C\$|A\$|[$€£¥₹]")
_CODE = re.compile(r"\b[A-Z]{3}\b")
_AMOUNT = re.compile(r"\d[\d.,' \u00a0\u202f]*\d|\d")
_RANGE_SEP = re.compile(r"^\s*(?:-|–|—|to)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Price:
    """An amount, or a range when `high` is set (`high` > `low`); `currency` is an ISO code or ''."""

    low: float
    high: float | None = None
    currency: str = ""


def parse_amount(text: str) -> float | None:
    """One number written with any of the common separators: "1,234.50", "1.234,50", "12,50", "1 234", "1'234.5".

    A single separator followed by exactly three digits is a thousands separator ("1,234" = 1234; so "12.995" is
    read as 12995, not 12.995: prices with three decimals are rarer than thousands written with a dot), except
    that a lone comma or dot followed by one or two digits is the decimal mark. A space or an apostrophe only
    ever separates thousands: "49 99" (cents set apart) is not a number."""
    text = text.strip()
    if re.search(r"[\s'\u00a0\u202f]", text) and not re.fullmatch(
        r"\d{1,3}(?:[ '\u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?", text
    ):
        return None
    s = re.sub(r"[\s'\u00a0\u202f]", "", text)
    if not s or not re.fullmatch(r"[\d.,]+", s) or not s[0].isdigit():
        return None
    last_dot, last_comma = s.rfind("."), s.rfind(",")
    if last_dot >= 0 and last_comma >= 0:  # both: the later one is the decimal mark
        decimal = "." if last_dot > last_comma else ","
        thousands = "," if decimal == "." else "."
        whole, _, frac = s.rpartition(decimal)
        if decimal in whole or not re.fullmatch(rf"\d{{1,3}}(?:\{thousands}\d{{3}})*", whole):
            return None
        s = whole.replace(thousands, "") + "." + frac
    elif last_dot >= 0 or last_comma >= 0:
        sep = "." if last_dot >= 0 else ","
        parts = s.split(sep)
        if len(parts) == 2 and len(parts[1]) in (1, 2):
            s = parts[0] + "." + parts[1]
        elif all(len(p) == 3 for p in parts[1:]) and 1 <= len(parts[0]) <= 3:
            s = "".join(parts)
        else:
            return None
    try:
        value = float(s)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_price(cell: str, default_currency: str = "") -> Price | None:
    """The price a cell states, or None when it is empty, zero, negative or not unambiguous (see module doc)."""
    text = (cell or "").strip()
    if not text or len(text) > 80:  # a paragraph in a price column is page junk, whatever numbers it holds
        return None
    dollar = default_currency if default_currency in ("USD", "CAD", "AUD", "NZD") else "USD"
    currencies = {dollar if m == "$" else SYMBOLS[m] for m in _SYMBOL.findall(text)}
    currencies |= {c for c in _CODE.findall(text) if c in CODES}
    if len(currencies) > 1:
        return None
    amounts, rest, pos = [], [], 0
    for m in _AMOUNT.finditer(text):
        rest.append(text[pos : m.start()])
        pos = m.end()
        amounts.append(m.group())
    rest.append(text[pos:])
    if not amounts or re.search(r"[-−–]", rest[0]):  # nothing, or a negative amount
        return None
    gaps = [_FILLER.sub(" ", _CODE.sub(" ", _SYMBOL.sub(" ", g))) for g in rest]
    if len(amounts) == 2:  # "from $10 to $20", "10 to 20 USD": the range words may stand around the two amounts
        gaps = [_RANGE_WORDS.sub(" ", g) if n < 2 else g for n, g in enumerate(gaps)]
    if any(re.search(r"[^\s\-–—]", g) for g in gaps):
        return None  # letters ("from $10": a lower bound, not a price), braces, "~": not one price
    if re.search(r"[\-–—]", gaps[-1]) or (len(amounts) == 1 and re.search(r"[\-–—]", "".join(gaps))):
        return None  # "$10-": half a range
    values = [parse_amount(a) for a in amounts]
    if any(v is None for v in values):
        return None
    currency = next(iter(currencies), default_currency)
    distinct = sorted(set(values))
    if distinct[0] <= 0:
        return None
    if len(distinct) == 1:
        return Price(distinct[0], None, currency)
    if len(values) == 2 and _RANGE_SEP.match(_SYMBOL.sub(" ", _CODE.sub(" ", rest[1]))):
        return Price(distinct[0], distinct[1], currency)
    return None  # several different amounts without a range between them: which one is the price?


def format_money(amount: float, currency: str = "USD") -> str:
    """ "$1,234.50 USD", "€12.50 EUR", "12.50 SEK": the symbol where customers expect one, and always the code."""
    code = currency or "USD"
    return f"{_SHOWN.get(code, '')}{amount:,.2f} {code}"


def format_price(low: float, high: float | None, currency: str, lang: str = "en") -> str:
    """An amount, or a range stated as a range ("$10.00 USD to $20.00 USD"; Spanish "… a …")."""
    if high is None or high <= low:
        return format_money(low, currency)
    return f"{format_money(low, currency)} {'a' if lang == 'es' else 'to'} {format_money(high, currency)}"


def price_line(low: float | None, high: float | None, currency: str, until=None, then: float | None = None,
               then_max: float | None = None) -> str:  # fmt: skip
    """A product text's "Price:" line: the price, the last day it holds and the one after it when the export
    dated it ("Price: $39.99 USD until 2026-12-31, then $45.00 USD"), or "Price: unknown". `until`: a date or its
    ISO text. Written by the importer and, as of the day, rewritten for a chat model (chains/llm.py)."""
    if not low:
        return "Price: unknown"
    line = f"Price: {format_price(low, high, currency)}"
    if until:
        line += f" until {until}"
        if then:
            line += f", then {format_price(then, then_max, currency)}"
    return line


def day_text(day, lang: str = "en") -> str:
    """ "31 Dec 2026" / "31/12/2026": a date customers read without guessing the order."""
    return f"{day.day}/{day.month}/{day.year}" if lang == "es" else f"{day.day} {day:%b} {day.year}"


def price_change_note(facts, lang: str = "en") -> str:
    """ " This price holds until 31 Dec 2026; from 1 Jan 2027 it is $45.00 USD." for a price the export dates (a
    sale that ends or starts: base/types.py ProductFacts); "" otherwise."""
    if facts.until is None or facts.price is None:
        return ""
    until, after = day_text(facts.until, lang), day_text(facts.until + datetime.timedelta(days=1), lang)
    then = format_price(facts.then, facts.then_max, facts.currency) if facts.then is not None else ""
    if lang == "es":
        return f" Este precio es válido hasta el {until}" + (f"; desde el {after}, {then}." if then else ".")
    return f" This price holds until {until}" + (f"; from {after} it is {then}." if then else ".")
