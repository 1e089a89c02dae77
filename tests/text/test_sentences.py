"""The plain-paragraph fast path finds exactly pysbd's sentences, and only where it applies."""

from pathlib import Path

import pysbd
import pytest

from rag.text.sentences import _align, blocks, get_splitter, plain_cuts, plain_paragraph_spans

BBC = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "bbc"


def pysbd_spans(block: str) -> list[tuple[int, int]]:
    return _align(block, 0, pysbd.Segmenter(language="en", clean=False).segment(block))


PLAIN = [
    "The council met on Monday. It voted to close the library. Residents were angry!",
    "Shares rose 2.5% to 605 pence. Sales reached $1.8bn in 2005. Was it enough?",
    'She was leaving "by mutual agreement". The firm (SEC) declined to comment.',
    "He said it's over. \"We are done,\" he said.",
    '"It is over. We lost," he said. He said: "It is over." Then he left.',  # pysbd never splits inside quotes
    "A single sentence without an end",
]
NOT_PLAIN = [
    "Mr. Smith went to Washington. He stayed.",  # an abbreviation
    "The U.S. economy grew. Exports fell.",  # periods inside a word
    "1. First item. 2. Second item.",  # a list
    "He paused... Then he left.",  # an ellipsis
    "The results were good, etc. and so on.",  # a lowercase abbreviation
    'The "Big Four" Group met.',  # pysbd ends a sentence at a quote before a capital
    "A line\nand the next one. Then more.",  # a line break inside the paragraph
    "Visit example.com today. It is free.",  # a mark inside a word
    "'Quoted' at the start. Then more.",  # a leading apostrophe
    'He said: "It is right." "This is it," he added.',  # pysbd keeps quote after quote together
]


@pytest.mark.parametrize("block", PLAIN)
def test_plain_paragraphs_split_as_pysbd_splits_them(block):
    spans = plain_paragraph_spans(block)
    assert spans is not None
    assert spans == pysbd_spans(block)


@pytest.mark.parametrize("block", NOT_PLAIN)
def test_paragraphs_pysbd_treats_specially_are_left_to_pysbd(block):
    assert plain_paragraph_spans(block) is None


def test_the_splitter_mixes_both_paths_in_order_with_offsets_into_the_text():
    text = "\n\n".join(PLAIN + NOT_PLAIN)
    expected = []
    for offset, block in blocks(text):
        expected.extend((offset + s, offset + e) for s, e in pysbd_spans(block))
    assert get_splitter("pysbd").spans(text) == expected


@pytest.mark.skipif(not BBC.is_dir(), reason=f"the BBC corpus is not at {BBC}")
def test_on_real_news_the_fast_path_agrees_with_pysbd_on_every_plain_paragraph():
    from rag.ingest.reading import read_corpus

    checked = 0
    for article in read_corpus(BBC).articles[:150]:
        for _, block in blocks(article.text):
            spans = plain_paragraph_spans(block)
            if spans is not None:
                assert spans == pysbd_spans(block), block
                checked += 1
    assert checked > 200


MIXED = [
    'Mr. Smith arrived on Monday. The council met. "It is over. We lost," he said. Prices rose 2.5% in May.',
    "The U.S. economy grew. Exports fell. Imports rose (by 3.5% a year). Nobody knows why.",
    "Growth slowed. 1. First item. 2. Second item. The end.",
    "Sir Digby said: 'Please don't give it away. Invest it.' The chancellor listened. He nodded.",
    "The IFA upheld it. ''A law firm will act. We will see,'' he said. Newry appealed.",
]


@pytest.mark.parametrize("block", MIXED)
def test_paragraphs_cut_into_pieces_split_as_pysbd_splits_them_whole(block):
    assert get_splitter("pysbd").spans(block) == pysbd_spans(block)


def test_cuts_fall_after_plain_ends_only_outside_quotes():
    block = MIXED[0]
    cuts = plain_cuts(block)
    assert [block[c - 8 : c] for c in cuts] == [" Monday.", "he said."]  # not before a quote
    assert plain_cuts(MIXED[3]) == [] and plain_cuts(MIXED[4]) == [], "no cuts beside single-quoted passages"


def test_no_cuts_beside_dashed_asides():
    block = "The legislators followed the targets -- on paper. But the goal was missed. It was far off -- the target."
    assert plain_cuts(block) == []
    assert get_splitter("pysbd").spans(block) == pysbd_spans(block)
