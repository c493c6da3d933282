"""What the masker finds and where (no imports: `base.pii` and its engine both read these)."""

from __future__ import annotations

PLACEHOLDERS = {
    "PERSON": "[name]",
    "ADDRESS": "[address]",
    "EMAIL_ADDRESS": "[email]",
    "PHONE_NUMBER": "[phone]",
    "CREDIT_CARD": "[card]",
    "IBAN_CODE": "[iban]",
    "US_SSN": "[ssn]",
    "NATIONAL_ID": "[id]",
    "TAX_ID": "[id]",
    "DRIVER_LICENSE": "[id]",
    "PASSPORT": "[passport]",
    "DATE_OF_BIRTH": "[birthdate]",
    "BANK_ACCOUNT": "[account]",
}
# When two findings overlap, the more specific kind names the merged span (a checksum beats a shape; a name or an
# address found around a number gives way to it).
_PRIORITY = {
    "US_SSN": 10,
    "CREDIT_CARD": 10,
    "IBAN_CODE": 10,
    "EMAIL_ADDRESS": 9,
    "PASSPORT": 8,
    "DATE_OF_BIRTH": 8,
    "BANK_ACCOUNT": 7,
    "TAX_ID": 7,
    "DRIVER_LICENSE": 7,
    "NATIONAL_ID": 6,
    "PHONE_NUMBER": 5,
    "ADDRESS": 3,
    "PERSON": 2,
}
# Countries whose national IDs have a rule (base/pii/rules.py); the default list of a store's customers.
# fmt: off
ALL_COUNTRIES = ("US", "GB", "CA", "MX", "ES", "BR", "AR", "CL", "CO", "PE", "FR", "DE", "IT", "NL", "PT", "IN", "AU",
                 "CN", "ZA", "PL", "IE")
# Countries whose local phone formats are read (those of ALL_COUNTRIES that libphonenumber groups reliably).
PHONE_REGIONS = ("US", "GB", "CA", "MX", "ES", "BR", "AR", "CL", "CO", "PE", "FR", "DE", "IT", "NL", "PT", "IN", "AU",
                 "IE")
# fmt: on
