"""Retrievers: the k passages most relevant to a query, optionally filtered.

``dense`` ranks by embedding cosine, ``bm25`` by BM25, and ``hybrid`` fuses both rankings
by reciprocal-rank fusion; the ``Store`` (local FAISS + bm25s, or Milvus) does the ranking.
All fill ``Passage.similarity`` with the dense cosine so answer composition sees one scale
whichever ranking was used.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping, Protocol

import numpy as np

from rag.embed.embedding import Embedder
from rag.ingest.dates import normalise_date
from rag.errors import UserError
from rag.retrieve.diversity import cap_per_article, collapse_duplicates
from rag.retrieve.fusion import reciprocal_rank_fusion
from rag.retrieve.rerank import CrossEncoderReranker, asks_for_latest, prefer_recent
from rag.schema import Passage
from rag.settings import Settings
from rag.store.local import Filter, Ranked, Store
from rag.retrieve.timeframe import Period

__all__ = ["FILTER_KEYS", "RETRIEVERS", "RankedRetriever", "Retriever", "make_retriever", "parse_filters", "reciprocal_rank_fusion"]

FILTER_KEYS = ("doc_id", "source", "date_from", "date_to")


class Retriever(Protocol):
    def search(self, query: str, k: int, filters: Mapping[str, Any] | None = None, period: Period | None = None) -> list[Passage]:
        """The ``k`` best passages for ``query``, best first, from inside ``period`` where it holds any."""


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _tuple(filters: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    return tuple(_as_list(filters[key])) if filters.get(key) is not None else None


def parse_filters(filters: Mapping[str, Any] | None) -> Filter | None:
    """``filters`` as a store ``Filter`` (None: no filter). Unknown keys and bad dates are user errors."""
    if not filters:
        return None
    unknown = sorted(set(filters) - set(FILTER_KEYS))
    if unknown:
        raise UserError(f"unknown filter(s) {', '.join(unknown)}; use: {', '.join(FILTER_KEYS)}")
    dates = tuple(normalise_date(filters.get(key)) if filters.get(key) else None for key in ("date_from", "date_to"))
    if any(filters.get(key) and not date for key, date in zip(("date_from", "date_to"), dates)):
        raise UserError("date filters take dates such as 2024-05-01")
    return Filter(_tuple(filters, "doc_id"), _tuple(filters, "source"), *dates)


def within(where: Filter | None, period: Period) -> Filter:
    """``where`` narrowed to ``period``: its days when exact, only its end when loose (nothing after as_of)."""
    where = where or Filter()
    start = where.date_from if period.loose else max(filter(None, (where.date_from, period.start)))
    end = min(filter(None, (where.date_to, period.end)))
    return replace(where, date_from=start, date_to=end)


def prefer_period(passages: list[Passage], period: Period, weight: float, fuse) -> list[Passage]:
    """Fuse the relevance order with an inside-the-period-first order (a boost for loose periods)."""
    inside = [i for i, p in enumerate(passages) if period.holds(p.date)]
    if not inside or weight <= 0:
        return passages
    order = inside + [i for i in range(len(passages)) if i not in set(inside)]
    return [passages[i] for i, _ in fuse([list(range(len(passages))), order], [1.0, weight])]


class RankedRetriever:
    """One store ranking (``rank``, per subclass) followed by the shared steps of ``search``.

    Each step is a method: candidates from the store (inside a period where it holds any),
    copies collapsed, a time preference, an optional cross-encoder rerank, a cap per article.
    """

    def __init__(self, store: Store, embedder: Embedder, *, reranker: CrossEncoderReranker | None = None,
                 rerank_candidates: int = Settings.rerank_candidates,
                 duplicate_similarity: float = Settings.duplicate_similarity,
                 period_filter: bool = Settings.period_filter, period_weight: float = Settings.period_weight,
                 recency_weight: float = Settings.recency_weight, rrf_k: float = Settings.rrf_k,
                 max_per_article: int = Settings.max_per_article) -> None:
        self.store = store
        self.embedder = embedder
        self.reranker = reranker
        self.rerank_candidates = rerank_candidates
        self.duplicate_similarity = duplicate_similarity
        self.period_filter = period_filter
        self.period_weight = period_weight
        self.recency_weight = recency_weight
        self.rrf_k = rrf_k
        self.max_per_article = max_per_article

    def search(self, query: str, k: int, filters: Mapping[str, Any] | None = None, period: Period | None = None) -> list[Passage]:
        where = parse_filters(filters)
        vector = self.embedder.encode([query])
        passages, vectors = self.candidates(query, vector, self.depth(k), where, period)
        passages = collapse_duplicates(passages, vectors, self.duplicate_similarity)
        passages = self.prefer_time(query, passages, period)
        passages = self.rerank(query, passages)
        return cap_per_article(passages, k, self.max_per_article)

    def depth(self, k: int) -> int:
        """How deep to rank: collapsing copies and capping articles need spare candidates."""
        return max(3 * k, k + 10, self.rerank_candidates if self.reranker else 0)

    def candidates(self, query: str, vector: np.ndarray, depth: int, where: Filter | None,
                   period: Period | None) -> tuple[list[Passage], np.ndarray]:
        """Passages from inside ``period`` (see ``within``); when it holds none (an undated corpus,
        an as_of past the newest article), from the whole index as filtered by ``where``."""
        if period is not None and self.period_filter:
            passages, vectors = self.passages(self.rank(query, vector, depth, within(where, period)), vector)
            if passages:
                return passages, vectors
        return self.passages(self.rank(query, vector, depth, where), vector)

    def passages(self, ranked: Ranked, vector: np.ndarray) -> tuple[list[Passage], np.ndarray]:
        """The ranked passages with their dense cosine to the query, and their stored vectors."""
        ids = [i for i, _ in ranked]
        passages = self.store.passages(ids, [s for _, s in ranked])
        found = [p.chunk_id for p in passages]
        stored = self.store.vectors_of(found) if found else np.zeros((0, vector.shape[1]), np.float32)
        similarities = stored @ vector[0] if found else []
        return [replace(p, similarity=float(sim)) for p, sim in zip(passages, similarities)], stored

    def prefer_time(self, query: str, passages: list[Passage], period: Period | None) -> list[Passage]:
        """Boost passages inside ``period``, and the newest when the question asks for the latest."""
        if period is not None:
            passages = prefer_period(passages, period, self.period_weight, self.fuse)
        if asks_for_latest(query) or (period is not None and period.latest):
            passages = prefer_recent(passages, self.recency_weight, self.fuse)
        return passages

    def rerank(self, query: str, passages: list[Passage]) -> list[Passage]:
        if not self.reranker:
            return passages
        top = self.rerank_candidates
        return self.reranker.rerank(query, passages[:top]) + passages[top:]

    def fuse(self, rankings: list[list[int]], weights: list[float]) -> Ranked:
        return reciprocal_rank_fusion(rankings, weights, self.rrf_k)

    def rank(self, query: str, vector: np.ndarray, k: int, where: Filter | None) -> Ranked:
        """The store's ranking of the ``k`` best chunks: each subclass's one job."""
        raise NotImplementedError


class DenseRetriever(RankedRetriever):
    """Cosine similarity of normalised embeddings (inner product over unit vectors)."""

    def rank(self, query, vector, k, where):
        return self.store.dense(vector, k, where)


class LexicalRetriever(RankedRetriever):
    """BM25 over the chunk texts (title included)."""

    def rank(self, query, vector, k, where):
        return self.store.lexical(query, k, where)


class HybridRetriever(RankedRetriever):
    """Reciprocal-rank fusion of the dense and BM25 rankings of ``fusion_candidates`` each."""

    def __init__(self, store: Store, embedder: Embedder, *, dense_weight: float = Settings.dense_weight,
                 lexical_weight: float = Settings.lexical_weight,
                 fusion_candidates: int = Settings.fusion_candidates, **shared: Any) -> None:
        super().__init__(store, embedder, **shared)
        self.weights = (dense_weight, lexical_weight)
        self.fusion_candidates = fusion_candidates

    def rank(self, query, vector, k, where):
        depth = max(k, self.fusion_candidates)
        return self.store.hybrid(query, vector, k, depth, where, self.weights, self.rrf_k)


RETRIEVERS = {"dense": DenseRetriever, "bm25": LexicalRetriever, "hybrid": HybridRetriever}
# The settings every ranked retriever takes as keyword parameters.
SHARED_OPTIONS = ("rerank_candidates", "duplicate_similarity", "period_filter", "period_weight", "recency_weight",
                  "rrf_k", "max_per_article")


def make_retriever(name: str, store: Store, embedder: Embedder, settings: Settings) -> Retriever:
    """The retriever called ``name``, its keyword parameters taken from ``settings``; an unknown name lists the choices."""
    if name not in RETRIEVERS:
        raise UserError(f"unknown retriever {name!r}; choose from: {', '.join(RETRIEVERS)}")
    options = {key: getattr(settings, key) for key in SHARED_OPTIONS}
    if name == "hybrid":
        options.update(dense_weight=settings.dense_weight, lexical_weight=settings.lexical_weight,
                       fusion_candidates=settings.fusion_candidates)
    reranker = CrossEncoderReranker(settings.reranker, settings.device) if settings.reranker else None
    return RETRIEVERS[name](store, embedder, reranker=reranker, **options)
