"""What a store is: the ``Store`` Protocol retrieval reads, its ``Filter``, and the ``Generation`` a build writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Protocol

import numpy as np

from rag.schema import Article, Chunk, Passage
from rag.store.chunks_db import StoredChunk

@dataclass(frozen=True)
class Filter:
    """Which passages a search may return: any of these articles and sources, dated in range.

    Dates are ISO days (``2024-05-01``); an undated article fails any date bound.
    """

    doc_ids: tuple[str, ...] | None = None
    sources: tuple[str, ...] | None = None
    date_from: str | None = None
    date_to: str | None = None


Ranked = list[tuple[int, float]]


class Store(Protocol):
    """What retrieval and the UI ask of an index, whichever engine holds it."""

    index_dir: Path
    manifest: dict[str, Any]

    def __len__(self) -> int: ...

    def dense(self, vector: np.ndarray, k: int, where: Filter | None = None) -> Ranked:
        """``(chunk id, cosine)`` of the ``k`` passages nearest ``vector`` (shape 1 x d), best first."""

    def lexical(self, query: str, k: int, where: Filter | None = None) -> Ranked:
        """``(chunk id, score)`` of the ``k`` best BM25 matches for ``query``, best first."""

    def hybrid(self, query: str, vector: np.ndarray, k: int, depth: int, where: Filter | None,
               weights: tuple[float, float], rrf_k: float) -> Ranked:
        """Reciprocal-rank fusion of the dense and BM25 rankings, ``depth`` candidates each."""

    def vectors_of(self, ids: list[int]) -> np.ndarray:
        """The stored (unit-length) vectors of chunk ids, in order."""

    def passages(self, ids: list[int], scores: list[float]) -> list[Passage]:
        """Passages for chunk ids, in the given order."""

    def article(self, doc_id: str) -> Article | None: ...

    def articles(self) -> dict[str, Article]: ...

    def stored_chunks(self) -> dict[str, list["StoredChunk"]]:
        """Chunk rows by doc id, in order (incremental builds reuse them)."""

    def knows_any(self, terms: Iterable[str]) -> bool:
        """Whether any of ``terms`` (stemmed content terms) occurs in the indexed texts."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class Generation:
    """What one build writes: the whole corpus as it now stands.

    ``unchanged`` names the articles whose stored rows are still right: a store that
    writes changes (Milvus) leaves them alone; the local store keeps them from ``base``.
    ``full`` says nothing stored may be kept (first build, other settings or store).
    """

    articles: list[Article]
    chunks: list[tuple[Chunk, str]]
    vectors: np.ndarray
    lexical_texts: list[str]
    manifest: dict[str, Any]
    unchanged: frozenset[str] = frozenset()
    full: bool = True
    # A published lexical generation of exactly these articles and chunks (its files may be reused).
    lexical: Path | None = None
    # The live generation this one changes (local store): chunks of ``unchanged`` articles keep their
    # ids there, the others come with ``ids`` from its "id_limit" up, and ``vectors`` holds only those
    # new rows, appended to its vector index; its SQLite file is copied and patched.
    base: Path | None = None
    # Each chunk's id, in the order of ``chunks`` (None: 0..n-1).
    ids: tuple[int, ...] | None = None
    # What the corpus files held (path -> read_cache.FileRecord) and known BM25 terms by text hash.
    files: dict[str, Any] = field(default_factory=dict)
    terms: dict[str, list[str]] = field(default_factory=dict)
