"""Word documents (.docx) by python-docx: paragraphs as paragraphs, the title heading as title.

The title is the paragraph in Word's Title style, else a heading that opens the document, else
the document's title property, else (as for any article) its first sentence. Sub-headings stay
in the text, where the general chrome rule (rag/ingest/boilerplate.py) may drop short ones.
"""

from __future__ import annotations

import io

from rag.ingest.reading import SkipFile
from rag.ingest.reading import _make_article as make_article  # the one place an Article is cleaned and hashed
from rag.schema import Article


def _is_heading(style: str) -> bool:
    return style == "Title" or style.startswith("Heading")


def _title_position(styles: list[str]) -> int | None:
    """The paragraph in Title style, else a heading that opens the document; a later heading is a sub-heading."""
    if "Title" in styles:
        return styles.index("Title")
    return 0 if _is_heading(styles[0]) else None


def read_docx(doc_id: str, data: bytes) -> list[Article]:
    """A .docx file as one article; its document title property stands in when no heading is found."""
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # a zip that is no Word file, or a broken one
        raise SkipFile(f"unreadable Word file ({type(exc).__name__}: {exc})") from None
    paragraphs = [(p.style.name if p.style is not None else "", p.text.strip()) for p in document.paragraphs]
    paragraphs = [(style, text) for style, text in paragraphs if text]
    if not paragraphs:
        raise SkipFile("no text in the Word document")
    position = _title_position([style for style, _ in paragraphs])
    title = paragraphs[position][1] if position is not None else document.core_properties.title
    body = [text for i, (_, text) in enumerate(paragraphs) if i != position]
    return [make_article(doc_id, "\n\n".join(body), {"title": title})]
