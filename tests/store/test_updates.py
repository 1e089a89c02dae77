"""Updates proportional to the change: what an update recomputes, and that its result is right."""

import os
import sqlite3
import time
from pathlib import Path

import faiss
import numpy as np
import pytest

import rag
import rag.store.build as indexing
import rag.ingest.reading as reading
import rag.store.writing as store
from rag.store.local import CHUNKS_DB, VECTORS, live_generation, read_manifest
from tests.conftest import FAST, TINY, write_corpus

MORE = {f"extra/story{n}.txt": f"Story {n} of the town\n\nThe council met on day {n} to discuss the budget for parks. "
        f"It agreed to plant {n * 10} trees along the river.\n" for n in range(5)}


@pytest.fixture
def corpus(tmp_path):
    return write_corpus(tmp_path / "corpus", {**TINY, **MORE})


@pytest.fixture
def recorded(monkeypatch):
    """Counts what a build recomputes: files parsed, articles chunked, chunk texts tokenised for
    BM25, vector indexes built from scratch."""
    seen = {"parsed": [], "chunked": [], "terms": 0, "vector_builds": 0}
    read_text, chunk, terms, build = reading.READERS[".txt"], indexing._Chunker.__call__, store.content_terms, store.build_vector_index

    def parse(doc_id, text):
        seen["parsed"].append(doc_id)
        return read_text(doc_id, text)

    def chunker(self, article):
        seen["chunked"].append(article.doc_id)
        return chunk(self, article)

    def tokenise(text):
        seen["terms"] += 1
        return terms(text)

    def vector_build(*args, **kwargs):
        seen["vector_builds"] += 1
        return build(*args, **kwargs)

    monkeypatch.setitem(reading.READERS, ".txt", parse)
    monkeypatch.setattr(indexing._Chunker, "__call__", chunker)
    monkeypatch.setattr(store, "content_terms", tokenise)
    monkeypatch.setattr(store, "build_vector_index", vector_build)

    def reset():
        seen.update(parsed=[], chunked=[], terms=0, vector_builds=0)
        return seen

    return reset


def _rows(index: Path) -> list[tuple]:
    with sqlite3.connect(live_generation(index) / CHUNKS_DB) as db:
        return db.execute("SELECT id, doc_id, ordinal, start, end, embed_hash FROM chunks ORDER BY id").fetchall()


def _vectors(index: Path) -> np.ndarray:
    vectors = faiss.read_index(str(live_generation(index) / VECTORS))
    return vectors.reconstruct_n(0, vectors.ntotal)


def test_changing_one_of_n_articles_recomputes_only_that_article(corpus, tmp_path, recorded):
    index = tmp_path / "index"
    rag.build_index(corpus, index, **FAST)
    before = {row[1]: row for row in _rows(index)}
    (corpus / "bakery.txt").write_text(TINY["bakery.txt"] + "\n\nThe bakery will open a second shop in Hightown next spring.\n")
    seen = recorded()
    report = rag.build_index(corpus, index, **FAST)
    assert (report.updated, report.unchanged) == (1, 7)
    assert seen["parsed"] == ["bakery.txt"], "only the changed file is parsed again"
    assert seen["chunked"] == ["bakery.txt"], "only the changed article is chunked again"
    bakery = [row for row in _rows(index) if row[1] == "bakery.txt"]
    assert seen["terms"] == len(bakery) and report.embedded <= len(bakery), "only its chunks are tokenised and embedded"
    assert all(before[row[1]][2:] == row[2:] for row in _rows(index) if row[1] != "bakery.txt"), "the others' rows are kept"
    answer = rag.Assistant.load(index, **FAST).ask("Where will the bakery open a second shop?")
    assert "Hightown" in answer.text


def test_an_update_that_only_adds_appends_vectors_and_equals_a_fresh_build(corpus, tmp_path, recorded):
    index, fresh = tmp_path / "index", tmp_path / "fresh"
    rag.build_index(corpus, index, **FAST)
    old_rows, old_vectors = _rows(index), _vectors(index)
    write_corpus(corpus, {"aa-first.txt": "Ferry returns\n\nThe island ferry returned to service after repairs costing 3 million.\n"})
    seen = recorded()
    report = rag.build_index(corpus, index, **FAST)
    assert report.added == 1 and seen["parsed"] == ["aa-first.txt"] and seen["chunked"] == ["aa-first.txt"]
    assert seen["vector_builds"] == 0, "the new vectors are appended to the live index, not built again"
    rows, vectors = _rows(index), _vectors(index)
    assert rows[: len(old_rows)] == old_rows, "the old chunks keep their ids"
    assert np.array_equal(vectors[: len(old_vectors)], old_vectors) and len(vectors) == len(rows)

    rag.build_index(corpus, fresh, **FAST)
    by_hash = dict(zip((r[5] for r in _rows(fresh)), _vectors(fresh)))
    assert all(np.allclose(v, by_hash[r[5]]) for r, v in zip(rows, vectors)), "each id holds its own chunk's vector"
    top = rag.Assistant.load(index, **FAST).search("island ferry repairs", k=1)[0]
    assert top.doc_id == "aa-first.txt" and "ferry" in top.text


