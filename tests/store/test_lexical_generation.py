"""First answers from BM25: a first build publishes a lexical generation before it embeds."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import rag
import rag.store.build as indexing
from rag.store.local import CHUNKS_DB, VECTORS, embedding_progress, live_generation, pending_vectors, read_manifest
from tests.conftest import FAST, TINY, write_corpus
from ui import render

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "RAG_MODEL": "hashing", "RAG_PROGRESS": "false"}
QUESTION = "How many boats can the harbour hold?"


@pytest.fixture
def while_embedding(monkeypatch):
    """Runs ``look(index_dir)`` inside the build, just before it embeds; returns what it saw."""
    seen = {}

    def install(index_dir, look):
        inner = indexing.embed_missing

        def spy(*args, **kwargs):
            seen["value"] = look(Path(index_dir))
            return inner(*args, **kwargs)

        monkeypatch.setattr(indexing, "embed_missing", spy)
        return seen

    return install


def test_a_first_build_answers_from_bm25_while_it_embeds_then_hybrid(tiny_corpus, tmp_path, while_embedding):
    index = tmp_path / "index"

    def look(index_dir):
        generation = live_generation(index_dir)
        answer = rag.Assistant.load(index_dir, **FAST).ask(QUESTION)
        return generation, (generation / VECTORS).exists(), os.stat(generation / CHUNKS_DB).st_ino, answer

    seen = while_embedding(index, look)
    rag.build_index(tiny_corpus, index, **FAST)
    lexical, had_vectors, inode, answer = seen["value"]
    assert not had_vectors, "the lexical generation holds no vectors"
    assert "300 boats" in answer.text and answer.citations
    assert any("keyword search (BM25)" in note and "0 of 3 passages" in note for note in answer.notes), answer.notes
    assert "0 of 3 passages embedded" in render.answer_html(answer, lambda doc_id: None), "the chat shows the note"

    full = live_generation(index)
    assert full != lexical and (full / VECTORS).is_file() and not pending_vectors(read_manifest(index))
    assert os.stat(full / CHUNKS_DB).st_ino == inode, "the full generation hard-links the lexical one's texts"
    after = rag.Assistant.load(index, **FAST).ask(QUESTION)
    assert after.notes == [] and "300 boats" in after.text


def test_an_update_of_a_full_index_keeps_serving_it_until_the_new_one_is_ready(tiny_corpus, tmp_path, while_embedding):
    index = tmp_path / "index"
    rag.build_index(tiny_corpus, index, **FAST)
    before = live_generation(index)
    (tiny_corpus / "ferry.txt").write_text("Ferry returns\n\nThe island ferry returned to service after repairs.\n")
    seen = while_embedding(index, lambda index_dir: (live_generation(index_dir), read_manifest(index_dir)))
    report = rag.build_index(tiny_corpus, index, **FAST)
    live, manifest = seen["value"]
    assert report.added == 1
    assert live == before and not pending_vectors(manifest), "an update never goes lexical"


def test_the_lexical_generation_reports_the_builds_progress(tiny_corpus, tmp_path, while_embedding):
    index = tmp_path / "index"
    rag.build_index(tiny_corpus, index, **FAST)
    assert embedding_progress(index, "hashing") is None, "a full generation has no embedding in progress"
    other = tmp_path / "other"
    seen = while_embedding(other, lambda index_dir: embedding_progress(index_dir, "hashing"))
    rag.build_index(tiny_corpus, other, **FAST)
    assert seen["value"] == (0, 3)


def test_search_and_the_stores_own_rankings_work_on_a_lexical_generation(tiny_corpus, tmp_path, while_embedding):
    def look(index_dir):
        assistant = rag.Assistant.load(index_dir, **{**FAST, "retriever": "dense"})
        store = assistant.store
        vector = assistant.embedder.encode(["harbour"])
        return assistant.search("harbour boats", k=2), store.dense(vector, 3), store.hybrid("harbour", vector, 3, 10, None, (1.0, 1.0), 60)

    seen = while_embedding(tmp_path / "index", look)
    rag.build_index(tiny_corpus, tmp_path / "index", **FAST)
    passages, dense, hybrid = seen["value"]
    assert passages and passages[0].doc_id == "harbour.txt" and -1.0 <= passages[0].similarity <= 1.0
    assert dense == [], "no vectors: the dense ranking is empty"
    assert hybrid and hybrid[0][0] == passages[0].chunk_id, "hybrid ranks by BM25 alone"


# A real first build in its own process that stops (for the kill) once its lexical generation is live.
STOP_BEFORE_EMBEDDING = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import rag, rag.store.build as indexing
    def stop(*args, **kwargs):
        Path(sys.argv[3]).write_text("embedding")
        time.sleep(600)
    indexing.embed_missing = stop
    rag.build_index(sys.argv[1], sys.argv[2], model="hashing", progress=False)
    """
)


def test_kill_9_while_embedding_leaves_a_lexical_index_that_the_next_build_completes(tmp_path):
    corpus, index, marker = write_corpus(tmp_path / "corpus", TINY), tmp_path / "index", tmp_path / "embedding"
    build = subprocess.Popen([sys.executable, "-c", STOP_BEFORE_EMBEDDING, str(corpus), str(index), str(marker)], env=ENV)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert build.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    build.send_signal(signal.SIGKILL)
    build.wait(timeout=30)

    answer = rag.Assistant.load(index, **FAST).ask(QUESTION)
    assert "300 boats" in answer.text and answer.notes, "killed while embedding: BM25 still answers"
    report = rag.build_index(corpus, index, **FAST)  # nothing changed in the folder, but the vectors are missing
    assert report.unchanged == 3 and report.embedded == 3
    assert not pending_vectors(read_manifest(index)) and rag.Assistant.load(index, **FAST).ask(QUESTION).notes == []


def test_rag_ask_says_it_answers_from_bm25(tmp_path):
    corpus, index, marker = write_corpus(tmp_path / "corpus", TINY), tmp_path / "index", tmp_path / "embedding"
    build = subprocess.Popen([sys.executable, "-c", STOP_BEFORE_EMBEDDING, str(corpus), str(index), str(marker)], env=ENV)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert build.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        asked = subprocess.run([sys.executable, "-m", "rag.cli", "ask", QUESTION, "--index", str(index)], env=ENV,
                               capture_output=True, text=True, timeout=120)
    finally:
        build.kill()
        build.wait(timeout=30)
    assert asked.returncode == 0, asked.stderr
    assert "300 boats" in asked.stdout and "Note: Answered from keyword search (BM25) only" in asked.stdout
