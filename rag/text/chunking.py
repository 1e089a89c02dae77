"""Sentence-aware chunks measured in tiktoken tokens that always fit the embedding model.

A chunk is a run of whole sentences of about ``chunk_tokens`` tokens; the next chunk
starts with the last sentences of the previous one, up to ``overlap`` tokens. A chunk
whose embedding text would exceed the model's own window (counted with the model's
tokenizer) is split again, down to words if need be, so no text is ever truncated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import tiktoken

from rag.schema import Article, Chunk
from rag.text.sentences import SentenceSplitter

WORDS = re.compile(r"\S+")


def embedding_text(title: str, text: str) -> str:
    """What the model sees for a chunk: the article title gives every chunk its context."""
    return f"{title}\n{text}" if title else text


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int


def _word_units(text: str, start: int, end: int, limit: int, encoding: tiktoken.Encoding) -> list[_Unit]:
    """Cut an over-long sentence into runs of whole words of at most ``limit`` tokens."""
    units: list[_Unit] = []
    piece_start, piece_tokens, last_end = None, 0, start
    for word in WORDS.finditer(text, start, end):
        tokens = len(encoding.encode_ordinary(" " + word.group()))
        if piece_start is not None and piece_tokens + tokens > limit:
            units.append(_Unit(piece_start, last_end, piece_tokens))
            piece_start, piece_tokens = None, 0
        if piece_start is None:
            piece_start = word.start()
        piece_tokens += tokens
        last_end = word.end()
    if piece_start is not None:
        units.append(_Unit(piece_start, last_end, piece_tokens))
    return units


def _units(article: Article, splitter: SentenceSplitter, encoding: tiktoken.Encoding, limit: int) -> list[_Unit]:
    units = []
    for start, end in splitter.spans(article.text):
        tokens = len(encoding.encode_ordinary(article.text[start:end]))
        if tokens > limit:
            units.extend(_word_units(article.text, start, end, limit, encoding))
        else:
            units.append(_Unit(start, end, tokens))
    return units


def _pack(units: list[_Unit], size: int, overlap: int) -> list[list[_Unit]]:
    """Greedy runs of units up to ``size`` tokens, each starting with <= ``overlap`` tokens of the last."""
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    fresh = 0  # units in ``current`` not carried over from the previous group
    for unit in units:
        if current and fresh and sum(u.tokens for u in current) + unit.tokens > size:
            groups.append(current)
            carried: list[_Unit] = []
            for prev in reversed(current):
                if sum(u.tokens for u in carried) + prev.tokens > overlap or len(carried) + 1 >= len(current):
                    break
                carried.insert(0, prev)
            current, fresh = carried, 0
        current.append(unit)
        fresh += 1
    if fresh:
        groups.append(current)
    return groups


def _fit(group: list[_Unit], fits: Callable[[int, int], bool], text: str, encoding: tiktoken.Encoding) -> list[list[_Unit]]:
    """Split a group until each part fits the model window."""
    if fits(group[0].start, group[-1].end):
        return [group]
    if len(group) == 1:
        unit = group[0]
        halves = _word_units(text, unit.start, unit.end, max(1, unit.tokens // 2), encoding)
        if len(halves) == 1:
            return [group]  # a single word longer than the window: nothing smaller to cut
        return [part for half in halves for part in _fit([half], fits, text, encoding)]
    middle = len(group) // 2
    return _fit(group[:middle], fits, text, encoding) + _fit(group[middle:], fits, text, encoding)


def chunk_article(
    article: Article,
    splitter: SentenceSplitter,
    encoding: tiktoken.Encoding,
    chunk_tokens: int = 150,
    overlap: int = 30,
    count_model_tokens: Callable[[str], int] | None = None,
    max_model_tokens: int | None = None,
) -> list[Chunk]:
    """Chunks of ``article`` with exact character offsets into ``article.text``.

    >>> chunks = chunk_article(article, get_splitter("pysbd"), load_encoding("cl100k_base"))  # doctest: +SKIP
    """
    if chunk_tokens < 1 or overlap < 0 or overlap >= chunk_tokens:
        raise ValueError("chunk_tokens must be positive and overlap in [0, chunk_tokens)")
    text = article.text

    def fits(start: int, end: int) -> bool:
        if count_model_tokens is None or max_model_tokens is None:
            return True
        return count_model_tokens(embedding_text(article.title, text[start:end])) <= max_model_tokens

    groups = _pack(_units(article, splitter, encoding, chunk_tokens), chunk_tokens, overlap)
    spans = [(part[0].start, part[-1].end) for group in groups for part in _fit(group, fits, text, encoding)]
    return [
        Chunk(doc_id=article.doc_id, title=article.title, text=text[s:e], start=s, end=e, ordinal=i)
        for i, (s, e) in enumerate(spans)
    ]
