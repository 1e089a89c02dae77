"""Content terms of a text: lower-cased words without stop words, stemmed (Snowball).

Used wherever words are compared rather than vectors: answer-sentence selection and
the "are the question's terms even here?" signal for abstention.
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
# Question words carry no topic: "how many" must not match "many" in a passage.
STOPWORDS = frozenset(STOPWORDS_EN_PLUS) | {"s", "t", "said", "says", "also", "many", "much", "ever", "one"}


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def content_terms(text: str) -> list[str]:
    """Stemmed non-stop-words of ``text`` in order.

    >>> content_terms("How many troops train at the centre?")
    ['troop', 'train', 'centr']
    """
    words = [w.replace("’", "'").split("'")[0] for w in TOKEN.findall(text.lower())]
    return _stemmer().stemWords([w for w in words if w and w not in STOPWORDS])
