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


def test_invalid_utf8_questions_are_one_line_exit_2(built):
    import os

    bad_argument = os.fsdecode(b"who led the \xff\xfe delegation?")  # how Python hands over undecodable argv bytes
    results = [rag_cmd("ask", bad_argument, "--index", str(built)), rag_cmd("search", bad_argument, "--index", str(built))]
    results.append(subprocess.run([sys.executable, "-m", "rag.cli", "ask", "-", "--index", str(built)], input=b"caf\xe9 \xff?",
                                  capture_output=True, env={**os.environ, "RAG_MODEL": "hashing"}, timeout=300))
    for result in results:
        stderr = result.stderr if isinstance(result.stderr, str) else result.stderr.decode()
        assert result.returncode == 2 and "not valid UTF-8" in stderr
        assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr


def test_index_pointing_at_a_file_is_one_line_exit_2(tmp_path, tiny_corpus):
    path = tmp_path / "file"
    path.write_text("x")
    for args in (("index", str(tiny_corpus), "--index", str(path)), ("ask", "hi", "--index", str(path)),
                 ("search", "hi", "--index", str(path))):
        result = rag_cmd(*args)
        assert result.returncode == 2 and "is a file, not an index folder" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["ask", "search"])
@pytest.mark.parametrize("k", ["0", "-3", "two"])
def test_k_below_one_or_not_a_number_is_an_error_not_the_default(built, command, k):
    result = rag_cmd(command, "Who owns the bakery?", "--k", k, "--index", str(built))
    assert result.returncode == 2 and "k" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_index_without_corpus_reindexes_the_recorded_folder_and_refuses_another(built, tiny_corpus, tmp_path):
    write_corpus(tiny_corpus, {"new.txt": "Library reopens\n\nThe town library reopened after a two-year refit.\n"})
    again = rag_cmd("index", "--index", str(built), cwd=str(tmp_path))
    assert again.returncode == 0 and "added 1" in again.stdout, again.stderr
    other = write_corpus(tmp_path / "other", {"x.txt": "Museum opens\n\nMayor Ada Quill opened the museum on Friday.\n"})
    refused = rag_cmd("index", str(other), "--index", str(built))
    assert refused.returncode == 2 and "--replace" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    replaced = rag_cmd("index", str(other), "--index", str(built), "--replace")
    assert replaced.returncode == 0 and "added 1" in replaced.stdout and "removed 4" in replaced.stdout


def test_each_skipped_file_is_reported_once(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"ok.txt": "Fine\n\nThe bridge reopened to traffic on Monday morning.", "bad.json": "{oops"})
    result = rag_cmd("index", str(corpus), "--index", str(tmp_path / "i"))
    assert result.returncode == 0 and result.stderr.count("bad.json") == 1


def test_the_interactive_loop_survives_an_invalid_utf8_line(built):
    import os

    result = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "--index", str(built)], input=b"caf\xe9 \xff?\nWho owns the bakery?\n",
                            capture_output=True, env={**os.environ, "RAG_MODEL": "hashing", "PYTHONIOENCODING": "utf-8:strict"}, timeout=300)
    assert result.returncode == 0 and b"not valid UTF-8" in result.stderr and b"Traceback" not in result.stderr
    assert b"bakery.txt" in result.stdout or b"Not found" in result.stdout


def test_search_shows_people_a_match_percentage_and_json_keeps_the_fusion_score(built):
    text = rag_cmd("search", "rye bread prize", "--k", "2", "--index", str(built))
    assert text.returncode == 0 and "% match" in text.stdout.splitlines()[0]
    data = json.loads(rag_cmd("search", "rye bread prize", "--k", "2", "--json", "--index", str(built)).stdout)
    assert data[0]["score"] < 0.1 < data[0]["similarity"], "JSON: the fusion score and the cosine, both"


def test_as_of_reads_relative_time_on_that_day_and_bad_dates_exit_2(tmp_path):
    dated = {f"rate-{day}.md": f"---\ntitle: Bank rate\ndate: 1987-04-{day}\n---\n\nCanada's key bank rate rose to 7.{day} pct, the Bank of Canada said.\n"
             for day in ("02", "09", "16")}
    corpus = write_corpus(tmp_path / "dated", dated)
    assert rag_cmd("index", str(corpus), "--index", str(tmp_path / "ix"), "--quiet").returncode == 0
    out = rag_cmd("ask", "What did the bank rate rise to last week?", "--index", str(tmp_path / "ix"), "--as-of", "1987-04-14", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["citations"][0]["date"] == "1987-04-09"
    bad = rag_cmd("search", "bank rate", "--index", str(tmp_path / "ix"), "--as-of", "soon")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "not a date" in bad.stderr


@pytest.mark.parametrize("lost", ["lexical/*/counts.bin", "vectors.faiss", "chunks.sqlite"])
def test_a_damaged_index_is_a_one_line_error_and_a_rerun_repairs_it(built, tiny_corpus, lost):
    generation = built / (built / "CURRENT").read_text().strip()
    next(generation.glob(lost)).unlink()
    asked = rag_cmd("ask", "Who owns the bakery?", "--index", str(built))
    assert asked.returncode == 2 and "damaged" in asked.stderr and "rag index" in asked.stderr
    assert "Traceback" not in asked.stderr and len(asked.stderr.strip().splitlines()) == 1
    rerun = rag_cmd("index", str(tiny_corpus), "--index", str(built))
    assert rerun.returncode == 0, rerun.stderr
    assert "added 3" in rerun.stdout  # rebuilt, not "unchanged" over the damage
    search = rag_cmd("search", "rye bread prize", "--json", "--index", str(built))
    assert search.returncode == 0 and json.loads(search.stdout)[0]["doc_id"] == "bakery.txt"
