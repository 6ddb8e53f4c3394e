"""Lemmatization for the vectorizers, English and Russian, fully offline.

`Lemmatizer` is a vectorizer's `preprocessor`: it lowercases the text (when asked) and
replaces each word by its lemma — pymorphy3 for Cyrillic words, simplemma's English
dictionary for Latin ones, anything else unchanged. It holds only its option, so a model file
stores it as this project's own small type (never a pickled function), and the dictionaries
load lazily once per process.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

_WORD = re.compile(r"\w+")
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"^[a-z]+$", re.IGNORECASE)
_load_lock = threading.Lock()
_morph: Any = None


def _russian() -> Any:
    global _morph
    if _morph is None:
        with _load_lock:
            if _morph is None:
                import pymorphy3

                _morph = pymorphy3.MorphAnalyzer()
    return _morph


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """The dictionary form of one word (the word itself when it is not known)."""
    if _CYRILLIC.search(word):
        return str(_russian().parse(word)[0].normal_form)
    if _LATIN.match(word):
        import simplemma

        return str(simplemma.lemmatize(word, lang="en"))
    return word


class Lemmatizer:
    """A vectorizer preprocessor: lowercase (optionally), then each word → its lemma."""

    def __init__(self, lowercase: bool = True) -> None:
        self.lowercase = lowercase

    def __call__(self, text: str) -> str:
        if self.lowercase:
            text = text.lower()
        return _WORD.sub(lambda match: lemma(match.group(0)), text)

    def __eq__(self, other: object) -> bool:
        return type(other) is Lemmatizer and other.lowercase == self.lowercase

    def __hash__(self) -> int:
        return hash((Lemmatizer, self.lowercase))

    def __repr__(self) -> str:
        return f"Lemmatizer(lowercase={self.lowercase})"
