"""Answer composers: turn retrieved passages into an answer whose every claim is cited.

The extractive composer writes nothing of its own: its answer is a few sentences
quoted verbatim from the passages, each followed by ``[n]``. When no sentence is
relevant enough it abstains rather than quote something off-topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from rag.answer.abstention import AbstentionModel, expected_answer_present, features, holding_kind, ruled_out, shipped_model
from rag.answer.answer_types import expected_kinds
from rag.embed.embedding import Embedder
from rag.answer.entities import Entity, answer_entities, tag_all
from rag.schema import Answer, Citation, Passage
from rag.text.sentences import SentenceSplitter
from rag.text.terms import content_terms

NOT_FOUND = "Not found in these articles."
# Weights of the relevance signals of a sentence: its own similarity to the question,
# the similarity of the passage around it (context a lone sentence lacks), the share
# of the question's content terms it contains (names, numbers, units that a small
# embedding model blurs together), and whether it holds the kind of thing asked for
# (a number for "how many", a date for "when", a name for "who").
SENTENCE_WEIGHT, PASSAGE_WEIGHT, TERMS_WEIGHT, TYPE_WEIGHT = 0.5, 0.3, 0.2, 0.1
# Two quotes this similar say the same thing: keep only the better one.
REDUNDANT = 0.9
# The answer sentence is looked for among this many best sentences (each is entity-tagged).
ANSWER_WINDOW = 5


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, with its offsets in the article and its relevance."""

    passage: Passage
    start: int
    end: int
    text: str
    relevance: float = 0.0
    similarity: float = 0.0


def term_overlap(question_terms: set[str], text: str) -> float:
    """Share of the question's content terms that occur in ``text``."""
    if not question_terms:
        return 0.0
    return len(question_terms & set(content_terms(text))) / len(question_terms)


def passage_similarity(passage: Passage) -> float:
    """The passage's cosine to the query (its score when the retriever gave no separate one)."""
    return passage.score if passage.similarity is None else passage.similarity


def candidates(passages: list[Passage], splitter: SentenceSplitter) -> list[Candidate]:
    """Every distinct sentence of the passages, with article offsets."""
    seen: set[tuple[str, int, int]] = set()
    found = []
    for passage in passages:
        for start, end in splitter.spans(passage.text):
            key = (passage.doc_id, passage.start + start, passage.start + end)
            if key not in seen:
                seen.add(key)
                found.append(Candidate(passage, key[1], key[2], passage.text[start:end]))
    return found


def restates(question: str, sentence: str) -> bool:
    """A sentence that asks ("...?") or adds no content word beyond the question's is no answer."""
    if sentence.rstrip().rstrip("\"'”’)").endswith("?"):
        return True
    return set(content_terms(sentence)) <= set(content_terms(question))


def _nearest(entities: list[Entity], sentence: str, question: str) -> Entity:
    """The entity closest to where the sentence uses the question's words (first one on ties)."""
    asked = set(content_terms(question))
    anchors = [m.start() for m in re.finditer(r"[^\W_]+", sentence) if set(content_terms(m.group())) & asked]
    if not anchors:
        return entities[0]
    return min(entities, key=lambda e: min(abs(a - e.start) for a in anchors))


@dataclass(frozen=True)
class AnswerSpan:
    """Where the asked-for thing is: the index of its sentence among the ranked ones, and the entity."""

    index: int
    entity: Entity


def find_answer(question: str, ranked: list["Candidate"], window: int = ANSWER_WINDOW) -> AnswerSpan | None:
    """The best-ranked of the first ``window`` sentences that holds an entity of the asked-for kind
    the question does not already name; None when the question asks for no kind or none holds one."""
    kinds = expected_kinds(question)
    if kinds is None:
        return None
    tag_all([question] + [c.text for c in ranked[:window]])  # one spaCy batch; the abstention signals tag them all too
    for i, c in enumerate(ranked[:window]):
        found = answer_entities(c.text, kinds, question)
        if found:
            return AnswerSpan(i, _nearest(found, c.text, question))
    return None


def holding_answer(question: str, ranked: list["Candidate"], window: int = ANSWER_WINDOW) -> frozenset[int]:
    """Indices of the first ``window`` sentences that hold an entity of the asked-for kind."""
    return frozenset(holding_kind(question, [c.text for c in ranked[:window]]) or ())


def abstention(question: str, passages: list[Passage], query: str = "", confidence: float | None = None) -> Answer:
    """The plain "not found" answer, offering the closest passages."""
    return Answer(question=question, text=NOT_FOUND, passages=passages, abstained=True, query=query or question,
                  confidence=confidence)


