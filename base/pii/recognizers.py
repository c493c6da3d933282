"""Presidio recognizers for what customers type in a shop's chat, beyond Presidio's own.

Every recognizer here finds a candidate by its shape, then keeps it only when what tells it from a look-alike
holds: a check digit (cards, IBANs, most national IDs), a cue word before it (a passport, a date of birth, an
account number, an ID with no check digit), or, for local phone numbers, the way the country groups them and no
order, tracking or invoice word right before. So prices, order and tracking numbers, SKUs, delivery dates and sizes
stay as typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from presidio_analyzer import LocalRecognizer, RecognizerResult

# Words right before a number that make it the shop's number, not the customer's.
SHOP_NUMBER_CUE = re.compile(
    r"\b(?:order|pedido|orden|compra|tracking|track|rastreo|seguimiento|gu[ií]a|invoice|factura|receipt|recibo|"
    r"ticket|sku|ref|reference|referencia|rma|return|devoluci[oó]n|confirmation|confirmaci[oó]n|item|art[ií]culo|"
    r"model|modelo|barcode|upc|ean|isbn|gift\s*card|tarjeta\s+de\s+regalo|coupon|cup[oó]n|promo|code|c[oó]digo|"
    r"serial|serie|part|parte|ups|usps|fedex|dhl|shipment|env[ií]o|package|paquete|parcel|awb|case|caso|"
    r"transaction|transacci[oó]n|batch|lote|cod|ref|pn|p/n|sn|s/n|nro|folio|albar[aá]n|awb|catalog|catalogue|cat[aá]logo|cat)"
    r"\W{0,3}(?:(?:number|num|no|nr|n[uú]mero|n[ºo°]|id|#|is|es|was|era)\W{0,3}){0,3}$",
    re.IGNORECASE,
)


def _cue(words: str, gap: int = 30) -> re.Pattern:
    """A cue word, then at most `gap` characters of filler (`is`, `:`, `number`) before the candidate."""
    return re.compile(rf"\b(?:{words})\b[^\n]{{0,{gap}}}$", re.IGNORECASE)


@dataclass(frozen=True)
class Rule:
    """One shape of personal data: `pattern` finds candidates (group `group` is the span masked), `check` must
    accept the candidate, `cue` must match the text just before it, `veto` must not."""

    entity: str
    pattern: re.Pattern
    check: Callable[[str], bool] | None = None
    cue: re.Pattern | None = None
    veto: re.Pattern | None = SHOP_NUMBER_CUE
    group: int = 0
    countries: frozenset[str] = frozenset()  # empty: everywhere
    cue_window: int = 60


class RuleRecognizer(LocalRecognizer):
    """The rules above as one Presidio recognizer per language."""

    def __init__(
        self,
        rules: Sequence[Rule],
        language: str,
        name: str = "ShopRules",
        extend: Callable[[str, int, int], tuple[int, int]] | None = None,
    ) -> None:
        """`extend`: grows an address found by a rule over the parts written around it (unit, city, postcode)."""
        self.rules = list(rules)
        self.extend = extend
        entities = sorted({r.entity for r in self.rules})
        super().__init__(supported_entities=entities, supported_language=language, name=f"{name}-{language}")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        found = []
        for rule in self.rules:
            for m in rule.pattern.finditer(text):
                start, end = m.span(rule.group)
                if start == end:
                    continue
                candidate = m.group(rule.group)
                before = text[max(0, start - rule.cue_window) : start]
                if rule.check is not None and not rule.check(candidate):
                    continue
                if rule.cue is not None and not rule.cue.search(before):
                    continue
                if rule.veto is not None and rule.veto.search(before[-40:]):
                    continue
                if rule.entity == "ADDRESS" and self.extend is not None:
                    start, end = self.extend(text, start, end)
                found.append(RecognizerResult(rule.entity, start, end, 0.9))
        return found


# -- e-mails, plain and written to get past filters ------------------------------------------------------------
_TLD = (
    r"com|net|org|edu|gov|info|biz|io|co|me|es|mx|ar|cl|pe|br|uk|us|ca|de|fr|it|nl|be|pt|ie|au|nz|in|jp|cn|ch|at|se|"
    r"no|dk|fi|pl|cz|ru|za|eu|ve|uy|ec|bo|py|gt|cr|pa|do|cat|gal|online|shop|store|email|mail|xyz|app|dev|cc|tv"
)
_DOT = r"(?:\.|\s*[\(\[\{<]\s*(?:dot|punto|ponto|point)\s*[\)\]\}>]\s*|\s+(?:dot|punto|ponto|point)\s+)"
_AT = r"(?:\s*@\s*|\s*[\(\[\{<]\s*(?:at|arroba)\s*[\)\]\}>]\s*|\s+(?:at|arroba|en)\s+)"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,40}[a-z0-9])?"
EMAIL_OBFUSCATED = re.compile(
    rf"(?<![\w.@-])[\w+'-]+(?:{_DOT}[\w+'-]+)*{_AT}{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}(?:{_TLD})(?![\w-])",
    re.IGNORECASE,
)


def _real_obfuscation(candidate: str) -> bool:
    """A spelled-out address must spell something: 'at' or 'arroba' written, or '@' with spaces around it; and
    'jane at gmail dot com' needs a dot word too, so 'look at it.com' is not an address."""
    if "@" in candidate or re.search(r"\barroba\b", candidate, re.IGNORECASE):
        return True
    return bool(re.search(r"[\(\[\{<]|\b(?:dot|punto|ponto|point)\b", candidate, re.IGNORECASE))


# -- cards, IBANs, SSNs ----------------------------------------------------------------------------------------
CARD = re.compile(r"(?<![\d/])(?<!\d[ ./-])\d(?:[ ./-]?\d){12,18}(?![ ./-]?\d)")
IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}"
    r"(?:[A-Za-z0-9]{11,30}|(?:[ -][A-Za-z0-9]{4}){2,8}(?:[ -][A-Za-z0-9]{1,3})?)(?![A-Za-z0-9])"
)
SSN = re.compile(r"(?<![\d-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\d-])")


# -- names, from cues (spaCy's NER finds the rest) -------------------------------------------------------------
# Strong: what follows is a name unless it is a function word ('my name is luz marina').
NAME_CUE_STRONG = (
    r"my\s+name\s+is|my\s+name's|my\s+full\s+name\s+is|name\s*[:=]|full\s+name\s*(?:is|:)?|"
    r"under\s+the\s+name(?:\s+of)?|in\s+the\s+name\s+of|the\s+name\s+(?:to|from|on\s+\w+\s+to)|"
    r"me\s+llamo|mi\s+nombre\s+es|mi\s+nombre\s+completo\s+es|nombre\s*[:=]|nombre\s+completo\s*:?|"
    r"a\s+nombre\s+de|bajo\s+el\s+nombre\s+de|el\s+nombre\s+(?:a|de|por)|meu\s+nome\s+[eé]|"
    r"je\s+m'appelle|ich\s+hei(?:ß|ss)e|(?:his|her|their|my|your|[a-z]+'s|[a-z]+s')\s+(?:full\s+)?name\s+(?:is|was|'s)|"
    r"(?:his|her|their|my)\s+name,|under\s+(?:his|her|my|their)\s+name(?:\s+(?:of|is))?|name\s+on\s+(?:it|the\s+\w+)"
    r"(?:\s+(?:is|should\s+be|must\s+be))?\s*:?|se\s+llama|me\s+llaman|se\s+llamaba|su\s+nombre\s+es|"
    r"call\s+me|i\s+go\s+by|goes\s+by|me\s+dicen|le\s+dicen|todos\s+me\s+dicen"
)
# Medium: a known first name after it is a name, in any case ('this is jane', 'soy lupita', 'thanks, Bob').
NAME_CUE_MEDIUM = (
    r"i\s+am|i'm|i’m|im|this\s+is|it's|it’s|its|here\s+is|soy|habla|te\s+escribe|le\s+escribe|"
    r"les\s+escribe|regards|best|thanks|thank\s+you|thx|cheers|sincerely|saludos|atentamente|gracias|"
    r"un\s+saludo|att|attn|atte|hi|hello|hey|dear|hola|estimad[oa]|querid[oa]|signed|firma|recipient(?:\s+is)?|"
    r"destinatari[oa](?:\s+es)?|recoge|recoger|recogerlo|recogerla|reciba|recibe|recibir[aá]|pick\s+up|"
    r"picks\s+up|picking\s+up|named|llamad[oa]|called|signed\s+by|on\s+behalf\s+of|de\s+parte\s+de|"
    r"en\s+nombre\s+de|c/o|care\s+of|attention|atenci[oó]n|happy\s+birthday|happy\s+bday|merry\s+christmas|"
    r"congrats|congratulations|love\s+from|love|xoxo|feliz\s+cumple(?:años)?|feliz\s+navidad|felicidades|"
    r"felicitaciones|te\s+quiere|te\s+queremos|con\s+cariño|de\s+parte\s+de|under|bajo"
)
# Weak: only a capitalised known first name after it ('a gift for Maria', 'from Tom and Jack').
NAME_CUE_WEAK = r"for|para|to|from|by|with|con|de|and|y|is|es|a|than|que|as|como|ask|pregunte\s+por|ask\s+for"
TITLES = (
    r"mr|mrs|ms|miss|mx|dr|prof|sr|sra|srta|don|doña|dona|lic|licenciad[oa]|ing|ingenier[oa]|dra|señor|"
    r"señora|señorita|senor|senora|sir|madam|madame|mme|mlle|herr|frau"
)
RELATION = (
    r"wife|husband|sister|brother|mother|mom|mum|dad|father|son|daughter|friend|neighbou?r|boss|colleague|"
    r"coworker|partner|girlfriend|boyfriend|fianc[eé]e?|aunt|uncle|cousin|grandma|grandmother|grandpa|"
    r"grandfather|nephew|niece|roommate|flatmate|landlord|assistant|secretary|esposa|esposo|mujer|marido|hermana|"
    r"hermano|madre|mam[aá]|padre|pap[aá]|hij[oa]|amig[oa]|vecin[oa]|novi[oa]|pareja|t[ií][oa]|abuel[oa]|prim[oa]|"
    r"jef[ae]|compañer[oa]|sobrin[oa]|suegr[oa]|cuñad[oa]|nuera|yerno|ahijad[oa]|madrina|padrino|nana|nan|granny|"
    r"gran|grams|gramps|abue|abuelit[oa]|tit[oa]|auntie|aunty|kid|kids|son's|daughter's|courier|driver|"
    r"repartidor|cartero|mensajero|portero|conserje|doorman|concierge|mailman|postman|agent|asesor[a]?"
)
_LETTER = r"[^\W\d_]"
_NAME_TOKEN = rf"{_LETTER}(?:{_LETTER}|['’-](?={_LETTER})){{0,40}}"  # bounded: 'a-a-a-…' is no name
_CUE_END = r"\.?[\s,:;!-]+"
NAME_AFTER_CUE = re.compile(
    rf"(?:(?<=^)|(?<=[\s,.;:!¡¿(\"']))(?P<cue>{NAME_CUE_STRONG}|{NAME_CUE_MEDIUM}|{NAME_CUE_WEAK}|"
    rf"(?:(?:my|mi|mis|our|nuestr[oa]|la|el|a\s+mi|to\s+my|for\s+my|para\s+mi)\s+)?(?:{RELATION})|{TITLES})"
    rf"{_CUE_END}(?:(?:{TITLES})\.?\s+)?(?P<name>{_NAME_TOKEN}(?:\s+{_NAME_TOKEN}){{0,5}})",
    re.IGNORECASE,
)
NAME_BEFORE_CUE = re.compile(
    rf"(?<![^\W\d_'’-])(?P<name>{_NAME_TOKEN}(?:\s+{_NAME_TOKEN}){{0,3}})[\s,]+(?P<cue>aqu[ií]|here|speaking|al\s+habla|"
    rf"hablando|writing|again|otra\s+vez|de\s+nuevo|de\s+nueva\s+cuenta|called|said|told|asked|says|wrote|"
    rf"llam[oó]|dijo|me\s+dijo|pregunt[oó])\b",
    re.IGNORECASE,
)
_MESSAGE_START = re.compile(
    r"^\W*(?:(?:hi|hello|hey|hola|buenas|buenos\s+d[ií]as|buenas\s+(?:tardes|noches)|ok|okay)"
    r"\b\W*)?$",
    re.IGNORECASE,
)
_STRONG = re.compile(rf"^(?:{NAME_CUE_STRONG})$", re.IGNORECASE)
_MEDIUM = re.compile(
    rf"^(?:{NAME_CUE_MEDIUM}|(?:(?:my|mi|mis|our|nuestr[oa]|la|el|a\s+mi|to\s+my|for\s+my|para\s+mi)\s+)?"
    rf"(?:{RELATION})|{TITLES})$",
    re.IGNORECASE,
)
NAME_PARTICLES = {
    "de",
    "del",
    "la",
    "las",
    "los",
    "da",
    "das",
    "do",
    "dos",
    "van",
    "von",
    "der",
    "den",
    "di",
    "le",
    "du",
    "bin",
    "ibn",
    "al",
    "el",
    "y",
    "e",
    "mac",
    "st",
    "ter",
    "ten",
    "al-",
    "abu",
}
_RELATION_CUE = re.compile(
    rf"^(?:(?:my|mi|mis|our|nuestr[oa]|la|el|a\s+mi|to\s+my|for\s+my|para\s+mi)\s+)?(?:{RELATION})$", re.IGNORECASE
)
_DETERMINER = re.compile(
    r"(?:\b(?:the|this|that|these|those|our|your|their|an?|el|la|los|las|un|una|este|esta|ese|esa|nuestr[oa]s?|"
    r"su|sus|tu|tus)\s+)$",
    re.IGNORECASE,
)
_PRODUCT_BEFORE = re.compile(
    r"\b(?:the|this|that|el|la|los|las|un|una|este|esta|ese|esa)\s+([a-záéíóúñü]+)\s+$", re.IGNORECASE
)
_TITLE_WORD = re.compile(rf"(?:{TITLES})", re.IGNORECASE)
_COMPANY = re.compile(r"sac|sa|sas|sl|slu|srl|llc|inc|ltd|ltda|gmbh|corp|co|plc|bv|nv|ag|spa|cia", re.IGNORECASE)
_TITLE_PREFIX = re.compile(rf"^(?:(?:{TITLES})\.?\s+)+", re.IGNORECASE)


_CONTRACTION = re.compile(r"[^\W\d_]+['’](?:m|s|re|ll|ve|d|t)", re.IGNORECASE)


def _fold(word: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFD", word.lower()) if unicodedata.category(c) != "Mn")


class NameLexicon:
    """First and last names of many countries (Faker's locale data, MIT), the everyday words that double as names
    ('will', 'may', 'brown') and place names ('Monterrey', 'Regina', 'Charlotte'): a known first name after a cue
    word is a name; an everyday word never is; a place is a name only after a cue that introduces a person."""

    def __init__(
        self,
        first: dict[str, int] | Iterable[str],
        last: Iterable[str],
        common: Iterable[str],
        places: Iterable[str],
        never: Iterable[str] = (),
        name_words: Iterable[str] = (),
    ) -> None:
        counts = first if isinstance(first, dict) else dict.fromkeys(first, 1)
        self.first_locales: dict[str, int] = {}
        for name, n in counts.items():
            key = _fold(name)
            self.first_locales[key] = max(n, self.first_locales.get(key, 0))
        self.first = set(self.first_locales)
        self.last = {_fold(w) for w in last}
        self.common = {_fold(w) for w in common}
        self.places = {_fold(w) for w in places}
        self.never = {_fold(w) for w in never}
        self.name_words = {_fold(w) for w in name_words}

    def is_first_any(self, word: str) -> bool:
        """A first name somewhere, everyday word or not ('Rosa', 'Jack', 'Dolores'), never a month or a day."""
        w = _fold(word)
        return w in self.first and w not in self.never

    def is_first(self, word: str) -> bool:
        w = _fold(word)
        return w in self.first and w not in self.common

    def is_widespread_first(self, word: str) -> bool:
        """A first name that two or more countries' lists hold ('Maria', 'Tom', 'Omar'), not one that only one
        locale lists and that doubles as something else ('Mars')."""
        w = _fold(word)
        return self.first_locales.get(w, 0) >= 2 and w not in self.never

    def is_known(self, word: str) -> bool:
        w = _fold(word)
        return (w in self.first or w in self.last) and w not in self.common

    def is_common(self, word: str) -> bool:
        return _fold(word) in self.common

    def is_place(self, text: str) -> bool:
        return _fold(" ".join(text.split())) in self.places


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and not (word.isupper() and len(word) > 1 and len(word) < 4)


class NameCueRecognizer(LocalRecognizer):
    """Names after the words that introduce them ('my name is …', 'soy …', 'thanks, …', 'my sister …', 'Sra. …')
    and before 'aquí' / 'here' / 'speaking'.

    After a strong cue the next words are a name unless they are function words; after a medium cue the first word
    must be a known first name, or capitalised and not an everyday word or a place; after a weak cue ('for',
    'para') it must be a capitalised known first name that is not a place. Following words join while they are
    capitalised or known names, with particles inside a name ('de los', 'van')."""

    def __init__(self, lexicon: NameLexicon, language: str, stopwords: frozenset[str]) -> None:
        self.lexicon = lexicon
        self.stopwords = stopwords
        super().__init__(supported_entities=["PERSON"], supported_language=language, name=f"NameCues-{language}")

    def load(self) -> None:
        pass

    def _function_word(self, word: str) -> bool:
        if _CONTRACTION.fullmatch(word):  # "I'm", "it's", "don't"
            return True
        return word.lower() in self.stopwords or _fold(word) in self.stopwords

    def _first(self, word: str, tier: str, following: list[str]) -> bool:
        if self._function_word(word) or _fold(word) in self.lexicon.never:
            return False
        if tier == "strong":
            return True
        capital = _capitalised(word)
        if tier == "relation":  # 'my sister jess', 'mi abuela dolores': a first name in any case
            if self.lexicon.is_first_any(word) and (
                capital or not self.lexicon.is_common(word) or _fold(word) in self.lexicon.name_words
            ):
                return True
            return capital and not self.lexicon.is_common(word) and not self.lexicon.is_place(word)
        if tier == "medium":
            if capital and self.lexicon.is_first_any(word):
                return True
            if self.lexicon.is_common(word):
                return False
            return self.lexicon.is_first(word) or (capital and not self.lexicon.is_place(word) and len(word) > 1)
        if not capital or self.lexicon.is_place(word):
            return False
        if following and self.lexicon.is_place(f"{word} {following[0]}"):
            return False  # 'to Nova Scotia', 'a San Juan'
        if self.lexicon.is_widespread_first(word):
            return True
        # 'para Kenji Yamamoto': two capitalised words, one a known name, none an everyday word
        nxt = following[:1]
        return (
            bool(nxt)
            and _capitalised(nxt[0])
            and not self.lexicon.is_common(word)
            and not (self.lexicon.is_common(nxt[0]) or self.lexicon.is_place(f"{word} {nxt[0]}"))
            and (self.lexicon.is_known(word) or self.lexicon.is_known(nxt[0]))
        )

    def _next(self, word: str, lowercase_ok: bool, strong: bool = False) -> bool:
        if self._function_word(word) or _TITLE_WORD.fullmatch(word):
            return False
        if _capitalised(word):
            return True
        if strong:  # 'a nombre de ana belen sotomayor': after a strong cue, any word but an everyday one
            return not self.lexicon.is_common(word) and len(word) > 2
        return lowercase_ok and self.lexicon.is_known(word)

    def _take(self, words: list[re.Match], tier: str) -> list[re.Match]:
        kept: list[re.Match] = []
        pending: list[re.Match] = []
        for n, w in enumerate(words):
            word = w.group(0)
            if kept and word.lower() in NAME_PARTICLES:
                pending.append(w)
                continue
            ok = (
                self._first(word, tier, [x.group(0) for x in words[n + 1 :]])
                if not kept
                else self._next(word, tier == "strong" or not _capitalised(kept[0].group(0)), tier == "strong")
            )
            if not ok:
                break
            kept += [*pending, w]
            pending = []
            if len(kept) >= 6:
                break
        return kept

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        found = []
        for m in _overlapping(NAME_AFTER_CUE, text, "cue"):
            cue = " ".join(m.group("cue").split())
            tier = (
                "strong"
                if _STRONG.match(cue)
                else "relation"
                if _RELATION_CUE.match(cue)
                else "medium"
                if _MEDIUM.match(cue)
                else "weak"
            )
            kept = self._take(list(re.finditer(_NAME_TOKEN, m.group("name"))), tier)
            if kept and not any(_COMPANY.fullmatch(w.group(0)) for w in kept):
                base = m.start("name")
                found.append(RecognizerResult("PERSON", base + kept[0].start(), base + kept[-1].end(), 0.8))
        for m in NAME_BEFORE_CUE.finditer(text):
            words = list(re.finditer(_NAME_TOKEN, m.group("name")))
            for n in range(len(words)):  # the longest run of name words ending at the cue, led by a first name
                run = words[n:]
                plain = all(not self._function_word(w.group(0)) and not self.lexicon.is_common(w.group(0)) for w in run)
                opening = bool(_MESSAGE_START.match(text[: m.start("name") + run[0].start()]))
                if plain and (self.lexicon.is_first(run[0].group(0)) or (opening and len(run) == 2)):
                    base = m.start("name")
                    found.append(RecognizerResult("PERSON", base + run[0].start(), base + run[-1].end(), 0.8))
                    break
        return found


def _overlapping(pattern: re.Pattern, text: str, group: str) -> Iterable[re.Match]:
    """Every match, the next search starting after the previous match's `group` (a cue word inside another cue's
    words: 'hi this is jane')."""
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        yield m
        pos = max(m.end(group), pos + 1)


class NerNameFilter:
    """spaCy's PERSON spans, less its known slips on chat text: a product ('the Ellis oak chair': a name after a
    determiner), a place ('envían a Monterrey?'), greetings and words tagged as people ('Hola', 'al codigo'),
    a span with digits; a leading title ('Mrs.') is left out of the span."""

    def __init__(self, lexicon: NameLexicon, stopwords: frozenset[str]) -> None:
        self.lexicon = lexicon
        self.stopwords = stopwords

    def _everyday(self, word: str) -> bool:
        return word.lower() in self.stopwords or self.lexicon.is_common(word) or bool(_TITLE_WORD.fullmatch(word))

    def trim(self, text: str, start: int, end: int) -> tuple[int, int] | None:
        """The span to mask, or None when it is not a person."""
        span = text[start:end]
        title = _TITLE_PREFIX.match(span)
        if title:
            start += title.end()
            span = text[start:end]
        words = re.findall(_NAME_TOKEN, span)
        if not words or re.search(r"\d|@", span) or _DETERMINER.search(text[max(0, start - 12) : start]):
            return None
        product = _PRODUCT_BEFORE.search(text[max(0, start - 30) : start])
        if product and not re.fullmatch(RELATION, product.group(1), re.IGNORECASE):
            return None  # 'la manta Bianca', 'el vestido Margot': a product's name after its kind
        if self.lexicon.is_place(span):
            return None
        tokens = list(re.finditer(_NAME_TOKEN, span))
        while tokens and self._everyday(tokens[-1].group(0)):  # 'Gabriela Rossi Order': the name, not 'Order'
            tokens.pop()
        while tokens and self._everyday(tokens[0].group(0)):
            tokens.pop(0)
        if not tokens:
            return None
        start, end = start + tokens[0].start(), start + tokens[-1].end()
        words = [t.group(0) for t in tokens]
        for word in words:
            if word.lower() in NAME_PARTICLES:
                continue
            if self._everyday(word) or not (_capitalised(word) or self.lexicon.is_known(word)):
                return None
            if _COMPANY.fullmatch(word):
                return None
        if len(words) == 1 and not self.lexicon.is_known(words[0]):
            return None
        return start, end
