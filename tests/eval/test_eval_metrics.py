"""Retrieval and answer metrics on tiny hand-made examples a reader can check by eye."""

import pytest
from ir_measures import Qrel, ScoredDoc

from eval.dataset import Item
from eval.metrics import aggregate, answer_scores, normalise, retrieval_scores


def test_retrieval_scores_by_hand():
    # q1: relevant d1 and d3; ranking d2, d1, d3 -> R@1 0, R@3 1, RR 1/2,
    #     nDCG@10 = (1/log2(3) + 1/log2(4)) / (1 + 1/log2(3)) = 0.6934
    # q2: relevant d2, never retrieved -> all zero.
    qrels = [Qrel("q1", "d1", 1), Qrel("q1", "d3", 1), Qrel("q2", "d2", 1)]
    run = [ScoredDoc("q1", "d2", 3.0), ScoredDoc("q1", "d1", 2.0), ScoredDoc("q1", "d3", 1.0), ScoredDoc("q2", "d9", 1.0)]
    scores = retrieval_scores(qrels, run)
    assert scores["q1"]["R@1"] == 0 and scores["q1"]["R@3"] == 1 and scores["q1"]["MRR@10"] == 0.5
    assert scores["q1"]["nDCG@10"] == pytest.approx(0.6934, abs=1e-4)
    assert scores["q2"] == {"R@1": 0, "R@3": 0, "R@5": 0, "R@10": 0, "MRR@10": 0, "nDCG@10": 0}


def test_answer_scores_and_normalisation():
    item = Item("x", "number", "How many?", "300 troops", ["a.txt"], "300 troops spend")
    hit = answer_scores(item, "The commander said “300 Troops” train there. [1]", False, ["a.txt", "b.txt"], [True, True])
    assert hit["answer_hit"] == 1 and hit["citation_precision"] == 0.5 and hit["cites_gold"] == 1
    missed = answer_scores(item, "Not found in these articles.", True, [], [])
    assert missed["answer_hit"] == 0 and missed["abstained"] == 1 and missed["citation_validity"] is None
    assert normalise("O’Brien’s  £1.2bn—deal.") == "o'brien's £1.2bn deal"


def record(answerable, abstained, search_ms=10.0):
    return {"answerable": answerable, "type": "factoid",
            "retrieval": {lvl: {m: 1.0 for m in ("R@1", "R@3", "R@5", "R@10", "MRR@10", "nDCG@10")} for lvl in ("doc", "passage")},
            "answer": {"answer_hit": None if not answerable else 1.0, "citation_validity": 1.0, "citation_precision": 1.0,
                       "cites_gold": 1.0 if answerable else None, "abstained": float(abstained)},
            "latency_ms": {"search": search_ms, "ask": 2 * search_ms}}


def test_abstention_precision_recall_and_false_rate():
    results = [record(True, False), record(True, True), record(False, True), record(False, False)]
    metrics = aggregate(results)
    assert metrics["abstention.precision"] == 0.5  # 2 abstained, 1 of them unanswerable
    assert metrics["abstention.recall"] == 0.5     # 2 unanswerable, 1 abstained
    assert metrics["abstention.false_rate"] == 0.5  # 2 answerable, 1 abstained
    assert metrics["latency.search_p50_ms"] == 10.0
