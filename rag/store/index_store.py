"""The local store, read side: one generation's FAISS vectors, bm25s model and SQLite texts."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import faiss
import numpy as np

from rag.errors import UserError
from rag.retrieve.fusion import reciprocal_rank_fusion
from rag.schema import Article, Passage
from rag.store.bm25 import BM25_DIR, bm25_search, load_bm25
from rag.store.lexical import LEXICAL_DIR, LexicalIndex
from rag.store.chunks_db import StoredChunk, _connect_readonly
from rag.store.generations import (
    CHUNKS_DB, OPEN_ATTEMPTS, VECTORS, _generation_path, _live, _with_store, check_index_folder, check_manifest,
    pending_vectors, rebuild_hint,
)
from rag.store.protocol import Filter, Ranked
from rag.store.vectors import HNSWVectors, one_thread, read_vector_index

@dataclass(frozen=True)
class ChunkFacets:
    """What a filter asks of each chunk, one array row per chunk: its id, article, source and
    date (first ten characters; ``dated`` False where the article has none)."""

    ids: np.ndarray
    doc_ids: np.ndarray
    sources: np.ndarray
    dates: np.ndarray
    dated: np.ndarray


def _first_line(exc: BaseException) -> str:
    """An exception's message on one line (FAISS's RuntimeErrors carry a multi-line C++ trace)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class IndexStore:
    """The local store, read side: one generation's FAISS vectors, bm25s model and SQLite texts."""

    def __init__(self, index_dir: Path, generation: Path, manifest: dict[str, Any]) -> None:
        self.index_dir = index_dir
        self.generation = generation
        self.manifest = manifest
        # None in a lexical generation (vectors pending); HNSW comes wrapped: filtered search stays exact.
        self.vectors = None if pending_vectors(manifest) else read_vector_index(generation / VECTORS)
        self._db = _connect_readonly(generation / CHUNKS_DB)
        # One connection serves every thread; queries and their fetches run one at a time.
        self._db_lock = threading.Lock()
        live = np.fromiter((row[0] for row in self._rows("SELECT id FROM chunks")), dtype=np.int64)
        self._size = len(live)
        # BM25: segments scored with the live chunks' statistics; generations before them hold one bm25s model.
        self.bm25 = self.lexical_index = None
        if (generation / LEXICAL_DIR).is_dir():
            self.lexical_index = LexicalIndex(generation / LEXICAL_DIR, live)
            self._vocabulary = self.lexical_index.vocabulary
        else:
            self.bm25 = load_bm25(generation / BM25_DIR)
            self._vocabulary = frozenset(self.bm25.vocab_dict)
        self._chunk_facets: ChunkFacets | None = None  # read on the first filtered search
        self._skip_dead = self._tombstones(live) if self.vectors is not None and self.vectors.ntotal > self._size else None

    def _tombstones(self, live: np.ndarray) -> faiss.SearchParameters:
        """Search parameters that skip the vector rows of removed chunks (ids no chunk holds now).

        An HNSW graph walks through them but never returns them (FAISS filters during the search)."""
        dead = np.setdiff1d(np.arange(self.vectors.ntotal, dtype=np.int64), live)
        self._dead = faiss.IDSelectorBatch(dead)  # kept referenced: FAISS holds only a pointer
        self._not_dead = faiss.IDSelectorNot(self._dead)
        if isinstance(self.vectors, HNSWVectors):
            return faiss.SearchParametersHNSW(sel=self._not_dead, efSearch=self.vectors.index.hnsw.efSearch)
        return faiss.SearchParameters(sel=self._not_dead)

    @classmethod
    def open(cls, index_dir: str | Path, expected: dict[str, Any] | None = None) -> "IndexStore":
        """Open the live generation, checking its manifest against ``expected`` settings."""
        index_dir = Path(index_dir)
        check_index_folder(index_dir)
        for attempt in range(OPEN_ATTEMPTS):
            live = _live(index_dir)
            if live is None:
                raise UserError(f"no index found in {index_dir}; build one with: rag index CORPUS --index {index_dir}")
            generation, manifest = live[0], _with_store(live[1])
            check_manifest(manifest, index_dir, expected)
            try:
                return cls(index_dir, generation, manifest)
            except (OSError, RuntimeError, ValueError, sqlite3.DatabaseError) as exc:
                if _generation_path(index_dir) == generation or attempt == OPEN_ATTEMPTS - 1:
                    # not a generation switch: a file of the live generation is missing or unreadable
                    raise UserError(
                        f"the index in {index_dir} is damaged ({_first_line(exc)}); {rebuild_hint(index_dir, manifest)}"
                    ) from exc
                time.sleep(0.05)  # a build replaced it while we read it: open the new one
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._db.close()

    def __len__(self) -> int:
        return int(self._size)

    @property
    def pending(self) -> bool:
        """Whether this is a lexical generation: BM25 answers while the build embeds."""
        return self.vectors is None

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        with self._db_lock:
            return self._db.execute(sql, list(params)).fetchall()

    def knows_any(self, terms: Iterable[str]) -> bool:
        """Whether any of ``terms`` (content terms) occurs in the indexed texts."""
        return any(term in self._vocabulary for term in terms)

    def articles(self) -> dict[str, Article]:
        rows = self._rows("SELECT doc_id, title, text, date, source, url, content_hash FROM articles")
        return {row[0]: Article(*row) for row in rows}

    def article(self, doc_id: str) -> Article | None:
        rows = self._rows("SELECT doc_id, title, text, date, source, url, content_hash FROM articles WHERE doc_id = ?", (doc_id,))
        return Article(*rows[0]) if rows else None

    def stored_chunks(self) -> dict[str, list[StoredChunk]]:
        """Chunk rows by doc id, in order."""
        by_doc: dict[str, list[StoredChunk]] = {}
        for row in self._rows("SELECT doc_id, ordinal, start, end, embed_hash FROM chunks ORDER BY id"):
            by_doc.setdefault(row[0], []).append(StoredChunk(*row))
        return by_doc

    def chunk_ids(
        self,
        doc_ids: Iterable[str] | None = None,
        sources: Iterable[str] | None = None,
        dates: tuple[str | None, str | None] = (None, None),
    ) -> np.ndarray:
        """Ids of the chunks of the given articles, sources and date range (for filtered search).

        Dates are ISO strings, so they compare as text (their first ten characters); undated
        articles fail any date bound.
        """
        facets = self._facets()
        keep = np.ones(len(facets.ids), dtype=bool)
        if doc_ids is not None:
            keep &= np.isin(facets.doc_ids, np.array(list(doc_ids), dtype=object))
        if sources is not None:
            keep &= np.isin(facets.sources, np.array(list(sources), dtype=object))
        date_from, date_to = dates
        if date_from:
            keep &= facets.dated & (facets.dates >= date_from)
        if date_to:
            keep &= facets.dated & (facets.dates <= date_to)
        return facets.ids[keep]

    def _facets(self) -> ChunkFacets:
        """Each chunk's article, source and date, read once: a period question filtered 6,000
        Reuters chunks in SQLite in about 20 ms; on these arrays it is well under one."""
        if self._chunk_facets is None:
            rows = self._rows("SELECT c.id, a.doc_id, a.source, a.date FROM chunks c JOIN articles a USING (doc_id)")
            self._chunk_facets = ChunkFacets(
                ids=np.array([r[0] for r in rows], dtype=np.int64),
                doc_ids=np.array([r[1] for r in rows], dtype=object),
                sources=np.array([r[2] for r in rows], dtype=object),
                dates=np.array([(r[3] or "")[:10] for r in rows], dtype="<U10"),
                dated=np.array([r[3] is not None for r in rows], dtype=bool),
            )
        return self._chunk_facets

    def _allowed(self, where: Filter | None) -> np.ndarray | None:
        if where is None:
            return None
        return self.chunk_ids(where.doc_ids, where.sources, (where.date_from, where.date_to))

    def _dense(self, vector: np.ndarray, k: int, ids: np.ndarray | None) -> Ranked:
        k = min(k, len(self) if ids is None else len(ids))
        if k <= 0 or self.vectors is None:  # a lexical generation ranks nothing by vector
            return []
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids)) if ids is not None else self._skip_dead
        with one_thread():  # a single query: OpenMP threads cost more than they split
            scores, found = self.vectors.search(vector, k, params=params)
        return [(int(i), float(s)) for i, s in zip(found[0], scores[0]) if i >= 0]

    def dense(self, vector: np.ndarray, k: int, where: Filter | None = None) -> Ranked:
        return self._dense(vector, k, self._allowed(where))

    def lexical(self, query: str, k: int, where: Filter | None = None) -> Ranked:
        ids = self._allowed(where)
        return [] if ids is not None and len(ids) == 0 else self._bm25(query, k, ids)

    def _bm25(self, query: str, k: int, ids: np.ndarray | None) -> Ranked:
        """BM25's ranking of chunk ids, best first."""
        if self.lexical_index is not None:
            return self.lexical_index.search(query, min(k, len(self)), ids)
        return bm25_search(self.bm25, len(self), query, k, ids)

    def hybrid(self, query, vector, k, depth, where, weights, rrf_k) -> Ranked:
        ids = self._allowed(where)  # once for both rankings
        if ids is not None and len(ids) == 0:
            return []
        lexical = [i for i, _ in self._bm25(query, depth, ids)]
        if self.vectors is None:
            return reciprocal_rank_fusion([lexical], [weights[1]], rrf_k)[:k]
        dense = [i for i, _ in self._dense(vector, depth, ids)]
        return reciprocal_rank_fusion([dense, lexical], list(weights), rrf_k)[:k]

    def vectors_of(self, ids: list[int]) -> np.ndarray:
        if self.vectors is None:
            raise UserError(f"index {self.index_dir} holds no vectors yet (its build is embedding); open it with rag.Assistant")
        return self.vectors.reconstruct_batch(np.asarray(ids, dtype=np.int64)) if ids else np.zeros((0, self.vectors.d), np.float32)

    def passages(self, ids: list[int], scores: list[float]) -> list[Passage]:
        """Passages for chunk ids, in the given order."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self._rows(
            f"SELECT c.id, c.doc_id, a.title, substr(a.text, c.start + 1, c.end - c.start), c.start, c.end, "
            f"a.date, a.source FROM chunks c JOIN articles a USING (doc_id) WHERE c.id IN ({marks})",
            ids,
        )
        by_id = {row[0]: row for row in rows}
        return [
            Passage(chunk_id=i, doc_id=r[1], title=r[2], text=r[3], start=r[4], end=r[5], score=float(s), date=r[6], source=r[7])
            for i, s in zip(ids, scores)
            if (r := by_id.get(i))
        ]
