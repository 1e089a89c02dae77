"""PDF files (press releases, reports) by pdfminer.six's layout analysis.

pdfminer groups characters into text boxes and orders them column by column, so a
two-column page reads left column then right, whatever order the file draws them in
(pypdf follows the drawing order and interleaves the columns: see README). On top of that:

* lines that repeat at the top or bottom of most pages (running heads, "Page 3 of 9")
  are removed, digits ignored when comparing;
* a word hyphenated at a line end ("exces-" / "sive") is joined again;
* lines of one text box are one paragraph; boxes are separated by blank lines.

The result is the article text that chunks and citations point into, so quotes stay
verbatim spans of what is stored. A PDF without a text layer (a scan) is skipped.
"""

from __future__ import annotations

import io
import math
import re
from collections import Counter

from rag.ingest.reading import SkipFile
from rag.ingest.reading import _make_article as make_article  # the one place an Article is cleaned and hashed
from rag.schema import Article

EDGE_LINES = 2  # lines at the top and at the bottom of a page that may be a running head or foot
REPEAT_SHARE = 0.6  # ... removed when they recur on this share of the pages (and at least two)
TITLE_WORDS = 20
HYPHENATED = re.compile(r"(?<=[^\W\d_])-$")


def _pages(data: bytes) -> list[list[list[tuple[float, str]]]]:
    """Per page, its text boxes in reading order, each a list of (top y, line text)."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextContainer, LTTextLine

    pages = []
    try:
        for layout in extract_pages(io.BytesIO(data), laparams=LAParams()):
            boxes = []
            for element in layout:
                if isinstance(element, LTTextContainer):
                    lines = [(line.y1, line.get_text().strip()) for line in element if isinstance(line, LTTextLine)]
                    boxes.append([(y, text) for y, text in lines if text])
            pages.append([box for box in boxes if box])
    except Exception as exc:  # pdfminer raises many types for broken, encrypted or odd files
        raise SkipFile(f"unreadable PDF ({type(exc).__name__}: {exc})") from None
    return pages


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.split()).lower())


def _edge_lines(page: list[list[tuple[float, str]]]) -> set[str]:
    lines = sorted((line for box in page for line in box), key=lambda line: -line[0])
    return {_shape(text) for _, text in lines[:EDGE_LINES] + lines[-EDGE_LINES:]}


def _running_lines(pages: list[list[list[tuple[float, str]]]]) -> set[str]:
    """Shapes of lines found at a page edge on most pages: running heads and feet."""
    if len(pages) < 2:
        return set()
    counts = Counter(shape for page in pages for shape in _edge_lines(page))
    needed = max(2, math.ceil(REPEAT_SHARE * len(pages)))
    return {shape for shape, count in counts.items() if count >= needed}


def join_lines(lines: list[str]) -> str:
    """Lines of one paragraph as one line; a word hyphenated at a line end is joined again.

    >>> join_lines(["a cost of 42 million pounds exces-", "sive, critics said"])
    'a cost of 42 million pounds excessive, critics said'
    """
    text = ""
    for line in lines:
        if HYPHENATED.search(text) and line[:1].islower():
            text = text[:-1] + line
        else:
            text = f"{text} {line}" if text else line
    return text


def _paragraphs(pages: list[list[list[tuple[float, str]]]]) -> list[str]:
    running = _running_lines(pages)
    paragraphs: list[str] = []
    for page in pages:
        for box in page:
            lines = [text for _, text in box if _shape(text) not in running]
            if not lines:
                continue
            if paragraphs and HYPHENATED.search(paragraphs[-1]) and lines[0][:1].islower():
                paragraphs[-1] = join_lines([paragraphs[-1], *lines])  # a word split across columns or pages
            else:
                paragraphs.append(join_lines(lines))
    return paragraphs


def _title(paragraphs: list[str]) -> tuple[str | None, list[str]]:
    """The first paragraph is the title when it is short and not a sentence."""
    first = paragraphs[0]
    if len(paragraphs) > 1 and len(first.split()) <= TITLE_WORDS and not first.rstrip().endswith((".", "!", "?", ":")):
        return first, paragraphs[1:]
    return None, paragraphs


def read_pdf(doc_id: str, data: bytes) -> list[Article]:
    """The text of a PDF as one article: reading order, running heads and feet removed, hyphens repaired."""
    paragraphs = _paragraphs(_pages(data))
    if not paragraphs:
        raise SkipFile("no text layer (a scanned PDF?); run OCR on it first, e.g. with ocrmypdf")
    title, body = _title(paragraphs)
    return [make_article(doc_id, "\n\n".join(body), {"title": title})]
