import pytest

import rag
from rag.errors import UserError
from tests.conftest import FAST


@pytest.fixture
def assistant(tiny_corpus, tmp_path):
    rag.build_index(tiny_corpus, tmp_path / "index", **FAST)
    return rag.Assistant.load(tmp_path / "index")


def test_search_ranks_the_matching_article_first_with_scores(assistant):
    passages = assistant.search("rye loaf bread prize", k=3)
    assert passages[0].doc_id == "bakery.txt"
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    article = assistant.store.article("bakery.txt")
    assert article.text[passages[0].start:passages[0].end] == passages[0].text


def test_filters_by_doc_id_and_source(assistant):
    only = assistant.search("harbour boats", k=5, filters={"doc_id": ["rail/strike.txt"]})
    assert {p.doc_id for p in only} == {"rail/strike.txt"}
    assert assistant.search("harbour", k=5, filters={"source": "Nowhere"}) == []
    with pytest.raises(UserError, match="unknown filter"):
        assistant.search("harbour", filters={"colour": "red"})


def test_k_larger_than_index_returns_everything(assistant):
    assert len(assistant.search("news", k=100)) == len(assistant.store)
