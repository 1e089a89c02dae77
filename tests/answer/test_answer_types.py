"""What a question asks for, read from its noun phrase (plurals, modifiers, the relative "who")."""

import pytest

from rag.answer.answer_types import PERSON_OR_ORG, PLACE, WHEN, asked_noun, expected_kinds, noun_kind


@pytest.mark.parametrize("question, kinds", [
    ("Which two banks did the exchange appoint as advisers?", PERSON_OR_ORG),
    ("Which two actresses were named newcomers of the year?", PERSON_OR_ORG),
    ("Which Manchester United commercial director was voted off the board?", PERSON_OR_ORG),
    ("At which London police station were the four men held?", PLACE),
    ("Which ex-radio presenter wrote the charity song?", PERSON_OR_ORG),
    ("What was the runner's winning time in the 1,000m?", WHEN),
    ("The engineer who sued the rocket maker worked in which city?", PLACE),
])
def test_the_head_noun_of_the_which_phrase_names_the_kind(question, kinds):
    assert expected_kinds(question) == kinds


@pytest.mark.parametrize("question", [
    "What happened to the company after the vote?",
    "What did the bank say about its results?",
    "What was the status of the talks?",
])
def test_a_noun_after_a_function_word_names_no_kind(question):
    assert expected_kinds(question) is None


def test_who_at_the_start_still_asks_for_a_person():
    assert expected_kinds("And who chaired the meeting?") == PERSON_OR_ORG
    assert expected_kinds("To whom did Texaco sell the refinery?") == PERSON_OR_ORG


def test_plurals_name_the_kind_of_their_singular():
    assert noun_kind("cities") == noun_kind("city") == PLACE
    assert noun_kind("actresses") == noun_kind("actress") == PERSON_OR_ORG
    assert noun_kind("status") is None


def test_the_asked_noun_is_the_head_of_the_phrase():
    assert asked_noun("Which Manchester United commercial director was voted off?") == "director"
    assert asked_noun("Who is the chairman of the federation?") == "chairman"
    assert asked_noun("Why did the talks fail?") == ""
