"""The offline answerer: presents the store's own words, never generates free text.

FAQ hit -> its answer; product hit -> a sentence built from the product's fields; policy chunk -> the
passage. When the decline gate (chains/gate.py) says the knowledge does not hold the answer, it declines with
the store's contact route.
"""

from __future__ import annotations

from dataclasses import dataclass

from base.language import hit_language
from base.money import format_money, format_price, price_change_note
from base.settings import Settings
from base.text import name_key
from base.types import Hit, ProductFacts
from chains.gate import DeclineGate

DECLINE = {
    "en": "I'm sorry, I couldn't find that in our store's information. Please contact our team at {email} "
    "or {phone} ({hours}) and they'll be happy to help.",
    "es": "Lo siento, no encontré esa información en los datos de la tienda. Escríbenos a {email} o llámanos al "
    "{phone} ({hours}); con gusto te ayudamos.",
}

# Said before an entry written in the other language (a store may hold an entry in English only), so a Spanish
# customer knows why the answer is in English.
OTHER_LANGUAGE = {
    "es": "Esta respuesta solo está disponible en inglés:",
    "en": "This answer is only available in Spanish:",
}


@dataclass
class Contact:
    """The store's contact route, from settings."""

    email: str
    phone: str
    hours: str

    @classmethod
    def of(cls, settings: Settings) -> Contact:
        return cls(settings.contact_email, settings.contact_phone, settings.contact_hours)


def decline_sentence(contact: Contact, lang: str) -> str:
    """The decline with the store's contact route, in the customer's language (the offline answerer's, and the
    one fine-tuning data teaches a chat model)."""
    return DECLINE.get(lang, DECLINE["en"]).format(**vars(contact))


@dataclass
class Extracted:
    text: str
    used: list[Hit]
    declined: bool


def describe_product(meta: dict, lang: str) -> str:
    """One or two sentences with the facts customers ask about: price, availability, delivery (an unknown fact is
    said to be unknown, never guessed; a price range is stated as a range)."""
    name, facts = meta.get("name", "This product"), ProductFacts.of(meta)
    es = lang == "es"
    if facts.price is None:
        price = f"El precio de {name} no está disponible por ahora." if es else (
            f"The price of the {name} is not available right now.")  # fmt: skip
    elif facts.price_max is not None:
        low, high = format_money(facts.price, facts.currency), format_money(facts.price_max, facts.currency)
        price = f"{name} cuesta entre {low} y {high}, según la opción." if es else (
            f"The {name} costs from {low} to {high}, depending on the option.")  # fmt: skip
    else:
        amount = format_money(facts.price, facts.currency)
        price = f"{name} cuesta {amount}." if es else f"The {name} costs {amount}."
    price += price_change_note(facts, lang)
    if facts.stock is not None and facts.stock > 0:
        avail = f" Hay {facts.stock} disponibles." if es else f" It's in stock ({facts.stock} available)."
    elif facts.in_stock is True:
        avail = " Está disponible." if es else " It's in stock."
    elif facts.in_stock is False:
        avail = " Por ahora está agotado." if es else " It's currently out of stock."
    else:
        avail = ""
    days = facts.delivery_days
    if not days:
        delivery = ""
    elif es:
        delivery = f" Con envío estándar llega en unos {days} días hábiles."
    else:
        delivery = f" With standard shipping it arrives in about {days} business days."
    return price + avail + delivery


MAX_TWINS = 5  # same-name listings listed after the first; with more, the cheapest and dearest are cited


def _same_name_other_prices(top: Hit, rest: list[Hit]) -> list[Hit]:
    """The products among the other hits with the top product's name and another price, one per price: the
    catalogue lists several items under one name, and the customer must see every price rather than one picked at
    random."""
    name = name_key(str(top.metadata.get("name", "")))
    seen = {ProductFacts.of(top.metadata).price}
    out = []
    for hit in rest:
        if hit.kind != "product" or name_key(str(hit.metadata.get("name", ""))) != name:
            continue
        price = ProductFacts.of(hit.metadata).price
        if price not in seen:
            seen.add(price)
            out.append(hit)
    return out


