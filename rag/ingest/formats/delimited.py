"""CSV and TSV exports: one article per row, columns found by name or named explicitly.

``doc_id`` is ``<file>#<id>`` when the file has an id column, else ``<file>#<row number>``
(1 for the first row after the header). A file without a text column is skipped with a
warning that names its columns, so the fix (``--columns text=NAME``) is obvious.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from typing import Mapping

from rag.errors import UserError
from rag.ingest.reading import SkipFile, decode
from rag.ingest.reading import _make_article as make_article  # the one place an Article is cleaned and hashed
from rag.schema import Article

log = logging.getLogger("rag")

# Header names (compared case-insensitively) that each field is found under, in order of preference.
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline"),
    "text": ("text", "body", "content", "article"),
    "date": ("date", "published", "pubdate"),
    "source": ("source", "publisher"),
    "url": ("url", "link"),
    "id": ("id",),
}
SNIFF_DELIMITERS = ",;\t|"
SNIFF_BYTES = 64 * 1024
# Python's csv refuses fields over 128 KB by default; a long article in one cell is normal here.
FIELD_LIMIT = 64 * 1024 * 1024


def parse_columns(spec: str | Mapping[str, str] | None) -> dict[str, str]:
    """``"title=Headline,text=Story"`` as ``{"title": "Headline", "text": "Story"}``; bad keys are user errors.

    >>> parse_columns("title=Headline, text=Story")
    {'title': 'Headline', 'text': 'Story'}
    """
    if not spec:
        return {}
    pairs = spec.items() if isinstance(spec, Mapping) else (_pair(part) for part in spec.split(",") if part.strip())
    mapping = {key.strip().lower(): value.strip() for key, value in pairs}
    unknown = sorted(set(mapping) - set(COLUMN_NAMES))
    if unknown:
        raise UserError(f"unknown column field(s) {', '.join(unknown)} in --columns; known: {', '.join(COLUMN_NAMES)}")
    return mapping


def _pair(part: str) -> tuple[str, str]:
    key, equals, value = part.partition("=")
    if not equals or not key.strip() or not value.strip():
        raise UserError(f"--columns expects FIELD=COLUMN pairs separated by commas, got {part.strip()!r}")
    return key, value


def _delimiter(text: str, default: str) -> str:
    try:
        return csv.Sniffer().sniff(text[:SNIFF_BYTES], delimiters=SNIFF_DELIMITERS).delimiter
    except csv.Error:  # too little or too regular text to tell: the suffix's delimiter
        return default


@dataclass(frozen=True)
class DelimitedReader:
    """Reads a CSV (``delimiter=","``, sniffed) or TSV (``"\\t"``) file into one article per row."""

    columns: Mapping[str, str] = field(default_factory=dict)
    delimiter: str = ","

    def __call__(self, doc_id: str, data: bytes) -> list[Article]:
        text = decode(data)
        delimiter = self.delimiter if self.delimiter == "\t" else _delimiter(text, self.delimiter)
        csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
        rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            header = [name.strip() for name in next(rows, [])]
            where = self._find(header)
            return self._articles(doc_id, rows, where)
        except csv.Error as exc:
            raise SkipFile(f"malformed CSV ({exc})") from None

    def _find(self, header: list[str]) -> dict[str, int]:
        """Column index of each field present, by explicit name first, then by the usual names."""
        lowered = [name.lower() for name in header]
        where: dict[str, int] = {}
        for key, names in COLUMN_NAMES.items():
            wanted = (self.columns[key],) if key in self.columns else names
            found = next((lowered.index(name.lower()) for name in wanted if name.lower() in lowered), None)
            if found is None and key in self.columns:
                raise SkipFile(f"no column {self.columns[key]!r} for {key} (columns: {', '.join(header) or 'none'})")
            if found is not None:
                where[key] = found
        if "text" not in where:
            raise SkipFile(
                f"no text column (columns: {', '.join(header) or 'none'}); name one with --columns text=COLUMN"
            )
        return where

    def _articles(self, doc_id: str, rows, where: dict[str, int]) -> list[Article]:
        articles = []
        for number, row in enumerate(rows, start=1):
            if not any(cell.strip() for cell in row):
                continue
            values = {key: row[i] if i < len(row) else "" for key, i in where.items()}
            row_id = values.pop("id", "").strip() or str(number)
            try:
                if not values["text"].strip():
                    raise SkipFile("empty text")
                articles.append(make_article(f"{doc_id}#{row_id}", values.pop("text"), values))
            except SkipFile as exc:
                log.warning("skipping %s row %d: %s", doc_id, number, exc)
        return articles
