"""rag's sentence splitter (pysbd with its plain-paragraph path) against pysbd alone, every paragraph.

    python -m bench.sentence_agreement ../shared/corpora/bbc ../shared/corpora/reuters

Prints, per corpus, how many paragraphs come out with other sentences than pysbd's own (the
first few are shown) and the time both took.
"""

import sys
import time

from rag.text.pysbd_speed import sentences as pysbd_sentences
from rag import read_corpus
from rag.text.sentences import PysbdSplitter, _align, blocks


def main() -> None:
    splitter = PysbdSplitter()
    segmenter = splitter._segmenter()
    for corpus in sys.argv[1:]:
        articles = read_corpus(corpus).articles
        total = differ = 0
        ours = alone = 0.0
        for article in articles:
            for _, block in blocks(article.text):
                total += 1
                began = time.perf_counter()
                found = splitter.spans(block)
                ours += time.perf_counter() - began
                began = time.perf_counter()
                expected = _align(block, 0, pysbd_sentences(segmenter, block))
                alone += time.perf_counter() - began
                if found != expected:
                    differ += 1
                    if differ <= 6:
                        print("DIFF", repr(block[:200]), [block[s:e][-30:] for s, e in found], [block[s:e][-30:] for s, e in expected])
        print(f"{corpus}: {len(articles)} articles, {total} paragraphs, {differ} differ; ours {ours:.1f} s, pysbd alone {alone:.1f} s", flush=True)


if __name__ == "__main__":
    main()
