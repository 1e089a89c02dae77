import json

import pytest

import rag
from rag import store
from rag.embedding import HashingEmbedder
from rag.errors import IndexMismatchError, UserError
from tests.conftest import FAST, TINY, write_corpus


def build(corpus, index, **extra):
    return rag.build_index(corpus, index, **FAST, **extra)


def test_first_build_then_unchanged_rerun_embeds_nothing(tiny_corpus, tmp_path):
    index = tmp_path / "index"
    first = build(tiny_corpus, index)
    assert (first.added, first.updated, first.removed, first.unchanged) == (3, 0, 0, 0)
    assert first.embedded == first.chunks > 0
    generation = (index / "CURRENT").read_text()
    again = build(tiny_corpus, index)
    assert (again.added, again.updated, again.removed, again.unchanged, again.embedded) == (0, 0, 0, 3, 0)
    assert (index / "CURRENT").read_text() == generation, "an unchanged corpus is not rewritten"


def test_incremental_counts_and_only_changed_articles_embedded(tiny_corpus, tmp_path):
    index = tmp_path / "index"
    build(tiny_corpus, index)
    (tiny_corpus / "bakery.txt").write_text(TINY["bakery.txt"] + " The bakery opens a second shop in May.", encoding="utf-8")
    (tiny_corpus / "rail" / "strike.txt").unlink()
    write_corpus(tiny_corpus, {"new.txt": "Library reopens\n\nThe town library reopened after a two-year refit costing 3 million pounds."})
    report = build(tiny_corpus, index)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 1)
    assert 0 < report.embedded < report.chunks
    assistant = rag.Assistant.load(index)
    assert {p.doc_id for p in assistant.search("library refit", k=10)} == {"harbour.txt", "bakery.txt", "new.txt"}


def test_manifest_records_settings_and_fingerprint(tiny_corpus, tmp_path):
    build(tiny_corpus, tmp_path / "index", chunk_tokens=80)
    manifest = store.read_manifest(tmp_path / "index")
    assert manifest["format_version"] == store.FORMAT_VERSION
    assert manifest["settings"]["chunk_tokens"] == 80 and manifest["settings"]["model"] == "hashing"
    assert manifest["dimension"] == HashingEmbedder.dimension and len(manifest["corpus_fingerprint"]) == 64


def test_loading_with_other_settings_or_newer_format_says_how_to_rebuild(tiny_corpus, tmp_path):
    index = tmp_path / "index"
    build(tiny_corpus, index)
    with pytest.raises(IndexMismatchError, match="chunk_tokens.*rag index"):
        rag.Assistant.load(index, chunk_tokens=99)
    manifest_path = index / (index / "CURRENT").read_text() / "manifest.json"
    data = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**data, "format_version": store.FORMAT_VERSION + 1}))
    with pytest.raises(IndexMismatchError, match="format.*rag index"):
        rag.Assistant.load(index)


def test_missing_index_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no index found"):
        rag.Assistant.load(tmp_path / "none")


@pytest.mark.parametrize("step", ["faiss", "sqlite", "manifest", "generation", "pointer"])
def test_crash_at_any_write_step_leaves_previous_index_loadable(tiny_corpus, tmp_path, monkeypatch, step):
    index = tmp_path / "index"
    build(tiny_corpus, index)
    write_corpus(tiny_corpus, {"new.txt": "Ferry resumes\n\nThe island ferry resumed sailing after repairs to its engine."})

    def boom(*args, **kwargs):
        raise OSError(f"simulated crash at {step}")

    real_replace = store.os.replace
    targets = {
        "faiss": lambda: monkeypatch.setattr(store.faiss, "write_index", boom),
        "sqlite": lambda: monkeypatch.setattr(store, "_write_sqlite", boom),
        "manifest": lambda: monkeypatch.setattr(store, "_write_json", boom),
        "generation": lambda: monkeypatch.setattr(store.os, "replace", lambda a, b: boom() if str(a).endswith(".partial") else real_replace(a, b)),
        "pointer": lambda: monkeypatch.setattr(store.os, "replace", lambda a, b: boom() if str(b).endswith("CURRENT") else real_replace(a, b)),
    }
    targets[step]()
    with pytest.raises(OSError, match="simulated crash"):
        build(tiny_corpus, index)
    monkeypatch.undo()
    assistant = rag.Assistant.load(index)
    assert len(assistant.store.articles()) == 3, "the previous generation is still the live one"
    report = build(tiny_corpus, index)
    assert report.added == 1
    assert len(rag.Assistant.load(index).store.articles()) == 4


def test_interrupted_build_resumes_without_re_embedding(tmp_path, monkeypatch):
    articles = {f"a{i:03d}.txt": f"Story {i}\n\nThe item number {i} was sold for {i * 7} pounds at the fair." for i in range(150)}
    corpus = write_corpus(tmp_path / "corpus", articles)
    calls = {"n": 0}
    real = HashingEmbedder.encode

    def flaky(self, texts, batch_size=32):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, texts, batch_size)

    monkeypatch.setattr(HashingEmbedder, "encode", flaky)
    with pytest.raises(KeyboardInterrupt):
        build(corpus, tmp_path / "index", embed_batch_size=8)
    monkeypatch.setattr(HashingEmbedder, "encode", real)
    report = build(corpus, tmp_path / "index", embed_batch_size=8)
    assert report.chunks == 150
    assert report.embedded == 150 - 64, "the first committed batch came from the cache"