def _twins_sentence(top: Hit, twins: list[Hit], lang: str) -> tuple[str, list[Hit]]:
    """ "Another listing with the same name costs $X [2]." / "Other listings with the same name cost $X [2], $Y [3]
    and $Z [4]." With more than MAX_TWINS other prices, the range: "Listings with this name cost from $X [2] to
    $Y [3]." Returns the sentence and the listings it cites, from [2] on."""
    es = lang == "es"

    def price(hit: Hit) -> str:
        facts = ProductFacts.of(hit.metadata)
        if facts.price is None:
            return "precio no disponible" if es else "price not available"
        return format_price(facts.price, facts.price_max, facts.currency, lang)

    if len(twins) > MAX_TWINS:
        priced = sorted((h for h in [top, *twins] if ProductFacts.of(h.metadata).price is not None),
                        key=lambda h: ProductFacts.of(h.metadata).price)  # fmt: skip
        low, high = priced[0], priced[-1]
        if es:
            text = f" Los artículos con este nombre cuestan desde {price(low)} [2] hasta {price(high)} [3]."
        else:
            text = f" Listings with this name cost from {price(low)} [2] to {price(high)} [3]."
        return text, [low, high]
    listed = [f"{price(h)} [{n}]" for n, h in enumerate(twins, 2)]
    joined = listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} {'y' if es else 'and'} {listed[-1]}"
    if len(twins) == 1:
        text = f" Otro artículo con el mismo nombre cuesta {joined}." if es else (
            f" Another listing with the same name costs {joined}.")  # fmt: skip
    else:
        text = f" Otros artículos con el mismo nombre cuestan {joined}." if es else (
            f" Other listings with the same name cost {joined}.")  # fmt: skip
    return text, twins


def _passage(hit: Hit) -> str:
    section = hit.metadata.get("section")
    text = hit.text
    if section and text.startswith(section):
        text = text[len(section) :].lstrip()
    return text.strip()


class ExtractiveAnswerer:
    """Answers from the best hit(s), or declines when the gate says so."""

    def __init__(self, contact: Contact, gate: DeclineGate, second_margin: float = 0.02) -> None:
        self.contact = contact
        self.gate = gate
        self.second_margin = second_margin

    def decline_text(self, lang: str) -> str:
        return decline_sentence(self.contact, lang)

    def answer(self, hits: list[Hit], lang: str) -> Extracted:
        decision = self.gate.decide(hits, lang)
        if decision.declined:
            return Extracted(self.decline_text(lang), [], True)
        threshold = decision.threshold
        top = hits[0]
        kind = top.metadata.get("type")
        if kind == "product":
            text = describe_product(top.metadata, lang) + " [1]"
            twins = _same_name_other_prices(top, hits[1:])
            if not twins:
                return Extracted(text, [top], False)
            sentence, cited = _twins_sentence(top, twins, lang)
            return Extracted(text + sentence, [top, *cited], False)
        if kind == "faq":
            used = [top]
            second = hits[1] if len(hits) > 1 else None
            if (
                second is not None
                and second.metadata.get("type") == "faq"
                and second.metadata.get("doc_id") != top.metadata.get("doc_id")
                and second.score >= max(threshold, top.score - self.second_margin)
                and hit_language(second) == hit_language(top)  # never the same entry again in the other language
            ):
                used.append(second)
            parts = [f"{h.metadata.get('answer', h.text)} [{n}]" for n, h in enumerate(used, 1)]
            return Extracted(self._lead_in(top, lang) + "\n\n".join(parts), used, False)
        return Extracted(f"{self._lead_in(top, lang)}{_passage(top)} [1]", [top], False)

    @staticmethod
    def _lead_in(top: Hit, lang: str) -> str:
        """A line saying the store's text is in another language, when it is (products are described in the
        customer's language, so they never need it)."""
        return f"{OTHER_LANGUAGE[lang]}\n\n" if lang in OTHER_LANGUAGE and hit_language(top) != lang else ""
