"""PDF files: reading order across columns, hyphens repaired, running heads and feet removed, scans skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.store.build import build_index
from rag.assistant import Assistant
from rag.ingest.reading import read_corpus
from tests.conftest import FAST, write_corpus

fpdf = pytest.importorskip("fpdf", reason="fpdf2 (dev extra) makes the PDF fixtures")

LEFT = ["The harbour authority said the new pier in Port Elms would be fin-",
        "ished by March, and that 300 boats could moor there each summer."]
RIGHT = ["Mayor Ada Quill said the project would bring 500 jobs to the town.",
         "Critics called the cost of 42 million pounds exces-",
         "sive for a town of its size."]
SECOND = ["On the second day the harbour board met the Elms fishing union",
          "to agree the mooring fees for 2025."]


def _page(pdf, head: str, columns: list[list[str]], foot: str, interleaved: bool) -> None:
    pdf.add_page()
    pdf.set_font("Helvetica", size=9)
    pdf.set_xy(20, 10)
    pdf.cell(0, 5, head)
    pdf.set_font("Helvetica", size=10)
    cells = [(c, i) for i in range(max(map(len, columns))) for c in range(len(columns))]
    if not interleaved:  # drawn right column first: the file's order is not the reading order
        cells = sorted(cells, key=lambda cell: (-cell[0], cell[1]))
    for c, i in cells:
        if i < len(columns[c]):
            pdf.set_xy(20 + 90 * c, 40 + 4.6 * i)
            pdf.cell(85, 4.6, columns[c][i])
    pdf.set_xy(20, 285)
    pdf.cell(0, 5, foot)


def press_release(interleaved: bool = True, title: str | None = "Harbour to open in March") -> bytes:
    """Two pages: a running head and a page-numbered foot on each, two columns on page one."""
    pdf = fpdf.FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pages = [[LEFT, RIGHT], [SECOND]]
    for number, columns in enumerate(pages, start=1):
        _page(pdf, "Port Elms Council - Press office", columns, f"Page {number} of {len(pages)}", interleaved)
        if number == 1 and title:
            pdf.set_font("Helvetica", "B", 16)
            pdf.set_xy(20, 22)
            pdf.cell(0, 8, title)
    return bytes(pdf.output())


def scanned() -> bytes:
    from PIL import Image

    pdf = fpdf.FPDF(format="A4")
    pdf.add_page()
    pdf.image(Image.new("RGB", (200, 100), "white"), x=20, y=20, w=100)
    return bytes(pdf.output())


EXPECTED = (
    "The harbour authority said the new pier in Port Elms would be finished by March, and that 300 boats "
    "could moor there each summer.\n\n"
    "Mayor Ada Quill said the project would bring 500 jobs to the town. Critics called the cost of 42 million "
    "pounds excessive for a town of its size.\n\n"
    "On the second day the harbour board met the Elms fishing union to agree the mooring fees for 2025."
)


@pytest.mark.parametrize("interleaved", [True, False], ids=["lines-interleaved", "right-column-first"])
def test_reading_order_hyphens_and_running_lines(tmp_path: Path, interleaved: bool) -> None:
    (article,) = read_corpus(write_corpus(tmp_path, {"release.pdf": press_release(interleaved)})).articles
    assert article.doc_id == "release.pdf"
    assert article.title == "Harbour to open in March"
    assert article.text == EXPECTED
    assert "Press office" not in article.text and "Page" not in article.text


def test_untitled_pdf_gets_a_derived_title(tmp_path: Path) -> None:
    (article,) = read_corpus(write_corpus(tmp_path, {"r.pdf": press_release(title=None)})).articles
    assert article.title.startswith("The harbour authority said")
    assert article.text == EXPECTED


def test_scanned_and_broken_pdfs_are_skipped_with_a_reason(tmp_path: Path) -> None:
    files = {"scan.pdf": scanned(), "broken.pdf": b"%PDF-1.7\nnot really a pdf", "ok.pdf": press_release()}
    corpus = read_corpus(write_corpus(tmp_path, files))
    reasons = dict(corpus.skipped)
    assert "no text layer" in reasons["scan.pdf"]
    assert "unreadable PDF" in reasons["broken.pdf"]
    assert [a.doc_id for a in corpus.articles] == ["ok.pdf"]


def test_citations_quote_the_stored_pdf_text(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", {"release.pdf": press_release()})
    build_index(corpus, tmp_path / "index", **FAST)
    assistant = Assistant.load(tmp_path / "index", **FAST)
    answer = assistant.ask("How much did critics say the harbour cost?")
    assert answer.citations
    for citation in answer.citations:
        stored = assistant.store.article(citation.doc_id)
        assert stored.text[citation.start : citation.end] == citation.quote
    assert any("excessive" in c.quote for c in answer.citations)
