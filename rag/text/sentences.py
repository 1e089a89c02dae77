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
# Plain paragraphs skip pysbd, which is most of chunking's time (~4 ms a BBC paragraph; the
# check below ~0.1 ms). In a plain paragraph every . ! ? is a decimal point, inside double quotes
# (pysbd never splits there), or ends a sentence plainly: after a word that is no abbreviation or
# a number (PLAIN_TAIL), outside brackets, before the paragraph's end or a space and a capital or
# opening quote. Nothing else pysbd treats specially is there (NOT_PLAIN: ellipses, dashes, line
# breaks, leading apostrophes, a list number; a closing quote before a capital, where pysbd ends a
# sentence; a quote closing a sentence before another quote, where it does not).
# With the cuts below (plain_cuts), rag's sentences equal pysbd's alone on all 67,532 paragraphs of
# BBC and Reuters (python -m bench.sentence_agreement): no boundary changes, at ~2.6x the speed.
SENTENCE_MARK = re.compile(r"(?<!\d)[.!?]|[.!?](?!\d)")
# What stands before a plain sentence end: a word (group 1, no abbreviation) or a number, then
# perhaps a closing quote or bracket.
PLAIN_TAIL = re.compile(r"(?:^|[^A-Za-z])([A-Za-z][a-z]+|[A-Z]{2,})[\"”)]?$|\d\d%?[\"”)]?$|\d%[\"”)]?$")
DOUBLE_QUOTED = re.compile(r'"[^"]*"|“[^“”]*”')
QUOTED = re.compile(r'"[^"]*"|“[^“”]*”|\([^()]*\)|\[[^\[\]]*\]')
NOT_PLAIN = re.compile(r"[…\n\r«»]|\s['‘’]|--|[.!?](?:[^ \d]| [^A-Z\"“])|  |[\"”][.!?] [\"“]|[\"”](?<![.!?][\"”]) [A-Z]")
CUTTABLE_END = re.compile(r"[.!?](?= [A-Z])")
# No cuts where pysbd reads across sentences: single-quoted passages ('...' or ''...''), -- asides --, list items.
UNCUTTABLE = re.compile(r"(?<!\S)['‘]|''|``|--|(?:^|\s)(?:\d{1,2}|[A-Za-z]|[ivxlcdm]+)[.)]\s")
NOT_PLAIN_START = "'‘’0123456789"  # a leading apostrophe or a list number


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


@lru_cache(maxsize=1)
def _abbreviations() -> frozenset[str]:
    from pysbd.lang.english import English

    abbreviation = English.Abbreviation
    words = abbreviation.ABBREVIATIONS + abbreviation.PREPOSITIVE_ABBREVIATIONS + abbreviation.NUMBER_ABBREVIATIONS
    return frozenset(w.lower() for w in words)


def _plain_ends(block: str) -> list[int] | None:
    """Where the sentences of a plain paragraph end, or ``None`` if any mark is not plain."""
    ends, abbreviations = [], _abbreviations()
    for mark in SENTENCE_MARK.finditer(block):
        at = mark.start()
        if block[at + 1 : at + 2] not in ("", " "):
            return None
        tail = PLAIN_TAIL.search(block, max(0, at - 40), at)
        if tail is None or (tail.group(1) or "").lower() in abbreviations:
            return None
        ends.append(at + 1)
    return ends


def _quote_masked(match: re.Match) -> str:
    """A double-quoted passage with its sentence marks hidden (pysbd never splits inside one); a
    mark closing it moves after the quote, where pysbd ends the sentence. Same length."""
    quote = match.group()
    inner = SENTENCE_MARK.sub("x", quote[1:-1])
    if len(quote) > 2 and quote[-2] in ".!?":
        return quote[0] + inner[:-1] + quote[-1] + quote[-2]
    return quote[0] + inner + quote[-1]


def plain_paragraph_spans(block: str) -> list[tuple[int, int]] | None:
    """The sentences of a plain paragraph without pysbd (see ``PLAIN_TAIL``); ``None`` if it is not plain."""
    marked = DOUBLE_QUOTED.sub(_quote_masked, block) if '"' in block or "“" in block else block
    if not marked or marked[0] in NOT_PLAIN_START or NOT_PLAIN.search(marked):
        return None
    if any(c in marked for c in '"“”()[]'):
        quoted = QUOTED.sub(lambda m: "!" if SENTENCE_MARK.search(m.group()) else "", marked)
        if "!" in quoted or any(c in quoted for c in '"“”()[]'):
            return None  # a sentence mark inside brackets, or a quote or bracket left unclosed
    ends = _plain_ends(marked)
    if ends is None:
        return None
    bounds = [0] + ends + [len(block)]
    spans = (_trimmed(block, start, end) for start, end in zip(bounds, bounds[1:]))
    return [(start, end) for start, end in spans if start < end]


def plain_cuts(block: str) -> list[int]:
    """Where a paragraph that is not plain may be cut into pieces pysbd splits alone as it would
    together: after a plain sentence end (PLAIN_TAIL) before a space and a capital letter, outside
    quotes and brackets. None in a paragraph with an unclosed quote or bracket, single-quoted
    passages, dashes or list items."""
    inside = [(m.start(), m.end()) for m in QUOTED.finditer(block)]
    if UNCUTTABLE.search(block) or any(c in QUOTED.sub("", block) for c in '"“”()[]'):
        return []
    abbreviations, cuts = _abbreviations(), []
    for mark in CUTTABLE_END.finditer(block):
        at = mark.start()
        tail = PLAIN_TAIL.search(block, max(0, at - 40), at)
        if tail and (tail.group(1) or "").lower() not in abbreviations and not any(s < at < e for s, e in inside):
            cuts.append(at + 1)
    return cuts


def _pieces(block: str) -> Iterator[tuple[int, str]]:
    bounds = [0] + plain_cuts(block) + [len(block)]
    for start, end in zip(bounds, bounds[1:]):
        yield start, block[start:end]


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
            plain = plain_paragraph_spans(block)
            if plain is not None:
                result.extend((offset + start, offset + end) for start, end in plain)
                continue
            for start, piece in _pieces(block):
                result.extend(self._piece_spans(piece, offset + start))
        return result

    def _piece_spans(self, piece: str, offset: int) -> list[tuple[int, int]]:
        plain = plain_paragraph_spans(piece.strip())
        if plain is None:
            return _align(piece, offset, pysbd_sentences(self._segmenter(), piece))
        lead = len(piece) - len(piece.lstrip())
        return [(offset + lead + start, offset + lead + end) for start, end in plain]


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
