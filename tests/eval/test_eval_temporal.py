"""A set with ``temporal`` items (questions asked on an ``as_of`` day) runs through the harness and reports."""

import json

import pytest

import rag
from eval.dataset import EvalSet, load_items
from eval.harness import evaluate
from eval.report import table, write_outputs
from tests.conftest import FAST

ITEMS = [
    {"id": "t-1", "type": "number", "question": "How many boats can the harbour hold?", "answer": "300",
     "docs": ["harbour.txt"], "evidence": "can hold 300 boats"},
    {"id": "t-2", "type": "temporal", "question": "Who cut the ribbon at the harbour this week?", "answer": "Ada Quill",
     "docs": ["harbour.txt"], "evidence": "Mayor Ada Quill cut the ribbon.", "as_of": "1987-03-05"},
    {"id": "t-3", "type": "unanswerable", "question": "Who won the rail pay talks last month?", "answer": None,
     "docs": [], "evidence": None, "as_of": "1987-04-01"},
]


@pytest.fixture
def report(tiny_corpus, tmp_path):
    path = tmp_path / "timed.jsonl"
    path.write_text("\n".join(json.dumps(i) for i in ITEMS) + "\n", encoding="utf-8")
    eval_set = EvalSet("timed", path, tiny_corpus, load_items(path, tiny_corpus))
    rag.build_index(tiny_corpus, tmp_path / "index", **FAST)
    return evaluate(rag.Assistant.load(tmp_path / "index", model="hashing"), eval_set, k=5, progress=False)


def test_temporal_items_are_scored_with_the_rest(report, tmp_path):
    assert [r["type"] for r in report.items] == ["number", "temporal", "unanswerable"]
    assert report.metrics["items"] == 3
    timed = report.items[1]
    assert timed["answerable"] and timed["retrieval"]["doc"]["R@5"] == 1.0
    write_outputs(report, tmp_path / "out")
    assert "| t-2 | temporal |" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))["items"][1]["type"] == "temporal"
    assert table(report).startswith("metric")


def test_temporal_items_get_their_own_column(report):
    assert "temporal" in report.by_type and report.by_type["temporal"]["items"] == 1
