"""The shapes of personal data that Presidio has no recognizer for, or none that tells them from a shop's numbers:
national IDs of the store's customers' countries, passports, dates of birth, bank accounts, street addresses,
cards written with slashes, and e-mails written to get past filters. Each is a `Rule` (base/pii/recognizers.py)."""

from __future__ import annotations

import re
from collections.abc import Callable

import base.pii.checks as checks
from base.pii.recognizers import CARD, EMAIL_OBFUSCATED, IBAN, SHOP_NUMBER_CUE, SSN, Rule, _cue, _real_obfuscation

I = re.IGNORECASE  # noqa: E741  (the flag as `re` names it)

ID_WORDS = (
    r"dni|documento|doc\.?|identidad|identificaci[oó]n|id|id\s+number|id\s+no|national\s+id|identity|"
    r"identity\s+(?:card|number)|c[eé]dula|cedula\s+de\s+ciudadan[ií]a|c\.?\s?c\.?|rut|run|curp|rfc|nif|nie|cpf|"
    r"cuit|cuil|ssn|social\s+security|seguro\s+social|nss|sin|social\s+insurance|nas|nino|ni\s+number|"
    r"national\s+insurance|aadhaar|aadhar|pan|bsn|burgerservicenummer|tfn|tax\s+file|tax\s+id|tax\s+number|"
    r"steuer-?id|steueridentifikationsnummer|codice\s+fiscale|personnummer|pesel|nir|num[eé]ro\s+de\s+s[eé]cu|"
    r"s[eé]curit[eé]\s+sociale|carte\s+vitale|contribuinte|ine|ife|clave\s+de\s+elector|itin|ein|dpi|cui|ci|"
    r"carnet|carn[eé]|rg|tin|ird|medicare|ppsn|pps|hetu|cnp|egn|oib|emso|jmbg|personal\s+number|personalausweis|nit"
)
ID_CUE = _cue(ID_WORDS, 30)

MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|enero|febrero|marzo|abril|mayo|junio|julio|agosto|sept?iembre|"
    r"octubre|noviembre|diciembre|ene|abr|ago|dic|janvier|f[eé]vrier|mars|avril|mai|juin|juillet|ao[uû]t|"
    r"septembre|octobre|novembre|d[eé]cembre|januar|februar|m[aä]rz|juni|juli|oktober|dezember|janeiro|"
    r"fevereiro|mar[cç]o|maio|junho|julho|setembro|outubro|dezembro"
)
DATE = (
    rf"(?:\d{{1,4}}\s?[/.-]\s?\d{{1,2}}\s?[/.-]\s?\d{{2,4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th|º|°)?\s+(?:of\s+|de\s+)?(?:{MONTHS})\.?,?\s+(?:de(?:l)?\s+)?(?:\d{{4}}|'?\d{{2}})"
    rf"|(?:{MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:\d{{4}}|'?\d{{2}})"
    rf"|\d{{8}})"
)
DOB_CUE = _cue(
    r"born|birth|birthdate|birth\s+date|date\s+of\s+birth|d\.?\s?o\.?\s?b\.?|birthday|b-?day|nacimiento|nac\.?|"
    r"naci|nací|nacid[oa]|cumpleaños|cumple|f\.\s?nac\.?|fecha\s+de\s+nac\.?|geboren|geburtsdatum|n[eé]e?\s+le|"
    r"date\s+de\s+naissance|data\s+de\s+nascimento|nasc\.?|nascid[oa]|nato\s+il|nata\s+il|data\s+di\s+nascita|age\s+verification",
    25,
)
PASSPORT_CUE = _cue(r"passport|pasaporte|passeport|reisepass|passaporte|passaporto|paspoort|pass\s+no", 30)
LICENCE_CUE = _cue(
    r"driver'?s?\s+licen[cs]e|driving\s+licen[cs]e|licen[cs]e\s+(?:number|no|#)|dl\s*(?:#|no|number)?|"
    r"licencia(?:\s+de\s+(?:conducir|manejo|conducci[oó]n))?|carn[eé]t?\s+de\s+conducir|permis\s+de\s+conduire|"
    r"f[uü]hrerschein|patente|pase\s+de\s+conducir|brevete|cnh|licen[cs]e",
    30,
)
ACCOUNT_CUE = _cue(
    r"account|acct|a/c|acc|routing|aba|sort\s+code|bsb|clabe|cbu|cvu|cuenta|cta\.?|n[uú]mero\s+de\s+cuenta|conta|"
    r"ag[eê]ncia|konto|kontonummer|compte|rib|bank|banco|wire|transfer|transferencia|deposit|dep[oó]sito|"
    r"ifsc|swift|bic|rtn|transit|institution",
    40,
)

