"""Word files: paragraphs kept as paragraphs, the Title (or first heading) as the article title."""

from __future__ import annotations

import io
from pathlib import Path

import docx

from rag.ingest.reading import read_corpus
from tests.conftest import write_corpus

BODY = ["The harbour in Port Elms opened on Monday after four years of building work.",
        "Mayor Ada Quill cut the ribbon and said it would bring 500 jobs."]


def _docx(heading: tuple[str, int] | None, properties_title: str = "") -> bytes:
    document = docx.Document()
    document.core_properties.title = properties_title
    if heading:
        document.add_heading(heading[0], level=heading[1])
    document.add_paragraph(BODY[0])
    document.add_paragraph("")
    document.add_heading("Reaction in the town", level=2)
    document.add_paragraph(BODY[1])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_title_style_paragraphs_and_later_headings(tmp_path: Path) -> None:
    (article,) = read_corpus(write_corpus(tmp_path, {"release.docx": _docx(("New harbour opens", 0))})).articles
    assert article.title == "New harbour opens"
    # The short sub-heading goes with the general chrome rule, as in every format (rag/ingest/boilerplate.py).
    assert article.text == f"{BODY[0]}\n\n{BODY[1]}"


def test_first_heading_then_document_title_property(tmp_path: Path) -> None:
    files = {"h.docx": _docx(("Harbour opens in Port Elms", 1)), "p.docx": _docx(None, properties_title="Harbour memo")}
    articles = {a.doc_id: a for a in read_corpus(write_corpus(tmp_path, files)).articles}
    assert articles["h.docx"].title == "Harbour opens in Port Elms"
    # No heading opens it ("Reaction in the town" is a sub-heading): the document's title property.
    assert articles["p.docx"].title == "Harbour memo"


def test_broken_and_empty_word_files_are_skipped(tmp_path: Path) -> None:
    empty = io.BytesIO()
    docx.Document().save(empty)
    files = {"broken.docx": b"PK\x03\x04 not a zip", "empty.docx": empty.getvalue(), "ok.docx": _docx(("T", 0))}
    reasons = dict(read_corpus(write_corpus(tmp_path, files)).skipped)
    assert "unreadable Word file" in reasons["broken.docx"]
    assert reasons["empty.docx"] == "no text in the Word document"
