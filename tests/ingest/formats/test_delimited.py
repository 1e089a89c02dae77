"""CSV/TSV exports: one article per row, columns by name or given, ids, quoting, BOMs, delimiters."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from rag.errors import UserError
from rag.ingest.formats import parse_columns
from rag.store.build import build_index
from rag.ingest.reading import read_corpus
from tests.conftest import FAST, write_corpus

NEWSROOM = (
    "id,headline,body,published,publisher,link\n"
    'a1,Harbour opens,"The harbour opened on Monday.\n\nIt cost 42 million pounds.",2024-03-04,Elms Post,https://elms.example/a1\n'
    'a2,"Bakery wins, again","A bakery won the ""national"" bread prize.",2024-03-05,Elms Post,https://elms.example/a2\n'
)


def _articles(root: Path) -> dict:
    return {a.doc_id: a for a in read_corpus(root).articles}


def test_rows_become_articles_with_columns_found_by_name(tmp_path: Path) -> None:
    articles = _articles(write_corpus(tmp_path, {"export.csv": NEWSROOM}))
    assert sorted(articles) == ["export.csv#a1", "export.csv#a2"]
    harbour = articles["export.csv#a1"]
    assert harbour.title == "Harbour opens"
    assert harbour.text == "The harbour opened on Monday.\n\nIt cost 42 million pounds."  # quoted multi-line field
    assert (harbour.date, harbour.source, harbour.url) == ("2024-03-04", "Elms Post", "https://elms.example/a1")
    assert articles["export.csv#a2"].title == "Bakery wins, again"
    assert articles["export.csv#a2"].text == 'A bakery won the "national" bread prize.'


def test_row_numbers_without_an_id_column_and_blank_rows_ignored(tmp_path: Path) -> None:
    csv = "Title,Text\nFirst,The first story of the day is about the Elms harbour.\n,\nThird,The third story of the day is about a bakery in Lowtown.\n"
    assert sorted(_articles(write_corpus(tmp_path, {"data/news.csv": csv}))) == ["data/news.csv#1", "data/news.csv#3"]


def test_bom_semicolons_and_latin1(tmp_path: Path) -> None:
    utf8 = "\ufefftitle;content;pubDate\nZürich vote;Voters in Zürich said yes.;Tue, 05 Mar 2024 10:00:00 GMT\n"
    latin1 = "title;article\nCafé closes;The café on the square closed after forty years.\n".encode("latin-1")
    articles = _articles(write_corpus(tmp_path, {"bom.csv": utf8.encode("utf-8"), "latin.csv": latin1}))
    assert articles["bom.csv#1"].title == "Zürich vote"  # the BOM is not part of the first column name
    assert articles["bom.csv#1"].date == "2024-03-05"
    assert articles["latin.csv#1"].text == "The café on the square closed after forty years."


def test_tsv_and_pipe_delimited(tmp_path: Path) -> None:
    files = {"a.tsv": "title\ttext\nRail strike\tThe strike was called off, late, on Sunday.\n",
             "b.csv": "title|text\nPort news|Ships, boats and ferries returned to Port Elms on Friday.\n"}
    articles = _articles(write_corpus(tmp_path, files))
    assert articles["a.tsv#1"].text == "The strike was called off, late, on Sunday."
    assert articles["b.csv#1"].title == "Port news"


def test_explicit_columns_setting(tmp_path: Path) -> None:
    csv = "Overskrift,Brødtekst,Kilde\nHavn åbner,Den nye havn i Port Elms åbnede mandag efter fire år.,Elms Post\n"
    root = write_corpus(tmp_path / "c", {"dk.csv": csv})
    report = build_index(root, tmp_path / "index", csv_columns="title=Overskrift,text=Brødtekst,source=Kilde", **FAST)
    assert report.added == 1 and not report.skipped


def test_file_without_text_column_is_skipped_naming_its_columns(tmp_path: Path, caplog) -> None:
    root = write_corpus(tmp_path, {"stats.csv": "team,goals\nElms,3\n", "ok.txt": "Title\n\nThe Elms council met on Monday to discuss the harbour."})
    with caplog.at_level(logging.WARNING, logger="rag"):
        corpus = read_corpus(root)
    (doc_id, reason), = corpus.skipped
    assert doc_id == "stats.csv" and "no text column (columns: team, goals)" in reason and "--columns" in reason


def test_named_column_missing_is_skipped_and_bad_spec_is_a_user_error(tmp_path: Path) -> None:
    root = write_corpus(tmp_path / "c", {"a.csv": NEWSROOM, "b.txt": "T\n\nThe Elms council met on Monday to discuss the harbour."})
    report = build_index(root, tmp_path / "index", csv_columns="text=story", **FAST)
    assert report.skipped == [("a.csv", "no column 'story' for text (columns: id, headline, body, published, publisher, link)")]
    with pytest.raises(UserError, match="unknown column field"):
        parse_columns("headline=Title")
    with pytest.raises(UserError, match="FIELD=COLUMN"):
        parse_columns("text")


def test_long_cells_and_empty_text_rows(tmp_path: Path, caplog) -> None:
    long_text = "The council met again. " * 20_000  # ~460 KB in one cell, over csv's default field limit
    csv = f'title,text\nLong,"{long_text}"\nEmpty,  \n'
    with caplog.at_level(logging.WARNING, logger="rag"):
        articles = _articles(write_corpus(tmp_path, {"long.csv": csv}))
    assert list(articles) == ["long.csv#1"] and len(articles["long.csv#1"].text) > 400_000
    assert "row 2: empty text" in caplog.text
