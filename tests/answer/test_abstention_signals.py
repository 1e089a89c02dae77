"""The constraint and coverage signals checked against the answer's article: numbers at their scale,
names by stem and initials, and the question's own words."""

import pytest

from rag.answer.abstention import article_coverage, features
from rag.answer.entities import acronyms, amounts, found_in, shares_stem


@pytest.mark.parametrize("asked, text", [
    ("5 mln", "It sold 5,000,000 shares."),
    ("5 million", "It sold 5 mln shares."),
    ("1.5 billion", "a loss of 1.5 bln dlrs"),
    ("12 pct", "output rose 12 percent"),
    ("12%", "output rose 12 pct"),
    ("UKIP", "the UK Independence Party said"),
    ("the UK Independence Party", "UKIP said"),
    ("U.S.", "the United States said"),
    ("Azerbaijani", "a unit in Azerbaijan"),
    ("Noranda Inc", "Noranda said"),
])
def test_a_constraint_is_found_under_its_aliases(asked, text):
    assert found_in([asked], text) == 1.0


@pytest.mark.parametrize("asked, text", [
    ("5 mln", "It sold 6 mln shares."),
    ("5 mln", "It sold 5 bln shares."),
    ("Ontario", "the mine in Quebec"),
    ("UKIP", "the UK Labour Party said"),
    ("Bank of Canada", "the Bank of England said"),
])
def test_a_changed_number_or_name_is_not_found(asked, text):
    assert found_in([asked], text) == 0.0


def test_found_in_is_the_share_of_constraints_held_and_one_without_any():
    assert found_in(["Ontario", "5 mln"], "5,000,000 tonnes in Quebec") == 0.5
    assert found_in([], "anything") == 1.0


def test_amounts_read_scales_and_separators():
    assert amounts("1,500,000 or 1.5 mln or 1.5 million, 2 bn") == {1_500_000.0, 2e9}


def test_acronyms_are_the_initials_of_capitalised_runs_skipping_glue_words():
    assert {"UKIP", "BOC"} <= acronyms("the UK Independence Party met the Bank of Canada")
    assert "US" in acronyms("officials of the United States")


def test_stems_meet_only_on_a_long_common_prefix():
    assert shares_stem("azerbaijani", {"azerbaijan"})
    assert not shares_stem("canada", {"canal"})
    assert not shares_stem("bank", {"banker"})  # too short to stretch


def test_article_coverage_counts_the_question_words_the_article_holds():
    article = "Canal Bank and Citizens Bank are the lenders. The canal contract was signed."
    assert article_coverage("Which consortium won the contract to build the Panama Canal locks?", article) == 2 / 6
    assert article_coverage("Which lenders signed the contract?", article) == 1.0
    assert article_coverage("Who?", article) == 1.0


def test_the_article_signals_see_a_detail_the_article_lacks():
    question = "How many miners died in the fire at Noranda's copper mine in Ontario?"
    article = "Noranda said a fire at its copper mine in Quebec killed 3 miners."

    def signals(text):
        return features(question, [text], 0.6, 0.6, [text], [0.6], best_passage=text, article_text=text)

    trap, right = signals(article), signals(article.replace("Quebec", "Ontario"))
    assert trap["article_constraints"] < right["article_constraints"] == 1.0
    assert trap["article_terms"] < right["article_terms"]
