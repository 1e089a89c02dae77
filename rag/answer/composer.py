"""Answer composers: turn retrieved passages into an answer whose every claim is cited.

The extractive composer writes nothing of its own: its answer is a few sentences
quoted verbatim from the passages, each followed by ``[n]``. When no sentence is
relevant enough it abstains rather than quote something off-topic.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Sequence, TypeVar

import numpy as np

from rag.answer.abstention import AbstentionModel, expected_answer_present, features, holding_kind, ruled_out, shipped_model
from rag.answer.answer_types import asked_noun, expected_kinds
from rag.embed.embedding import Embedder
from rag.answer.entities import Entity, answer_entities, tag_all
from rag.retrieve.timeframe import LATEST
from rag.schema import Answer, Citation, Passage
from rag.text.sentences import SentenceSplitter
from rag.text.terms import content_terms

NOT_FOUND = "Not found in these articles."
WORD = re.compile(r"[^\W_]+")
T = TypeVar("T")
# Weights of the relevance signals of a sentence: its own similarity to the question,
# the similarity of the passage around it (context a lone sentence lacks), the share
# of the question's content terms it contains, each weighted by how few of the candidate
# sentences hold it (names, numbers, units that a small embedding model blurs together;
# the story's own topic words, in every candidate, single out none), and whether it holds
# the kind of thing asked for (a number for "how many", a date for "when", a name for "who").
# TERMS_WEIGHT chosen on eval/bbc.jsonl (answer hit 87, 92, 93, 94, 93, 92 of 131 at 0.1 to 0.6);
# held out, 0.4 against 0.2: seeds 37 vs 38 of 43, Reuters 160 vs 156 of 186.
SENTENCE_WEIGHT, PASSAGE_WEIGHT, TERMS_WEIGHT, TYPE_WEIGHT = 0.5, 0.3, 0.4, 0.1
# Two quotes this similar say the same thing: keep only the better one.
REDUNDANT = 0.9
# The answer sentence is looked for among this many best sentences (each is entity-tagged):
# on eval/bbc.jsonl 10 found 3 more answers than 5, 20 none more than 10.
ANSWER_WINDOW = 10
# Among those, an entity right beside the question's asked-for noun ("commercial director Andy
# Anson" for "Which commercial director...?") outweighs this much relevance (chosen on eval/bbc.jsonl:
# 0.1 and 0.2 found 1 and 2 more answers than 0, 0.4 no more than 0.2).
PROXIMITY_WEIGHT = 0.2
# "The latest"/"currently": of the sentences scoring within this share of the best (as close as
# the runners-up quoted beside it, ``quote_ratio``), the newest article's comes first.
LATEST_CLOSE = 0.8
# A sentence of a second article is quoted when it holds this share of the question's term weight
# that the first article's quotes lack (1: never). On eval/bbc.jsonl 0.2-0.4 changed no answer, 0.1 lost 3.
SECOND_ARTICLE_GAIN = 0.2
# The abstention signals and the relevance floor look at this many best sentences (as fitted).
SIGNAL_WINDOW = 5


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


def term_weights(question: str, texts: Sequence[str]) -> dict[str, float]:
    """Each content term of ``question`` weighted by its rarity among the candidate sentences
    ``texts`` (an IDF over them): a term few of them hold singles out the answer's sentence.

    >>> w = term_weights("Which car did the protester drive?", ["The protester ran.", "The protester drove a car."])
    >>> w["car"] > w["protest"]
    True
    """
    held = [set(content_terms(t)) for t in texts]
    return {t: math.log(1 + len(held) / (1 + sum(t in h for h in held))) for t in set(content_terms(question))}


def weighted_overlap(weights: dict[str, float], text: str) -> float:
    """Share of the question's term weight that ``text`` holds."""
    total = sum(weights.values())
    if not total:
        return 0.0
    have = set(content_terms(text))
    return sum(w for t, w in weights.items() if t in have) / total


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


def _anchors(sentence: str, question: str) -> list[tuple[int, int]]:
    """Character spans of the sentence's words that are the question's asked-for noun ("director"
    in "Which commercial director...?", "chairman" in "Who is the chairman...?") when it has one,
    else any of its content terms."""
    asked = set(content_terms(asked_noun(question))) or set(content_terms(question))
    return [m.span() for m in WORD.finditer(sentence) if set(content_terms(m.group())) & asked]


