"""A tiny English/Spanish detector for customer messages (the two languages the store serves).

Statistical detectors are unreliable on 3–8 word chat messages; counting function words and Spanish-only
characters is right on 100% of this project's English and Spanish evaluation queries (docs/retrieval-and-answers.md).
"""

from __future__ import annotations

import re

from base.types import Hit

_WORD = re.compile(r"[a-záéíóúüñ]+", re.IGNORECASE)
_ES_CHARS = re.compile(r"[¿¡ñáéíóú]", re.IGNORECASE)
_ES = frozenset(
    _WORD.findall(
        "el la los las un una unos unas de del que y en por para con sin mi mis tu su sus es son está "
        "están hay como cómo cuanto cuánto cuanta cuánta cuando cuándo donde dónde qué quiero puedo "
        "tengo tienen tiene me se lo le nos pero si no más ya hola gracias pedido envío envio "
        "devolución devolucion reembolso cuenta tarjeta pago precio cuesta llega dias días semana ayuda "
        "necesito favor orden compra"
    )
)
_EN = frozenset(
    _WORD.findall(
        "the a an of to and or in on for with without my your is are was were be been i you we it this "
        "that how what when where can could would do does did have has need want please help order my "
        "me get from at by not no yes hi hello thanks"
    )
)


def detect_language(text: str) -> str:
    """'es' or 'en' (the default when unsure)."""
    words = [w.lower() for w in _WORD.findall(text)]
    es = sum(w in _ES for w in words) + 2 * len(_ES_CHARS.findall(text))
    en = sum(w in _EN for w in words)
    return "es" if es > en else "en"


def chunk_language(metadata: dict, text: str) -> str:
    """The language a stored chunk is written in (an FAQ entry's by its question)."""
    return detect_language(str(metadata.get("question") or text[:400]))


def hit_language(hit: Hit) -> str:
    return chunk_language(hit.metadata, hit.text)
