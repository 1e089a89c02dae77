"""The plain-paragraph fast path against pysbd on every paragraph of some corpora.

    python -m bench.sentence_agreement ../shared/corpora/bbc ../shared/corpora/reuters

Prints, per corpus, how many paragraphs are plain, how many of those differ from pysbd's
sentences (the first few are shown), and the time of both on the plain ones.
"""
import sys
import time

from rag.ingest.reading import read_corpus
from rag.text.sentences import blocks, plain_paragraph_spans, _align, PysbdSplitter
from rag.text.pysbd_speed import sentences as pysbd_sentences
sp = PysbdSplitter(); seg = sp._segmenter()
for corpus in sys.argv[1:]:
    arts = read_corpus(corpus).articles
    total = plain = differ = 0; shown = 0; tf = tp = 0.0
    for a in arts:
        for off, b in blocks(a.text):
            total += 1
            t = time.perf_counter(); fast = plain_paragraph_spans(b); tf += time.perf_counter() - t
            if fast is None: continue
            plain += 1
            t = time.perf_counter(); ref = _align(b, 0, pysbd_sentences(seg, b)); tp += time.perf_counter() - t
            if fast != ref:
                differ += 1
                if shown < 8:
                    shown += 1; print("DIFF", repr(b[:300])); print("  fast", [b[s:e][-25:] for s,e in fast]); print("  ref ", [b[s:e][-25:] for s,e in ref])
    print(f"{corpus}: {len(arts)} articles, {total} paragraphs, plain {plain} ({plain/total:.1%}), differ {differ}; fast {tf:.2f}s vs pysbd on them {tp:.2f}s")
