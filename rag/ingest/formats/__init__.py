"""Readers for formats that parse the file's bytes themselves: CSV/TSV exports, PDF, Word.

``rag.ingest.reading`` reads text formats (.txt, .md, .html, .json); the readers here take the raw
bytes (binary files, or text whose decoding and layout they handle), and are chosen by suffix
from ``file_readers()``. The CSV reader takes the column mapping from ``Settings.csv_columns``.
"""

from __future__ import annotations

from typing import Callable

from rag.ingest.formats.delimited import DelimitedReader, parse_columns
from rag.ingest.formats.pdf import read_pdf
from rag.ingest.formats.word import read_docx
from rag.schema import Article

FileReader = Callable[[str, bytes], list[Article]]


def file_readers(columns: str = "") -> dict[str, FileReader]:
    """Readers by suffix; ``columns`` ("title=Headline,text=Story") names CSV columns explicitly.

    >>> sorted(file_readers())
    ['.csv', '.docx', '.pdf', '.tsv']
    """
    mapping = parse_columns(columns)
    return {
        ".csv": DelimitedReader(columns=mapping),
        ".tsv": DelimitedReader(columns=mapping, delimiter="\t"),
        ".pdf": read_pdf,
        ".docx": read_docx,
    }


__all__ = ["DelimitedReader", "FileReader", "file_readers", "parse_columns", "read_docx", "read_pdf"]
