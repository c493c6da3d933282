"""PII masking, table-driven: real-world formats from several countries that must be masked, and look-alikes
(prices, dates, order numbers, SKUs, tracking numbers) that must stay as typed."""

from __future__ import annotations

import pytest

from base.pii import iban_ok, luhn_ok, mask_pii

MASKED = [
    # phones: US national and international, and other countries written internationally
    ("call me at (415) 555-2671", "[phone]"),
    ("my number is 415-555-2671", "[phone]"),
    ("415.555.2671 after 5pm", "[phone]"),
    ("text 4155552671 please", "[phone]"),
    ("+1 415 555 2671", "[phone]"),
    ("+14155552671", "[phone]"),
    ("+1 (800) 555-0142 ext. 12", "[phone]"),
    ("tel:+1-415-555-2671", "[phone]"),
    ("Toronto office +1 416-555-0123", "[phone]"),
    ("UK: +44 20 7946 0958", "[phone]"),
    ("UK mobile +44 7700 900123", "[phone]"),
    ("London +44 (0)20 7946 0958", "[phone]"),
    ("CDMX +52 55 1234 5678", "[phone]"),
    ("Berlin +49 30 12345678", "[phone]"),
    ("Handy +49 151 23456789", "[phone]"),
    ("Paris +33 1 23 45 67 89", "[phone]"),
    ("portable +33 6 12 34 56 78", "[phone]"),
    ("Madrid +34 612 345 678", "[phone]"),
    ("Roma +39 06 1234 5678", "[phone]"),
    ("Amsterdam +31 20 123 4567", "[phone]"),
    ("Dublin +353 1 234 5678", "[phone]"),
    ("Sydney +61 2 9374 4000", "[phone]"),
    ("Tokyo +81 3-1234-5678", "[phone]"),
    ("Mumbai +91 98765 43210", "[phone]"),
    ("São Paulo +55 11 91234-5678", "[phone]"),
    ("Beijing +86 138 0013 8000", "[phone]"),
    ("Cape Town +27 21 123 4567", "[phone]"),
    # payment cards (Luhn-valid), however they are written
    ("card 4111 1111 1111 1111 exp 12/27", "[card]"),
    ("4111-1111-1111-1111", "[card]"),
    ("4111.1111.1111.1111", "[card]"),
    ("card4111111111111111", "[card]"),
    ("mastercard 5555555555554444", "[card]"),
    ("amex 3782 822463 10005", "[card]"),
    ("discover 6011 1111 1111 1117", "[card]"),
    ("jcb 3530 1113 3330 0000", "[card]"),
    # IBANs (mod-97 valid)
    ("GB29NWBK60161331926819", "[iban]"),
    ("GB29 NWBK 6016 1331 9268 19", "[iban]"),
    ("DE89 3704 0044 0532 0130 00", "[iban]"),
    ("iban DE89370400440532013000 please refund", "[iban]"),
    ("FR14 2004 1010 0505 0001 3M02 606", "[iban]"),
    ("ES91 2100 0418 4502 0005 1332", "[iban]"),
    ("NL91ABNA0417164300", "[iban]"),
    ("IT60 X054 2811 1010 0000 0123 456", "[iban]"),
    ("refund to NL91 ABNA 0417 1643 00 asap", "[iban]"),
    # US social security numbers
    ("ssn 123-45-6789", "[ssn]"),
    ("SSN: 078 05 1120", "[ssn]"),
    # emails
    ("jane.doe+orders@example.co.uk", "[email]"),
    ("JOHN_SMITH@Mail.Example.COM", "[email]"),
    ("escríbeme a maría.garcía@correo.es", "[email]"),
    ("o'brien@example.ie", "[email]"),
]

KEPT = [
    "The kettle costs $1,234.50 today",
    "USD 12 for shipping",
    "12,50 € en España",
    "between $22.50 - $49.88",
    "delivered on 2026-11-23",
    "ordered 11/23/2026",
    "am 23.11.2026 bestellt",
    "order #HP-204519",
    "order 100234567",
    "order number 20241123-0042",
    "invoice INV-2026-000123",
    "SKU HP-KIT-0003",
    "UPS tracking 1Z999AA10123456784",
    "USPS 9400 1000 0000 0000 0000 00",
    "ZIP 43215",
    "the 5.5-Quart Dutch Oven",
    "app version 2.3.1",
    "between 10:30 and 12:00",
    "1,500 units in stock",
    "size 10.5 US / 44 EU",
    "gift card ending in 1111",
    "4111 1111 1111 1112 (fails Luhn)",
    "GB29NWBK60161331926818 (fails mod-97)",
    "ships in 2-3 business days",
    "000-12-3456 is not an issued SSN",
]


@pytest.mark.parametrize(("text", "placeholder"), MASKED)
def test_formats_that_must_be_masked(text: str, placeholder: str) -> None:
    masked = mask_pii(text)
    assert placeholder in masked, masked
    digits = [c for c in masked if c.isdigit()]
    assert len(digits) <= 4, f"digits left behind: {masked!r}"  # only a few context digits (e.g. '12/27') remain


@pytest.mark.parametrize("text", KEPT)
def test_look_alikes_are_kept_as_typed(text: str) -> None:
    assert mask_pii(text) == text


def test_the_tables_are_big_enough() -> None:
    assert len(MASKED) >= 40 and len(KEPT) >= 20
    assert {p for _, p in MASKED} == {"[phone]", "[card]", "[iban]", "[ssn]", "[email]"}


def test_checksums() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB29 NWBK 6016 1331 9268 19") and not iban_ok("GB29 NWBK 6016 1331 9268 18")


def test_several_kinds_in_one_message() -> None:
    text = "I'm jane@example.com, +44 20 7946 0958, card 4111 1111 1111 1111, iban DE89 3704 0044 0532 0130 00."
    assert mask_pii(text) == "I'm [email], [phone], card [card], iban [iban]."


def test_the_store_s_published_contacts_are_kept_only_as_whole_matches() -> None:
    keep = ("support@harborandpine.example", "+1 (800) 555-0142")
    text = (
        "Write to support@harborandpine.example or call +1 (800) 555-0142 / (800) 555-0142; "
        "jane.support@harborandpine.example, (415) 555-2671 and +44 20 7946 0958 are a customer's."
    )
    masked = mask_pii(text, "US", keep)
    assert "support@harborandpine.example or call +1 (800) 555-0142 / (800) 555-0142" in masked
    assert "jane" not in masked and "2671" not in masked and "7946" not in masked
    assert masked.count("[email]") == 1 and masked.count("[phone]") == 2
    assert "support@harborandpine.example" not in mask_pii(text)  # no keep list: everything is masked