# A token of an ID or a passport: letters and digits, at least one digit, 5-20 long, written with . - / or spaces.
ID_TOKEN = re.compile(r"(?<![\w.-])[A-Za-z]{0,4}\d[\dA-Za-z]*(?:[.\-/ ]\d[\dA-Za-z]*)*(?![\w-])")


def _id_digits(candidate: str) -> bool:
    """A generic ID after a cue: 5+ digits in it, and not a date, a price or a size."""
    d = checks.digits(candidate)
    return len(d) >= 5 and not re.fullmatch(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}", candidate.strip())


def _passport(candidate: str) -> bool:
    s = re.sub(r"[\s-]", "", candidate)
    return 6 <= len(s) <= 12 and sum(c.isdigit() for c in s) >= 3


# The shop's-number veto, except right after 'sort code' / 'bank code' (a bank's, so the customer's).
_NOT_SORT_CODE = re.compile(r"(?<!sort )(?<!bank )(?<!branch )" + SHOP_NUMBER_CUE.pattern, re.IGNORECASE)


def _account_or_branch(candidate: str) -> bool:
    """An account number (6+ digits) or, after its cue, a sort code or branch ('20-45-77', '3382-7')."""
    return len(checks.digits(candidate)) >= 5


# -- street addresses ------------------------------------------------------------------------------------------
UNIT = (
    r"(?i:(?:(?:apartment|apt|apto|unit|suite|ste|flat|floor|fl|room|rm|building|bldg|dept)\b\.?|#)\s*#?\s*"
    r"[A-Za-z0-9-]{1,6}|\d{1,3}(?:st|nd|rd|th)\s+floor)"
)
STRONG_SUFFIX = (
    r"street|st|avenue|ave|av|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|terrace|ter|highway|hwy|parkway|"
    r"pkwy|crescent|cres|close|cl|avenida|place|pl|concourse|expressway|expy|turnpike|tpke|freeway|fwy"
)
WEAK_SUFFIX = (
    r"way|circle|cir|square|sq|row|walk|mews|gardens|gdns|grove|hill|park|trail|trl|loop|path|plaza|alley|heights|"
    r"hts|green|point|pt|crossing|xing|ridge|run|pass|view|estate|esplanade|quay|wharf|common|commons|pike|bend|"
    r"cove|creek|glen|hollow|meadow|meadows|oval|parade|rise|vale|wynd|gate|yard|causeway|broadway|cross"
)
_STREET_WORD = (
    r"(?!(?:for|the|of|and|to|in|on|my|your|a|an|with|from|pairs?|pieces?|items?|units?|days?|weeks?|"
    r"months?|years?|hours?|minutes?|times?|orders?|boxes|x)\b)[A-Za-z0-9][A-Za-z0-9'.-]*"
)
_AU_STATE = r"nsw|vic|qld|wa|sa|tas|act|nt"
_US_STATE = (
    r"al|ak|az|ar|ca|co|ct|de|fl|ga|hi|id|il|in|ia|ks|ky|la|me|md|ma|mi|mn|ms|mo|mt|ne|nv|nh|nj|nm|ny|"
    r"nc|nd|oh|ok|or|pa|ri|sc|sd|tn|tx|ut|vt|va|wa|wv|wi|wy|dc"
)
_POSTCODE_TAIL = (  # a city is capitalised and follows a comma, or comes before a state and a postcode
    rf"(?:(?i:,?\s+[a-z]+(?:\s+[a-z]+)?,?\s+(?:{_US_STATE})\s+\d{{5}}(?:-\d{{4}})?(?!\d))"  # springfield il 62704
    rf"|(?i:,?\s+[a-z]+(?:\s+[a-z]+)?,?\s+(?:{_AU_STATE})\s+\d{{4}}(?!\d))"  # fitzroy vic 3065
    r"|(?-i:,\s*[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2})?"
    r"(?-i:,?\s+(?:[A-Z]{2}\s+)?\d{5}(?:-\d{4})?(?!\d)"  # US state + ZIP
    r"|,?\s+[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b"  # UK postcode
    r"|,?\s+(?:[A-Z]{2}\s+)?[A-Z]\d[A-Z]\s?\d[A-Z]\d\b"  # Canadian province + postcode
    r"|,?\s+[AC-FHKNPRTV-Y]\d{2}\s?[AC-FHKNPRTV-Y0-9]{4}\b)?"  # Irish Eircode
    r")"
)
_HOUSE_NUMBER = r"(?:(?i:unit|u|flat|apt)\s*)?\d{1,6}[A-Za-z]?(?:\s?[-/]\s?\d{1,4}[A-Za-z]?)?"
EN_STREET = re.compile(
    rf"(?:\b{UNIT},?\s+)?\b{_HOUSE_NUMBER},?\s+"
    rf"(?:(?:[NSEW]|north|south|east|west|NE|NW|SE|SW)\.?\s+)?"
    rf"(?:(?:{_STREET_WORD})\s+){{0,3}}(?:{STRONG_SUFFIX})\b\.?"
    rf"(?:\s+(?:[NSEW]|NE|NW|SE|SW)\b\.?)?(?:,?\s*{UNIT}|,\s*\d{{1,3}}[A-Za-z]\b)?" + _POSTCODE_TAIL,
    I,
)
EN_STREET_CAPITALISED = re.compile(
    rf"(?:\b{UNIT},?\s+)?\b(?:{_HOUSE_NUMBER}|One|Two|Three|Four|Five|Ten),?\s+(?:[A-Z][A-Za-z'.-]*\s+){{1,3}}"
    rf"(?:{WEAK_SUFFIX.title()}|{WEAK_SUFFIX})\b\.?(?:,?\s*{UNIT}|,\s*\d{{1,3}}[A-Za-z]\b)?" + _POSTCODE_TAIL
)
# 'Flat 302, Sai Residency, 14th Cross, Indiranagar, Bengaluru 560038', 'Apartment 12, The Maltings, …, A98 X2Y3':
# a unit, a few comma-separated parts, and a postcode at the end.
UNIT_TO_POSTCODE = re.compile(
    r"\b(?:flat|house|h\.?\s?no|plot|door|apartment|apt|unit|suite)\.?\s*(?:no\.?\s*)?\d{1,5}[A-Za-z]?"
    r"(?:\s*,\s*[^,\n]{2,40}){1,6}?,?\s*(?:\d{6}|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}|"
    r"[AC-FHKNPRTV-Y]\d{2}\s?[AC-FHKNPRTV-Y0-9]{4}|\d{5}(?:-\d{4})?)\b",
    I,
)
PO_BOX = re.compile(
    r"\b(?:p\.?\s?o\.?\s?box|post\s+office\s+box|apartado(?:\s+postal)?|casilla(?:\s+de\s+correo)?|"
    r"caixa\s+postal)\s*#?\s*\d{1,8}\b",
    I,
)
ES_TYPE = (
    r"calle|c/|c\.|cl\.?|cll\.?|avenida|av\.?|avda\.?|paseo|p[ºo°]\.?|plaza|pza\.?|pl\.|carrera|cra\.?|kra\.?|kr\.?|"
    r"cr\.?|diagonal|dg\.?|transversal|tv\.?|jir[oó]n|jr\.?|rua|rúa|r\.|camino|cno\.?|ronda|traves[ií]a|trav\.?|"
    r"bulevar|boulevard|blvd\.?|calzada|calz\.?|callej[oó]n|privada|priv\.?|prolongaci[oó]n|prol\.?|pasaje|psje\.?|"
    r"pje\.?|carretera|ctra\.?|urbanizaci[oó]n|urb\.?|glorieta|alameda|autopista|circuito|cerrada|andador|"
    r"via|viale|piazza|corso|largo|rue|boulevard|bd|chemin|all[ée]e|impasse|quai|cours|travessa|estrada|rodovia|"
    r"rambla|carrer|passeig|pla[cç]a|avinguda|av\.?|ctra|calle"
)
_ES_NAME_WORD = r"(?:[A-Za-zÀ-ÖØ-öø-ÿ0-9'.’-]+)"
_ES_UNIT_WORD = (
    r"(?:piso|pta|puerta|depto|dpto|departamento|int|interior|esc|escalera|bloque|portal|casa|apto|ofi|"
    r"apartamento|torre|local|of|oficina|planta|ap|apt|andar|sala|bl|bloco|lote|lt|mz|manzana|"
    r"conj|conjunto|cj|citofono|interno|scala)(?:\b\.?)"
)
_ES_UNIT = (
    rf"(?:,?\s*{_ES_UNIT_WORD}\s*(?:\d{{1,4}}(?!\d)(?:[ºª°]|[oa](?![a-z]))?|[A-Z]\b)"
    rf"|,?\s*(?:\d{{1,3}}(?![\d-])(?:\s?[ºª°]|[oa](?![a-z]))?|[A-Z]\b))\s*(?:[A-Za-z]\b|izq(?:uierda|da)?\.?|izda\.?|"
    rf"dcha\.?|der(?:echa)?\.?|ctro\.?|centro|esq\.?)?|,?\s*(?:bajo|[áa]tico|entresuelo|principal|"
    rf"sobre\s?[áa]tico)(?:\s+[A-Z]\b)?"
)
_ES_TAIL = (
    rf"(?:{_ES_UNIT}){{0,3}}"
    r"(?:,?\s*(?:col\.?|colonia|barrio|bº|b°|fracc\.?|fraccionamiento|urb\.?|sector|bairro|vila)\s+"
    r"[A-Za-zÀ-ÖØ-öø-ÿ]+(?:\s+[A-Za-zÀ-ÖØ-öø-ÿ]+){0,2})?"
    r"(?:,?\s*(?:c\.?\s?p\.?|cep)?\s*(?:\d{5}(?:-\d{3})?|\d{4}-\d{3}|[A-Z]\d{4}[A-Z]{0,3})(?!\d)"
    r"(?:(?-i:\s+(?:[A-ZÀ-Ö][a-zà-ÿ]+|[A-Z]{2,5}\b)(?:\s+[A-ZÀ-Ö][a-zà-ÿ]+){0,2})|"
    r"\s+(?!(?:es|y|en|la|el|de|por|para|que|and|is|the|to|for|pls|please|porfa|gracias)\b)[a-zà-ÿ]{3,}\b)?)?"
    r"(?-i:,\s*[A-ZÀ-ÖÑ][a-zà-ÿñ]+(?:\s+[A-ZÀ-Ö][a-zà-ÿ]+){0,2}(?=\s*(?:$|[,.;!?\n])))?"
)
ES_STREET = re.compile(
    rf"(?<![\w])(?:{ES_TYPE})\s+(?:(?:de|del|da|do|dos|das|di|de\s+la|de\s+los|de\s+las)\s+)?"
    rf"{_ES_NAME_WORD}(?:\s+{_ES_NAME_WORD}){{0,4}}?,?\s*(?:n[ºo°]\.?\s*|#\s*|num\.?\s*|n[uú]mero\s*|nro\.?\s*)?"
    rf"(?:[NSEO]\s?)?\d{{1,5}}[A-Za-z]?(?:\s*(?:sur|norte|este|oeste|bis))?(?:\s*[-–]?\s*\d{{1,4}}[A-Za-z]?)?"
    rf"(?!\s*(?:%|€|\$|usd|eur|mxn|ars|x\s*\d|cm|mm|kg|m\b))"
    rf"(?:\s+(?:y|e|esq\.?|esquina(?:\s+con)?)\s+(?-i:[A-ZÀ-Ö][\wáéíóúñ]+)(?:\s+(?-i:[A-ZÀ-Ö][\wáéíóúñ]+)){{0,2}})?"
    + _ES_TAIL,
    I,
)
MANZANA_LOTE = re.compile(r"\b(?:mz|mza|manzana)\.?\s*[A-Za-z0-9]{1,4}\s*,?\s*(?:lt|lote)\.?\s*\d{1,4}" + _ES_TAIL, I)
# Rural routes and range roads: 'RR 3 Site 12 Box 4', '18764 Range Road 231'
RURAL = re.compile(
    r"\b(?:rr|r\.r\.|rural\s+route)\s+#?\s*\d{1,3}(?!\d)(?:\s+(?:site|comp|compartment|box)\s*\d{1,4})*"
    r"|\b\d{1,6}\s+(?:range|township|county|rge|twp|concession|line)\s+(?:road|rd)\s+\d{1,4}",
    I,
)
NUMBER_FIRST_EUROPEAN = re.compile(
    r"\b\d{1,4}(?:\s*(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|place|chemin|all[ée]e|impasse|quai|cours|"
    r"route)\s+(?:(?:de|du|des|de\s+la|de\s+l')\s*)?[A-Za-zÀ-ÖØ-öø-ÿ'-]+(?:\s+[A-Za-zÀ-ÖØ-öø-ÿ'-]+){0,3}"
    r"(?:,?\s*\d{5}(?:\s+[A-ZÀ-Ö][a-zà-ÿ]+)?)?",
    I,
)
GERMANIC_STREET = re.compile(
    r"\b[A-ZÄÖÜ][a-zäöüß-]+(?:stra(?:ß|ss)e|str\.|weg|gasse|platz|allee|ring|damm|ufer|gracht|straat|laan|plein|"
    r"kade|steeg|vej|gade|gatan|vägen)\s+\d{1,4}[a-z]?(?:\s*[-/]\s*(?:\d{1,4}|[IVX]{1,4}\b|hs\b))?"
    r"(?:,?\s*\d{4,5}(?:\s?[A-Z]{2})?(?:\s+[A-ZÄÖÜ][a-zäöüß]+)?)?"
)