class ExtractiveComposer:
    """Quotes the most relevant sentences verbatim and cites each one."""

    def __init__(self, embedder: Embedder, splitter: SentenceSplitter, *, max_quotes: int = 3,
                 quote_ratio: float = 0.8, min_relevance: float = 0.2) -> None:
        """Quotes at most ``max_quotes`` sentences, runners-up only within ``quote_ratio`` of the best
        one's relevance; abstains when no sentence reaches ``min_relevance``."""
        self.embedder = embedder
        self.splitter = splitter
        self.max_quotes = max_quotes
        self.quote_ratio = quote_ratio
        self.min_relevance = min_relevance

    def score(self, question: str, found: list[Candidate]) -> tuple[list[Candidate], np.ndarray]:
        """Candidates with relevance filled in, best first, and their vectors."""
        vectors = self.embedder.encode([question] + [c.text for c in found])
        similarity = vectors[1:] @ vectors[0]
        terms = set(content_terms(question))
        scored = [
            Candidate(
                c.passage, c.start, c.end, c.text,
                SENTENCE_WEIGHT * float(sim)
                + PASSAGE_WEIGHT * passage_similarity(c.passage)
                + TERMS_WEIGHT * term_overlap(terms, c.text)
                + TYPE_WEIGHT * expected_answer_present(question, c.text),
                float(sim),
            )
            for c, sim in zip(found, similarity)
        ]
        order = np.argsort([-c.relevance for c in scored], kind="stable")
        return [scored[i] for i in order], vectors[1:][order]

    def select(self, ranked: list[Candidate], vectors: np.ndarray, holding: frozenset[int] = frozenset()) -> list[Candidate]:
        """The best sentence, plus close runners-up that add something new. Runners-up in ``holding``
        (they hold an entity of the asked-for kind) are quoted even when less close: the answer may
        be the second-best sentence while the best only restates the topic."""
        chosen: list[int] = [0]
        for i in range(1, len(ranked)):
            if len(chosen) >= self.max_quotes:
                break
            if ranked[i].relevance < self.quote_ratio * ranked[0].relevance and i not in holding:
                continue
            if max(float(vectors[i] @ vectors[j]) for j in chosen) < REDUNDANT:
                chosen.append(i)
        return [ranked[i] for i in chosen]

    def signals(self, question: str, ranked: list[Candidate], passages: list[Passage]) -> dict[str, float]:
        """The abstention features of this question and its best sentence (see rag.answer.abstention)."""
        best = ranked[0]
        article = "\n".join([best.passage.title] + [p.text for p in passages if p.doc_id == best.passage.doc_id])
        return features(question, [c.text for c in ranked[:ANSWER_WINDOW]], best.similarity, best.relevance,
                        [p.text for p in passages], [passage_similarity(p) for p in passages],
                        best_passage=best.passage.text, article_text=article, article_date=best.passage.date)

    def abstention_signals(self, question: str, passages: list[Passage]) -> dict[str, float] | None:
        """The abstention features of the best sentence for ``question`` in ``passages``; None when
        the passages hold no sentence to weigh (compose then abstains without asking the model)."""
        found = candidates(passages, self.splitter)
        if not found:
            return None
        ranked, _, _ = self.ranked_answers(question, found)
        return self.signals(question, ranked, passages) if ranked else None

    def ranked_answers(self, question: str, found: list[Candidate]) -> tuple[list[Candidate], np.ndarray, AnswerSpan | None]:
        """Scored candidates without the question's own restatements, the answer sentence first."""
        ranked, vectors = self.score(question, found)
        keep = [i for i, c in enumerate(ranked) if not restates(question, c.text)]
        ranked, vectors = [ranked[i] for i in keep], vectors[keep]
        span = find_answer(question, ranked) if ranked else None
        if span is not None and span.index:
            order = [span.index] + [i for i in range(len(ranked)) if i != span.index]
            ranked, vectors = [ranked[i] for i in order], vectors[order]
            span = AnswerSpan(0, span.entity)
        return ranked, vectors, span

    def abstention_model(self) -> AbstentionModel | None:
        """The shipped abstention model, if it was fitted for this embedder."""
        model = shipped_model()
        return model if model is not None and model.fits(self.embedder.name) else None

    def confidence(self, question: str, ranked: list[Candidate], passages: list[Passage]) -> tuple[float | None, bool]:
        """The model's probability that the answer is here (None without a model), and whether to abstain."""
        signals = self.signals(question, ranked, passages)
        model = self.abstention_model()
        if model is None:
            return None, ruled_out(signals)
        probability = model.probability(signals)
        return probability, ruled_out(signals) or probability < model.threshold

    def compose(self, question: str, passages: list[Passage], *, query: str = "") -> Answer:
        found = candidates(passages, self.splitter)
        if not found:
            return abstention(question, passages, query)
        # Sentences are scored against the question as asked: the passages were already found
        # with the (history-expanded) query, and its carried names would favour the old topic.
        ranked, vectors, span = self.ranked_answers(question, found)
        if not ranked:
            return abstention(question, passages, query)
        confidence, unsupported = self.confidence(question, ranked, passages)
        if max(c.relevance for c in ranked[:ANSWER_WINDOW]) < self.min_relevance or unsupported:
            return abstention(question, passages, query, confidence)
        quotes = self.select(ranked, vectors, holding_answer(question, ranked))
        citations = [
            Citation(n, q.passage.doc_id, q.passage.title, q.text, q.start, q.end, q.passage.date, q.passage.source)
            for n, q in enumerate(quotes, start=1)
        ]
        short = ""
        if span is not None:
            first = citations[0]
            start, end = first.start + span.entity.start, first.start + span.entity.end
            citations[0] = replace(first, answer_start=start, answer_end=end)
            short = span.entity.text
        text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
        return Answer(question=question, text=text, citations=citations, passages=passages, query=query or question,
                      confidence=confidence, short=short)
