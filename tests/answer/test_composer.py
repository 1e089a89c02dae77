import re

import pytest

import rag
from rag.answer.composer import NOT_FOUND
from tests.conftest import FAST


@pytest.fixture
def assistant(tiny_corpus, tmp_path):
    rag.build_index(tiny_corpus, tmp_path / "index", **FAST)
    return rag.Assistant.load(tmp_path / "index", min_relevance=0.2)


def test_every_quote_is_a_verbatim_span_of_its_article(assistant):
    for question in ("How much did the harbour cost?", "Who cut the ribbon at the harbour?", "What pay rise did drivers ask for?"):
        answer = assistant.ask(question)
        assert not answer.abstained and answer.citations
        for citation in answer.citations:
            article = assistant.store.article(citation.doc_id)
            assert article.text[citation.start:citation.end] == citation.quote
            assert f"{citation.quote} [{citation.n}]" in answer.text


def test_answer_text_is_only_quotes_and_markers(assistant):
    answer = assistant.ask("How many boats can the harbour hold?")
    rebuilt = " ".join(f"{c.quote} [{c.n}]" for c in answer.citations)
    assert answer.text == rebuilt
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert any("300 boats" in c.quote for c in answer.citations)


def test_abstains_when_nothing_is_relevant(tiny_corpus, tmp_path):
    rag.build_index(tiny_corpus, tmp_path / "index", **FAST)
    strict = rag.Assistant.load(tmp_path / "index", min_relevance=0.9)
    answer = strict.ask("Which volcano erupted in Iceland?")
    assert answer.abstained and answer.text == NOT_FOUND and not answer.citations
    assert answer.passages, "the closest passages are still offered"


def test_to_dict_serialises_everything(assistant):
    data = assistant.ask("Who owns the bakery?").to_dict()
    assert set(data) >= {"text", "citations", "passages", "abstained"}
    assert set(data["citations"][0]) >= {"n", "doc_id", "title", "quote", "start", "end"}
    assert set(data["passages"][0]) >= {"doc_id", "title", "text", "score", "start", "end", "chunk_id"}


@pytest.mark.parametrize("question", ["", "   \n", "x" * 1_000_000])
def test_empty_or_huge_questions_are_user_errors(assistant, question):
    with pytest.raises(rag.UserError):
        assistant.ask(question)
