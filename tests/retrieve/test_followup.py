"""Follow-up questions: the rewrite rule, and the Chat session that feeds it history."""

import rag
from rag.retrieve.followup import depends_on_history, rewrite_query
from tests.conftest import FAST

PREVIOUS = [("Who cut the ribbon at the new harbour in Port Elms?", "Mayor Ada Quill cut the ribbon. [1]")]


def test_pronoun_follow_up_carries_names_from_the_conversation():
    query = rewrite_query("What did she say about jobs?", PREVIOUS)
    assert query.startswith("What did she say about jobs?")
    assert "Port Elms" in query and "Ada Quill" in query


def test_elliptical_follow_up_depends_on_history():
    assert depends_on_history("And in Lowtown?")
    assert "Port Elms" in rewrite_query("And in Lowtown?", PREVIOUS)


def test_self_contained_new_question_is_not_dragged_back():
    question = "Which family bakery in Lowtown won the national bread prize?"
    assert not depends_on_history(question)
    assert rewrite_query(question, PREVIOUS) == question


def test_history_accepts_mappings_and_no_history_changes_nothing():
    assert rewrite_query("What did she say?", None) == "What did she say?"
    mapped = [{"question": PREVIOUS[0][0], "answer": PREVIOUS[0][1]}]
    assert rewrite_query("What did she say?", mapped) == rewrite_query("What did she say?", PREVIOUS)


def test_chat_session_remembers_turns_and_shows_the_query(tiny_corpus, tmp_path):
    rag.build_index(tiny_corpus, tmp_path / "index", **FAST)
    chat = rag.Assistant.load(tmp_path / "index", min_relevance=0.0).chat()
    chat.ask("Who cut the ribbon at the new harbour in Port Elms?")
    follow = chat.ask("How many jobs did she promise?")
    assert len(chat.history) == 2 and chat.history[0][0].startswith("Who cut the ribbon")
    assert "Port Elms" in follow.query and follow.query != follow.question
    assert follow.passages[0].doc_id == "harbour.txt"
    chat.reset()
    assert chat.history == []
