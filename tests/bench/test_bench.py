"""The benchmark end to end on a tiny corpus with the model-free embedder: every field is there and a number."""

import json
import math

import pytest

from bench.__main__ import main
from bench.synthetic import changed_copy, synthetic_corpus
from tests.conftest import TINY, write_corpus

NUMBERS = (
    "passages", "build_s", "passages_per_s", "build_peak_rss_mb", "rerun_unchanged_s", "rerun_1pct_s",
    "search_p50_ms", "search_p95_ms", "ask_p50_ms", "ask_p95_ms", "vector_search_p50_ms", "recall_at_10",
    "bytes_per_passage", "loaded_peak_rss_mb", "load_s", "cold_start_s",
)


def test_synthetic_corpus_recombines_real_sentences(tmp_path):
    source = write_corpus(tmp_path / "source", {f"news/{name}": text for name, text in TINY.items()})
    target = synthetic_corpus(source, tmp_path / "synthetic", passages=20, passages_per_article=1.0)
    files = sorted(target.rglob("syn-*.txt"))
    assert len(files) >= 5
    sentences = {s for text in TINY.values() for s in text.replace("\n\n", " ").split(". ")}
    body = files[0].read_text().split("\n\n", 1)[1]
    assert any(s.strip(".\n") in body for s in sentences)
    changed, count = changed_copy(target, tmp_path / "changed", fraction=0.01)
    assert count == 1 and sum(a.read_text() != b.read_text() for a, b in zip(files, sorted(changed.rglob("syn-*.txt")))) == 1


def test_bench_writes_numbers_for_every_variant(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", {f"news/{name}": text for name, text in TINY.items()})
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps({"question": q}) + "\n" for q in ["Who cut the ribbon?", "What did the bakery win?"]))
    out = tmp_path / "out"
    assert main(["--corpus", str(corpus), "--model", "hashing", "--backends", "torch", "--index-types", "flat,hnsw",
                 "--questions", str(questions), "--synthetic", "40", "--out", str(out)]) == 0
    report = json.loads((out / "results.json").read_text())
    assert set(report["corpora"]) == {"corpus", "synthetic-40"}
    for result in report["corpora"].values():
        assert set(result["variants"]) == {"torch/flat", "torch/hnsw"}
        for row in result["variants"].values():
            for key in NUMBERS:
                assert isinstance(row[key], (int, float)) and math.isfinite(row[key]), key
            assert row["rerun_1pct_embedded"] >= 1
        assert result["variants"]["torch/hnsw"]["vector_index"]["kind"] == "hnsw"
    assert "torch/hnsw" in (out / "results.txt").read_text()


def test_bench_runs_report_the_median_of_each_variant_and_every_run(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", {f"news/{name}": text for name, text in TINY.items()})
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps({"question": "Who cut the ribbon?"}) + "\n")
    out = tmp_path / "out"
    assert main(["--corpus", str(corpus), "--model", "hashing", "--backends", "torch", "--index-types", "flat",
                 "--questions", str(questions), "--runs", "3", "--out", str(out)]) == 0
    result = json.loads((out / "results.json").read_text())["corpora"]["corpus"]
    row = result["variants"]["torch/flat"]
    assert result["runs"] == 3 and len(row["runs"]["build_s"]) == 3
    assert row["build_s"] == sorted(row["runs"]["build_s"])[1]
    text = (out / "results.txt").read_text()
    assert "medians of 3 runs" in text and "torch/flat: build_s " in text


def test_bench_refuses_a_run_count_that_is_no_whole_number(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--runs", "0"])
    assert exit_.value.code == 2 and "whole number of runs" in capsys.readouterr().err


def test_bench_on_milvus_writes_the_same_numbers(tmp_path):
    pytest.importorskip("pymilvus", reason='pymilvus is not installed (pip install -e ".[milvus]")')
    corpus = write_corpus(tmp_path / "corpus", {f"news/{name}": text for name, text in TINY.items()})
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps({"question": "Who cut the ribbon?"}) + "\n")
    out = tmp_path / "out"
    assert main(["--corpus", str(corpus), "--model", "hashing", "--backends", "torch", "--store", "milvus",
                 "--questions", str(questions), "--out", str(out)]) == 0
    row = json.loads((out / "results.json").read_text())["corpora"]["corpus"]["variants"]["torch/milvus-hnsw"]
    for key in NUMBERS:
        assert isinstance(row[key], (int, float)) and math.isfinite(row[key]), key
    assert row["store"] == "milvus" and row["vector_index"]["kind"] == "milvus-hnsw" and row["recall_at_10"] == 1.0
    assert row["rerun_1pct_embedded"] >= 1


def test_bench_updates_prints_first_answer_and_update_rows(tmp_path):
    from bench import updates

    corpus = write_corpus(tmp_path / "corpus", TINY)
    out = tmp_path / "rows.json"
    updates.main(["--corpus", str(corpus), "--work", str(tmp_path / "work"), "--model", "hashing", "--runs", "1", "--json", str(out)])
    rows = json.loads(out.read_text())
    assert 0 < rows["first answer s"] <= rows["full build s"]
    assert all(rows[k] > 0 for k in ("unchanged re-run s", "1% changed s", "1% added s"))
    assert rows["passages"] > 3, "1% added put new articles in the index"
