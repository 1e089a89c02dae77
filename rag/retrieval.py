"""Retrievers: the k passages most similar to a query, optionally filtered."""

from __future__ import annotations

from typing import Any, Mapping, Protocol

import faiss
import numpy as np

from rag.embedding import Embedder
from rag.errors import UserError
from rag.schema import Passage
from rag.store import IndexStore

FILTER_KEYS = ("doc_id", "source")


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
    return store.chunk_ids(doc_ids, sources)


class DenseRetriever:
    """Cosine similarity of normalised embeddings, exact inner-product search in FAISS."""

    def __init__(self, store: IndexStore, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder

    def search(self, query: str, k: int, filters: Mapping[str, Any] | None = None) -> list[Passage]:
        ids = allowed_ids(self.store, filters)
        if ids is not None and len(ids) == 0:
            return []
        vector = self.embedder.encode([query])
        k = min(k, len(self.store) if ids is None else len(ids))
        if k <= 0:
            return []
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids)) if ids is not None else None
        scores, found = self.store.vectors.search(vector, k, params=params)
        hits = [(int(i), float(s)) for i, s in zip(found[0], scores[0]) if i >= 0]
        return self.store.passages([i for i, _ in hits], [s for _, s in hits])


RETRIEVERS = {"dense": DenseRetriever}


def make_retriever(name: str, store: IndexStore, embedder: Embedder) -> Retriever:
    """The retriever called ``name``; an unknown name lists the choices."""
    if name not in RETRIEVERS:
        raise UserError(f"unknown retriever {name!r}; choose from: {', '.join(RETRIEVERS)}")
    return RETRIEVERS[name](store, embedder)
