"""The seeds eval through Milvus Lite gives the answers the local store gives (real model)."""

import pytest

import rag
from eval.dataset import load_set
from eval.harness import evaluate
from eval.report import check, thresholds

pytest.importorskip("pymilvus", reason='pymilvus is not installed (pip install -e ".[milvus]")')

SEEDS = load_set("seeds")


def _ranked(retrieved: list[dict]) -> list[set]:
    """Passages grouped by equal fused score, in rank order: items tied in RRF (rank 1 + rank 2
    either way round) may come back in either order, so the order within a tie is not compared."""
    groups: list[tuple[float, set]] = []
    for p in retrieved:
        if not groups or groups[-1][0] != p["score"]:
            groups.append((p["score"], set()))
        groups[-1][1].add((p["doc_id"], p["start"], p["end"]))
    return [(score, group) for score, group in groups]


def _answers(report) -> list[dict]:
    keep = ("id", "query", "answer_text", "abstained", "citations", "answer")
    return [{**{key: r[key] for key in keep}, "retrieved": _ranked(r["retrieved"])} for r in report.items]


def _composed_from(record: dict, k: int = 5) -> set:
    return {(p["doc_id"], p["start"], p["end"]) for p in record["retrieved"][:k]}


def _tie_at_cut(record: dict, k: int = 5) -> bool:
    """The answer is composed from the first ``k`` passages: a tie across that cut lets the stores
    hand the composer different passages, which may be quoted differently."""
    retrieved = record["retrieved"]
    return len(retrieved) > k and retrieved[k - 1]["score"] == retrieved[k]["score"]


def _comparable(reports) -> tuple[list[dict], list[dict]]:
    """Both stores' answers for the items whose composer got the same passages (the others must
    differ only by a tie at the cut)."""
    local, milvus = reports["local"].items, reports["milvus"].items
    same = [i for i, (a, b) in enumerate(zip(local, milvus)) if _composed_from(a) == _composed_from(b)]
    assert all(_tie_at_cut(local[i]) for i in range(len(local)) if i not in same)
    keep = lambda report: [r for i, r in enumerate(_answers(report)) if i in same]
    return keep(reports["milvus"]), keep(reports["local"])


def _quality(metrics: dict) -> dict:
    return {key: value for key, value in metrics.items() if not key.startswith("latency")}


@pytest.mark.slow
def test_seeds_eval_on_milvus_matches_local_and_passes_the_gate(tmp_path):
    reports = {}
    for store in ("local", "milvus"):
        rag.build_index(SEEDS.corpus, tmp_path / store, store=store, progress=False)
        assistant = rag.Assistant.load(tmp_path / store)
        try:
            assert assistant.settings.store == store
            reports[store] = evaluate(assistant, SEEDS, k=10, progress=False)
        finally:
            assistant.close()
    assert [r["retrieved"] for r in _answers(reports["milvus"])] == [r["retrieved"] for r in _answers(reports["local"])]
    milvus, local = _comparable(reports)
    assert milvus == local
    assert all(c["valid"] for r in reports["milvus"].items for c in r["citations"])
    assert _quality(reports["milvus"].metrics) == _quality(reports["local"].metrics)
    assert check(reports["milvus"].metrics, thresholds("seeds")) == []
