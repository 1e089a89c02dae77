"""Optional cross-encoder reranking and the "latest news" preference."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from functools import lru_cache

from rag.embed.embedding import model_location
from rag.errors import UserError
from rag.schema import Passage

LATEST = re.compile(r"\b(latest|most recent|newest|recent(?:ly)?|current(?:ly)?|this (?:week|month|year)|nowadays|so far)\b", re.I)


def asks_for_latest(question: str) -> bool:
    """Does the question ask for the newest news ("What is the latest on ...")?"""
    return bool(LATEST.search(question))


def prefer_recent(passages: list[Passage], weight: float, fuse) -> list[Passage]:
    """Fuse the relevance order with a newest-first order (undated passages last)."""
    dated = [i for i, p in enumerate(passages) if p.date]
    if not dated or weight <= 0:
        return passages
    newest = sorted(dated, key=lambda i: passages[i].date, reverse=True)
    fused = fuse([list(range(len(passages))), newest], [1.0, weight])
    return [passages[i] for i, _ in fused]


_predicting = threading.Lock()


@lru_cache(maxsize=2)
def _cross_encoder(name: str, device: str):
    from sentence_transformers import CrossEncoder

    try:
        return CrossEncoder(model_location(name), device=device)
    except Exception as exc:  # hub unreachable, not a cross-encoder
        raise UserError(f"reranker {name!r} could not be loaded: {exc}") from None


class CrossEncoderReranker:
    """Scores (query, passage) pairs jointly; slower than the bi-encoder, sharper at the top."""

    def __init__(self, name: str, device: str = "cpu") -> None:
        self.model = _cross_encoder(name, device)

    def rerank(self, query: str, passages: list[Passage]) -> list[Passage]:
        if not passages:
            return passages
        # The cached model's fast tokenizer resets truncation/padding at each call: one call at a time.
        with _predicting:
            scores = self.model.predict([(query, p.text) for p in passages], show_progress_bar=False)
        rescored = [replace(p, score=float(s)) for p, s in zip(passages, scores)]
        return sorted(rescored, key=lambda p: -p.score)