def closeness(entity: Entity, sentence: str, question: str) -> float:
    """1 / (1 + words between ``entity`` and the nearest of the question's words in ``sentence``);
    0 when the sentence holds none of them outside the entity."""
    anchors = [a for a in _anchors(sentence, question) if a[1] <= entity.start or a[0] >= entity.end]
    if not anchors:
        return 0.0
    gaps = [sentence[a[1]:entity.start] if a[1] <= entity.start else sentence[entity.end:a[0]] for a in anchors]
    return 1.0 / (1 + min(len(WORD.findall(gap)) for gap in gaps))


@dataclass(frozen=True)
class AnswerSpan:
    """Where the asked-for thing is: the index of its sentence among the ranked ones, and the entity."""

    index: int
    entity: Entity


def find_answer(question: str, ranked: list["Candidate"], window: int | None = None) -> AnswerSpan | None:
    """Of the first ``window`` sentences, the one holding an entity of the asked-for kind the question
    does not already name whose relevance, plus ``PROXIMITY_WEIGHT`` times the entity's closeness to
    the question's words, is highest (for "the latest", the newest article's of those close to it,
    ``newest_close``); None when the question asks for no kind or none holds one."""
    kinds = expected_kinds(question)
    if kinds is None:
        return None
    window = window or ANSWER_WINDOW
    tag_all([question] + [c.text for c in ranked[:window]])  # one spaCy batch; the abstention signals tag them all too
    found: list[tuple[float, AnswerSpan]] = []
    for i, c in enumerate(ranked[:window]):
        held = answer_entities(c.text, kinds, question)
        if held:
            near, entity = max(((closeness(e, c.text, question), e) for e in held), key=lambda pair: pair[0])
            found.append((c.relevance + PROXIMITY_WEIGHT * near, AnswerSpan(i, entity)))
    if not found:
        return None
    if LATEST.search(question):
        return newest_close(found, [ranked[span.index] for _, span in found])[1]
    return max(found, key=lambda f: f[0])[1]  # the first of equals


def newest_close(scored: Sequence[tuple[float, T]], sentences: Sequence["Candidate"]) -> tuple[float, T]:
    """For a question asking for the latest: of the items scoring within ``LATEST_CLOSE`` of the best,
    the one whose sentence's article is newest (then the best-scored; undated articles count as oldest)."""
    top = max(score for score, _ in scored)
    close = [i for i, (score, _) in enumerate(scored) if score >= LATEST_CLOSE * top]
    return scored[max(close, key=lambda i: (sentences[i].passage.date or "", scored[i][0], -i))]


def holding_answer(question: str, ranked: list["Candidate"], window: int | None = None) -> frozenset[int]:
    """Indices of the first ``window`` (default ``ANSWER_WINDOW``) sentences that hold an entity of the asked-for kind."""
    return frozenset(holding_kind(question, [c.text for c in ranked[:window or ANSWER_WINDOW]]) or ())


@dataclass(frozen=True)
class Ranking:
    """The sentences of the passages found for a question as the extractive composer ranks them:
    the question's own restatements left out, the sentence holding the answer first, and the
    answer ``span`` (``AnswerSpan.index`` 0) when one was found."""

    passages: list[Passage]
    sentences: list[Candidate]
    span: AnswerSpan | None = None


def abstention(question: str, passages: list[Passage], query: str = "", confidence: float | None = None) -> Answer:
    """The plain "not found" answer, offering the closest passages."""
    return Answer(question=question, text=NOT_FOUND, passages=passages, abstained=True, query=query or question,
                  confidence=confidence)


