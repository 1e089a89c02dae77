"""Flat and HNSW vector indexes: recall, filtered search, reconstruct, and the index_type setting (model-free)."""

import faiss
import numpy as np
import pytest

import rag
from rag.store import local as store
from rag.errors import UserError
from rag.store.vectors import HNSWVectors, VectorIndexSpec, build_vector_index, choose_kind, read_vector_index
from tests.conftest import FAST

HNSW = VectorIndexSpec("hnsw", m=32, ef_construction=80, ef_search=64)


def clustered(n: int, d: int = 64, seed: int = 0) -> np.ndarray:
    """Unit vectors around 50 fixed centres (closer to real embeddings than uniform noise);
    another ``seed`` draws other points around the same centres, e.g. held-out queries."""
    centres = np.random.default_rng(0).standard_normal((50, d))
    rng = np.random.default_rng(seed)
    vectors = centres[rng.integers(0, 50, n)] + 0.6 * rng.standard_normal((n, d))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


QUERIES = clustered(200, seed=1)


@pytest.fixture(scope="module")
def hnsw(tmp_path_factory):
    vectors = clustered(4000)
    path = tmp_path_factory.mktemp("vectors") / "vectors.faiss"
    faiss.write_index(build_vector_index(vectors, HNSW), str(path))
    return vectors, read_vector_index(path)


def test_auto_switches_at_the_threshold_and_unknown_types_are_refused():
    assert choose_kind("auto", 49_999, 50_000) == "flat"
    assert choose_kind("auto", 50_000, 50_000) == "hnsw"
    assert choose_kind("auto", 10**9, 0) == "flat", "threshold 0 turns hnsw off"
    assert choose_kind("hnsw", 10, 50_000) == "hnsw"
    with pytest.raises(UserError, match="flat, hnsw"):
        choose_kind("ivf", 10, 50_000)


def test_hnsw_comes_back_wrapped_with_its_ef_search(hnsw):
    _, index = hnsw
    assert isinstance(index, HNSWVectors) and index.ntotal == 4000 and index.d == 64
    assert index.hnsw.efSearch == 64, "efSearch is stored in the file"


def test_hnsw_recall_at_10_against_exact(hnsw):
    vectors, index = hnsw
    queries = QUERIES
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    _, found = index.search(queries, 10)
    recall = np.mean([len(set(e) & set(f)) / 10 for e, f in zip(exact, found)])
    assert recall >= 0.98


def test_reconstruct_batch_returns_the_stored_vectors(hnsw):
    vectors, index = hnsw
    ids = np.array([0, 17, 3999], dtype=np.int64)
    np.testing.assert_allclose(index.reconstruct_batch(ids), vectors[ids])


@pytest.mark.parametrize("allowed", [[5, 900, 3001], list(range(0, 4000, 3))])
def test_filtered_search_is_exact_and_only_returns_allowed_ids(hnsw, allowed):
    """As retrieval calls it: base SearchParameters with an IDSelectorBatch, narrow or broad."""
    vectors, index = hnsw
    allowed = np.array(allowed, dtype=np.int64)
    query = clustered(1, seed=2)
    k = min(10, len(allowed))
    scores, found = index.search(query, k, params=faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed)))
    expected = allowed[np.argsort(-(vectors[allowed] @ query[0]))[:k]]
    assert list(found[0]) == list(expected)
    np.testing.assert_allclose(scores[0], vectors[expected] @ query[0], rtol=1e-5)


def test_flat_stays_a_plain_faiss_index(tmp_path):
    path = tmp_path / "flat.faiss"
    faiss.write_index(build_vector_index(clustered(100), None), str(path))
    assert isinstance(read_vector_index(path), faiss.IndexFlatIP)


def test_index_type_setting_builds_hnsw_and_filtered_search_works(tiny_corpus, tmp_path):
    index = tmp_path / "index"
    rag.build_index(tiny_corpus, index, **FAST, index_type="hnsw")
    assert store.read_manifest(index)["vector_index"]["kind"] == "hnsw"
    assistant = rag.Assistant.load(index)
    assert isinstance(assistant.store.vectors, HNSWVectors)
    hits = assistant.search("harbour boats", k=3, filters={"doc_id": "bakery.txt"})
    assert hits and {p.doc_id for p in hits} == {"bakery.txt"}
    assert assistant.search("harbour boats", k=1)[0].doc_id == "harbour.txt"


def test_changing_index_type_rebuilds_vectors_from_the_cache(tiny_corpus, tmp_path):
    index = tmp_path / "index"
    rag.build_index(tiny_corpus, index, **FAST)
    assert store.read_manifest(index)["vector_index"] == {"kind": "flat"}
    report = rag.build_index(tiny_corpus, index, **FAST, index_type="hnsw")
    assert report.embedded == 0 and store.read_manifest(index)["vector_index"]["kind"] == "hnsw"
    generation = (index / "CURRENT").read_text()
    rag.build_index(tiny_corpus, index, **FAST, index_type="hnsw")
    assert (index / "CURRENT").read_text() == generation, "same settings, unchanged corpus: nothing rewritten"


def test_a_dense_search_runs_on_one_openmp_thread_and_restores_the_count(tiny_corpus, tmp_path, monkeypatch):
    rag.build_index(tiny_corpus, tmp_path / "index", **FAST)
    opened = store.IndexStore.open(tmp_path / "index")
    seen = []
    search = opened.vectors.search

    class Watched:
        """The flat index, noting FAISS's thread count when it is searched."""

        def __getattr__(self, name):
            return getattr(search.__self__, name)

        def search(self, *args, **kwargs):
            seen.append(faiss.omp_get_max_threads())
            return search(*args, **kwargs)

    before = faiss.omp_get_max_threads()
    monkeypatch.setattr(opened, "vectors", Watched())
    vector = np.zeros((1, opened.vectors.d), np.float32)
    vector[0, 0] = 1
    assert opened.dense(vector, 2)
    assert seen == [1] and faiss.omp_get_max_threads() == before
    opened.close()
