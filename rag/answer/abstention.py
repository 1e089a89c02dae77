"""Knowing when the answer is not in the articles.

The top cosine alone cannot tell: unanswerable questions about covered topics score as
high as answerable ones. So several signals are combined by a logistic model:

- how similar the best sentence and the best passage are to the question;
- how many of the question's content terms the best sentence, and the top passages, contain;
- whether the names and numbers the question mentions occur in the top passages;
- whether the best sentences hold an entity of the kind asked for (a number for "how many",
  a date for "when", a person or organisation for "who", a place for "where"), by the
  entity tagger, not counting entities the question already names;
- whether the question's own specific constraints (its names, numbers and dates, by the
  tagger) occur in the best sentence's passage ("near" it) and in the top passages;
- the margin between the first two passages;
- the question's words, and its names, numbers and dates (aliases allowed: "5 mln" = "5,000,000",
  "UKIP" = "UK Independence Party"), in the best sentence's article (``article_terms``,
  ``article_constraints``: measured, not fitted by default, see eval/fit_abstention.py).

One signal needs no fitting and is a rule: a year or month the question states ("in March
1985") that the answer's article neither mentions nor is dated in means the article is about
another time, and the assistant abstains (``stated_time``; undated articles never trigger it).

The weights, and the false-abstention budget the threshold is set at, are fitted on the eval sets'
answerable vs unanswerable items by ``python -m eval.fit_abstention`` and shipped in
``abstention.json`` beside this file.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import ClassVar, Sequence

from rag.answer.answer_types import expected_kinds
from rag.answer.entities import answer_entities, covered, found_in, question_constraints, shares_stem
from rag.retrieve.timeframe import MONTHS as MONTH_NUMBERS
from rag.text.terms import content_terms, names

MODEL_FILE = Path(__file__).with_name("abstention.json")
FEATURES = ("sentence_similarity", "passage_similarity", "relevance", "sentence_terms", "passage_terms",
            "names_found", "answer_type", "answer_support", "answer_constraints", "constraints_near",
            "constraints_top", "margin", "article_terms", "article_constraints", "stated_time")
# Signals that decide alone (abstain when 0), outside the fitted model.
RULES = ("stated_time",)
MODEL_FEATURES = tuple(f for f in FEATURES if f not in RULES)
TOP_PASSAGES = 3
MONTHS = tuple(name.lower() for name in MONTH_NUMBERS)  # january .. december, as the time periods read them
YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)s?\b")
# Capitalised in the question: "the most it may hold" names no month.
STATED_MONTH = re.compile(r"\b(" + "|".join(m.capitalize() for m in MONTHS) + r")\b")
MONTH = re.compile(r"\b(" + "|".join(MONTHS) + r")\b", re.I)

NUMBER = re.compile(r"\d")
YEAR_OR_DATE = re.compile(r"\b(1[89]\d\d|20\d\d)\b|\b(january|february|march|april|may|june|july|august|september|"
                          r"october|november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
                          r"yesterday|today|last (?:week|month|year))\b", re.I)
CAPITALISED_INSIDE = re.compile(r"(?<=[a-z,;] )[A-Z][a-z]+")
EXPECTS = (
    (re.compile(r"\bhow (many|much|long|old|far|big|large|high|fast)\b|\bwhat (percentage|proportion|number|amount|score|price)\b", re.I), NUMBER),
    (re.compile(r"\bwhen\b|\bwhat (year|date|day|month)\b|\bwhich (year|date|day|month)\b", re.I), YEAR_OR_DATE),
    (re.compile(r"^\s*(who|whom|whose)\b|\bwhere\b", re.I), CAPITALISED_INSIDE),
)


def expected_answer_present(question: str, sentence: str) -> float:
    """1 when the sentence holds what the question's type asks for (or no type is asked)."""
    for asks, holds in EXPECTS:
        if asks.search(question):
            return float(bool(holds.search(sentence)))
    return 1.0


def _coverage(wanted: set[str], text: str) -> float:
    return len(wanted & set(content_terms(text))) / len(wanted) if wanted else 1.0


def article_coverage(question: str, article_text: str) -> float:
    """Share of the question's content terms (or words sharing their stem) in the answer's article.

    A trap about a covered topic finds an article with its names but not its detail ("Which
    consortium won the contract for the Panama Canal locks?" finds a canal bank, not the locks).

    >>> article_coverage("Which consortium won the Panama Canal contract?", "Canal Bank won a contract.")
    0.5
    """
    wanted = set(content_terms(question))
    if not wanted:
        return 1.0
    have = set(content_terms(article_text))
    return sum(shares_stem(t, have) for t in wanted) / len(wanted)


def names_found(question: str, texts: Sequence[str]) -> float:
    """Share of the question's names and numbers that occur (case-blind) in ``texts``."""
    wanted = {n.lower() for n in names(question)}
    if not wanted:
        return 1.0
    haystack = " ".join(texts).lower()
    return sum(n in haystack for n in wanted) / len(wanted)


