"""The word lists names, bios, titles and artists are built from (no Faker).

Each list is a file in ``words/`` shipped with the package, one entry a line; small, but
combined they give plenty of variety. Arrays are StringDType, ready for vectorised picking.
"""

from __future__ import annotations

from importlib import resources

from models_py.synth.text import slugs, text_array


def word_list(name: str) -> list[str]:
    """The entries of ``words/<name>.txt`` in file order (their order fixes the random picks)."""
    text = resources.files(__package__).joinpath("words", f"{name}.txt").read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def _native_spellings() -> dict[str, str]:
    """First name -> native-script spelling, from ``words/native_first_names.tsv``."""
    text = resources.files(__package__).joinpath("words", "native_first_names.tsv")
    pairs = (line.split("\t") for line in text.read_text("utf-8").splitlines() if line.strip())
    return {latin.strip(): native.strip() for latin, native in pairs}


# Indian names first, then international ones: a person's origin is an index range.
_INDIAN_FIRST, _INDIAN_LAST = word_list("first_names_india"), word_list("last_names_india")
_FIRST_NAMES = _INDIAN_FIRST + word_list("first_names_international")
_LAST_NAMES = _INDIAN_LAST + word_list("last_names_international")
N_INDIAN_FIRST_NAMES, N_INDIAN_LAST_NAMES = len(_INDIAN_FIRST), len(_INDIAN_LAST)
FIRST_NAMES, LAST_NAMES = text_array(_FIRST_NAMES), text_array(_LAST_NAMES)
FIRST_NAME_SLUGS, LAST_NAME_SLUGS = slugs(_FIRST_NAMES), slugs(_LAST_NAMES)
# Native-script spelling of each first name ("" where there is none), used as a suffix
# ("Nigar Khan نگار") or alone.
NATIVE_FIRST_NAMES = text_array([_native_spellings().get(name, "") for name in _FIRST_NAMES])

EMOJI = text_array(word_list("emoji"))
_CITIES = word_list("cities")
CITIES, CITY_SLUGS = text_array(_CITIES), slugs(_CITIES)
PROFESSIONS = text_array(word_list("professions"))
_BRAND_ADJECTIVES, _BRAND_NOUNS = word_list("brand_adjectives"), word_list("brand_nouns")
BRAND_ADJECTIVES, BRAND_ADJECTIVE_SLUGS = text_array(_BRAND_ADJECTIVES), slugs(_BRAND_ADJECTIVES)
BRAND_NOUNS, BRAND_NOUN_SLUGS = text_array(_BRAND_NOUNS), slugs(_BRAND_NOUNS)
BIO_PHRASES = text_array(word_list("bio_phrases"))
BIO_SEPARATORS = text_array([" | ", " • ", ". ", " "])

TITLE_NOUNS = text_array(word_list("title_nouns"))
TITLE_ADJECTIVES = text_array(word_list("title_adjectives"))
TITLE_COMPARATIVES = text_array(word_list("title_comparatives"))
TITLE_VERBS = text_array(word_list("title_verbs"))
TITLE_PREPOSITIONS = text_array(word_list("title_prepositions"))
FOREIGN_WORDS = text_array(word_list("foreign_words"))
TITLE_SUFFIXES = text_array([" " + suffix for suffix in word_list("title_suffixes")])
ARTIST_FIRST_NAMES = text_array(word_list("artist_first_names"))
ARTIST_LAST_NAMES = text_array(word_list("artist_last_names"))
