"""Content terms of a text: lower-cased words without stop words, stemmed (Snowball).

Used wherever words are compared rather than vectors: answer-sentence selection and
the "are the question's terms even here?" signal for abstention.
"""

from __future__ import annotations

import re
import threading

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
# Question words carry no topic: "how many" must not match "many" in a passage.
STOPWORDS = frozenset(STOPWORDS_EN_PLUS) | {"s", "t", "said", "says", "also", "many", "much", "ever", "one"}


_local = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    # PyStemmer's stemmers (and their word caches) are not thread-safe: one per thread.
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return stemmer


def _words(text: str) -> list[str]:
    return [w.replace("’", "'").split("'")[0] for w in TOKEN.findall(text.lower())]


def stop_words(text: str) -> list[str]:
    """The stop words of ``text`` (the English function words the analyser knows and drops).

    >>> stop_words("Who did he meet there?")
    ['who', 'did', 'he', 'there']
    """
    return [w for w in _words(text) if w in STOPWORDS]


def content_terms(text: str) -> list[str]:
    """Stemmed non-stop-words of ``text`` in order.

    >>> content_terms("How many troops train at the centre?")
    ['troop', 'train', 'centr']
    """
    return _stemmer().stemWords([w for w in _words(text) if w and w not in STOPWORDS])
