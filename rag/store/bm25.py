"""BM25 over chunk texts (bm25s), stored in each index generation beside the vectors.

Tokens are ``content_terms``: the same stop words and Snowball stemmer the composer
uses, so "troops" in a question meets "troop" in an article.
"""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np

from rag.text.terms import content_terms

BM25_DIR = "bm25"
PARAMS = {"library": "bm25s", "method": "lucene", "k1": 1.5, "b": 0.75, "tokens": "content_terms (snowball english)"}


def build_bm25(texts: list[str], folder: Path, terms: list[list[str]] | None = None) -> None:
    """Index ``texts`` (row i = chunk id i) and save the BM25 model in ``folder``.

    ``terms``: the texts' ``content_terms`` where already known (an update reuses them)."""
    model = bm25s.BM25(method=PARAMS["method"], k1=PARAMS["k1"], b=PARAMS["b"])
    terms = terms if terms is not None else [content_terms(text) for text in texts]
    # A placeholder token keeps bm25s working when a corpus has no content terms at all.
    model.index([row or ["\u2400"] for row in terms], show_progress=False)
    model.save(str(folder), show_progress=False)


def load_bm25(folder: Path) -> bm25s.BM25:
    return bm25s.BM25.load(str(folder), mmap=False, show_progress=False, verbosity=0)


def bm25_search(model: bm25s.BM25, size: int, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
    """``(chunk id, score)`` of the best ``k`` chunks with a positive score."""
    terms = content_terms(query)
    k = min(k, size)
    if not terms or k <= 0:
        return []
    mask = None
    if allowed is not None:
        mask = np.zeros(size, dtype=np.float32)
        mask[allowed] = 1.0
    ids, scores = model.retrieve([terms], k=k, show_progress=False, weight_mask=mask, n_threads=1)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if s > 0]
