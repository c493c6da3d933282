"""Masking of customers' personal data before anything is stored: the one path every store of the product uses
(conversation log, tickets, analytics, exports, the review queue, fine-tuning data; `cli.py mask` shows it).

Recognition is Microsoft Presidio's analyzer with recognizers for what a shop's customers type:
- names through spaCy's NER (English and Spanish small models, from wheels) plus the words that introduce a name
  ('my name is', 'soy', 'thanks,', 'my sister'), checked against first names of many countries;
- street addresses and post boxes in English, Spanish, Portuguese, French, Italian, German and Dutch forms;
- e-mails, plain and spelled out ('jane dot doe at gmail dot com'); phones by libphonenumber for the store's region,
  written internationally, and in the local format of the customers' countries;
- cards (Luhn), IBANs (mod-97), SSNs, and the national IDs of the configured countries by their check digits;
  passports, dates of birth, bank accounts and IDs without a check digit after the word that names them.
Look-alikes (prices, order, tracking and invoice numbers, SKUs, delivery dates, sizes) stay as typed: every number
rule needs a check digit or a cue, and none fires right after an order, tracking or invoice word.

Placeholders: [name] [address] [email] [phone] [card] [iban] [ssn] [id] [passport] [birthdate] [account].
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from base.pii.checks import EMAIL, iban_ok, luhn_ok
from base.pii.kinds import _PRIORITY, ALL_COUNTRIES, PHONE_REGIONS, PLACEHOLDERS

# Any placeholder the masker writes ('[email]', '[name]', …): text that held personal data once.
PLACEHOLDER = re.compile("|".join(re.escape(p) for p in sorted({*PLACEHOLDERS.values(), "[pii]"})))

__all__ = [
    "ALL_COUNTRIES",
    "EMAIL",
    "PLACEHOLDER",
    "PLACEHOLDERS",
    "Masker",
    "iban_ok",
    "luhn_ok",
    "mask_pii",
    "pii_strings",
]


@dataclass(frozen=True)
class Finding:
    entity: str
    start: int
    end: int

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS.get(self.entity, "[pii]")


@dataclass
class Masker:
    """One store's masking rule: its phone region, its customers' countries and its own published contact details
    (kept as typed, so a logged answer that gives them stays a good answer)."""

    region: str = "US"
    countries: tuple[str, ...] = ALL_COUNTRIES
    keep: tuple[str, ...] = ()

    def findings(self, text: str, language: str | None = None) -> list[Finding]:
        """What would be masked, without overlaps, left to right."""
        if not text or not text.strip():
            return []
        countries = tuple(sorted(set(self.countries)))
        return list(_findings(self.region.upper(), countries, tuple(self.keep), text, language))

    def identifiers(self, text: str) -> list[str]:
        """The e-mail addresses and phone numbers in `text`, normalised (lower-case address, E.164 number), so the
        same customer is found again however they wrote them ('jane dot doe at gmail dot com')."""
        out = set()
        for f in self.findings(text):
            span = text[f.start : f.end]
            if f.entity == "EMAIL_ADDRESS":
                out.add(normalise_email(span))
            elif f.entity == "PHONE_NUMBER":
                out |= phone_forms(span, self.region, self.countries)
        return sorted(out)

    def mask(self, text: str, language: str | None = None) -> str:
        """`text` with every finding replaced by its placeholder."""
        if not text:
            return text
        out = text
        for f in sorted(self.findings(text, language), key=lambda f: f.start, reverse=True):
            out = out[: f.start] + f.placeholder + out[f.end :]
        return out

    def warm(self) -> None:
        """Load Presidio and both spaCy models now (about 7 s on 2 cores when nothing else has loaded torch), so the
        first logged answer does not wait for them; front ends call it in the background at start."""
        self.mask("Hi, I'm Jane Doe, jane@example.com")
        self.mask("Hola, soy María García y vivo en la Calle Mayor 3")

    @classmethod
    def of(cls, settings) -> Masker:
        """The masker of the configured store (`ASSISTANT_PHONE_REGION`, `ASSISTANT_PII_COUNTRIES`, contacts)."""
        keep = tuple(k for k in (settings.contact_email, settings.contact_phone, settings.contact_address) if k)
        return cls(settings.phone_region, tuple(settings.pii_countries), keep)


@lru_cache(maxsize=1024)
def _findings(region: str, countries: tuple[str, ...], keep: tuple[str, ...], text: str, language: str | None):
    """Cached: a message is masked for the log, linked for erasure and checked by the hand-off desk."""
    from base.language import detect_language

    lang = language if language in ("en", "es") else detect_language(text)
    results = _engine(region, countries).analyze(text, lang)
    kept = _Kept.of(keep)
    return tuple(_resolve([Finding(r.entity_type, r.start, r.end) for r in results if not kept.covers(r, text)]))


def normalise_email(text: str) -> str:
    """'Jane dot Doe (at) Gmail dot com' -> 'jane.doe@gmail.com'."""
    s = text.lower()
    s = re.sub(r"\s*[\(\[\{<]\s*(?:at|arroba)\s*[\)\]\}>]\s*|\s+(?:at|arroba|en)\s+|\s*@\s*", "@", s)
    s = re.sub(
        r"\s*[\(\[\{<]\s*(?:dot|punto|ponto|point)\s*[\)\]\}>]\s*|\s+(?:dot|punto|ponto|point)\s+|\s*\.\s*", ".", s
    )
    return re.sub(r"\s+", "", s)


def normalise_phone(text: str, region: str = "US") -> str:
    """A phone number in E.164 ('+14155552671'); its digits when libphonenumber cannot read it."""
    import phonenumbers

    try:
        number = phonenumbers.parse(text, region)
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    return "+" + re.sub(r"\D", "", text) if text.strip().startswith("+") else re.sub(r"\D", "", text)


def phone_forms(text: str, region: str = "US", countries: Sequence[str] = ()) -> set[str]:
    """Every E.164 form a written phone number can be: as the store's region reads it and as each customer country
    where it is a valid number reads it ('612 34 56 78' is Spanish, '06 12 34 56 78' French); a number written with
    its country code has one form. Erasure links every form, so staff can give the number either way."""
    import phonenumbers

    forms = {normalise_phone(text, region)}
    if text.strip().startswith(("+", "00")):
        return forms
    for country in {region, *countries} & set(PHONE_REGIONS):
        try:
            number = phonenumbers.parse(text, country)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            forms.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return forms


def _resolve(spans: list[Finding]) -> list[Finding]:
    """Merge overlapping findings into one span, labelled by the most specific kind among them."""
    merged: list[Finding] = []
    for f in sorted(spans, key=lambda f: (f.start, -f.end)):
        if merged and f.start < merged[-1].end:
            last = merged[-1]
            entity = max((last.entity, f.entity), key=lambda e: _PRIORITY.get(e, 0))
            if {last.entity, f.entity} == {"ADDRESS", "PERSON"}:
                entity = "ADDRESS"  # 'Rosewood Close' read as a person inside an address
            merged[-1] = Finding(entity, last.start, max(last.end, f.end))
        else:
            merged.append(f)
    return merged


def _norm(text: str) -> str:
    return re.sub(r"[^0-9a-z@]", "", text.lower())


@dataclass(frozen=True)
class _Kept:
    emails: frozenset[str]
    phones: frozenset[str]
    texts: tuple[str, ...]

    @classmethod
    def of(cls, keep: Iterable[str]) -> _Kept:
        keep = [k for k in keep if k]
        emails = frozenset(k.lower() for k in keep if EMAIL.fullmatch(k.strip()))
        phones = frozenset(re.sub(r"\D", "", k) for k in keep if "@" not in k and len(re.sub(r"\D", "", k)) >= 7)
        return cls(emails, phones, tuple(_norm(k) for k in keep if len(_norm(k)) >= 8))

    def covers(self, result, text: str) -> bool:
        span = text[result.start : result.end]
        if result.entity_type == "EMAIL_ADDRESS":
            return span.lower() in self.emails
        if result.entity_type == "PHONE_NUMBER":
            d = re.sub(r"\D", "", span)
            return len(d) >= 7 and any(k == d or (k.endswith(d) and len(d) >= 10) for k in self.phones)
        if result.entity_type in ("ADDRESS", "PERSON"):
            n = _norm(span)
            return len(n) >= 6 and any(n in k for k in self.texts)
        return False


_engines: dict[tuple, object] = {}
_engines_lock = threading.Lock()


def _engine(region: str, countries: tuple[str, ...]):
    """The analyzer for (region, countries), built once per process (spaCy models load on first use)."""
    key = (region.upper(), countries)
    with _engines_lock:
        if key not in _engines:
            from base.pii.engine import ShopAnalyzer

            _engines[key] = ShopAnalyzer(region.upper(), countries)
        return _engines[key]


def mask_pii(
    text: str,
    region: str = "US",
    keep: Sequence[str] = (),
    countries: Sequence[str] = ALL_COUNTRIES,
    language: str | None = None,
) -> str:
    """Replace personal data in `text` by placeholders ([name], [address], [email], [phone], [card], [iban], [ssn],
    [id], [passport], [birthdate], [account]). `keep`: the store's own published contact details: those exact
    addresses, numbers and postal address stay (`jane.support@shop.example` is masked even when
    `support@shop.example` is kept)."""
    return Masker(region, tuple(countries), tuple(keep)).mask(text, language)


def pii_strings(text: str, region: str = "US") -> list[str]:
    """The e-mails, phone numbers and addresses written in `text`, as written (a store's passages name its own
    contacts: fine-tuning keeps those)."""
    masker = Masker(region)
    wanted = {"EMAIL_ADDRESS", "PHONE_NUMBER", "ADDRESS"}
    return [text[f.start : f.end] for f in masker.findings(text) if f.entity in wanted]


def forget_cache() -> None:
    """Drop the cached findings (they are keyed by the raw text): an erasure leaves no customer text in memory."""
    _findings.cache_clear()