def stated_time_found(question: str, article_text: str, date: str | None) -> float:
    """0 when the question states a year or month that the article's text does not mention and its
    date is not in; 1 otherwise (also when the article is undated: nothing to contradict).

    >>> stated_time_found("What was the surplus in February 1985?", "The surplus was 1 bln.", "1987-03-02")
    0.0
    >>> stated_time_found("What was the surplus in March?", "The surplus was 1 bln.", "1987-03-02")
    1.0
    """
    if not date or len(date) < 7 or not date[:4].isdigit() or not date[5:7].isdigit():
        return 1.0
    year, month = int(date[:4]), int(date[5:7])
    text = article_text.lower()
    years = set(YEAR.findall(article_text)) | {str(year)}
    months = {m.lower() for m in MONTH.findall(article_text)} | {MONTHS[month - 1]}
    # "last year" in an article of 1987 speaks of 1986, "next year" of 1988; likewise months.
    for word, step in (("last", -1), ("next", 1)):
        if f"{word} year" in text:
            years.add(str(year + step))
        if f"{word} month" in text:
            months.add(MONTHS[(month - 1 + step) % 12])
    stated_years = set(YEAR.findall(question))
    stated_months = {m.lower() for m in STATED_MONTH.findall(question)}
    return float(stated_years <= years and stated_months <= months)


def answer_type_found(question: str, sentences: Sequence[str]) -> float:
    """1 when one of ``sentences`` holds an entity of the asked-for kind not named in the question
    (or the question asks for no kind), else 0."""
    kinds = expected_kinds(question)
    if kinds is None:
        return 1.0
    return float(any(answer_entities(s, kinds, question) for s in sentences))


def holding_kind(question: str, sentences: Sequence[str]) -> list[int] | None:
    """Indices of the sentences holding an entity of the asked-for kind; None when no kind is asked."""
    kinds = expected_kinds(question)
    return None if kinds is None else [i for i, s in enumerate(sentences) if answer_entities(s, kinds, question)]


def answer_sentences(question: str, sentences: Sequence[str]) -> list[str]:
    """The sentences holding an entity of the asked-for kind; all of them when no kind is asked."""
    holding = holding_kind(question, sentences)
    return list(sentences) if holding is None else [sentences[i] for i in holding]


def features(question: str, best_sentences: Sequence[str], sentence_similarity: float, relevance: float,
             passage_texts: Sequence[str], passage_similarities: Sequence[float],
             best_passage: str = "", article_text: str = "", article_date: str | None = None) -> dict[str, float]:
    """The abstention signals for one question, each roughly in [0, 1].

    ``best_sentences`` are the best-scored candidate sentences, best first: the answer may
    sit in a runner-up ("It cost 42 million pounds.") rather than the best match. A trap
    ("How many spectators attended...?") often finds a number, but in a sentence about
    something else: ``answer_support`` is the best share of the question's terms in a
    sentence that holds the asked-for kind, ``answer_constraints`` the best share of the
    question's names, numbers and dates there. ``article_text`` is what was retrieved of the
    best sentence's article (its title and passages), ``article_date`` that article's date.
    """
    terms = set(content_terms(question))
    constraints = question_constraints(question)
    holding = answer_sentences(question, best_sentences)
    best_sentence = best_sentences[0]
    article = article_text or best_passage or best_sentence
    top = list(passage_texts[:TOP_PASSAGES])
    sims = list(passage_similarities) + [0.0, 0.0]
    return {
        "sentence_similarity": sentence_similarity,
        "passage_similarity": sims[0],
        "relevance": relevance,
        "sentence_terms": _coverage(terms, best_sentence),
        "passage_terms": _coverage(terms, " ".join(top)),
        "names_found": names_found(question, top),
        "answer_type": answer_type_found(question, best_sentences[:TOP_PASSAGES]),
        "answer_support": max((_coverage(terms, s) for s in holding), default=0.0),
        "answer_constraints": max((covered(constraints, s) for s in holding), default=0.0),
        "constraints_near": covered(constraints, best_passage or best_sentence),
        "constraints_top": covered(constraints, " ".join(top)),
        "margin": sims[0] - sims[1],
        "article_terms": article_coverage(question, article),
        "article_constraints": found_in(constraints, article),
        "stated_time": stated_time_found(question, article, article_date),
    }


def ruled_out(signals: dict[str, float]) -> bool:
    """Does a rule signal alone say the answer is not here (e.g. another year than the question's)?"""
    return any(signals.get(name, 1.0) == 0.0 for name in RULES)


@dataclass(frozen=True)
class AbstentionModel:
    """Logistic model of "the answer is in these passages"; abstain below ``threshold``."""

    weights: dict[str, float]
    bias: float
    threshold: float
    # Similarities differ between embedding models: the weights hold only for this one.
    embedding_model: str = ""
    # For fitting (eval/fit_abstention.py): the signals in the order of its rows, the rule signals
    # among them (never weighted: they abstain alone), the fitted rest, and the shipped model's file.
    FEATURES: ClassVar[tuple[str, ...]] = FEATURES
    RULES: ClassVar[tuple[str, ...]] = RULES
    FITTED: ClassVar[tuple[str, ...]] = MODEL_FEATURES
    SHIPPED: ClassVar[Path] = MODEL_FILE

    def fits(self, embedder_name: str) -> bool:
        """Was the model fitted on this embedder's similarities (any runtime backend)?"""
        return embedder_name.split("+")[0].lower() == self.embedding_model.lower()

    def probability(self, signals: dict[str, float]) -> float:
        z = self.bias + sum(self.weights.get(name, 0.0) * value for name, value in signals.items())
        return 1.0 / (1.0 + math.exp(-z))

    def to_dict(self) -> dict:
        return {"weights": self.weights, "bias": self.bias, "threshold": self.threshold,
                "embedding_model": self.embedding_model}


@lru_cache(maxsize=1)
def shipped_model() -> AbstentionModel | None:
    """The fitted model shipped with the package (None if it has not been fitted yet)."""
    if not MODEL_FILE.is_file():
        return None
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    return AbstentionModel(data["weights"], data["bias"], data["threshold"], data.get("embedding_model", ""))
