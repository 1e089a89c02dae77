"""Which sentences an extractive answer quotes, and which comes first (tiny inline candidates,
a constant embedder so only the mechanism under test decides, the real spaCy tagger)."""

import numpy as np

import rag
from rag.answer.composer import Candidate, ExtractiveComposer, find_answer, term_weights, weighted_overlap
from rag.answer.entities import answer_entities, named_in, entities


class SameVector:
    """Every text gets the same vector: sentence similarities tie, so term weights decide."""

    name = "same-vector"

    def encode(self, texts):
        return np.ones((len(texts), 4), dtype=np.float32) / 2


def passage(doc_id="a.txt", date=None, score=0.5):
    return rag.Passage(0, doc_id, doc_id, "x", 0, 1, score, date=date)


def candidate(text, relevance=0.0, doc_id="a.txt", date=None):
    return Candidate(passage(doc_id, date), 0, len(text), text, relevance=relevance)


def test_a_question_term_few_candidates_hold_outweighs_the_story_s_topic_words():
    question = "What car was the Kilroy slurry protester driving?"
    texts = ["Kilroy was hit with slurry in the street.", "Kilroy said the slurry smelled.",
             "The slurry attack on Kilroy was filmed.", "Kilroy washed the slurry off.",
             "The man had been driving a red car."]
    weights = term_weights(question, texts)
    assert weights["car"] > weights["kilroy"]
    # Plain shares tie (2 of 5 terms each); weighted, the rare terms win.
    assert weighted_overlap(weights, texts[4]) > weighted_overlap(weights, texts[0])
    ranked, _ = ExtractiveComposer(SameVector(), None).score(question, [candidate(t) for t in texts])
    assert ranked[0].text == texts[4]


def test_an_entity_beside_the_asked_for_noun_beats_a_more_relevant_sentence_s_entity():
    question = "Which commercial director was voted off the board?"
    ranked = [candidate("Malcolm Glazer ousted three directors from the board of Manchester United.", 0.60),
              candidate("Commercial director Andy Anson was voted out.", 0.50)]
    span = find_answer(question, ranked)
    assert span.index == 1 and span.entity.text == "Andy Anson"


def test_the_answer_sentence_is_looked_for_beyond_the_five_best():
    question = "Who filed the lawsuit against the music firm?"
    ranked = [candidate(f"The lawsuit against the music firm was the talk of the town, part {n}.", 0.9 - n / 100)
              for n in range(6)] + [candidate("Californian Thomas Slattery filed the suit.", 0.5)]
    span = find_answer(question, ranked)
    assert span is not None and span.index == 6 and span.entity.text == "Thomas Slattery"


def test_a_person_the_question_names_by_surname_is_not_its_answer():
    question = "Who is the chairman of the federation that cleared Kenteris?"
    sentence = "The federation cleared Kostas Kenteris, said chairman Vassilis Sevastis."
    kostas = next(e for e in entities(sentence) if e.text == "Kostas Kenteris")
    assert named_in(kostas, question)
    assert [e.text for e in answer_entities(sentence, frozenset({"PERSON"}), question)] == ["Vassilis Sevastis"]


def test_currently_prefers_the_newer_article_among_close_sentences():
    question = "Who is currently the country's energy minister?"
    ranked = [candidate("The talks were led by Energy Minister Javier Espinosa.", 0.72, "old.txt", "1987-03-11"),
              candidate("Energy Minister Fernando Santos said output would rise.", 0.62, "new.txt", "1987-06-29"),
              candidate("Energy Minister Ana Ruiz spoke in 1985.", 0.40, "older.txt", "1987-07-01")]
    span = find_answer(question, ranked)
    assert span.index == 1 and span.entity.text == "Fernando Santos"
    # Without "currently" the more relevant sentence wins.
    assert find_answer("Who is the country's energy minister?", ranked).index == 0


