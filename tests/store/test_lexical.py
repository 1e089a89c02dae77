"""BM25 in segments: the same scores as bm25s over the live chunks, whatever the segments and tombstones."""

import numpy as np
import pytest

from rag.store.bm25 import bm25_search, build_bm25, load_bm25
from rag.store.lexical import LexicalIndex, write_segment
from rag.text.terms import content_terms

TEXTS = [
    "The harbour in Port Elms opened with room for 300 boats.",
    "A bakery in Lowtown won the national bread prize for its rye loaf.",
    "The council voted to close the harbour road for repairs to the harbour wall.",
    "Boats returned to the harbour after the storm; the harbour master counted them.",
    "The rye harvest was poor, and bread prices rose in Lowtown and Hightown.",
    "",  # no content terms at all
    "The ferry to the island runs twice a day from the harbour.",
    "Prize money for the bread contest doubled this year.",
]
QUERIES = ["harbour boats", "rye bread prize", "ferry island harbour harbour", "storm", "nothing matches zebra"]


def _bm25s(texts, tmp_path, name):
    folder = tmp_path / name
    folder.mkdir()
    build_bm25(texts, folder)
    return load_bm25(folder)


def _scores(ranked):
    return {i: round(s, 4) for i, s in ranked}


def test_one_segment_scores_as_bm25s(tmp_path):
    model = _bm25s(TEXTS, tmp_path, "bm25s")
    write_segment(tmp_path / "lexical", list(range(len(TEXTS))), [content_terms(t) for t in TEXTS], 1)
    index = LexicalIndex(tmp_path / "lexical", np.arange(len(TEXTS)))
    for query in QUERIES:
        assert _scores(index.search(query, 10)) == _scores(bm25_search(model, len(TEXTS), query, 10)), query


def test_segments_with_tombstones_score_as_bm25s_over_the_live_chunks_only(tmp_path):
    """Chunks 0-4 in one segment, 5-9 in another (8 and 9 replace 2 and 4, which are gone)."""
    texts = TEXTS[:5] + TEXTS[5:] + ["The harbour council met again about the road.", "Rye bread wins again."]
    folder = tmp_path / "lexical"
    write_segment(folder, [0, 1, 2, 3, 4], [content_terms(t) for t in texts[:5]], 1)
    write_segment(folder, [5, 6, 7, 8, 9], [content_terms(t) for t in texts[5:]], 2)
    live = np.array([0, 1, 3, 5, 6, 7, 8, 9])
    index = LexicalIndex(folder, live)
    model = _bm25s([texts[i] for i in live], tmp_path, "fresh")
    for query in QUERIES + ["harbour council road", "rye again"]:
        expected = {int(live[row]): s for row, s in _scores(bm25_search(model, len(live), query, 10)).items()}
        assert _scores(index.search(query, 10)) == expected, query
    assert "zebra" not in index.vocabulary and "harbour" in index.vocabulary


def test_a_term_held_only_by_removed_chunks_is_unknown_and_filters_apply(tmp_path):
    folder = tmp_path / "lexical"
    write_segment(folder, [0, 1, 2], [content_terms(t) for t in TEXTS[:3]], 1)
    index = LexicalIndex(folder, np.array([0, 2]))
    assert "bakeri" not in index.vocabulary and index.search("bakery Lowtown", 5) == []
    assert [i for i, _ in index.search("harbour", 5, allowed=np.array([2]))] == [2]


@pytest.mark.parametrize("k", [1, 2, 5])
def test_ties_come_in_the_order_bm25s_gave_them(tmp_path, k):
    texts = ["harbour", "harbour boats", "harbour", "the harbour", "harbour", "boats"]
    write_segment(tmp_path / "lexical", list(range(len(texts))), [content_terms(t) for t in texts], 1)
    index = LexicalIndex(tmp_path / "lexical", np.arange(len(texts)))
    model = _bm25s(texts, tmp_path, "bm25s")
    assert [i for i, _ in index.search("harbour", k)] == [i for i, _ in bm25_search(model, len(texts), "harbour", k)]


def test_loading_segments_parses_no_python_source(tmp_path, monkeypatch):
    """np.load reads .npy headers with ast.literal_eval, and CPython 3.11's AST conversion is not
    thread-safe: two readers loading while builds switched generations failed with "AST constructor
    recursion depth mismatch". Segments are raw arrays, so loading one never reaches ast."""
    import ast

    write_segment(tmp_path / "lexical", list(range(len(TEXTS))), [content_terms(t) for t in TEXTS], 1)

    def refuse(*args, **kwargs):
        raise AssertionError("ast.literal_eval called while loading a segment")

    monkeypatch.setattr(ast, "literal_eval", refuse)
    index = LexicalIndex(tmp_path / "lexical", np.arange(len(TEXTS)))
    assert index.search("harbour boats", 1)[0][0] in (0, 3)
