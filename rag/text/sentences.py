"""Sentence boundaries as character spans, so every quote is an exact slice of its article."""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Iterator, Protocol

from rag.errors import UserError
from rag.text.pysbd_speed import english_segmenter, sentences as pysbd_sentences

BLOCK = re.compile(r"[^\n]+(?:\n[^\n]+)*")
# Splitters are handed paragraphs of at most this many characters: pysbd's time grows with the
# square of its input (a 216,000-character paragraph without punctuation took 3.4 s, 4x the time
# of half of it), so a multi-MB file without blank lines would stall a build. News paragraphs are
# far shorter; a longer one is cut after its last sentence end inside the window.
MAX_BLOCK_CHARS = 5_000
SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s")
# pysbd reads 45-200 KB of text a second. Past this many characters (5x the longest of the 8,268
# BBC and Reuters articles, 36 KB) a text is no news article: a plain rule (a sentence ends at
# . ! ? and a space, or at a line end) splits it, so a 10 MB file chunks in seconds, not minutes.
PYSBD_MAX_CHARS = 200_000
PLAIN_SENTENCE = re.compile(r"[^\n]*?[.!?][\"'”’)\]]*(?=\s|$)|[^\n]+")


class SentenceSplitter(Protocol):
    def spans(self, text: str) -> list[tuple[int, int]]:
        """``(start, end)`` of each sentence in ``text``, in order, whitespace trimmed."""


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _align(block: str, offset: int, sentences: list[str]) -> list[tuple[int, int]]:
    """Locate each splitter sentence in ``block``; any text left over becomes a span too."""
    spans, cursor = [], 0
    for sentence in sentences:
        found = block.find(sentence.strip(), cursor)
        if found < 0 or not sentence.strip():
            continue
        spans.append((found, found + len(sentence.strip())))
        cursor = found + len(sentence.strip())
    # Splitters that normalise text may miss pieces: cover every gap so nothing is lost.
    covered, cursor = [], 0
    for start, end in spans + [(len(block), len(block))]:
        if block[cursor:start].strip():
            covered.append(_trimmed(block, cursor, start))
        if start < end:
            covered.append((start, end))
        cursor = end
    return [(offset + s, offset + e) for s, e in covered]


def _cut(block: str, limit: int) -> int:
    """Where to end the first piece of an over-long block: after a sentence end, else a space."""
    window = block[:limit]
    ends = [m.end() for m in SENTENCE_END.finditer(window, limit // 2)]
    if ends:
        return ends[-1]
    space = window.rfind(" ", limit // 2)
    return space + 1 if space > 0 else limit


def blocks(text: str, limit: int = MAX_BLOCK_CHARS) -> Iterator[tuple[int, str]]:
    """``(offset, paragraph)`` for each paragraph of ``text``, over-long ones cut into pieces of at most ``limit``."""
    for match in BLOCK.finditer(text):
        offset, block = match.start(), match.group()
        while len(block) > limit:
            cut = _cut(block, limit)
            yield offset, block[:cut]
            offset, block = offset + cut, block[cut:]
        yield offset, block


def plain_spans(text: str) -> list[tuple[int, int]]:
    """Sentences by a plain rule, in time linear in the text (for texts too long for pysbd)."""
    spans = (_trimmed(text, m.start(), m.end()) for m in PLAIN_SENTENCE.finditer(text))
    return [(start, end) for start, end in spans if start < end]


class PysbdSplitter:
    """Rule-based splitter (pysbd): handles abbreviations, decimals and quotes well."""

    def __init__(self) -> None:
        # A pysbd.Segmenter keeps the text it is segmenting on itself: shared between threads,
        # one thread's sentences came out cut at another's offsets. One segmenter per thread.
        self._local = threading.local()

    def _segmenter(self):
        segmenter = getattr(self._local, "segmenter", None)
        if segmenter is None:
            segmenter = self._local.segmenter = english_segmenter()
        return segmenter

    def spans(self, text: str) -> list[tuple[int, int]]:
        if len(text) > PYSBD_MAX_CHARS:
            return plain_spans(text)
        result = []
        for offset, block in blocks(text):
            result.extend(_align(block, offset, pysbd_sentences(self._segmenter(), block)))
        return result


class BlingfireSplitter:
    """Finite-state splitter (blingfire): about 25x faster than pysbd, weaker on abbreviations."""

    def spans(self, text: str) -> list[tuple[int, int]]:
        import blingfire

        result = []
        for offset, block in blocks(text):
            _, offsets = blingfire.text_to_sentences_and_offsets(block)
            result.extend(_align(block, offset, [block[s:e] for s, e in offsets]))
        return result


SPLITTERS = {"pysbd": PysbdSplitter, "blingfire": BlingfireSplitter}


@lru_cache(maxsize=None)
def get_splitter(name: str) -> SentenceSplitter:
    """The sentence splitter called ``name``; an unknown name lists the choices."""
    if name not in SPLITTERS:
        raise UserError(f"unknown sentence splitter {name!r}; choose from: {', '.join(SPLITTERS)}")
    return SPLITTERS[name]()
