"""Answer first: what a question asks for, the tagged entity that answers it, and the
sentences that are never an answer (tiny inline corpora, the real spaCy tagger)."""

import pytest

import rag
from rag.answer.abstention import answer_type_found, features
from rag.answer.answer_types import AMOUNT, PERSON_OR_ORG, PLACE, PRODUCT, WHEN, WORK, expected_kinds
from rag.answer.composer import restates
from rag.answer.entities import answer_entities, covered, named_in, question_constraints, entities
from tests.conftest import FAST


@pytest.mark.parametrize("question, kinds", [
    ("Who led the NATO delegation to Uzbekistan?", PERSON_OR_ORG),
    ("To whom did Texaco sell the refinery?", PERSON_OR_ORG),
    ("Where will the new plant be built?", PLACE | {"ORG"}),
    ("When did the strike end?", WHEN),
    ("In which year did the bank open?", WHEN),
    ("How many troops train at the centre?", AMOUNT),
    ("How much did the harbour cost?", AMOUNT),
    ("Which company bought the stake?", PERSON_OR_ORG),
    ("What country hosted the talks?", PLACE),
    ("What was the share price?", AMOUNT),
    ("Which opera was the conductor rehearsing when he fell ill?", WORK),
    ("What car was the protester believed to drive?", PRODUCT),
    ("Which witness told jurors he never saw the books?", PERSON_OR_ORG),
    ("In which county is the gold project?", PLACE),
    ("What exchange rate did the bank set?", AMOUNT),
    ("Why did the talks fail?", None),
    ("What did the company say about its results?", None),
])
def test_the_question_word_and_noun_decide_the_asked_for_kind(question, kinds):
    assert expected_kinds(question) == kinds


def test_entities_are_verbatim_spans_of_the_sentence():
    sentence = "Lt. Gen. John Smith led the NATO delegation to Tashkent on 12 March 2024."
    found = entities(sentence)
    assert found and all(sentence[e.start:e.end] == e.text for e in found)
    assert {"PERSON", "ORG", "GPE", "DATE"} <= {e.label for e in found}


def test_entities_the_question_names_are_not_its_answer():
    question = "Who led the NATO delegation to Tashkent?"
    sentence = "Lt. Gen. John Smith led the NATO delegation to Tashkent."
    answers = answer_entities(sentence, expected_kinds(question), question)
    assert [e.text for e in answers] == ["John Smith"]
    nato = next(e for e in entities(sentence) if e.text == "NATO")
    assert named_in(nato, question)


def test_a_legal_form_does_not_hide_that_the_question_names_the_company():
    question = "Which Noranda spokesman said the inquiry could take weeks?"
    sentence = "Noranda Inc spokesman Dale Coffin said the inquiry could take weeks."
    assert [e.text for e in answer_entities(sentence, expected_kinds(question), question)] == ["Dale Coffin"]


def test_a_place_the_question_names_by_its_adjective_is_not_its_answer():
    question = "Where did the Kenyan runners train before the race?"
    sentence = "The runners trained in Kenya and then at Iten before the race."
    kenya = next(e for e in entities(sentence) if e.text == "Kenya")
    assert named_in(kenya, question)
    assert "Kenya" not in [e.text for e in answer_entities(sentence, expected_kinds(question), question)]


def test_a_nationality_is_no_answer_to_who():
    question = "Who expects the banks to come under pressure?"
    sentence = "American bankers said the banks would come under pressure, said analyst Donna Pulcine."
    assert "American" not in [e.text for e in answer_entities(sentence, expected_kinds(question), question)]


def test_a_question_of_no_kind_has_no_answer_entity():
    assert answer_entities("John Smith went to Paris.", None, "Why did he go?") == []


@pytest.mark.parametrize("sentence", [
    "Who led the NATO delegation to Uzbekistan?",
    'He asked: "Who led the delegation?"',
    "The NATO delegation was led to Uzbekistan.",
])
def test_questions_and_restatements_are_never_answers(sentence):
    assert restates("Who led the NATO delegation to Uzbekistan?", sentence)


def test_a_sentence_adding_something_is_not_a_restatement():
    assert not restates("Who led the NATO delegation to Uzbekistan?",
                        "John Smith led the NATO delegation to Uzbekistan.")