def test_removing_an_article_leaves_a_tombstone_that_no_search_returns(corpus, tmp_path, recorded):
    index = tmp_path / "index"
    rag.build_index(corpus, index, **FAST)
    before = {r[0]: r for r in _rows(index)}
    gone = [i for i, r in before.items() if r[1] == "extra/story2.txt"]
    (corpus / "extra" / "story2.txt").unlink()
    seen = recorded()
    report = rag.build_index(corpus, index, **FAST)
    assert report.removed == 1 and seen["parsed"] == [] and seen["chunked"] == [] and seen["terms"] == 0
    assert seen["vector_builds"] == 0, "the vector index is kept: the removed rows become tombstones"
    rows = _rows(index)
    assert all(before[r[0]] == r for r in rows) and not set(gone) & {r[0] for r in rows}, "the others keep their ids"
    assert len(_vectors(index)) == len(before), "the dead rows stay in the vector file"
    assistant = rag.Assistant.load(index, **FAST)
    vector = assistant.store.vectors_of(gone)  # the removed chunk's own vector: it would rank first
    assert all(i not in gone for i, _ in assistant.store.dense(vector, k=len(before)))
    assert all(p.doc_id != "extra/story2.txt" for p in assistant.search("council day 2 budget parks trees", k=20))


def test_an_unchanged_rerun_parses_nothing_and_writes_nothing(corpus, tmp_path, recorded):
    index = tmp_path / "index"
    rag.build_index(corpus, index, **FAST)
    live = live_generation(index)
    (corpus / "bakery.txt").touch()  # a new modification time, the same bytes
    seen = recorded()
    report = rag.build_index(corpus, index, **FAST)
    assert report.unchanged == 8 and seen["parsed"] == [] and seen["chunked"] == []
    assert live_generation(index) == live


def test_a_generation_written_before_files_and_terms_were_stored_still_updates(corpus, tmp_path, recorded):
    index = tmp_path / "index"
    rag.build_index(corpus, index, **FAST)
    with sqlite3.connect(live_generation(index) / CHUNKS_DB) as db:
        db.executescript("DROP TABLE files; DROP TABLE terms;")
    (corpus / "bakery.txt").write_text(TINY["bakery.txt"] + "\n\nA second shop opens in Hightown.\n")
    seen = recorded()
    report = rag.build_index(corpus, index, **FAST)
    assert report.updated == 1 and len(seen["parsed"]) == 8, "no record of the files: all are parsed"
    assert seen["chunked"] == ["bakery.txt"], "chunks are still reused by content hash"
    assert "Hightown" in rag.Assistant.load(index, **FAST).ask("Where does a second shop open?").text


def test_new_reading_code_parses_every_file_again(corpus, tmp_path, recorded, monkeypatch):
    """Stored articles stand for a file's bytes only under the readers that parsed them: a release
    with new boilerplate or front-matter rules must not keep serving the old parse."""
    index = tmp_path / "index"
    rag.build_index(corpus, index, **FAST)
    monkeypatch.setattr(indexing, "reader_version", lambda: "another release")
    seen = recorded()
    rag.build_index(corpus, index, **FAST)
    assert len(seen["parsed"]) == 8
    seen = recorded()
    rag.build_index(corpus, index, **FAST)
    assert seen["parsed"] == [], "the new reading code's parse is recorded even though no article changed"


def _rankings(index: Path, queries: list[str]) -> list[tuple]:
    """Every query's BM25 and dense rankings as (doc id, ordinal, score): comparable across chunk ids."""
    assistant = rag.Assistant.load(index, **FAST)
    store_ = assistant.store
    names = {r[0]: (r[1], r[2]) for r in _rows(index)}
    result = []
    for query in queries:
        vector = assistant.embedder.encode([query])
        for ranked in (store_.lexical(query, k=50), store_.dense(vector, k=50)):
            result.append(sorted((*names[i], round(s, 5)) for i, s in ranked))
    assistant.close()
    return result