# -- what is written around a street: units, buildings, neighbourhoods, cities, states, postcodes -----------------
_POSTCODE_PART = (
    r"\d{5}(?:-\d{4})?(?!\d)|\d{4}-\d{3}(?!\d)|\d{6}(?!\d)|\(\d{4}\)|[A-Z]\d{4}[A-Z]{0,3}\b"
    r"|(?i:[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b|[A-Z]\d[A-Z]\s?\d[A-Z]\d\b|[AC-FHKNPRTV-Y]\d{2}\s?[AC-FHKNPRTV-Y0-9]{4}\b)"
)
_REGION_ABBR = rf"(?-i:[A-Z]{{2,3}})\b|(?i:(?:{_US_STATE}|{_AU_STATE}|bc|ab|sk|mb|on|qc|nb|ns|pe|nl|yt|nu)\b)"
_UNIT_PART = (
    r"(?i:(?:apartment|apt|apto|unit|suite|ste|flat|floor|fl|room|rm|piso|planta|depto|dpto|dto|departamento|"
    r"ofc|of|oficina|int|interior|casa|local|bloque|bl|torre|conj|conjunto|lt|lote|mz|manzana|esc|escalera|"
    r"puerta|pta|portal|site|box|rr|level|lvl|bldg|building|dept|andar|sala)\b\.?\s*#?\s*[A-Za-z0-9]{1,5}"
    r"(?:\s*[ºª°])?(?:\s*(?:izq(?:uierda|da)?|izda|dcha|der(?:echa)?|[A-Za-z])\b\.?)?"
    r"|\d{1,2}\s*[ºª°]\s*(?:[A-Za-z]\b|izq(?:uierda|da)?\b|izda\b|dcha\b|der(?:echa)?\b)?\.?(?:\s*\d{1,2}\s*[ºª°])?"
    r"|\d{1,2}(?:n|r|t|º|ª)\s+\d{1,2}(?:a|ª)\b|(?:bajo|[áa]tico|entresuelo|principal)(?:\s*\d{1,2}\s*[ºª°]?)?"
    r"(?:\s+[A-Z]\b)?|\d{1,3}[A-Z]\b)"
)
_BUILDING_PART = (
    r"(?i:edificio|edif\.?|residencial|condominio|conjunto|urb\.?|urbanizaci[oó]n|col\.?|colonia|barrio|b[º°]|"
    r"fracc\.?|fraccionamiento|sector|bairro|vila)\s+(?:[A-ZÀ-ÖÑ][\wáéíóúñü'-]*|de|del|la|las|los|el)"
    r"(?:\s+(?:[A-ZÀ-ÖÑ][\wáéíóúñü'-]*|de|del|la|las|los|el)){0,3}"
)
_PLACE_WORD = r"[A-ZÀ-ÖÑ](?:[a-záéíóúñü'’-]+|[A-ZÀ-ÖÑ]+)\b"
_PLACE_WORDS = rf"{_PLACE_WORD}(?:\s+(?:(?:de|del|la|las|los|el|y|on|upon|le)\s+)?{_PLACE_WORD}){{0,3}}"
_TAIL_STEPS = [
    # (pattern after the current end, needs a comma before it)
    (re.compile(rf"[\s,]*(?:{_POSTCODE_PART})"), False),
    (re.compile(rf",?\s*(?:{_UNIT_PART})"), False),
    (re.compile(rf",?\s*(?:{_BUILDING_PART})"), False),
    (re.compile(r"\s+entre\s+(?:calles?\s+)?\w+\s+y\s+\w+", re.IGNORECASE), False),
    (re.compile(r",?\s*(?i:co\.?|county)\s+[A-Z][a-z]+"), False),
    (re.compile(rf",?\s+(?:{_REGION_ABBR})(?=[\s,]*(?:{_POSTCODE_PART}))"), False),
    (re.compile(r",?\s+(?-i:[A-Z]{2})\b(?=\s*(?:$|[,.;!?)—–-]|\s+(?:and|y|pls|please|por)\b))"), False),
]


