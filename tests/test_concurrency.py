"""Serving from several threads gives the answers of one thread (the real model, the seed questions)."""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import rag
from tests.conftest import SEEDS

QUESTIONS = Path(__file__).resolve().parent.parent / "eval" / "seeds.jsonl"
THREADS = 8
ROUNDS = 3  # every question three times from the pool, so each meets different neighbours


def _items():
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(row["question"], [(t["question"], t["answer"]) for t in row.get("history", [])]) for row in rows]


def _fingerprint(answer: rag.Answer):
    return answer.text, [(c.doc_id, c.start, c.end, c.quote) for c in answer.citations], answer.abstained


@pytest.mark.slow
def test_eight_threads_answer_exactly_as_one(tmp_path):
    rag.build_index(SEEDS, tmp_path / "index", progress=False)
    assistant = rag.Assistant.load(tmp_path / "index")
    items = _items()
    assert len(items) >= 50
    serial = [_fingerprint(assistant.ask(q, history=h)) for q, h in items]
    with ThreadPoolExecutor(THREADS) as pool:
        parallel = list(pool.map(lambda item: _fingerprint(assistant.ask(item[0], history=item[1])), items * ROUNDS))
    differing = [items[i % len(items)][0] for i, got in enumerate(parallel) if got != serial[i % len(items)]]
    assert not differing, f"{len(differing)} of {len(parallel)} answers changed under {THREADS} threads: {differing[:3]}"