def test_currently_puts_the_newer_article_s_sentence_first_when_no_kind_is_asked():
    question = "What is the latest on the pipeline repair?"
    found = [candidate("The pipeline repair began in March.", doc_id="old.txt", date="1987-03-11"),
             candidate("The pipeline repair is finished, the ministry said.", doc_id="new.txt", date="1987-06-29")]
    composer = ExtractiveComposer(SameVector(), None)
    ranked, _, _ = composer.ranked_answers(question, found)
    assert ranked[0].passage.doc_id == "new.txt"
    plain, _, _ = composer.ranked_answers("What happened to the pipeline repair?", found)
    assert plain[0].passage.doc_id == "old.txt"


def test_a_second_article_holding_the_question_s_other_part_is_quoted():
    question = "The company that sued Texaco has a chairman who would settle for what amount?"
    quotes = [candidate("Pennzoil sued Texaco over the takeover.", 0.8, "suit.txt")]
    ranked = quotes + [candidate("Pennzoil sued Texaco in Houston.", 0.7, "suit.txt"),
                       candidate("The chairman said he would settle for two billion dlrs.", 0.5, "talks.txt")]
    composer = ExtractiveComposer(SameVector(), None, max_quotes=2)
    chosen = composer.with_second_article(question, ranked, quotes + ranked[1:2])
    assert [c.passage.doc_id for c in chosen] == ["suit.txt", "talks.txt"]  # in the runner-up's place
    one = ExtractiveComposer(SameVector(), None, max_quotes=1).with_second_article(question, ranked, quotes)
    assert [c.passage.doc_id for c in one] == ["suit.txt", "talks.txt"]  # the answer sentence stays
    same = [candidate("The chairman of Pennzoil sued Texaco.", 0.5, "suit.txt")]
    assert composer.with_second_article(question, quotes + same, quotes) == quotes


class CountingVector(SameVector):
    """SameVector that remembers which texts it was asked to embed."""

    def __init__(self):
        self.embedded = []

    def encode(self, texts):
        self.embedded.extend(texts)
        return super().encode(texts)


def test_only_the_sentences_with_the_most_evidence_are_embedded_when_max_sentences_is_set():
    question = "What car was the protester driving?"
    texts = ["The weather was mild.", "The protester was driving a red car.", "Crowds gathered early.",
             "The protester shouted.", "Police arrived at noon."]
    found = [candidate(t) for t in texts]
    embedder = CountingVector()
    ranked, vectors = ExtractiveComposer(embedder, None, max_sentences=2).score(question, found)
    # The question and the two sentences sharing its terms; the other three are never embedded.
    assert sorted(embedder.embedded) == sorted([question, texts[1], texts[3]])
    assert [c.text for c in ranked] == [texts[1], texts[3]] and len(vectors) == 2
    every = ExtractiveComposer(CountingVector(), None, max_sentences=0).score(question, found)[0]
    assert len(every) == 5 and every[0].relevance == ranked[0].relevance


def test_the_ranking_is_the_order_compose_quotes_in_with_its_answer_span():
    from rag.text.sentences import get_splitter

    text = "The new harbour opened on Monday. It can hold 300 boats. Mayor Ada Quill cut the ribbon at the harbour."
    found = [rag.Passage(0, "h.txt", "Harbour opens", text, 0, len(text), 0.9)]
    composer = ExtractiveComposer(SameVector(), get_splitter("pysbd"))
    question = "Who cut the ribbon at the new harbour?"
    ranking = composer.ranking(question, found)
    assert ranking.sentences[0].text == "Mayor Ada Quill cut the ribbon at the harbour."
    assert ranking.span.index == 0 and "Ada Quill" in ranking.span.entity.text
    answer = composer.compose(question, found)
    assert answer.citations[0].quote == ranking.sentences[0].text and answer.short == ranking.span.entity.text
    assert composer.ranking(question, []) == rag.Ranking([], [], None)
