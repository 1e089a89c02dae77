"""Retrieval metrics (by ir-measures) and answer metrics, per item and aggregated."""

from __future__ import annotations

import re
import statistics
import unicodedata
from typing import Iterable

import ir_measures
from ir_measures import RR, R, nDCG

from eval.dataset import Item

CUTOFFS = (1, 3, 5, 10)
MEASURES = [R @ k for k in CUTOFFS] + [RR @ 10, nDCG @ 10]
NAMES = {**{str(R @ k): f"R@{k}" for k in CUTOFFS}, str(RR @ 10): "MRR@10", str(nDCG @ 10): "nDCG@10"}


def normalise(text: str) -> str:
    """Lower case, unified quotes and dashes, no punctuation, single spaces (for answer hits)."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"[–—-]", " ", text)
    return " ".join(re.sub(r"[^\w%$£€.'\s]|(?<!\d)\.|\.(?!\d)", " ", text).split())


def retrieval_scores(qrels: list[ir_measures.Qrel], run: list[ir_measures.ScoredDoc]) -> dict[str, dict[str, float]]:
    """Per query id: R@1/3/5/10, MRR@10 and nDCG@10. Queries with no hit score 0."""
    scores: dict[str, dict[str, float]] = {q.query_id: {name: 0.0 for name in NAMES.values()} for q in qrels}
    for metric in ir_measures.iter_calc(MEASURES, qrels, run):
        scores[metric.query_id][NAMES[str(metric.measure)]] = float(metric.value)
    return scores


def answer_scores(item: Item, answer_text: str, abstained: bool, cited_docs: list[str], valid: list[bool]) -> dict[str, float | None]:
    """Answer hit, citation validity/precision, gold citation, abstention correctness for one item."""
    gold = set(item.docs)
    return {
        "answer_hit": None if not item.answerable else float(
            not abstained and normalise(item.answer or "") in normalise(answer_text)),
        "citation_validity": (sum(valid) / len(valid)) if valid else None,
        "citation_precision": (sum(d in gold for d in cited_docs) / len(cited_docs)) if cited_docs and item.answerable else None,
        "cites_gold": None if not item.answerable else float(bool(gold & set(cited_docs))),
        "abstained": float(abstained),
    }


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def aggregate(results: list[dict]) -> dict[str, float | None]:
    """Means over items (retrieval over answerable items only) plus abstention and latency."""
    answerable = [r for r in results if r["answerable"]]
    unanswerable = [r for r in results if not r["answerable"]]
    out: dict[str, float | None] = {}
    for level in ("doc", "passage"):
        for name in NAMES.values():
            out[f"{level}.{name}"] = _mean(r["retrieval"][level][name] for r in answerable)
    out["answer.hit"] = _mean(r["answer"]["answer_hit"] for r in answerable)
    out["citation.validity"] = _mean(r["answer"]["citation_validity"] for r in results)
    out["citation.precision"] = _mean(r["answer"]["citation_precision"] for r in answerable)
    out["citation.recall"] = _mean(r["answer"]["cites_gold"] for r in answerable)
    abstained = [r for r in results if r["answer"]["abstained"]]
    out["abstention.precision"] = (sum(not r["answerable"] for r in abstained) / len(abstained)) if abstained else None
    out["abstention.recall"] = _mean(r["answer"]["abstained"] for r in unanswerable)
    out["abstention.false_rate"] = _mean(r["answer"]["abstained"] for r in answerable)
    for what in ("search", "ask"):
        times = sorted(r["latency_ms"][what] for r in results)
        out[f"latency.{what}_p50_ms"] = _percentile(times, 50)
        out[f"latency.{what}_p95_ms"] = _percentile(times, 95)
    for variant in ("history", "alone", "standalone"):
        out[f"followup.R@5_{variant}"] = _mean(r.get("followup_R@5", {}).get(variant) for r in results)
    # Relative-time questions (an as_of and a period named): the answer's first cited article inside the period.
    out["time.in_period"] = _mean((r.get("period") or {}).get("inside") for r in results)
    out["items"] = float(len(results))
    return out
