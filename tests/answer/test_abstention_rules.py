"""The stated-time rule: a question's year or month that the answer's article neither mentions
nor is dated in means the article is about another time, so the assistant abstains."""

import pytest

import rag
from rag.answer.abstention import features, ruled_out, stated_time_found
from tests.conftest import FAST, write_corpus


@pytest.mark.parametrize("question, text, date, found", [
    ("What was the surplus in February 1985?", "The surplus was 1.2 bln dlrs in February.", "1987-03-10", 0.0),
    ("What was the surplus in February 1987?", "The surplus was 1.2 bln dlrs in February.", "1987-03-10", 1.0),
    ("What was the surplus in 1985?", "The 1985 surplus was 1.2 bln dlrs.", "1987-03-10", 1.0),
    ("What was the surplus in March?", "The surplus was 1.2 bln dlrs.", "1987-03-10", 1.0),
    ("What was the surplus in June?", "The surplus was 1.2 bln dlrs.", "1987-03-10", 0.0),
    ("What forecast did it make for the 1990s?", "It expects a surplus in the 1990s.", "1987-03-10", 1.0),
    ("How much silver did Mexico produce in 1986?", "Mexico produced 2,300 tonnes last year.", "1987-04-29", 1.0),
    ("How much silver did Mexico produce in 1985?", "Mexico produced 2,300 tonnes last year.", "1987-04-29", 0.0),
    ("What will output be in 1988?", "Output will rise next year.", "1987-04-29", 1.0),
    ("What were sales in March?", "Sales rose last month.", "1987-04-29", 1.0),
    ("What were sales in November?", "Sales rose last month.", "1987-01-15", 0.0),
    ("What were sales in December?", "Sales rose last month.", "1987-01-15", 1.0),
])
def test_a_stated_year_or_month_must_be_in_the_article_or_its_date(question, text, date, found):
    assert stated_time_found(question, text, date) == found


def test_undated_articles_and_lowercase_may_never_trigger_the_rule():
    assert stated_time_found("Who won the 2004 championship?", "Smith won the championship.", None) == 1.0
    assert stated_time_found("What is the most the stock may hold?", "It holds 100,000 tonnes.", "1987-03-10") == 1.0


def test_the_rule_is_a_signal_that_abstains_alone():
    def signals(date):
        return features("What was the surplus in February 1985?", ["The surplus was 1.2 bln dlrs."], 0.9, 0.9,
                        ["The surplus was 1.2 bln dlrs."], [0.9], article_text="The surplus was 1.2 bln dlrs.",
                        article_date=date)

    assert signals("1987-03-10")["stated_time"] == 0.0 and ruled_out(signals("1987-03-10"))
    assert signals(None)["stated_time"] == 1.0 and not ruled_out(signals(None))


SPAIN = """---
title: "Spain's current account surplus rises"
date: 1987-03-10
source: Reuters
---

Spain's current account surplus rose to 1.2 billion dollars in February from 800 million dollars in January, the Bank of Spain said.

The central bank said tourism receipts were higher.
"""


@pytest.fixture
def dated(tmp_path):
    write_corpus(tmp_path / "corpus", {"bop/spain.md": SPAIN, "bop/other.md": SPAIN.replace("Spain", "Italy")})
    rag.build_index(tmp_path / "corpus", tmp_path / "index", **FAST)
    return rag.Assistant.load(tmp_path / "index", min_relevance=0.0)


def test_a_question_about_another_year_than_the_article_abstains(dated):
    right = dated.ask("What was Spain's current account surplus in February 1987?")
    assert not right.abstained and "1.2 billion" in right.text
    trap = dated.ask("What was Spain's current account surplus in February 1985?")
    assert trap.abstained and trap.passages
