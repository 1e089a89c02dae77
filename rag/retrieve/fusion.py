"""Reciprocal-rank fusion: one ranking from several, by rank alone."""

from __future__ import annotations


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
