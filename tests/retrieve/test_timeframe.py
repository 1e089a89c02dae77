"""Time expressions read on a fixed as_of day (Reuters 1987 dates), and retrieval that honours them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rag
from rag.ingest.reading import read_file
from rag.retrieve.timeframe import period_of
from tests.conftest import FAST, write_corpus


@pytest.mark.parametrize(("question", "as_of", "start", "end", "loose"), [
    ("What did funds hit today?", "1987-06-01", "1987-06-01", "1987-06-01", False),
    ("How many were evacuated, officials said yesterday?", "1987-06-02", "1987-06-01", "1987-06-01", False),
    ("What did Seoul say this week?", "1987-06-04", "1987-06-01", "1987-06-04", False),  # Thursday: Monday on
    ("What did the bank rate rise to last week?", "1987-04-14", "1987-04-06", "1987-04-12", False),
    ("Which company did Alcan bid for last month?", "1987-04-15", "1987-03-01", "1987-03-31", False),
    ("Which minister spoke last month?", "1987-03-10", "1987-02-01", "1987-02-28", False),
    ("What was cut this year?", "1987-06-04", "1987-01-01", "1987-06-04", False),
    ("What fell in the past 7 days?", "1987-06-04", "1987-05-28", "1987-06-04", False),
    ("What fell over the past two weeks?", "1987-06-04", "1987-05-21", "1987-06-04", False),
    ("What did the rate rise to in April?", "1987-06-30", "1987-04-01", "1987-04-30", True),
    ("What happened in October?", "1987-06-30", "1986-10-01", "1986-10-31", True),  # the last October begun
    ("In its June announcement, what was cut so far this year?", "1987-10-20", "1987-06-01", "1987-06-30", False),
    ("How much damage did the recent fire cause?", "1987-04-07", "1987-03-08", "1987-04-07", True),
    ("Who is currently Ecuador's energy minister?", "1987-06-30", "1987-05-31", "1987-06-30", True),
    # 1987-06-03 is a Wednesday.
    ("What did the Fed do on Monday?", "1987-06-03", "1987-06-01", "1987-06-02", False),  # and the next day's wire
    ("What did the Fed do on Wednesday?", "1987-06-03", "1987-06-03", "1987-06-03", False),  # never past as_of
    ("What did the Fed do last Wednesday?", "1987-06-03", "1987-05-27", "1987-05-28", False),
    ("What was Friday's close?", "1987-06-03", "1987-05-29", "1987-05-30", False),
    ("What has the dollar done since Monday?", "1987-06-03", "1987-06-01", "1987-06-03", False),
    ("What did it say three days ago?", "1987-06-03", "1987-05-31", "1987-05-31", False),
    ("What was announced two weeks ago?", "1987-06-03", "1987-05-18", "1987-05-24", False),
    ("What fell a month ago?", "1987-06-03", "1987-05-01", "1987-05-31", False),
    ("What rose over the past week?", "1987-06-03", "1987-05-27", "1987-06-03", False),
])
def test_relative_expressions_resolve_to_date_ranges(question, as_of, start, end, loose):
    period = period_of(question, as_of)
    assert (period.start, period.end, period.loose) == (start, end, loose)


@pytest.mark.parametrize("question", [
    "What was Spain's current account surplus in February 1987?",  # an absolute month, and "current account"
    "How much did the M-1 supply fall in the week ended March 25?",  # a day, not a period
    "Prices may rise, analysts said. Who said so?",
    "What will the mine run at for now?",
    "What did first quarter profits do?",  # a reporting period, published later
    "Who said the monday figures were wrong?",  # a weekday is capitalised
])
def test_content_words_are_not_periods(question):
    assert period_of(question, "1987-06-04") is None


def test_latest_and_most_recent_ask_for_the_newest():
    assert period_of("What is the latest M-1 figure?", "1987-04-06").latest
    assert period_of("What is the most recent figure?", "1987-04-06").latest
    assert not period_of("What happened yesterday?", "1987-04-06").latest


def test_as_of_defaults_to_today_and_rejects_non_dates():
    assert period_of("What happened today?").start == __import__("datetime").date.today().isoformat()
    with pytest.raises(rag.UserError, match="not a date"):
        period_of("What happened today?", "soon")


def _dated(title: str, day: str, body: str) -> str:
    return f"---\ntitle: \"{title}\"\ndate: {day}\nsource: Reuters\n---\n\n{body}\n"


# Three reports of the same bank rate a week apart, and an unrelated story.
RATES = {
    "rate-0402.md": _dated("Canadian bank rate rises", "1987-04-02", "Canada's key bank rate rose to 7.15 pct from 7.10 pct, Bank of Canada said."),
    "rate-0409.md": _dated("Canadian bank rate rises again", "1987-04-09", "Canada's key bank rate rose to 7.20 pct from 7.15 pct, Bank of Canada said."),
    "rate-0416.md": _dated("Canadian bank rate rises in week", "1987-04-16", "Canada's key bank rate rose to 7.30 pct from 7.20 pct, Bank of Canada said."),
    "tin.md": _dated("Tin traders muted", "1987-04-10", "European tin traders reacted calmly to the Kuala Lumpur futures market."),
}


@pytest.fixture
def rates(tmp_path: Path) -> rag.Assistant:
    rag.build_index(write_corpus(tmp_path / "corpus", RATES), tmp_path / "index", **FAST)
    return rag.Assistant.load(tmp_path / "index")


def test_last_week_retrieves_and_cites_that_weeks_article(rates):
    answer = rates.ask("What did Canada's key bank rate rise to last week?", as_of="1987-04-14")
    assert answer.citations[0].doc_id == "rate-0409.md" and answer.citations[0].date == "1987-04-09"
    assert {p.doc_id for p in answer.passages} <= {"rate-0409.md", "tin.md"}


def test_latest_picks_the_newest_article_up_to_as_of(rates):
    assert rates.search("What is the latest rise in Canada's bank rate?", k=1, as_of="1987-04-12")[0].doc_id == "rate-0409.md"
    assert rates.search("What is the latest rise in Canada's bank rate?", k=1, as_of="1987-04-20")[0].doc_id == "rate-0416.md"


def test_a_weekday_finds_that_days_report_and_not_the_week_before(rates):
    """1987-04-16 is a Thursday; the report of the Thursday before is dated 1987-04-09."""
    answer = rates.ask("What did Canada's key bank rate rise to on Thursday?", as_of="1987-04-17")
    assert answer.citations[0].doc_id == "rate-0416.md"
    answer = rates.ask("What did Canada's key bank rate rise to last Thursday?", as_of="1987-04-16")
    assert answer.citations[0].doc_id == "rate-0409.md"


def test_a_period_with_no_articles_falls_back_to_the_whole_index(rates):
    """as_of past the newest article (the default, today, on a 1987 corpus): still answered."""
    assert rates.search("What did Canada's bank rate rise to this week?", k=2)
    assert rates.ask("What did Canada's bank rate rise to today?").citations


def test_as_of_setting_chat_and_bad_dates(rates, tmp_path):
    on_setting = rag.Assistant.load(tmp_path / "index", as_of="1987-04-04")
    assert on_setting.search("What did the bank rate rise to this week?", k=1)[0].doc_id == "rate-0402.md"
    chat = rates.chat(as_of="1987-04-18")
    assert chat.ask("What did the bank rate rise to this week?").citations[0].doc_id == "rate-0416.md"
    with pytest.raises(rag.UserError, match="not a date"):
        rates.ask("What happened yesterday?", as_of="31/31/1987")


REUTERS = Path("/work/shared/corpora/reuters")
REUTERS_SET = Path(__file__).resolve().parents[2] / "eval" / "reuters.jsonl"


def test_reuters_temporal_items_name_periods_that_hold_their_gold_article():
    """Each temporal question of eval/reuters.jsonl, read on its as_of, asks a period holding its gold article's date."""
    if not REUTERS.is_dir():
        pytest.skip(f"the Reuters corpus is not at {REUTERS}")
    items = [json.loads(line) for line in REUTERS_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    temporal = [item for item in items if item["type"] == "temporal"]
    assert len(temporal) >= 20
    for item in temporal:
        article = read_file(REUTERS / item["docs"][0], item["docs"][0])[0]
        period = period_of(item["question"], item["as_of"])
        assert period is not None and period.holds(article.date), (item["id"], period, article.date)