class AddressExtender:
    """Grows a street address over the parts written after it (a unit, a building, a neighbourhood, a city, a
    county, a state, a postcode: 'Calle 50 # 46-36 Edificio Torre Azul apto 1203, Medellín') and before it (a
    unit or a neighbourhood: 'Urb. Santa Patricia, calle Los Geranios 315'), while each part looks like one.
    A capitalised place needs a comma before it, a postcode or state after it, or to be a known place; a
    lower-case one must be a known place or come before a state and postcode."""

    def __init__(self, is_place: Callable[[str], bool]) -> None:
        self.is_place = is_place

    def __call__(self, text: str, start: int, end: int) -> tuple[int, int]:
        return self._before(text, start), self._after(text, end)

    def _after(self, text: str, end: int) -> int:
        first = True
        for _ in range(8):
            grown = self._step(text, end, first)
            if grown is None:
                return end
            end, first = grown, False
        return end

    def _step(self, text: str, end: int, first: bool) -> int | None:
        for pattern, _ in _TAIL_STEPS:
            m = pattern.match(text, end)
            if m and m.end() > end:
                return m.end()
        if first:  # '500 Sherbourne St 1812': a bare unit number right after the street, at the end of a phrase
            m = re.compile(r"\s+#?\d{1,5}(?=\s*(?:$|[,.;!?)]|\s+(?:not|and|y|pls|please)\b))").match(text, end)
            if m:
                return m.end()
        m = re.compile(rf"(?P<sep>,?\s*)(?P<place>{_PLACE_WORDS})(?:\s+\d{{1,2}}\b)?").match(text, end)
        if m:
            place, comma = m.group("place"), "," in m.group("sep")
            after = text[m.end() :]
            followed = re.match(rf"[\s,]*(?:{_POSTCODE_PART}|(?:{_REGION_ABBR})[\s,]*(?:{_POSTCODE_PART}))", after)
            ends = re.match(r"\s*(?:$|[,.;!?)—–-])", after)
            if (comma and ends) or followed or self.is_place(place):
                return m.end()
        for words in (1, 2):  # 'vancouver bc v6z 2r7', 'springfield il 62704', ', cusco.'
            lower = rf"[a-záéíóúñü]+(?:\s+[a-záéíóúñü]+){{{words - 1}}}"
            m = re.compile(rf"(?P<sep>,?\s*)(?P<place>{lower})\b").match(text, end)
            if not m:
                continue
            after = text[m.end() :]
            followed = re.match(rf",?\s+(?:{_REGION_ABBR}),?\s*(?:{_POSTCODE_PART})", after)
            if followed:
                return m.end() + followed.end()
            if "," in m.group("sep") and self.is_place(m.group("place")) and re.match(r"\s*(?:$|[,.;!?)])", after):
                return m.end()
        return None

    def _before(self, text: str, start: int) -> int:
        head = text[:start]
        m = re.search(
            rf"(?:(?:{_BUILDING_PART})|\b{UNIT}|(?:[A-Z][\w'-]*\s+){{1,3}}(?:Apartments|Apts|Building|House|"
            rf"Court|Towers|Residences|Residency|Lodge|Hall|Mansions))\s*,?\s*$",
            head,
        )
        return m.start() if m else start


