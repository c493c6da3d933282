"""Word-by-word Spanish → English query translation with a general shop glossary (base/es_en_glossary.json).

No translation model ships inside a wheel, and MiniLM (the store-adapted English model) has no cross-language
matching (es↔en cosine ≈ 0). Glossed into English ("olvide mi contrasena" → "forgot my password"), a Spanish
question reaches the English model's knowledge of customer wording; the blend mixes that score with
multilingual e5's score on the original text (providers/embeddings.py). The glossary is generic (written
without any store's data or evaluation questions), so it serves any shop.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

GLOSSARY = Path(__file__).with_name("es_en_glossary.json")
_TOKEN = re.compile(r"\w+", re.UNICODE)
_MIN_FUZZY = 5  # shorter unknown words are kept as they are: one edit turns them into another word
FUZZY_EDITS = 1  # an unknown word within this many edits of a glossary word is read as it (typos); 0: off


def fold(text: str) -> str:
    """Lower case without accents (ñ → n), as the glossary's keys are written."""
    nfkd = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in nfkd if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def glossary() -> dict[str, str]:
    return json.loads(GLOSSARY.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def glossary_id() -> str:
    """A short hash of the glossary: vectors made with another glossary must not share a store."""
    from base.text import short_hash

    return short_hash(GLOSSARY.read_text(encoding="utf-8"), f"{FUZZY_EDITS}/{_MIN_FUZZY}", length=8)


@lru_cache(maxsize=4096)
def _word(token: str) -> str:
    """The English for one folded token: the glossary's, the one closest key's within one edit (typos; a tie
    between two keys is no correction), or itself (names, numbers, product words the glossary does not hold)."""
    words = glossary()
    if token in words:
        return words[token]
    if FUZZY_EDITS and len(token) >= _MIN_FUZZY and not token.isdigit():
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        close = process.extract(token, words.keys(), scorer=Levenshtein.distance, score_cutoff=FUZZY_EDITS, limit=2)
        if close and (len(close) == 1 or close[0][1] < close[1][1]):  # one clear nearest word, or none at all
            return words[close[0][0]]
    return token


def gloss_to_english(text: str) -> str:
    """`text` glossed word by word into English; words that carry no meaning map to nothing."""
    out = (_word(t) for t in _TOKEN.findall(fold(text)))
    return " ".join(w for w in out if w)
