"""The real ``rag`` command in a subprocess: exit codes and messages."""

import json
import subprocess
import sys

import pytest

from tests.conftest import write_corpus


def rag_cmd(*args, stdin=None, cwd=None, env_extra=None):
    import os

    env = {**os.environ, "RAG_MODEL": "hashing", "RAG_PROGRESS": "false", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], input=stdin, capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


@pytest.fixture
def built(tiny_corpus, tmp_path):
    index = tmp_path / "index"
    result = rag_cmd("index", str(tiny_corpus), "--index", str(index))
    assert result.returncode == 0, result.stderr
    assert "added 3" in result.stdout
    return index


def test_index_search_ask_json(built):
    search = rag_cmd("search", "rye bread prize", "--k", "2", "--json", "--index", str(built))
    assert search.returncode == 0
    passages = json.loads(search.stdout)
    assert len(passages) == 2 and passages[0]["doc_id"] == "bakery.txt"
    ask = rag_cmd("ask", "Who owns the bakery?", "--json", "--index", str(built), env_extra={"RAG_MIN_RELEVANCE": "0.1"})
    answer = json.loads(ask.stdout)
    assert answer["citations"] and answer["citations"][0]["doc_id"] == "bakery.txt"


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (("ask", "   "), None, "question is empty"),
        (("ask", "-"), "x" * 1_000_000, "too long"),
        (("search", ""), None, "question is empty"),
    ],
)
def test_bad_questions_exit_2_with_one_line(built, args, stdin, message):
    result = rag_cmd(*args, "--index", str(built), stdin=stdin)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_and_incompatible_index_and_bad_corpus(tmp_path, built):
    assert "no index found" in rag_cmd("ask", "hi", "--index", str(tmp_path / "none")).stderr
    mismatch = rag_cmd("ask", "hi", "--index", str(built), env_extra={"RAG_CHUNK_TOKENS": "77"})
    assert mismatch.returncode == 2 and "rag index" in mismatch.stderr
    missing = rag_cmd("index", str(tmp_path / "nope"), "--index", str(tmp_path / "i2"))
    assert missing.returncode == 2 and "not found" in missing.stderr
    (tmp_path / "empty").mkdir()
    empty = rag_cmd("index", str(tmp_path / "empty"), "--index", str(tmp_path / "i3"))
    assert empty.returncode == 2 and "no readable articles" in empty.stderr
    for result in (missing, empty, mismatch):
        assert "Traceback" not in result.stderr


def test_bad_file_is_reported_and_build_continues(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"ok.txt": "Fine\n\nThe bridge reopened to traffic on Monday morning.", "bad.json": "{oops"})
    result = rag_cmd("index", str(corpus), "--index", str(tmp_path / "i"))
    assert result.returncode == 0 and "added 1" in result.stdout
    assert "bad.json" in result.stderr
