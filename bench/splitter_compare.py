"""Sentence splitters side by side: speed, agreement with pysbd, and the eval sets' evidence.

    python -m bench.splitter_compare            # BBC articles, the BBC and Reuters eval questions

Per splitter: seconds to split every BBC article; the share of pysbd's sentence boundaries it
also finds and of its own that pysbd finds (on BBC); and the share of eval evidence quotes that
lie inside one of its sentences (a quote cut by a boundary is harder to cite whole).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from rag import read_corpus
from rag.text.sentences import blocks, get_splitter, plain_spans

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"


class SpacySentencizer:
    """spaCy's rule-based sentencizer (punctuation only), per paragraph."""

    def __init__(self) -> None:
        import spacy

        self.nlp = spacy.blank("en")
        self.nlp.add_pipe("sentencizer")

    def spans(self, text: str) -> list[tuple[int, int]]:
        result = []
        for offset, block in blocks(text):
            result.extend((offset + s.start_char, offset + s.end_char) for s in self.nlp(block).sents if s.text.strip())
        return result


class PlainRule:
    def spans(self, text: str) -> list[tuple[int, int]]:
        return plain_spans(text)


def _pysbd_only():
    """pysbd on every paragraph, as before the plain-paragraph fast path."""
    from rag.text import sentences

    class PysbdOnly(sentences.PysbdSplitter):
        def spans(self, text):
            real, sentences.plain_paragraph_spans = sentences.plain_paragraph_spans, lambda block: None
            try:
                return super().spans(text)
            finally:
                sentences.plain_paragraph_spans = real

    return PysbdOnly()


def _evidence(set_name: str, corpus: Path) -> list[tuple[str, int, int]]:
    """(doc text, start, end) of each eval evidence quote found verbatim in its article."""
    articles = {a.doc_id: a.text for a in read_corpus(corpus).articles}
    found = []
    for line in (ROOT / "eval" / f"{set_name}.jsonl").read_text().splitlines():
        item = json.loads(line)
        for doc in item.get("docs", []):
            text = articles.get(doc)
            at = text.find(item.get("evidence") or "\0") if text else -1
            if at >= 0:
                found.append((text, at, at + len(item["evidence"])))
    return found


def main() -> None:
    texts = [a.text for a in read_corpus(CORPORA / "bbc").articles]
    evidence = _evidence("bbc", CORPORA / "bbc") + _evidence("reuters", CORPORA / "reuters")
    splitters = {"pysbd (fast path)": get_splitter("pysbd"), "pysbd alone": _pysbd_only(),
                 "blingfire": get_splitter("blingfire"), "spacy sentencizer": SpacySentencizer(), "plain rule": PlainRule()}
    reference = None
    for name, splitter in splitters.items():
        began = time.perf_counter()
        ends = [{e for _, e in splitter.spans(t)} for t in texts]
        seconds = time.perf_counter() - began
        reference = reference or ends
        found = sum(len(r & e) for r, e in zip(reference, ends))
        inside = sum(any(s <= a and b <= e for s, e in splitter.spans(t)) for t, a, b in evidence)
        print(f"{name:20s} {seconds:6.1f} s  pysbd's ends found {found / sum(map(len, reference)):.3f}  "
              f"own ends pysbd's {found / sum(map(len, ends)):.3f}  evidence in one sentence {inside}/{len(evidence)}")


if __name__ == "__main__":
    main()
