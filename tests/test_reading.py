import json
import logging

import pytest

from rag.errors import UserError
from rag.reading import read_corpus
from tests.conftest import write_corpus


def test_txt_title_and_doc_ids_are_relative_posix_paths(tiny_corpus):
    corpus = read_corpus(tiny_corpus)
    by_id = {a.doc_id: a for a in corpus.articles}
    assert set(by_id) == {"bakery.txt", "harbour.txt", "rail/strike.txt"}
    assert by_id["rail/strike.txt"].title == "Rail strike called off"
    assert by_id["harbour.txt"].text.startswith("The new harbour in Port Elms")


def test_txt_without_title_line_derives_title_from_first_sentence(tmp_path):
    write_corpus(tmp_path, {"a.txt": "Floods closed the bridge on Friday. Repairs will take a week.\nMore rain is due."})
    article = read_corpus(tmp_path).articles[0]
    assert article.title == "Floods closed the bridge on Friday."
    assert article.text.startswith("Floods closed the bridge")


def test_markdown_front_matter_is_honoured(tmp_path):
    md = "---\ntitle: Dam approved\ndate: 2024-05-01\nsource: Valley Post\nurl: https://example.org/dam\n---\n\nThe regional council approved the dam on Tuesday after a long debate about costs.\n"
    write_corpus(tmp_path, {"dam.md": md})
    article = read_corpus(tmp_path).articles[0]
    assert (article.title, article.date, article.source, article.url) == (
        "Dam approved", "2024-05-01", "Valley Post", "https://example.org/dam")
    assert article.text.startswith("The regional council approved the dam")


def test_markdown_heading_becomes_title(tmp_path):
    write_corpus(tmp_path, {"x.md": "# Zoo gets pandas\nTwo giant pandas arrived at the city zoo on loan from China for ten years.\n"})
    article = read_corpus(tmp_path).articles[0]
    assert article.title == "Zoo gets pandas"
    assert "Two giant pandas" in article.text


def test_html_extracts_title_date_and_main_text(tmp_path):
    html = """<html><head><title>Storm hits coast | Daily Wire</title>
    <meta property="article:published_time" content="2023-11-02T08:00:00Z"></head><body>
    <nav><a href="/">Home</a> <a href="/news">News</a></nav>
    <article><h1>Storm hits coast</h1>
    <p>A powerful storm hit the northern coast overnight, cutting power to 20,000 homes and closing three ports.</p>
    <p>Emergency crews worked through the night to clear fallen trees from the main coastal road.</p></article>
    <footer>Copyright Daily Wire. All rights reserved.</footer></body></html>"""
    write_corpus(tmp_path, {"storm.html": html})
    article = read_corpus(tmp_path).articles[0]
    assert "Storm hits coast" in article.title
    assert article.date == "2023-11-02"
    assert "cutting power to 20,000 homes" in article.text
    assert "All rights reserved" not in article.text


def test_json_and_jsonl_records(tmp_path):
    records = [{"id": "r1", "title": "Mine reopens", "body": "The copper mine reopened after the strike ended in June.", "date": "2022-06-30", "source": "Wire"},
               {"id": "r2", "title": "Port deal", "content": "The port signed a ten-year deal with a shipping group on Monday."}]
    jsonl = "\n".join(json.dumps(r) for r in records) + "\nnot json\n"
    write_corpus(tmp_path, {"one.json": json.dumps(records[0]), "many.jsonl": jsonl})
    ids = {a.doc_id: a for a in read_corpus(tmp_path).articles}
    assert set(ids) == {"one.json#r1", "many.jsonl#r1", "many.jsonl#r2"}
    assert ids["one.json#r1"].source == "Wire"
    assert ids["many.jsonl#r2"].text.startswith("The port signed")


def test_bad_files_are_skipped_with_one_warning_each(tmp_path, caplog):
    files = {
        "good.txt": "Good\n\nThe market rose by 3 percent on Friday as investors welcomed the news.",
        "empty.txt": "",
        "binary.txt": b"\x00\x01\x02PNG\x00\x00",
        "broken.json": "{not json",
        "bad_front.md": "---\ntitle: [unclosed\n---\nBody text here that is long enough to keep.",
        "latin1.txt": "Caf\xe9 opens\n\nThe caf\xe9 on the square reopened after a fire last year.".encode("latin-1"),
        "notes.csv": "a,b\n1,2",
    }
    write_corpus(tmp_path, files)
    with caplog.at_level(logging.WARNING, logger="rag"):
        corpus = read_corpus(tmp_path)
    assert {a.doc_id for a in corpus.articles} == {"good.txt", "latin1.txt"}
    # A CSV is read now (rag/formats): this one has no text column, and says which columns it has.
    assert dict(corpus.skipped).keys() == {"empty.txt", "binary.txt", "broken.json", "bad_front.md", "notes.csv"}
    assert dict(corpus.skipped)["notes.csv"].startswith("no text column (columns: a, b)")
    for name in ("empty.txt", "binary.txt", "broken.json", "bad_front.md"):
        assert sum(name in r.getMessage() for r in caplog.records) == 1
    latin = next(a for a in corpus.articles if a.doc_id == "latin1.txt")
    assert "café on the square" in latin.text


def test_missing_or_empty_folder_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        read_corpus(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no readable articles"):
        read_corpus(tmp_path / "empty")
