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


# Names and numbers: what a turn or an answer is about (follow-up rewriting, abstention signals).
NAME = re.compile(r"\b(?:[A-Z][\w’'.-]*[A-Za-z0-9]|[A-Z])(?:\s+(?:of|de|la|van|von|al|the)?\s*[A-Z][\w’'.-]*[A-Za-z0-9])*")
NUMBER = re.compile(r"\b\d[\d,.]*(?:%|bn|m|k)?\b")


def names(text: str) -> list[str]:
    """Capitalised phrases not at the start of a sentence, acronyms, and numbers: what a turn is about."""
    found = []
    for match in NAME.finditer(text):
        words = match.group().split()
        while words and words[0].lower() in STOPWORDS:
            words.pop(0)  # "The Chimyon Centre", "Which Uzbek": capitalised by position, not a name
        before = text[: match.start()].rstrip()
        sentence_start = not before or before[-1] in ".?!:\"“”\n"
        if not words or (sentence_start and len(words) == 1 and words[0] == match.group() and not words[0].isupper()):
            continue  # "Meanwhile", "Traveling": a one-word capital at a sentence start is no name
        found.append(" ".join(words))
    return found + NUMBER.findall(text)
