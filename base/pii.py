"""Masking of customers' contact and payment details before anything is written to the conversation log.

The log is shown to staff (analytics) and exported for fine-tuning, so it must not hold an email address, a phone
number, a card number, a bank account (IBAN) or a US social security number. Each kind is found the way that
tells it from look-alikes (prices, dates, order numbers, SKUs, tracking numbers):

- phones: Google's libphonenumber (`phonenumbers`) finds numbers that are valid for their country and grouped the
  way that country writes them (national numbers are read for the store's region, default US); anything written
  internationally (`+` and 8–15 digits) is masked even when libphonenumber does not know the range;
- cards: 13–19 digits, grouped by spaces, dashes or dots or glued to a word, that pass the Luhn check;
- IBANs: country code, check digits and account, passing the ISO 13616 mod-97 check;
- SSNs: `ddd-dd-dddd` or `ddd dd dddd` outside the ranges the SSA never issues;
- emails: local part @ domain with a dot.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# Written solid or in groups of four; a trailing word of four letters may be caught as a group (trimmed below).
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}"
    r"(?:[A-Za-z0-9]{11,30}|(?: [A-Za-z0-9]{4}){2,8}(?: [A-Za-z0-9]{1,3})?)(?![A-Za-z0-9])"
)
_CARD = re.compile(r"(?<!\d)(?<!\d[ .-])\d(?:[ .-]?\d){12,18}(?![ .-]?\d)")
_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\d-])")
_INTERNATIONAL = re.compile(r"\+\d[\d ().-]{6,22}\d")


def luhn_ok(digits: str) -> bool:
    """The check digit of payment card numbers."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        n = int(char)
        if position % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def iban_ok(candidate: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, the result mod 97 is 1."""
    iban = candidate.replace(" ", "").upper()
    if not 15 <= len(iban) <= 34 or not iban[:2].isalpha():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def _sub_valid(pattern: re.Pattern, text: str, check, label: str) -> str:
    return pattern.sub(lambda m: label if check(m.group(0)) else m.group(0), text)


def _mask_ibans(text: str) -> str:
    def replace(match: re.Match) -> str:
        candidate = match.group(0)
        while candidate:  # longest valid prefix made of whole groups ("... 9268 19 asap" -> "... 9268 19")
            if iban_ok(candidate):
                return "[iban]" + match.group(0)[len(candidate) :]
            candidate = candidate.rpartition(" ")[0]
        return match.group(0)

    return _IBAN.sub(replace, text)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _kept_phone(span: str, keep: frozenset[str]) -> bool:
    """A published number of the store, written with or without its country code."""
    digits = _digits(span)
    return len(digits) >= 7 and any(k == digits or (k.endswith(digits) and len(digits) >= 10) for k in keep)


def _mask_phones(text: str, region: str, keep: frozenset[str] = frozenset()) -> str:
    from phonenumbers import Leniency, PhoneNumberMatcher

    spans = [(m.start, m.end) for m in PhoneNumberMatcher(text, region, leniency=Leniency.STRICT_GROUPING)]
    for m in _INTERNATIONAL.finditer(text):
        digits = _digits(m.group(0))
        if 8 <= len(digits) <= 15 and not any(s <= m.start() < e for s, e in spans):
            spans.append((m.start(), m.end()))
    for start, end in sorted(spans, reverse=True):
        if not _kept_phone(text[start:end], keep):
            text = text[:start] + "[phone]" + text[end:]
    return text


def mask_pii(text: str, region: str = "US", keep: tuple[str, ...] | list[str] = ()) -> str:
    """Replace emails, IBANs, card numbers, SSNs and phone numbers with [email], [iban], [card], [ssn], [phone].

    `keep`: contact details the store itself publishes (its support email and phone): those exact addresses and
    numbers stay, so a logged answer that gives them is still a good answer to learn from. Only whole matches count:
    `jane.support@shop.example` is masked even when `support@shop.example` is kept."""
    emails = {k.lower() for k in keep if "@" in k}
    phones = frozenset(_digits(k) for k in keep if "@" not in k and len(_digits(k)) >= 7)
    text = EMAIL.sub(lambda m: m.group(0) if m.group(0).lower() in emails else "[email]", text)
    text = _mask_ibans(text)
    text = _sub_valid(_CARD, text, lambda s: luhn_ok(re.sub(r"\D", "", s)), "[card]")
    text = _SSN.sub("[ssn]", text)
    return _mask_phones(text, region, phones)


def pii_strings(text: str, region: str = "US") -> list[str]:
    """The emails and phone numbers written in `text`, as written (a store's passages name its own contacts)."""
    from phonenumbers import Leniency, PhoneNumberMatcher

    found = EMAIL.findall(text) + [m.raw_string for m in PhoneNumberMatcher(text, region, Leniency.STRICT_GROUPING)]
    return found + [m.group(0) for m in _INTERNATIONAL.finditer(text)]