def rules() -> list[Rule]:
    """Every rule, with the countries each belongs to (none: every store)."""
    return [
        # e-mails written to get past filters ('jane dot doe at gmail dot com', 'jane.doe(at)example(dot)com')
        Rule("EMAIL_ADDRESS", EMAIL_OBFUSCATED, _real_obfuscation, veto=None),
        # cards with spaces, dashes, dots or slashes; IBANs; SSNs with or without separators
        Rule("CREDIT_CARD", CARD, lambda s: 13 <= len(checks.digits(s)) <= 19 and checks.luhn_ok(s), veto=None),
        Rule("IBAN_CODE", IBAN, checks.iban_ok, veto=None),
        Rule("US_SSN", SSN, lambda s: checks.ssn_ok(s) and not s.isdigit(), veto=None),
        Rule("US_SSN", SSN, checks.ssn_ok, cue=_cue(r"ssn|social\s+security|soc\.?\s+sec|seguro\s+social|tin|itin")),
        # national IDs with a check digit (shape + check; a cue is not needed)
        Rule(
            "NATIONAL_ID",
            re.compile(r"(?<![\w-])\d{8}[\s-]?[A-Za-z](?![\w-])"),
            checks.es_dni_ok,
            countries=frozenset({"ES"}),
            veto=None,
        ),
        Rule(
            "NATIONAL_ID",
            re.compile(r"(?<![\w-])[XYZxyz][\s-]?\d{7}[\s-]?[A-Za-z](?![\w-])"),
            checks.es_dni_ok,
            countries=frozenset({"ES"}),
            veto=None,
        ),
        Rule(
            "NATIONAL_ID",
            re.compile(r"(?<![\w-])[A-Za-z]{4}\d{6}[HMXhmx][A-Za-z]{5}[0-9A-Za-z]\d(?![\w-])"),
            lambda s: checks.mx_curp_ok(s.upper()),
            countries=frozenset({"MX"}),
            veto=None,
        ),
        Rule(
            "TAX_ID",
            re.compile(r"(?<![\w-])[A-Za-zÑñ&]{4}[\s-]?\d{6}[\s-]?[A-Za-z0-9]{3}(?![\w-])"),
            checks.mx_rfc_ok,
            countries=frozenset({"MX"}),
            veto=None,
        ),
        Rule(
            "NATIONAL_ID",
            re.compile(r"(?<![\w.-])\d{3}\.\d{3}\.\d{3}-\d{2}(?![\w-])"),
            checks.br_cpf_ok,
            countries=frozenset({"BR"}),
        ),
        Rule(
            "NATIONAL_ID",
            re.compile(r"(?<![\w.-])\d{3}\.?\d{3}\.?\d{3}[-\s]?\d{2}(?![\w-])"),
            checks.br_cpf_ok,
            cue=ID_CUE,
            countries=frozenset({"BR"}),
        ),
        Rule(
            "NATIONAL_ID",
            re.compile(r"(?<![\w.-])\d{1,2}\.?\d{3}\.?\d{3}-?[\dkK](?![\w-])"),
            checks.cl_rut_ok,
            countries=frozenset({"CL"}),
            veto=None,
        ),
        Rule(
            "TAX_ID", re.compile(r"(?<![\w-])\d{2}-\d{8}-\d(?![\w-])"), checks.ar_cuit_ok, countries=frozenset({"AR"})
        ),
        Rule(
            "TAX_ID",
            re.compile(r"(?<![\w-])\d{2}-?\d{8}-?\d(?![\w-])"),
            checks.ar_cuit_ok,
            cue=ID_CUE,
            countries=frozenset({"AR"}),
        ),
        Rule(
            "NATIONAL_ID",
            re.compile(r"(?<![\w-])[A-Za-z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-Da-d](?![\w-])"),
            lambda s: checks.uk_nino_ok(s.upper()),
            countries=frozenset({"GB"}),
            veto=None,
        ),
        Rule(
            "NATIONAL_ID",
            re.compile(r"(?<![\w-])\d{3}[\s-]?\d{3}[\s-]?\d{3}(?![\w-])"),
            checks.ca_sin_ok,
            cue=ID_CUE,
            countries=frozenset({"CA"}),
        ),
        Rule(
            "NATIONAL_ID",
            re.compile(r"(?<![\w-])[2-9]\d{3}([\s-])\d{4}\1\d{4}(?![\w-])"),
            checks.in_aadhaar_ok,
            countries=frozenset({"IN"}),
        ),
        Rule(
            "NATIONAL_ID",
            re.compile(r"(?<![\w-])[2-9]\d{11}(?![\w-])"),
            checks.in_aadhaar_ok,
            cue=ID_CUE,
            countries=frozenset({"IN"}),
        ),
        Rule(
            "TAX_ID",
            re.compile(r"(?<![\w-])[A-Za-z]{3}[ABCFGHLJPTabcfghljpt][A-Za-z]\d{4}[A-Za-z](?![\w-])"),
            lambda s: bool(re.search(r"\d{4}", s)),
            countries=frozenset({"IN"}),
            veto=None,
        ),
        Rule(
            "TAX_ID",
            re.compile(
                r"(?<![\w-])[A-Za-z]{6}[\dA-Za-z]{2}[A-Za-z][\dA-Za-z]{2}[A-Za-z][\dA-Za-z]{3}"
                r"[A-Za-z](?![\w-])"
            ),
            lambda s: checks.it_fiscal_code_ok(s.upper()),
            countries=frozenset({"IT"}),
            veto=None,
        ),
        Rule(
            "NATIONAL_ID",
            re.compile(
                r"(?<![\w-])[1-378]\s?\d{2}\s?\d{2}\s?(?:\d{2}|2[ABab])\s?\d{3}\s?\d{3}"
                r"\s?\d{2}(?![\w-])"
            ),
            lambda s: checks.fr_nir_ok(s.upper()),
            countries=frozenset({"FR"}),
            veto=None,
        ),
        Rule(
            "TAX_ID",
            re.compile(r"(?<![\w-])[1-9]\d(?:\s?\d{3}){3}(?![\w-])"),
            checks.de_tax_id_ok,
            cue=ID_CUE,
            countries=frozenset({"DE"}),
        ),
        Rule(
            "NATIONAL_ID",
            re.compile(r"(?<![\w-])\d{4}\.?\d{2}\.?\d{3}(?![\w-])"),
            checks.nl_bsn_ok,
            cue=ID_CUE,
            countries=frozenset({"NL"}),
        ),
        Rule(
            "TAX_ID",
            re.compile(r"(?<![\w-])\d{3}\s?\d{3}\s?\d{2,3}(?![\w-])"),
            checks.au_tfn_ok,
            cue=ID_CUE,
            countries=frozenset({"AU"}),
        ),
        Rule(
            "TAX_ID",
            re.compile(r"(?<![\w-])\d{3}\s?\d{3}\s?\d{3}(?![\w-])"),
            checks.pt_nif_ok,
            cue=ID_CUE,
            countries=frozenset({"PT"}),
        ),
        Rule(
            "NATIONAL_ID",
            re.compile(r"(?<![\w-])\d{17}[\dXx](?![\w-])"),
            checks.cn_resident_id_ok,
            countries=frozenset({"CN"}),
        ),
        Rule(
            "NATIONAL_ID",
            re.compile(r"(?<![\w-])\d{6}\s?\d{4}\s?\d{2}\s?\d(?![\w-])"),
            checks.za_id_ok,
            cue=ID_CUE,
            countries=frozenset({"ZA"}),
        ),
        Rule(
            "NATIONAL_ID",
            re.compile(r"(?<![\w-])\d{11}(?![\w-])"),
            checks.pl_pesel_ok,
            cue=ID_CUE,
            countries=frozenset({"PL"}),
        ),
        # any ID right after its name ('mi DNI es 30.123.456', 'cédula 1.020.304.050', 'passport no. X1234567')
        Rule("NATIONAL_ID", ID_TOKEN, _id_digits, cue=ID_CUE),
        Rule("PASSPORT", ID_TOKEN, _passport, cue=PASSPORT_CUE),
        Rule("DRIVER_LICENSE", ID_TOKEN, _id_digits, cue=LICENCE_CUE),
        Rule(
            "BANK_ACCOUNT",
            re.compile(r"(?<![\w-])\d(?:[\d ]|-(?=\d)){4,34}\d(?![\w-])"),
            _account_or_branch,
            cue=ACCOUNT_CUE,
            veto=_NOT_SORT_CODE,
        ),
        Rule(
            "BANK_ACCOUNT",
            re.compile(r"(?<![\w-])[A-Za-z]{4}0[A-Za-z0-9]{6}(?![\w-])"),
            cue=_cue(r"ifsc", 10),
            veto=None,
            countries=frozenset({"IN"}),
        ),
        Rule(
            "DRIVER_LICENSE",
            re.compile(r"(?<![\w-])[A-Za-z9]{5}\d{6}[A-Za-z9]{2}\d[A-Za-z]{2}(?![\w-])"),
            veto=None,
            countries=frozenset({"GB"}),
        ),
        Rule(
            "BANK_ACCOUNT",
            re.compile(r"(?<![\w-])\d{3}\s?\d{3}\s?\d{11}\s?\d(?![\w-])"),
            checks.mx_clabe_ok,
            countries=frozenset({"MX"}),
        ),
        Rule("DATE_OF_BIRTH", re.compile(DATE, I), cue=DOB_CUE, veto=None),
        # street addresses and post boxes
        Rule("ADDRESS", EN_STREET, veto=None),
        Rule("ADDRESS", EN_STREET_CAPITALISED, veto=None),
        Rule("ADDRESS", PO_BOX, veto=None),
        Rule("ADDRESS", ES_STREET, veto=None),
        Rule("ADDRESS", MANZANA_LOTE, veto=None),
        Rule("ADDRESS", RURAL, veto=None),
        Rule("ADDRESS", UNIT_TO_POSTCODE, veto=None),
        Rule("ADDRESS", NUMBER_FIRST_EUROPEAN, veto=None),
        Rule("ADDRESS", GERMANIC_STREET, veto=None),
    ]
