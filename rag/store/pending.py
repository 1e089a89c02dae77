"""Answering from a lexical generation: BM25 while a first build is still embedding.

A lexical generation (``store.pending_vectors``) holds texts, chunks and BM25 but no
vectors. Retrieval still asks for the passages' vectors (the composer's similarities,
duplicate collapsing), so ``PendingVectors`` gives them from the build's embedding cache
where the build has got to them, and embeds the rest of the few passages asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rag.text.chunking import embedding_text
from rag.embed.embedding import Embedder, EmbeddingCache, text_hash
from rag.store.local import CACHE_DB, Store, embedding_progress


class PendingVectors:
    """A lexical-generation store whose ``vectors_of`` embeds the passages asked for.

    Everything else is the wrapped store's: its dense ranking is empty and its hybrid
    ranking is BM25's, so every retriever answers from BM25.
    """

    def __init__(self, store: Store, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder

    def vectors_of(self, ids: list[int]) -> np.ndarray:
        if not ids:
            return np.zeros((0, self.embedder.dimension), np.float32)
        texts = {p.chunk_id: embedding_text(p.title, p.text) for p in self.store.passages(ids, [0.0] * len(ids))}
        hashes = {i: text_hash(text) for i, text in texts.items()}
        vectors = _cached(Path(self.store.index_dir), self.embedder.name, list(hashes.values()))
        missing = [i for i in texts if hashes[i] not in vectors]
        if missing:
            vectors.update(zip((hashes[i] for i in missing), self.embedder.encode([texts[i] for i in missing])))
        return np.stack([vectors[hashes[i]] for i in ids]).astype(np.float32)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def __len__(self) -> int:
        return len(self.store)


def _cached(index_dir: Path, model: str, hashes: list[str]) -> dict[str, np.ndarray]:
    if not (index_dir / CACHE_DB).is_file():
        return {}
    try:
        return EmbeddingCache(index_dir / CACHE_DB).get(model, hashes)
    except Exception:  # the build's cache busy or half-created: embed them here instead
        return {}


def pending_note(index_dir: str | Path, model: str) -> str:
    """What an answer from a lexical generation says about itself, with the build's progress."""
    progress = embedding_progress(index_dir, model)
    done = f" ({progress[0]:,} of {progress[1]:,} passages embedded so far)" if progress else ""
    return (
        "Answered from keyword search (BM25) only: this index is still being built and its passage vectors "
        f"are not ready{done}. Hybrid search takes over when the build finishes."
    )