@pytest.mark.parametrize("index_type", ["flat", "hnsw"])
def test_an_update_that_changes_removes_and_adds_ranks_exactly_as_a_fresh_build(corpus, tmp_path, recorded, index_type):
    index, fresh = tmp_path / "index", tmp_path / "fresh"
    settings = {**FAST, "index_type": index_type}
    rag.build_index(corpus, index, **settings)
    (corpus / "bakery.txt").write_text(TINY["bakery.txt"] + "\n\nThe bakery will open a second shop in Hightown next spring.\n")
    (corpus / "extra" / "story2.txt").unlink()
    write_corpus(corpus, {"ferry.txt": "Ferry returns\n\nThe island ferry returned to service after repairs costing 3 million.\n"})
    seen = recorded()
    report = rag.build_index(corpus, index, **settings)
    assert (report.added, report.updated, report.removed) == (1, 1, 1) and seen["vector_builds"] == 0
    assert read_manifest(index)["vector_index"]["kind"] == index_type
    rag.build_index(corpus, fresh, **settings)
    queries = ["second bakery shop in Hightown", "island ferry repairs", "council budget for parks", "harbour boats jobs"]
    assert _rankings(index, queries) == _rankings(fresh, queries), "same passages, same BM25 and cosine scores"
    ids = [r[0] for r in _rows(index)]
    assert ids != list(range(len(ids))), "the update kept ids (with gaps), the fresh build numbered 0..n-1"


def test_removing_a_fifth_of_the_rows_compacts_the_index_to_ids_0_to_n(corpus, tmp_path, recorded):
    index = tmp_path / "index"
    rag.build_index(corpus, index, **FAST)
    for n in range(3):
        (corpus / "extra" / f"story{n}.txt").unlink()
    seen = recorded()
    rag.build_index(corpus, index, **FAST)
    rows = _rows(index)
    assert seen["vector_builds"] == 1, "too many tombstones: every file is written afresh"
    assert [r[0] for r in rows] == list(range(len(rows))) and len(_vectors(index)) == len(rows)
    assert read_manifest(index)["id_limit"] == len(rows)


def _age(corpus: Path, seconds: float = 3600) -> None:
    """Sets every file's time an hour back: outside the racy window, so builds record it."""
    past = time.time() - seconds
    for path in corpus.rglob("*.txt"):
        os.utime(path, (past, past))


def test_files_whose_size_and_time_are_recorded_are_not_read_again(corpus, tmp_path, monkeypatch):
    index = tmp_path / "index"
    _age(corpus)
    rag.build_index(corpus, index, **FAST)
    read = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self.name) or real(self))
    (corpus / "bakery.txt").write_text(TINY["bakery.txt"] + "\n\nA second shop opens in Hightown.\n")
    report = rag.build_index(corpus, index, **FAST)
    assert report.updated == 1 and read == ["bakery.txt"], "only the file whose size or time changed is read"


def test_a_touched_file_is_hashed_once_then_trusted_by_its_new_time(corpus, tmp_path, monkeypatch):
    index = tmp_path / "index"
    _age(corpus)
    rag.build_index(corpus, index, **FAST)
    _age(corpus, seconds=1800)  # new times, the same bytes
    live = live_generation(index)
    read = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self.name) or real(self))
    assert rag.build_index(corpus, index, **FAST).unchanged == 8 and len(read) == 8
    assert live_generation(index) != live, "the new times are recorded (a generation that reuses every other file)"
    read.clear()
    rag.build_index(corpus, index, **FAST)
    assert read == [], "then trusted: nothing read"


def test_an_unchanged_rerun_loads_no_model_and_writes_nothing(corpus, tmp_path, monkeypatch):
    index = tmp_path / "index"
    _age(corpus)
    rag.build_index(corpus, index, **FAST)
    rag.build_index(corpus, index, **FAST)  # records nothing new: times were recorded by the first build
    live = live_generation(index)
    monkeypatch.setattr(indexing, "get_embedder", lambda *a, **k: pytest.fail("an unchanged re-run loaded the embedder"))
    monkeypatch.setattr(indexing, "load_encoding", lambda *a, **k: pytest.fail("an unchanged re-run loaded the tokenizer"))
    report = rag.build_index(corpus, index, **FAST)
    assert report.unchanged == 8 and live_generation(index) == live
