"""Publication dates, normalised to ISO ``YYYY-MM-DD`` so they sort and filter as text."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from dateutil import parser as dateutil_parser


def normalise_date(value: Any) -> str | None:
    """``2024-05-01`` from a date, datetime or date-like string; None when it is no date.

    >>> normalise_date("1 May 2024"), normalise_date("2024-05-01T08:00:00Z"), normalise_date("soon")
    ('2024-05-01', '2024-05-01', None)
    """
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    try:
        return dateutil_parser.parse(text, fuzzy=False, default=datetime(1900, 1, 1)).date().isoformat()
    except (ValueError, OverflowError):
        return None
