"""Retrievers: the k passages most relevant to a query, optionally filtered.

``dense`` ranks by embedding cosine (FAISS), ``bm25`` by BM25 (bm25s), and ``hybrid``
fuses both rankings by reciprocal-rank fusion. All fill ``Passage.similarity`` with
the dense cosine so answer composition sees one scale whichever ranking was used.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping, Protocol

import faiss
import numpy as np

from rag.embedding import Embedder
from rag.dates import normalise_date
from rag.errors import UserError
from rag.diversity import cap_per_article, collapse_duplicates
from rag.lexical import bm25_search
from rag.rerank import CrossEncoderReranker, asks_for_latest, prefer_recent
from rag.schema import Passage
from rag.settings import Settings
from rag.store import IndexStore

FILTER_KEYS = ("doc_id", "source", "date_from", "date_to")


class Retriever(Protocol):
    def search(self, query: str, k: int, filters: Mapping[str, Any] | None = None) -> list[Passage]:
        """The ``k`` best passages for ``query``, best first."""


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]


def allowed_ids(store: IndexStore, filters: Mapping[str, Any] | None) -> np.ndarray | None:
    """Chunk ids that pass ``filters`` (None: no filter). Unknown keys are a user error."""
    if not filters:
        return None
    unknown = sorted(set(filters) - set(FILTER_KEYS))
    if unknown:
        raise UserError(f"unknown filter(s) {', '.join(unknown)}; use: {', '.join(FILTER_KEYS)}")
    doc_ids = _as_list(filters["doc_id"]) if filters.get("doc_id") is not None else None
    sources = _as_list(filters["source"]) if filters.get("source") is not None else None
    dates = tuple(normalise_date(filters.get(key)) if filters.get(key) else None for key in ("date_from", "date_to"))
    if any(filters.get(key) and not date for key, date in zip(("date_from", "date_to"), dates)):
        raise UserError("date filters take dates such as 2024-05-01")
    return store.chunk_ids(doc_ids, sources, dates)


def reciprocal_rank_fusion(rankings: list[list[int]], weights: list[float], k: float) -> list[tuple[int, float]]:
    """Fuse ranked id lists: score(id) = sum of weight / (k + rank), ranks counted from 1.

    ``k`` (60 in the original paper) damps the head of each list, so an item ranked
    well by both retrievers beats one ranked first by only one of them.
    """
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda pair: -pair[1])


class _Base:
    def __init__(self, store: IndexStore, embedder: Embedder, settings: Settings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.reranker = CrossEncoderReranker(settings.reranker, settings.device) if settings.reranker else None

    def _dense(self, vector: np.ndarray, k: int, ids: np.ndarray | None) -> list[tuple[int, float]]:
        k = min(k, len(self.store) if ids is None else len(ids))
        if k <= 0:
            return []
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids)) if ids is not None else None
        scores, found = self.store.vectors.search(vector, k, params=params)
        return [(int(i), float(s)) for i, s in zip(found[0], scores[0]) if i >= 0]

    def _passages(self, ranked: list[tuple[int, float]], vector: np.ndarray) -> tuple[list[Passage], np.ndarray]:
        ids = [i for i, _ in ranked]
        passages = self.store.passages(ids, [s for _, s in ranked])
        stored = self.store.vectors.reconstruct_batch(np.asarray(ids, dtype=np.int64)) if ids else np.zeros((0, 1))
        similarities = stored @ vector[0] if ids else []
        return [replace(p, similarity=float(sim)) for p, sim in zip(passages, similarities)], stored

    def search(self, query: str, k: int, filters: Mapping[str, Any] | None = None) -> list[Passage]:
        ids = allowed_ids(self.store, filters)
        if ids is not None and len(ids) == 0:
            return []
        vector = self.embedder.encode([query])
        # Rank deeper than k: collapsing copies and capping articles need spare candidates.
        depth = max(3 * k, k + 10, self.settings.rerank_candidates if self.reranker else 0)
        passages, vectors = self._passages(self.rank(query, vector, depth, ids), vector)
        passages = collapse_duplicates(passages, vectors, self.settings.duplicate_similarity)
        if asks_for_latest(query):
            passages = prefer_recent(passages, self.settings.recency_weight, self._fuse)
        if self.reranker:
            top = self.settings.rerank_candidates
            passages = self.reranker.rerank(query, passages[:top]) + passages[top:]
        return cap_per_article(passages, k, self.settings.max_per_article)

    def _fuse(self, rankings: list[list[int]], weights: list[float]) -> list[tuple[int, float]]:
        return reciprocal_rank_fusion(rankings, weights, self.settings.rrf_k)

    def rank(self, query: str, vector: np.ndarray, k: int, ids: np.ndarray | None) -> list[tuple[int, float]]:
        raise NotImplementedError


class DenseRetriever(_Base):
    """Cosine similarity of normalised embeddings, exact inner-product search in FAISS."""

    def rank(self, query, vector, k, ids):
        return self._dense(vector, k, ids)


class LexicalRetriever(_Base):
    """BM25 over the chunk texts (title included)."""

    def rank(self, query, vector, k, ids):
        return bm25_search(self.store.bm25, len(self.store), query, k, ids)


class HybridRetriever(_Base):
    """Reciprocal-rank fusion of the dense and BM25 rankings of ``fusion_candidates`` each."""

    def rank(self, query, vector, k, ids):
        depth = max(k, self.settings.fusion_candidates)
        dense = [i for i, _ in self._dense(vector, depth, ids)]
        lexical = [i for i, _ in bm25_search(self.store.bm25, len(self.store), query, depth, ids)]
        weights = [self.settings.dense_weight, self.settings.lexical_weight]
        return reciprocal_rank_fusion([dense, lexical], weights, self.settings.rrf_k)[:k]


RETRIEVERS = {"dense": DenseRetriever, "bm25": LexicalRetriever, "hybrid": HybridRetriever}


def make_retriever(name: str, store: IndexStore, embedder: Embedder, settings: Settings) -> Retriever:
    """The retriever called ``name``; an unknown name lists the choices."""
    if name not in RETRIEVERS:
        raise UserError(f"unknown retriever {name!r}; choose from: {', '.join(RETRIEVERS)}")
    return RETRIEVERS[name](store, embedder, settings)
