"""The real embedding model on the real seed articles."""

import pytest

import rag
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    index = tmp_path_factory.mktemp("seed-index")
    report = rag.build_index(SEEDS, index, progress=False)
    assert report.added == 2 and report.skipped == []
    return rag.Assistant.load(index)


def test_chimyon_troops_cites_the_uzbekistan_article(assistant):
    answer = assistant.ask("How many troops train at the Chimyon centre each year?")
    assert not answer.abstained
    assert any(c.doc_id == "000_7094f90f1dacf078.txt" and "300 troops" in c.quote for c in answer.citations)


def test_lachin_corridor_cites_the_azerbaijan_article(assistant):
    answer = assistant.ask("What did Armenia's prime minister blame the Lachin corridor closure for?")
    assert not answer.abstained
    assert answer.citations[0].doc_id == "004_9a3b49fdb12dc444.txt"
    assert "Lachin corridor" in answer.text


def test_off_topic_question_abstains(assistant):
    answer = assistant.ask("Who won the football World Cup in 2022?")
    assert answer.abstained and answer.text == "Not found in these articles."


def test_quotes_are_verbatim_in_the_seed_files(assistant):
    answer = assistant.ask("Who did Lt. Gen. Adamczyk meet first in Uzbekistan?")
    for citation in answer.citations:
        raw = (SEEDS / citation.doc_id).read_text(encoding="utf-8")
        assert citation.quote in raw
        assert assistant.store.article(citation.doc_id).text[citation.start:citation.end] == citation.quote


def test_module_level_ask_uses_the_index(assistant):
    answer = rag.ask("Which mountain training centre did the delegation tour?", index_dir=assistant.store.index_dir)
    assert "Chimyon" in answer.text


@pytest.mark.parametrize(
    "question",
    ["من قاد وفد الناتو إلى أوزبكستان؟", "谁领导了北约代表团访问乌兹别克斯坦？", "🚀🔥🤔", "Кто возглавлял делегацию НАТО?"],
)
def test_a_question_in_words_the_articles_never_use_abstains(assistant, question):
    answer = assistant.ask(question)
    assert answer.abstained and answer.text == "Not found in these articles." and not answer.citations


def test_user_mistakes_in_the_python_api_are_user_errors(assistant):
    with pytest.raises(rag.UserError, match="question must be text, not int"):
        assistant.ask(123)
    with pytest.raises(rag.UserError, match="not valid UTF-8"):
        assistant.ask("who led the \udcff delegation?")
    for k in (0, -1):
        with pytest.raises(rag.UserError, match="k must be at least 1"):
            assistant.ask("Who led the NATO delegation?", k=k)
    with pytest.raises(rag.UserError, match="not valid UTF-8"):
        list(assistant.ask_stream("\ud800"))


def test_a_follow_up_in_another_script_abstains_but_a_pronoun_follow_up_is_answered(assistant):
    history = [("Who led the NATO delegation that visited Uzbekistan?", "Lt. Gen. Janusz Adamczyk [1]")]
    assert assistant.ask("من التقى أولاً؟", history=history).abstained
    assert assistant.ask("🤔🤔", history=history).abstained
    answer = assistant.ask("Who did he meet first there?", history=history)
    assert not answer.abstained and answer.citations
