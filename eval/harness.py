"""Run an eval set through the assistant: every item searched and answered, then scored."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import ir_measures
from tqdm.auto import tqdm

import rag
from eval.dataset import EvalSet, Item
from eval.metrics import aggregate, answer_scores, retrieval_scores
from rag import Answer, Passage

TYPE_ORDER = ("factoid", "paraphrase", "number", "entity", "multi", "followup", "temporal", "unanswerable")


@dataclass
class Report:
    """Everything one run measured: per item, aggregated, per type, and the TREC run/qrels."""

    set_name: str
    settings: dict[str, Any]
    k: int
    items: list[dict]
    metrics: dict[str, float | None]
    by_type: dict[str, dict[str, float | None]]
    qrels: dict[str, list[ir_measures.Qrel]] = field(default_factory=dict)
    run: dict[str, list[ir_measures.ScoredDoc]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"set": self.set_name, "settings": self.settings, "k": self.k, "metrics": self.metrics,
                "by_type": self.by_type, "items": self.items}


def passage_key(doc_id: str, start: int) -> str:
    return f"{doc_id}@{start}"


def evidence_passages(assistant: rag.Assistant, item: Item, spans: dict[str, list[tuple[int, int]]]) -> list[str]:
    """Keys of every indexed passage of a gold doc that contains the evidence span."""
    keys = []
    for doc in item.docs:
        article = assistant.article(doc)
        position = article.text.find(item.evidence) if article else -1
        if position < 0:
            continue
        end = position + len(item.evidence)
        rows = spans.get(doc, [])
        covering = [(s, e) for s, e in rows if s <= position and e >= end]
        # Evidence cut across passage edges (a split over-long sentence): overlapping passages count.
        covering = covering or [(s, e) for s, e in rows if s < end and e > position]
        keys.extend(passage_key(doc, s) for s, _ in covering)
    return keys


def doc_ranking(passages: list[Passage]) -> list[tuple[str, float]]:
    """Documents in order of their best passage; copies collapsed into a passage count there too."""
    best: dict[str, float] = {}
    for p in passages:
        for doc in (p.doc_id, *p.duplicates):
            best.setdefault(doc, p.score)
    return list(best.items())


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    began = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - began) * 1000


def run_item(assistant: rag.Assistant, item: Item, k: int) -> tuple[list[Passage], Answer, dict[str, float]]:
    """Retrieve the item's passages once (history included, on its as_of day): ``k`` for the retrieval
    metrics, and the answer composed from the first ``k`` setting of them, as ``ask`` would retrieve."""
    depth = max(k, assistant.settings.k)
    (query, found), search_ms = _timed(lambda: assistant.retrieve(item.question, item.history, k=depth, as_of=item.as_of))
    answer, answer_ms = _timed(lambda: assistant.answer(item.question, query, found[: assistant.settings.k]))
    return found[:k], answer, {"search": search_ms, "ask": search_ms + answer_ms}


def doc_recall(passages: list[Passage], gold: list[str], k: int = 5) -> float:
    """Share of the gold documents among the first ``k`` documents retrieved."""
    top = [doc for doc, _ in doc_ranking(passages)][:k]
    return sum(doc in top for doc in gold) / len(gold)


def followup_variants(assistant: rag.Assistant, item: Item, with_history: list[Passage], k: int) -> dict[str, float]:
    """Doc Recall@5 of a follow-up searched with its history, alone, and as written out in full."""
    variants = {"history": doc_recall(with_history, item.docs)}
    variants["alone"] = doc_recall(assistant.search(item.question, k=k), item.docs)
    if item.standalone:
        variants["standalone"] = doc_recall(assistant.search(item.standalone, k=k), item.docs)
    return variants


def _citation_checks(assistant: rag.Assistant, answer: Answer) -> list[bool]:
    checks = []
    for c in answer.citations:
        article = assistant.article(c.doc_id)
        checks.append(bool(article) and article.text[c.start:c.end] == c.quote)
    return checks


def in_period(assistant: rag.Assistant, item: Item, answer: Answer) -> dict | None:
    """For a question with an as_of that names a time: the asked period and whether the answer's
    first cited article is dated inside it (an abstention counts as outside)."""
    period = assistant.period(item.question, item.as_of) if item.as_of else None
    if period is None:
        return None
    first = answer.citations[0] if answer.citations and not answer.abstained else None
    return {"start": period.start, "end": period.end, "phrase": period.phrase, "loose": period.loose,
            "cited_date": first.date if first else None, "inside": float(bool(first) and period.holds(first.date))}


def _item_record(item: Item, passages: list[Passage], answer: Answer, latency: dict, relevant: set[str], valid: list[bool]) -> dict:
    return {
        "id": item.id, "type": item.type, "question": item.question, "query": answer.query,
        "answerable": item.answerable, "gold_docs": item.docs, "gold_answer": item.answer,
        "retrieved": [{"doc_id": p.doc_id, "start": p.start, "end": p.end, "score": round(p.score, 4),
                       "relevant": passage_key(p.doc_id, p.start) in relevant} for p in passages],
        "answer_text": answer.text, "abstained": answer.abstained,
        "citations": [{"n": c.n, "doc_id": c.doc_id, "quote": c.quote, "start": c.start, "end": c.end, "valid": v}
                      for c, v in zip(answer.citations, valid)],
        "answer": answer_scores(item, answer.text, answer.abstained, [c.doc_id for c in answer.citations], valid),
        "latency_ms": {key: round(value, 2) for key, value in latency.items()},
    }


def _score_retrieval(records: list[dict], qrels: dict, run: dict) -> None:
    for level in ("doc", "passage"):
        scores = retrieval_scores(qrels[level], run[level])
        for record in records:
            if record["answerable"]:
                record["retrieval"] = {**record.get("retrieval", {}), level: scores[record["id"]]}


def evaluate(assistant: rag.Assistant, eval_set: EvalSet, k: int = 10, progress: bool = True) -> Report:
    """Run every item of ``eval_set`` through ``assistant`` and score it."""
    spans = assistant.passage_spans()
    records, qrels, run = [], {"doc": [], "passage": []}, {"doc": [], "passage": []}
    for item in tqdm(eval_set.items, desc=f"eval {eval_set.name}", unit="item", disable=not progress):
        passages, answer, latency = run_item(assistant, item, k)
        relevant = set(evidence_passages(assistant, item, spans)) if item.answerable else set()
        if item.answerable:
            qrels["doc"] += [ir_measures.Qrel(item.id, d, 1) for d in item.docs]
            qrels["passage"] += [ir_measures.Qrel(item.id, key, 1) for key in relevant]
        run["doc"] += [ir_measures.ScoredDoc(item.id, d, s) for d, s in doc_ranking(passages)]
        run["passage"] += [ir_measures.ScoredDoc(item.id, passage_key(p.doc_id, p.start), p.score) for p in passages]
        records.append(_item_record(item, passages, answer, latency, relevant, _citation_checks(assistant, answer)))
        records[-1]["period"] = in_period(assistant, item, answer)
        if item.type == "followup" and item.answerable:
            records[-1]["followup_R@5"] = followup_variants(assistant, item, passages, k)
    _score_retrieval(records, qrels, run)
    types = [t for t in TYPE_ORDER if any(r["type"] == t for r in records)]
    by_type = {t: aggregate([r for r in records if r["type"] == t]) for t in types}
    return Report(eval_set.name, assistant.settings.to_dict(), k, records, aggregate(records), by_type, qrels, run)


def index_for(eval_set: EvalSet, index_dir: str | Path | None, progress: bool, **settings: Any) -> Path:
    """Build or reuse the index of the set's corpus (incremental, so reuse is cheap)."""
    index = Path(index_dir) if index_dir else Path("index") / f"eval-{eval_set.name}"
    report = rag.build_index(eval_set.corpus, index, progress=progress, **settings)
    if report.embedded:
        print(f"index for {eval_set.name}: {report.summary()}")
    return index
