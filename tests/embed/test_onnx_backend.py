"""The ONNX Runtime backends: same vectors as sentence-transformers, named apart, exported once."""

import json

import numpy as np
import pytest

from rag.embed.embedding import HashingEmbedder, concrete_backend, get_embedder, model_location
from rag.errors import UserError
from rag.embed.onnx_backend import OnnxEmbedder, _check_exportable
from rag.ingest.reading import read_corpus
from rag.settings import Settings
from rag.store.manifest import index_settings
from tests.conftest import SEEDS

MODEL = "all-MiniLM-L6-v2"


def test_unknown_backend_lists_the_choices():
    with pytest.raises(UserError, match="torch, onnx, onnx-int8"):
        get_embedder(MODEL, "cpu", "tensorrt")
    with pytest.raises(UserError, match="unknown embedding backend 'tensorrt'"):
        index_settings(Settings(backend="tensorrt"))  # before any index is compared with it


def test_hashing_ignores_the_backend():
    assert isinstance(get_embedder("hashing", "cpu", "onnx-int8"), HashingEmbedder)


def test_auto_backend_is_onnx_int8_for_an_exportable_folder_and_torch_otherwise(tmp_path):
    assert concrete_backend(MODEL, "auto") == "onnx-int8"
    assert index_settings(Settings(backend="auto"))["backend"] == "onnx-int8", "an index records what ran"
    assert concrete_backend("sentence-transformers/all-mpnet-base-v2", "auto") == "torch", "a hub name"
    assert concrete_backend(str(tmp_path), "auto") == "torch", "a folder that is no exportable model"
    assert concrete_backend(MODEL, "torch") == "torch" and concrete_backend("hashing", "auto") == "auto"


def test_a_model_the_exporter_cannot_reproduce_is_refused(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "tokenizer.json").write_text("{}")
    (tmp_path / "modules.json").write_text(json.dumps([{"type": "sentence_transformers.models.Transformer", "path": ""}]))
    with pytest.raises(UserError, match="backend 'torch'"):
        _check_exportable(tmp_path)
    with pytest.raises(UserError, match="local model folder"):
        OnnxEmbedder(MODEL, tmp_path / "missing", "onnx-int8", cache_root=tmp_path / "cache")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Both ONNX embedders over one fresh export (about 15-20 s on a laptop CPU)."""
    cache = tmp_path_factory.mktemp("onnx-cache")
    location = model_location(MODEL)
    return {backend: OnnxEmbedder(MODEL, location, backend, cache_root=cache) for backend in ("onnx", "onnx-int8")}


@pytest.fixture(scope="module")
def texts():
    """Real news text: every seed paragraph, and whole articles (past the 256-token window)."""
    articles = read_corpus(SEEDS).articles
    paragraphs = [p for a in articles for p in a.text.split("\n\n") if len(p.split()) > 5]
    return [a.title for a in articles] + paragraphs[:30] + [a.text for a in articles]


@pytest.mark.slow
def test_onnx_vectors_match_sentence_transformers(exported, texts):
    reference = get_embedder(MODEL).encode(texts)
    fp32 = (exported["onnx"].encode(texts) * reference).sum(axis=1)
    int8 = (exported["onnx-int8"].encode(texts, batch_size=4) * reference).sum(axis=1)
    assert fp32.min() >= 0.999, fp32.min()
    assert int8.min() >= 0.99, int8.min()
    assert int8.mean() >= 0.995, int8.mean()


@pytest.mark.slow
def test_onnx_embedder_protocol(exported, texts):
    torch_embedder = get_embedder(MODEL)
    embedder = exported["onnx-int8"]
    assert embedder.name == f"{MODEL}+onnx-int8", "the backend is part of the cache key"
    assert embedder.dimension == torch_embedder.dimension and embedder.max_tokens == torch_embedder.max_tokens
    assert [embedder.count_tokens(t) for t in texts] == [torch_embedder.count_tokens(t) for t in texts]
    vectors = embedder.encode(texts[:5], batch_size=2)
    assert vectors.dtype == np.float32 and vectors.shape == (5, embedder.dimension)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(vectors[3], embedder.encode([texts[3]])[0], atol=1e-5), "order and batching do not matter"


@pytest.mark.slow
def test_export_happens_once(exported):
    path = exported["onnx-int8"].path
    stamp = path.stat().st_mtime_ns
    again = OnnxEmbedder(MODEL, model_location(MODEL), "onnx-int8", cache_root=path.parent.parent)
    assert again.path == path and path.stat().st_mtime_ns == stamp


def test_auto_backend_takes_the_gpu_a_runtime_sees(monkeypatch):
    from rag.embed import gpu
    from rag.embed.embedding import auto_device

    monkeypatch.setattr(gpu, "onnx_cuda", lambda: True)
    assert concrete_backend(MODEL, "auto") == "onnx-cuda", "ONNX Runtime with CUDA: the fp32 graph on the GPU"
    assert concrete_backend(MODEL, "onnx-int8") == "onnx-int8", "an explicit backend is kept"
    monkeypatch.setattr(gpu, "torch_cuda", lambda: True)
    assert auto_device("auto", "cpu") == "cuda"
    assert auto_device("torch", "cpu") == "cpu", "backend torch with device cpu stays on the CPU"


@pytest.mark.slow
def test_passages_embedded_side_by_side_equal_each_text_alone(exported, texts):
    embedder = OnnxEmbedder(MODEL, model_location(MODEL), "onnx-int8", cache_root=exported["onnx-int8"].path.parent.parent, lanes=2)
    together = embedder.encode(texts)  # many texts: two lanes on a single-threaded session
    assert embedder._lane_session is not None, "the lanes ran"
    alone = np.stack([embedder.encode([t])[0] for t in texts])  # one text: the two-threaded session
    np.testing.assert_allclose(together, alone, atol=1e-6)


@pytest.mark.slow
def test_the_lanes_threads_are_started_once(exported, texts, monkeypatch):
    import threading

    embedder = OnnxEmbedder(MODEL, model_location(MODEL), "onnx-int8", cache_root=exported["onnx-int8"].path.parent.parent, lanes=2)
    first = embedder.encode(texts[:8])

    def refuse(self):
        raise AssertionError("a thread was started for a second call")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    np.testing.assert_array_equal(embedder.encode(texts[:8]), first)


@pytest.mark.slow
def test_the_query_session_spins_briefly_and_never_between_runs_and_the_lanes_are_single_threaded(exported):
    embedder = exported["onnx-int8"]
    embedder.encode([f"text {i}" for i in range(8)])  # enough texts for the lanes
    query = embedder._session.get_session_options()
    lane = embedder._lane_session.get_session_options()
    assert query.get_session_config_entry("session.intra_op.allow_spinning") == "1"
    assert query.get_session_config_entry("session.intra_op.spin_duration_us") == "100"
    assert query.get_session_config_entry("session.force_spinning_stop") == "1", "a pool spinning between runs takes the cores"
    assert lane.intra_op_num_threads == 1
