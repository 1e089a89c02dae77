"""BM25 in segments, scored at query time with the live chunks' statistics: updates add a segment.

bm25s stores each (term, chunk) score with the corpus-wide IDF and average length baked in, so
any change means building it again (10 s at 115k passages). Here each segment stores raw term
counts (a CSC matrix: per term, its chunk ids and counts) and its chunks' lengths; a query
computes Lucene's BM25 (the variant and parameters of ``rag.store.bm25.PARAMS``) from the live
chunks only: N, the average length and each term's document frequency leave out the chunks
that are gone (tombstones: ids the SQLite file no longer holds). Scores are therefore those of
one index built afresh over the live chunks. An update writes one small segment of its new
chunks and hard-links the others; compaction (rag/store/writing.py) folds them into one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.store.bm25 import PARAMS
from rag.text.terms import content_terms

LEXICAL_DIR = "lexical"
# A chunk with no content terms still counts (length 1), as bm25s's placeholder token made it.
EMPTY = "\u2400"
# A segment's arrays on disk (raw little-endian files, name.bin) and their types.
ARRAYS = {"indptr": "<i8", "ids": "<i8", "counts": "<f4", "chunk_ids": "<i8", "lengths": "<f4"}


@dataclass(frozen=True)
class Segment:
    """Term counts of some chunks: term ``t``'s postings are ``ids[indptr[t]:indptr[t+1]]`` with ``counts``."""

    terms: tuple[str, ...]
    indptr: np.ndarray
    ids: np.ndarray
    counts: np.ndarray
    chunk_ids: np.ndarray
    lengths: np.ndarray

    @classmethod
    def build(cls, chunk_ids: list[int], terms: list[list[str]]) -> "Segment":
        """A segment of ``chunk_ids`` whose content terms are ``terms`` (one list per chunk)."""
        vocabulary: dict[str, int] = {}
        columns, rows = [], []
        for row, chunk_terms in enumerate(terms):
            for term in chunk_terms or [EMPTY]:
                columns.append(vocabulary.setdefault(term, len(vocabulary)))
                rows.append(row)
        n = max(len(terms), 1)
        pairs, counts = np.unique(np.asarray(columns, np.int64) * n + np.asarray(rows, np.int64), return_counts=True)
        indptr = np.zeros(len(vocabulary) + 1, np.int64)
        np.cumsum(np.bincount(pairs // n, minlength=len(vocabulary)), out=indptr[1:])
        ids = np.asarray(chunk_ids, np.int64)
        lengths = np.asarray([max(len(t), 1) for t in terms], np.float32)
        return cls(tuple(vocabulary), indptr, ids[pairs % n], counts.astype(np.float32), ids, lengths)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        (folder / "terms.json").write_text(json.dumps(list(self.terms)), encoding="utf-8")
        for name, dtype in ARRAYS.items():
            np.ascontiguousarray(getattr(self, name), dtype=dtype).tofile(folder / f"{name}.bin")

    @classmethod
    def load(cls, folder: Path) -> "Segment":
        # Raw arrays, not .npy: np.load parses each header with ast.literal_eval, and CPython 3.11's
        # AST conversion is not safe across threads ("AST constructor recursion depth mismatch",
        # seen with two readers loading while builds switched generations).
        arrays = [np.fromfile(folder / f"{name}.bin", dtype=dtype) for name, dtype in ARRAYS.items()]
        return cls(tuple(json.loads((folder / "terms.json").read_text(encoding="utf-8"))), *arrays)


def segment_names(folder: Path) -> list[str]:
    """The segment folders of a lexical index, oldest first."""
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name.startswith("seg-"))


def missing_files(folder: Path) -> list[str]:
    """The files a lexical index in ``folder`` lacks (paths starting with its name); empty when it is whole."""
    if not folder.is_dir():
        return [folder.name]
    needed = ["terms.json", *(f"{name}.bin" for name in ARRAYS)]
    return [f"{folder.name}/{name}/{file}" for name in segment_names(folder) for file in needed if not (folder / name / file).is_file()]


def write_segment(folder: Path, chunk_ids: list[int], terms: list[list[str]], number: int) -> None:
    """Save a segment of these chunks as ``folder/seg-NNNNNN``."""
    Segment.build(chunk_ids, terms).save(folder / f"seg-{number:06d}")


class LexicalIndex:
    """The live chunks' BM25 over every segment in ``folder``; ``live`` are the chunk ids that count."""

    def __init__(self, folder: Path, live: np.ndarray) -> None:
        self.segments = [Segment.load(folder / name) for name in segment_names(folder)]
        limit = max([int(live.max(initial=-1)) + 1] + [int(s.chunk_ids.max(initial=-1)) + 1 for s in self.segments])
        self.live = np.zeros(limit, bool)
        self.live[live] = True
        self.lengths = np.zeros(limit, np.float32)
        for segment in self.segments:
            self.lengths[segment.chunk_ids] = segment.lengths
        self.size = int(self.live.sum())
        self.average = float(self.lengths[self.live].sum()) / max(self.size, 1)
        self.columns = [{term: i for i, term in enumerate(s.terms)} for s in self.segments]
        self.vocabulary = frozenset(self._live_terms())

    def _live_terms(self) -> set[str]:
        terms: set[str] = set()
        for segment in self.segments:
            alive = np.add.reduceat(self.live[segment.ids], segment.indptr[:-1]) if len(segment.ids) else []
            empty = segment.indptr[1:] == segment.indptr[:-1]  # reduceat gives a value for empty ranges too
            terms.update(t for t, n, e in zip(segment.terms, alive, empty) if n and not e)
        return terms

    def _postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Live chunk ids holding ``term`` and its counts there, over every segment."""
        ids, counts = [], []
        for segment, columns in zip(self.segments, self.columns):
            column = columns.get(term)
            if column is not None:
                start, end = segment.indptr[column], segment.indptr[column + 1]
                keep = self.live[segment.ids[start:end]]
                ids.append(segment.ids[start:end][keep])
                counts.append(segment.counts[start:end][keep])
        return (np.concatenate(ids), np.concatenate(counts)) if ids else (np.zeros(0, np.int64), np.zeros(0, np.float32))

    def scores(self, terms: list[str]) -> np.ndarray:
        """BM25 (Lucene) of every chunk id for these query terms (a repeated term counts again, as in bm25s)."""
        k1, b = PARAMS["k1"], PARAMS["b"]
        scores = np.zeros(len(self.live), np.float32)
        for term in terms:
            ids, counts = self._postings(term)
            if len(ids):
                idf = math.log(1 + (self.size - len(ids) + 0.5) / (len(ids) + 0.5))
                norm = k1 * ((1 - b) + b * self.lengths[ids] / self.average)
                scores[ids] += np.float32(idf) * (counts / (norm + counts))
        return scores

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """``(chunk id, score)`` of the best ``k`` chunks with a positive score (among ``allowed`` ids)."""
        terms = [t for t in content_terms(query) if t in self.vocabulary]
        if not terms or k <= 0:
            return []
        scores = self.scores(terms)
        if allowed is not None:
            mask = np.zeros_like(scores)
            mask[allowed] = 1.0
            scores *= mask
        # bm25s's own top-k selection (argpartition, then argsort reversed), so that exact ties come
        # out as they did from bm25s (retrieval and its tests were tuned with that order).
        k = min(k, len(scores))
        part = np.argpartition(scores, -k)[-k:]
        top = part[np.flip(np.argsort(scores[part]))]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
