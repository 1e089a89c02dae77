"""Time expressions in questions ("this week", "last month", "in March", "the latest") as date ranges.

A question is read on its ``as_of`` day: "yesterday" asked on 1987-06-02 is 1987-06-01, and
articles dated after ``as_of`` are not news yet. Exact expressions become a ``Period`` that
retrieval filters on; loose ones ("recently", "currently", "the latest") a window retrieval
prefers without excluding older articles. Weeks run Monday to Sunday.

>>> period_of("What did the bank say last week?", "1987-04-14")
Period(start='1987-04-06', end='1987-04-12', phrase='last week', loose=False, latest=False)
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from dateutil.relativedelta import relativedelta

from rag.ingest.dates import normalise_date
from rag.errors import UserError

__all__ = ["Period", "as_of_date", "period_of"]

# "Recently", "currently" and "the latest" read as the last 30 days: every such question of
# eval/reuters.jsonl is answered by an article 0-11 days older than its as_of.
RECENT_DAYS = 30
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "thirty": 30, "few": 3, "several": 7}
MONTHS = {name: number for number, name in enumerate(calendar.month_name) if name}
WEEKDAYS = list(calendar.day_name)


@dataclass(frozen=True)
class Period:
    """The days a question asks about, ISO ``start``..``end`` inclusive.

    ``loose``: a preference (boost), not a filter; ``latest``: the newest relevant article wins."""

    start: str
    end: str
    phrase: str
    loose: bool = False
    latest: bool = False

    def holds(self, day: str | None) -> bool:
        """Whether an article dated ``day`` lies inside the period (undated: no)."""
        return bool(day) and self.start <= day <= self.end


def as_of_date(value: str | date | None = None) -> date:
    """The day questions are asked on: ``value`` as a date, today when empty; a non-date is a user error."""
    if not value:
        return date.today()
    day = normalise_date(value)
    if day is None:
        raise UserError(f"as_of {value!r} is not a date; use e.g. 1987-06-01")
    return date.fromisoformat(day)


def _week(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def _month(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    return first, first + relativedelta(months=1, days=-1)


def _past(count: str, unit: str, day: date) -> tuple[date, date]:
    n = int(count) if count.isdigit() else NUMBERS[count.lower()]
    unit = unit.lower().rstrip("s")
    span = {"day": relativedelta(days=n), "week": relativedelta(weeks=n), "month": relativedelta(months=n)}[unit]
    return day - span, day


def _ago(count: str, unit: str, day: date) -> tuple[date, date]:
    """"Three days ago" is that day; "two weeks ago" that week; "a month ago" that month."""
    n = 1 if count.lower() == "a" else int(count) if count.isdigit() else NUMBERS[count.lower()]
    unit = unit.lower().rstrip("s")
    if unit == "day":
        return (day - timedelta(days=n),) * 2
    if unit == "week":
        return _week(day - timedelta(weeks=n))
    return _month(day - relativedelta(months=n))


def _weekday(name: str, day: date, before: bool, since: bool) -> tuple[date, date]:
    """The last ``name`` on or before ``day`` (strictly before for "last Monday"), and the day
    after it: a wire story about Monday is often dated Tuesday. "Since Monday" runs to ``day``."""
    back = (day.weekday() - WEEKDAYS.index(name)) % 7 or (7 if before else 0)
    first = day - timedelta(days=back)
    return first, day if since else min(first + timedelta(days=1), day)


def _named_month(name: str, day: date) -> tuple[date, date]:
    """The last ``name`` month that began on or before ``day`` ("in March" asked in June: this March)."""
    month = MONTHS[name.capitalize()]
    year = day.year if month <= day.month else day.year - 1
    return _month(date(year, month, 1))


Resolver = Callable[[re.Match, date], tuple[date, date]]
# Exact expressions, each a pattern and the range it names on the as_of day.
EXACT: list[tuple[re.Pattern, Resolver]] = [
    (re.compile(r"\b(today|tonight|this morning|this afternoon)\b", re.I), lambda m, d: (d, d)),
    (re.compile(r"\byesterday\b", re.I), lambda m, d: (d - timedelta(days=1),) * 2),
    (re.compile(r"\bthis week\b", re.I), lambda m, d: _week(d)),
    (re.compile(r"\blast week\b", re.I), lambda m, d: _week(d - timedelta(days=7))),
    (re.compile(r"\bthis month\b", re.I), lambda m, d: _month(d)),
    (re.compile(r"\blast month\b", re.I), lambda m, d: _month(d - relativedelta(months=1))),
    (re.compile(r"\bthis year\b", re.I), lambda m, d: (date(d.year, 1, 1), date(d.year, 12, 31))),
    (re.compile(r"\blast year\b", re.I), lambda m, d: (date(d.year - 1, 1, 1), date(d.year - 1, 12, 31))),
    (re.compile(rf"\b(?:the )?(?:past|last) (\d+|{'|'.join(NUMBERS)}) (days?|weeks?|months?)\b", re.I),
     lambda m, d: _past(m.group(1), m.group(2), d)),
    (re.compile(rf"\b(\d+|a|{'|'.join(NUMBERS)}) (days?|weeks?|months?) ago\b", re.I),
     lambda m, d: _ago(m.group(1), m.group(2), d)),
    (re.compile(r"\b(?:the |this )?past (week|month)\b", re.I),
     lambda m, d: _past("1", m.group(1), d)),
    # Capitalised only: a weekday is a name ("on Monday", "last Friday", "Tuesday's vote").
    (re.compile(rf"\b(?:(last|on|since) )?({'|'.join(WEEKDAYS)})\b"),
     lambda m, d: _weekday(m.group(2), d, before=m.group(1) == "last", since=m.group(1) == "since")),
    (re.compile(r"\bso far\b", re.I), lambda m, d: (date.min, d)),
]
# A month name, not a day ("the week ended March 25" names a date, not the period asked about);
# "May" only after a preposition, so the verb "may" is never a month. Loose on its own: a month
# in a question often names what an article reports on ("March sales"), published later.
MONTH = re.compile(rf"\b(?:(?:in|of|during|since|early|late|mid-?) (May)|({'|'.join(m for m in MONTHS if m != 'May')}))\b(?!\s*\d)")
# Not "current" or "now": "current account", "current levels", "for now" name no time.
LOOSE = re.compile(r"\b(recent(?:ly)?|lately|currently|nowadays|at present|these days)\b", re.I)
LATEST = re.compile(r"\b(latest|most recent|newest|last reported|currently)\b", re.I)


def _ranges(question: str, day: date) -> list[tuple[date, date, str]]:
    months = [(*_named_month(m.group(1) or m.group(2), day), m.group(0)) for m in MONTH.finditer(question)]
    exact = [(*resolve(m, day), m.group(0)) for pattern, resolve in EXACT for m in pattern.finditer(question)]
    return exact + months


def _exact(question: str, day: date) -> Period | None:
    """The intersection of every expression ("its June announcement ... so far this year": June);
    loose when only month names spoke."""
    start, end, phrases, exact = date.min, day, [], False
    for first, last, phrase in _ranges(question, day):
        if first > end or last < start:  # contradictory: keep the earlier, more specific reading
            continue
        start, end = max(start, first), min(end, last)
        phrases.append(phrase)
        exact = exact or not MONTH.fullmatch(phrase)
    return Period(start.isoformat(), end.isoformat(), " ".join(phrases), loose=not exact) if phrases else None


def period_of(question: str, as_of: str | date | None = None) -> Period | None:
    """The period ``question`` asks about, read on ``as_of`` (default today); None when it names none.

    >>> period_of("Who is currently Ecuador's energy minister?", "1987-06-30")
    Period(start='1987-05-31', end='1987-06-30', phrase='currently', loose=True, latest=True)
    """
    day = as_of if isinstance(as_of, date) else as_of_date(as_of)
    latest = LATEST.search(question)
    exact = _exact(question, day)
    if exact is not None:
        return Period(exact.start, exact.end, exact.phrase, exact.loose, latest=bool(latest))
    loose = latest or LOOSE.search(question)
    if loose is None:
        return None
    return Period((day - timedelta(days=RECENT_DAYS)).isoformat(), day.isoformat(), loose.group(0).lower(),
                  loose=True, latest=bool(latest))
