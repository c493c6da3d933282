"""Check digits of the numbers customers type: a candidate that fails its country's check is a look-alike (an order,
tracking or invoice number), not a card, an account or an ID. Each function takes the candidate as written."""

from __future__ import annotations

import re
from datetime import date

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _alnum(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", text).upper()


def luhn_ok(number: str) -> bool:
    """Payment cards, Canadian SINs, South African IDs: the Luhn (mod 10) check digit."""
    total = 0
    for position, char in enumerate(reversed(digits(number))):
        n = int(char)
        if position % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return bool(digits(number)) and total % 10 == 0


def iban_ok(candidate: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, the result mod 97 is 1."""
    iban = candidate.replace(" ", "").upper()
    if not 15 <= len(iban) <= 34 or not iban[:2].isalpha() or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def ssn_ok(number: str) -> bool:
    """US SSN: area not 000, 666 or 9xx, group not 00, serial not 0000."""
    d = digits(number)
    return len(d) == 9 and d[:3] not in ("000", "666") and d[0] != "9" and d[3:5] != "00" and d[5:] != "0000"


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def es_dni_ok(candidate: str) -> bool:
    """Spanish DNI (8 digits + letter) and NIE (X/Y/Z + 7 digits + letter): the letter is the number mod 23."""
    s = _alnum(candidate)
    if len(s) != 9 or not s[-1].isalpha():
        return False
    body = s[:-1]
    if body[0] in "XYZ":
        body = str("XYZ".index(body[0])) + body[1:]
    return body.isdigit() and _DNI_LETTERS[int(body) % 23] == s[-1]


def br_cpf_ok(candidate: str) -> bool:
    """Brazilian CPF: two mod-11 check digits; all-equal digits are invalid."""
    d = digits(candidate)
    if len(d) != 11 or len(set(d)) == 1:
        return False
    for n in (9, 10):
        total = sum(int(d[i]) * (n + 1 - i) for i in range(n))
        if (total * 10 % 11) % 10 != int(d[n]):
            return False
    return True


def cl_rut_ok(candidate: str) -> bool:
    """Chilean RUT/RUN: mod 11 with weights 2..7, check digit 0-9 or K."""
    s = _alnum(candidate)
    body, check = s[:-1], s[-1]
    if not body.isdigit() or not 7 <= len(body) <= 8:
        return False
    total = sum(int(c) * (2 + i % 6) for i, c in enumerate(reversed(body)))
    value = 11 - total % 11
    expected = "0" if value == 11 else "K" if value == 10 else str(value)
    return expected == check


def ar_cuit_ok(candidate: str) -> bool:
    """Argentine CUIT/CUIL: 11 digits, mod 11 with weights 5432765432."""
    d = digits(candidate)
    if len(d) != 11 or d[:2] not in ("20", "23", "24", "27", "30", "33", "34"):
        return False
    total = sum(int(a) * w for a, w in zip(d[:10], (5, 4, 3, 2, 7, 6, 5, 4, 3, 2), strict=True))
    value = 11 - total % 11
    return (0 if value == 11 else 9 if value == 10 else value) == int(d[10])


_CURP_CHARS = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"


def _valid_yymmdd(s: str) -> bool:
    try:
        month, day = int(s[2:4]), int(s[4:6])
        date(2000, month, day)  # 2000 is a leap year: 29 Feb passes
        return True
    except ValueError:
        return False


def mx_curp_ok(candidate: str) -> bool:
    """Mexican CURP: 18 characters, a real birth date, sex H/M/X, and the mod-10 check digit."""
    s = candidate.upper()
    if len(s) != 18 or not re.fullmatch(r"[A-Z]{4}\d{6}[HMX][A-Z]{5}[0-9A-Z]\d", s) or not _valid_yymmdd(s[4:10]):
        return False
    total = sum(_CURP_CHARS.index(c) * (18 - i) for i, c in enumerate(s[:17]))
    return (10 - total % 10) % 10 == int(s[17])


def mx_rfc_ok(candidate: str) -> bool:
    """Mexican RFC of a person: 4 letters, a real date (yymmdd) and a 3-character homoclave."""
    s = candidate.upper().replace("-", "").replace(" ", "")
    return bool(re.fullmatch(r"[A-ZÑ&]{4}\d{6}[A-Z0-9]{3}", s)) and _valid_yymmdd(s[4:10])


def mx_clabe_ok(candidate: str) -> bool:
    """Mexican CLABE: 18 digits, weights 3-7-1, the last digit completes the sum to a multiple of 10."""
    d = digits(candidate)
    if len(d) != 18:
        return False
    total = sum(int(c) * (3, 7, 1)[i % 3] % 10 for i, c in enumerate(d[:17]))
    return (10 - total % 10) % 10 == int(d[17])


_NINO_BAD_PREFIX = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def uk_nino_ok(candidate: str) -> bool:
    """UK National Insurance number: two letters (not D, F, I, Q, U, V; second not O; not a reserved pair), six
    digits and A-D."""
    s = _alnum(candidate)
    return (
        bool(re.fullmatch(r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]", s)) and s[:2] not in _NINO_BAD_PREFIX
    ) or bool(re.fullmatch(r"QQ\d{6}[A-D]", s))  # QQ: HMRC's specimen prefix, typed by people filling forms


def ca_sin_ok(candidate: str) -> bool:
    """Canadian Social Insurance Number: 9 digits, Luhn."""
    d = digits(candidate)
    return len(d) == 9 and luhn_ok(d)


_VERHOEFF_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
_VERHOEFF_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]


def in_aadhaar_ok(candidate: str) -> bool:
    """Indian Aadhaar: 12 digits, first 2-9, Verhoeff check digit."""
    d = digits(candidate)
    if len(d) != 12 or d[0] in "01":
        return False
    c = 0
    for i, ch in enumerate(reversed(d)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[i % 8][int(ch)]]
    return c == 0


_CF_ODD = dict(
    zip(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        [
            1,
            0,
            5,
            7,
            9,
            13,
            15,
            17,
            19,
            21,
            1,
            0,
            5,
            7,
            9,
            13,
            15,
            17,
            19,
            21,
            2,
            4,
            18,
            20,
            11,
            3,
            6,
            8,
            12,
            14,
            16,
            10,
            22,
            25,
            24,
            23,
        ],
        strict=True,
    )
)


def it_fiscal_code_ok(candidate: str) -> bool:
    """Italian codice fiscale: 16 characters, the last a check letter over the first 15."""
    s = _alnum(candidate)
    if not re.fullmatch(r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]", s):
        return False
    total = 0
    for i, ch in enumerate(s[:15]):
        if i % 2 == 0:
            total += _CF_ODD[ch]
        else:
            total += int(ch) if ch.isdigit() else ord(ch) - ord("A")
    return chr(ord("A") + total % 26) == s[15]


def fr_nir_ok(candidate: str) -> bool:
    """French social security number (NIR): 13 characters (Corsica 2A/2B) + a 2-digit key, 97 - n mod 97."""
    s = _alnum(candidate)
    if len(s) != 15 or s[0] not in "12378":
        return False
    body = s[:13].replace("2A", "19").replace("2B", "18")
    if not body.isdigit() or not s[13:].isdigit():
        return False
    return 97 - int(body) % 97 == int(s[13:])


def de_tax_id_ok(candidate: str) -> bool:
    """German Steuer-ID: 11 digits, not starting with 0, ISO 7064 MOD 11,10 check digit."""
    d = digits(candidate)
    if len(d) != 11 or d[0] == "0":
        return False
    product = 10
    for ch in d[:10]:
        total = (int(ch) + product) % 10 or 10
        product = total * 2 % 11
    return (11 - product) % 10 == int(d[10])


def nl_bsn_ok(candidate: str) -> bool:
    """Dutch BSN: 9 digits, the '11-test' with weights 9..2 and -1."""
    d = digits(candidate)
    if len(d) != 9:
        return False
    total = sum(int(c) * w for c, w in zip(d, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True))
    return total % 11 == 0 and total > 0


def au_tfn_ok(candidate: str) -> bool:
    """Australian Tax File Number: 9 digits, weighted sum mod 11 is 0."""
    d = digits(candidate)
    if len(d) != 9:
        return False
    return sum(int(c) * w for c, w in zip(d, (1, 4, 3, 7, 5, 8, 6, 9, 10), strict=True)) % 11 == 0


def pt_nif_ok(candidate: str) -> bool:
    """Portuguese NIF: 9 digits, mod-11 check digit."""
    d = digits(candidate)
    if len(d) != 9 or d[0] == "0":
        return False
    total = sum(int(c) * w for c, w in zip(d[:8], range(9, 1, -1), strict=True))
    check = 11 - total % 11
    return (0 if check >= 10 else check) == int(d[8])


def cn_resident_id_ok(candidate: str) -> bool:
    """Chinese resident ID: 18 characters, ISO 7064 MOD 11-2 check (X for 10)."""
    s = _alnum(candidate)
    if not re.fullmatch(r"\d{17}[\dX]", s):
        return False
    total = sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(s[:17]))
    return "10X98765432"[total % 11] == s[17]


def za_id_ok(candidate: str) -> bool:
    """South African ID: 13 digits, a real date (yymmdd), Luhn."""
    d = digits(candidate)
    return len(d) == 13 and _valid_yymmdd(d[:6]) and luhn_ok(d)


def pl_pesel_ok(candidate: str) -> bool:
    """Polish PESEL: 11 digits, weights 1-3-7-9."""
    d = digits(candidate)
    if len(d) != 11:
        return False
    total = sum(int(c) * w for c, w in zip(d[:10], (1, 3, 7, 9, 1, 3, 7, 9, 1, 3), strict=True))
    return (10 - total % 10) % 10 == int(d[10])
