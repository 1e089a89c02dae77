"""Question-time vectors remembered by text: each text embedded once, the same vectors back."""

import numpy as np

import rag
from rag.embed.embedding import HashingEmbedder, RememberedVectors
from tests.conftest import FAST


class Counting(HashingEmbedder):
    """The hashing embedder, noting every text it is asked to embed."""

    def __init__(self):
        self.seen: list[str] = []

    def encode(self, texts, batch_size=32):
        self.seen.extend(texts)
        return super().encode(texts, batch_size)


def test_a_text_is_embedded_once_and_comes_back_the_same():
    inner = Counting()
    embedder = RememberedVectors(inner)
    first = embedder.encode(["harbour", "bread"])
    again = embedder.encode(["bread", "new text", "harbour", "bread"])
    assert inner.seen == ["harbour", "bread", "new text"]
    np.testing.assert_array_equal(again, HashingEmbedder().encode(["bread", "new text", "harbour", "bread"]))
    np.testing.assert_array_equal(again[2], first[0])
    assert embedder.encode([]).shape == (0, inner.dimension)
    assert (embedder.name, embedder.dimension, embedder.count_tokens("a b")) == ("hashing", 256, 2)


def test_what_a_caller_writes_into_the_vectors_is_not_remembered():
    embedder = RememberedVectors(HashingEmbedder())
    embedder.encode(["harbour"])[0] *= 0
    np.testing.assert_array_equal(embedder.encode(["harbour"]), HashingEmbedder().encode(["harbour"]))


def test_the_least_recently_used_text_is_forgotten_first():
    inner = Counting()
    embedder = RememberedVectors(inner, size=2)
    embedder.encode(["a", "b"])
    embedder.encode(["a"])  # now "b" is the oldest
    embedder.encode(["c"])
    embedder.encode(["a", "b"])
    assert inner.seen == ["a", "b", "c", "b"]
    embedder.forget()
    embedder.encode(["c"])
    assert inner.seen[-1] == "c", "forgotten: embedded again"


def test_an_answer_embeds_its_question_once(tiny_corpus, tmp_path, monkeypatch):
    rag.build_index(tiny_corpus, tmp_path / "index", **FAST)
    assistant = rag.Assistant.load(tmp_path / "index")
    inner = Counting()
    monkeypatch.setattr(assistant.embedder, "embedder", inner)
    question = "Who won the rye loaf prize at the bakery?"
    assistant.ask(question)
    assert inner.seen.count(question) == 1, "searching and scoring sentences share its vector"
    assert len(inner.seen) > 1, "the passages' sentences were embedded too"


def test_a_batched_embedder_is_not_remembered():
    """torch's vectors move slightly with their batch's padding: remembering them would make an
    answer depend on the questions asked before it."""
    class Batched(Counting):
        batch_independent = False

    inner = Batched()
    embedder = RememberedVectors(inner)
    embedder.encode(["harbour", "bread"])
    embedder.encode(["bread"])
    assert inner.seen == ["harbour", "bread", "bread"]
