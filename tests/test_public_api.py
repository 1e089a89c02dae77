"""What front ends may use: the names `rag` exports for them (#14), on a tiny model-free index."""

import pytest

import rag
from rag.retrieve.followup import FollowupRewriter
from tests.conftest import FAST


@pytest.fixture
def assistant(tiny_corpus, tmp_path):
    rag.build_index(tiny_corpus, tmp_path / "index", **FAST)
    loaded = rag.Assistant.load(tmp_path / "index")
    yield loaded
    loaded.close()


def test_the_choices_of_each_table_are_public(assistant):
    assert rag.retriever_names() == ["dense", "bm25", "hybrid"]
    assert rag.composer_names() == ["extractive", "llm"]
    with pytest.raises(rag.UserError, match="choose from: extractive, llm"):
        rag.Assistant.load(assistant.store.index_dir, composer="poem")


def test_retrieve_then_answer_is_ask(assistant):
    history = [("Who cut the ribbon at the new harbour in Port Elms?", "Mayor Ada Quill cut the ribbon. [1]")]
    query, passages = assistant.retrieve("How much did it cost?", history, k=3)
    assert query == assistant.query_for("How much did it cost?", history) and "Port Elms" in query
    assert passages == assistant.ask("How much did it cost?", history=history, k=3).passages
    assert assistant.answer("How much did it cost?", query, passages) == assistant.ask("How much did it cost?", history=history, k=3)


def test_the_index_seen_through_the_assistant(assistant, tiny_corpus):
    spans = assistant.passage_spans()
    assert set(spans) == {"harbour.txt", "bakery.txt", "rail/strike.txt"}
    assert "rye loaf" in assistant.article("bakery.txt").text
    assert all(0 <= start < end <= len(assistant.article(doc).text) for doc, rows in spans.items() for start, end in rows)
    assert assistant.article("missing.txt") is None
    assert assistant.index_settings()["model"] == "hashing"
    assert rag.index_info(assistant.store.index_dir).corpus_dir == str(tiny_corpus.resolve())


def test_load_applies_overrides_to_given_settings(assistant):
    again = rag.Assistant.load(assistant.store.index_dir, settings=assistant.settings, k=2)
    try:
        assert again.settings.k == 2 and again.settings.model == "hashing"
        with pytest.raises(rag.UserError, match="unknown setting"):
            rag.Assistant.load(assistant.store.index_dir, settings=assistant.settings, colour="red")
    finally:
        again.close()


def test_abilities_are_declared_protocols(assistant):
    assert not isinstance(assistant.composer, rag.StreamingComposer)
    assert isinstance(assistant.rewriter(), FollowupRewriter)
    assert isinstance(FollowupRewriter(), rag.QueryRewriter)


def test_markers_suffixes_and_text_checks():
    assert rag.strip_markers("It cost 42 million pounds. [1] It rained. [unsupported]") == "It cost 42 million pounds. It rained."
    assert rag.link_markers("a [2]") == 'a <sup class="rag-cite">[2]</sup>'
    assert {".txt", ".md", ".csv", ".pdf", ".docx"} <= set(rag.article_suffixes())
    assert [rag.text_problem(b" \n"), rag.text_problem(b"a\x00b"), rag.text_problem(b"Harbour opens")] == ["empty file", "binary file", None]


def test_the_live_generations_files_are_public(assistant, tmp_path):
    files = rag.index_files(assistant.store.index_dir)
    assert files.generation.parent == assistant.store.index_dir and files.generation.name.startswith("gen-")
    assert files.vectors is not None and files.vectors.is_file() and files.vectors.parent == files.generation
    assert files.embedding_cache == assistant.store.index_dir / rag.EMBEDDING_CACHE and files.embedding_cache.is_file()
    assert files.milvus_lite is None
    assert rag.index_files(tmp_path / "nothing-here") is None


def test_chunk_articles_is_what_a_build_stores(tiny_corpus, tmp_path):
    rag.build_index(tiny_corpus, tmp_path / "index", **FAST)
    chunks = rag.chunk_articles(rag.read_corpus(tiny_corpus).articles, **FAST)
    assert sum(map(len, chunks)) == rag.index_info(tmp_path / "index").chunks


def test_ranking_leads_with_the_sentence_ask_quotes_first(assistant):
    question = "Who cut the ribbon at the new harbour in Port Elms?"
    ranking = assistant.ranking(question)
    answer = assistant.ask(question)
    assert isinstance(ranking, rag.Ranking) and ranking.passages == answer.passages
    assert ranking.sentences[0].text == answer.citations[0].quote
    assert ranking.span is not None and ranking.span.entity.text == answer.short


def test_abstention_signals_are_what_the_model_weighs(assistant):
    signals = assistant.abstention_signals("Who cut the ribbon at the new harbour in Port Elms?")
    assert set(signals) == set(rag.AbstentionModel.FEATURES)
    assert set(rag.AbstentionModel.RULES) <= set(signals) and not set(rag.AbstentionModel.FITTED) & set(rag.AbstentionModel.RULES)
    assert signals["sentence_terms"] > 0
    llm = rag.Assistant.load(assistant.store.index_dir, composer="llm")
    try:
        assert llm.abstention_signals("Who cut the ribbon at the new harbour in Port Elms?") == signals
    finally:
        llm.close()