def test_constraints_are_the_questions_names_numbers_and_dates():
    constraints = question_constraints("Did Texaco sell its stake in 1986 for 300 mln dlrs?")
    assert "Texaco" in constraints and "1986" in constraints
    assert covered(constraints, "Texaco sold its stake in 1986.") < 1.0
    assert covered(constraints, "Texaco sold it in 1986 for 300 mln dlrs.") == 1.0
    assert covered([], "anything") == 1.0


def test_abstention_signals_see_a_missing_kind_and_an_uncovered_detail():
    question = "How many people did Texaco employ in 1986?"
    assert answer_type_found(question, ["Texaco employed 4,500 people in 1986."]) == 1.0
    assert answer_type_found(question, ["Texaco employed people in Houston."]) == 0.0
    right = features(question, ["Texaco employed 4,500 people in 1986."], 0.6, 0.6, ["x"], [0.6],
                     best_passage="Texaco employed 4,500 people in 1986.")
    trap = features(question, ["Texaco employed 4,500 people in 1985."], 0.6, 0.6, ["x"], [0.6],
                    best_passage="Texaco employed 4,500 people in 1985.")
    assert right["constraints_near"] == 1.0 and trap["constraints_near"] < 1.0


ARTICLES = {
    "nato.txt": "NATO visit\n\nA NATO delegation arrived in Tashkent for three days of talks on training. "
                "Who led the NATO delegation to Uzbekistan? "
                "The visitors toured the Chimyon mountain training centre near Fergana. "
                "The delegation was led by Lieutenant General John Smith of the British Army.\n",
    "harbour.txt": "Harbour opens\n\nThe new harbour at Porthmoor opened on Monday. "
                   "It cost 42 million pounds and can hold 300 boats.\n",
}


@pytest.fixture
def assistant(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in ARTICLES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    rag.build_index(corpus, tmp_path / "index", **FAST)
    return rag.Assistant.load(tmp_path / "index", min_relevance=0.0)


def test_the_sentence_holding_the_answer_comes_first_and_its_span_is_marked(assistant):
    answer = assistant.ask("Who led the NATO delegation to Uzbekistan?")
    assert not answer.abstained
    first = answer.citations[0]
    assert "John Smith" in first.quote and not first.quote.endswith("?")
    article = assistant.store.article(first.doc_id).text
    assert article[first.answer_start:first.answer_end] == answer.short
    assert first.start <= first.answer_start < first.answer_end <= first.end
    assert "John Smith" in answer.short
    assert all(not c.quote.rstrip().endswith("?") for c in answer.citations)
    assert answer.to_dict()["outcome"] == "answer"


def test_a_question_of_no_kind_marks_no_span(assistant):
    answer = assistant.ask("What did the visitors tour near Fergana?")
    assert answer.short == "" and all(c.answer_start is None for c in answer.citations)


def test_outcomes_answer_closest_and_not_found():
    passage = rag.Passage(0, "a.txt", "A", "Some text.", 0, 10, 0.3)
    assert rag.Answer("q", "x", abstained=False).outcome == "answer"
    assert rag.Answer("q", "x", passages=[passage], abstained=True, confidence=0.2).outcome == "closest"
    assert rag.Answer("q", "x", passages=[passage], abstained=True, confidence=0.0).outcome == "not_found"
    assert rag.Answer("q", "x", abstained=True).outcome == "not_found"


def test_a_less_close_sentence_holding_the_asked_for_kind_is_still_quoted():
    import numpy as np

    from rag.answer.composer import Candidate, ExtractiveComposer, holding_answer

    passage = rag.Passage(0, "a.txt", "A", "x", 0, 1, 0.5)
    texts = ["The harbour in Porthmoor opened after years of work.", "Boats came from far away.",
             "It cost 42 million pounds."]
    ranked = [Candidate(passage, 0, 1, t, relevance=r) for t, r in zip(texts, (1.0, 0.5, 0.4))]
    vectors = np.eye(3, dtype=np.float32)
    question = "How much did the Porthmoor harbour cost?"
    holding = holding_answer(question, ranked)
    assert holding == {2}
    composer = ExtractiveComposer(None, None)
    assert [c.text for c in composer.select(ranked, vectors)] == texts[:1]
    assert [c.text for c in composer.select(ranked, vectors, holding)] == [texts[0], texts[2]]