class ExtractiveComposer:
    """Quotes the most relevant sentences verbatim and cites each one."""

    def __init__(self, embedder: Embedder, splitter: SentenceSplitter, *, max_quotes: int = 3,
                 quote_ratio: float = 0.8, min_relevance: float = 0.2, max_sentences: int = 15) -> None:
        """Quotes at most ``max_quotes`` sentences, runners-up only within ``quote_ratio`` of the best
        one's relevance; abstains when no sentence reaches ``min_relevance``. Embeds at most
        ``max_sentences`` candidate sentences (0: all), those with the most evidence besides their
        own vector (``evidence``): embedding them is most of an answer's time."""
        self.embedder = embedder
        self.splitter = splitter
        self.max_quotes = max_quotes
        self.quote_ratio = quote_ratio
        self.min_relevance = min_relevance
        self.max_sentences = max_sentences

    def evidence(self, question: str, found: list[Candidate]) -> list[float]:
        """Each candidate's relevance but for its own similarity to the question: its passage's
        similarity, the question's term weight it holds and whether it holds the asked-for kind."""
        weights = term_weights(question, [c.text for c in found])
        return [
            PASSAGE_WEIGHT * passage_similarity(c.passage)
            + TERMS_WEIGHT * weighted_overlap(weights, c.text)
            + TYPE_WEIGHT * expected_answer_present(question, c.text)
            for c in found
        ]

    def score(self, question: str, found: list[Candidate]) -> tuple[list[Candidate], np.ndarray]:
        """Candidates with relevance filled in, best first, and their vectors (only the
        ``max_sentences`` with the most ``evidence`` when that is set)."""
        evidence = self.evidence(question, found)
        if 0 < self.max_sentences < len(found):
            kept = sorted(np.argsort([-e for e in evidence], kind="stable")[: self.max_sentences])
            found, evidence = [found[i] for i in kept], [evidence[i] for i in kept]
        vectors = self.embedder.encode([question] + [c.text for c in found])
        similarity = vectors[1:] @ vectors[0]
        scored = [
            Candidate(c.passage, c.start, c.end, c.text, SENTENCE_WEIGHT * float(sim) + rest, float(sim))
            for c, sim, rest in zip(found, similarity, evidence)
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

    def with_second_article(self, question: str, ranked: list[Candidate], quotes: list[Candidate]) -> list[Candidate]:
        """``quotes``, all from one article, plus the best sentence of another article among the first
        ``ANSWER_WINDOW`` that holds at least ``SECOND_ARTICLE_GAIN`` of the question's term weight
        (``term_weights``) that no quote holds: a question joining two stories ("The company whose
        dispute drove Texaco into Chapter 11 has a chairman who said...") needs a quote from each.
        It takes the last runner-up's place when ``max_quotes`` are quoted already; the first quote
        (the answer sentence, whose span the citation marks) always stays."""
        docs = {q.passage.doc_id for q in quotes}
        if len(docs) != 1:
            return quotes
        weights = term_weights(question, [c.text for c in ranked])
        total = sum(weights.values())
        held = set().union(*(content_terms(q.text) for q in quotes))
        for c in ranked[:ANSWER_WINDOW]:
            if c.passage.doc_id in docs:
                continue
            terms = set(content_terms(c.text))
            if total and sum(w for t, w in weights.items() if t in terms and t not in held) / total >= SECOND_ARTICLE_GAIN:
                return quotes[: max(1, self.max_quotes - 1)] + [c]
        return quotes

    def signals(self, question: str, ranked: list[Candidate], passages: list[Passage]) -> dict[str, float]:
        """The abstention features of this question and its best sentence (see rag.answer.abstention)."""
        best = ranked[0]
        article = "\n".join([best.passage.title] + [p.text for p in passages if p.doc_id == best.passage.doc_id])
        return features(question, [c.text for c in ranked[:SIGNAL_WINDOW]], best.similarity, best.relevance,
                        [p.text for p in passages], [passage_similarity(p) for p in passages],
                        best_passage=best.passage.text, article_text=article, article_date=best.passage.date)

    def abstention_signals(self, question: str, passages: list[Passage]) -> dict[str, float] | None:
        """The abstention features of the best sentence for ``question`` in ``passages``; None when
        the passages hold no sentence to weigh (compose then abstains without asking the model)."""
        ranked = self.ranking(question, passages).sentences
        return self.signals(question, ranked, passages) if ranked else None

    def ranking(self, question: str, passages: list[Passage]) -> Ranking:
        """The sentences of ``passages`` ranked for ``question`` as ``compose`` ranks them."""
        found = candidates(passages, self.splitter)
        if not found:
            return Ranking(passages, [])
        ranked, _, span = self.ranked_answers(question, found)
        return Ranking(passages, ranked, span)

    def ranked_answers(self, question: str, found: list[Candidate]) -> tuple[list[Candidate], np.ndarray, AnswerSpan | None]:
        """Scored candidates without the question's own restatements, the answer sentence first."""
        ranked, vectors = self.score(question, found)
        keep = [i for i, c in enumerate(ranked) if not restates(question, c.text)]
        ranked, vectors = [ranked[i] for i in keep], vectors[keep]
        if ranked and LATEST.search(question):
            first = newest_close([(c.relevance, i) for i, c in enumerate(ranked[:ANSWER_WINDOW])], ranked)[1]
            order = [first] + [i for i in range(len(ranked)) if i != first]
            ranked, vectors = [ranked[i] for i in order], vectors[order]
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
        if max(c.relevance for c in ranked[:SIGNAL_WINDOW]) < self.min_relevance or unsupported:
            return abstention(question, passages, query, confidence)
        quotes = self.select(ranked, vectors, holding_answer(question, ranked))
        if SECOND_ARTICLE_GAIN < 1:
            quotes = self.with_second_article(question, ranked, quotes)
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
