"""The fixed category taxonomy, its synonyms and the hashtag lexicon, loaded from data files."""

import json
import re
from functools import lru_cache
from importlib import resources

OTHER = "Other"


def _load(name: str) -> dict:
    data = resources.files("webapp.services.ingestion").joinpath("data", name)
    return json.loads(data.read_text("utf-8"))


def _squash(text: str) -> str:
    """Reduce a name to lower-case letters and digits so '#filmtv' can match 'Film & TV'."""
    return re.sub(r"[^0-9a-z]+", "", text.lower())


_taxonomy = _load("taxonomy.json")
CATEGORIES: tuple[str, ...] = tuple(_taxonomy["categories"])
if CATEGORIES[-1] != OTHER or len(set(CATEGORIES)) != len(CATEGORIES):
    raise RuntimeError("taxonomy.json must list unique categories with 'Other' last")
CATEGORY_INDEX: dict[str, int] = {name: i for i, name in enumerate(CATEGORIES)}

# Exact (case-insensitive, trimmed) names and synonyms for explicit categories.
_BY_NAME: dict[str, str] = {name.lower(): name for name in CATEGORIES}
for _synonym, _target in _taxonomy["synonyms"].items():
    if _target not in CATEGORY_INDEX:
        raise RuntimeError(f"taxonomy.json: synonym {_synonym!r} points at unknown {_target!r}")
    _BY_NAME[_synonym.strip().lower()] = _target

# Hashtags have no spaces or punctuation, so they are compared in squashed form.
_BY_SQUASHED: dict[str, str] = {_squash(key): value for key, value in _BY_NAME.items()}

_lexicon = _load("hashtags.json")["hashtags"]
HASHTAG_LEXICON: dict[str, tuple[str, ...]] = {}
for _tag, _targets in _lexicon.items():
    for _target in _targets:
        if _target not in CATEGORY_INDEX:
            raise RuntimeError(f"hashtags.json: {_tag!r} maps to unknown category {_target!r}")
    HASHTAG_LEXICON[_tag] = tuple(_targets)


@lru_cache(maxsize=65536)
def normalise_category(name: str) -> str | None:
    """Map a category name to the taxonomy: known names and synonyms, unknown ones to Other.

    Returns None for a blank name, which is ignored rather than counted.
    """
    key = name.strip().lower()
    if not key:
        return None
    return _BY_NAME.get(key, OTHER)


# Every '#' and space before the tag's text: "# #x" is "#x", as "#x" is.
_LEADING_HASHES = re.compile(r"^[\s#]+")


@lru_cache(maxsize=65536)
def normalise_hashtag(tag: str) -> str | None:
    """Trim and lower-case a hashtag and give it exactly one leading '#'; None when empty."""
    body = _LEADING_HASHES.sub("", tag).strip().lower()
    if not body:
        return None
    return "#" + body


@lru_cache(maxsize=65536)
def hashtag_categories(tag: str) -> tuple[str, ...]:
    """Return the categories a normalised hashtag maps to (possibly none)."""
    mapped = HASHTAG_LEXICON.get(tag)
    if mapped is not None:
        return mapped
    category = _BY_SQUASHED.get(_squash(tag[1:]))
    if category is None or category == OTHER:
        return ()
    return (category,)
