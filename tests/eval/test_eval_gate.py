"""The gate passes on the shipped retriever and fails on a deliberately weakened one."""

import pytest

import rag
from eval.dataset import load_set
from eval.harness import evaluate
from eval.report import check, thresholds, write_outputs

SEEDS = load_set("seeds")


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    index = tmp_path_factory.mktemp("gate-index")
    rag.build_index(SEEDS.corpus, index, progress=False)
    return rag.Assistant.load(index)


class ReversedRetriever:
    """The real ranking, upside down: the worst passages first."""

    def __init__(self, inner):
        self.inner = inner

    def search(self, query, k, filters=None, period=None):
        everything = self.inner.search(query, len(self.inner.store), filters, period)
        return list(reversed(everything))[:k]


def test_gate_passes_as_shipped_and_writes_reports(assistant, tmp_path):
    report = evaluate(assistant, SEEDS, k=10, progress=False)
    assert check(report.metrics, thresholds("seeds")) == []
    write_outputs(report, tmp_path)
    for name in ("report.json", "report.md", "run.doc.trec", "qrels.passage.trec", "recall_at_k.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_gate_fails_with_k_1(assistant):
    report = evaluate(assistant, SEEDS, k=1, progress=False)
    failures = check(report.metrics, thresholds("seeds"))
    assert any(f.startswith("doc.R@5") for f in failures), failures


def test_gate_fails_with_reversed_ranking(assistant, monkeypatch):
    monkeypatch.setattr(assistant, "retriever", ReversedRetriever(assistant.retriever))
    report = evaluate(assistant, SEEDS, k=10, progress=False)
    failures = check(report.metrics, thresholds("seeds"))
    assert any(f.startswith("doc.MRR@10") for f in failures), failures
