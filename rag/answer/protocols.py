"""What a composer is, and the optional abilities a composer may declare (streaming, rewriting)."""

from __future__ import annotations

from typing import Iterator, Protocol, Sequence, runtime_checkable

from rag.schema import Answer, Passage, Turn


class Composer(Protocol):
    def compose(self, question: str, passages: list[Passage], *, query: str = "") -> Answer:
        """An answer to ``question`` built from ``passages`` (retrieved with ``query``)."""


@runtime_checkable
class StreamingComposer(Composer, Protocol):
    def stream(self, question: str, passages: list[Passage], *, query: str = "") -> Iterator[str | Answer]:
        """Text deltas as they are written, then the final ``Answer``."""


@runtime_checkable
class QueryRewriter(Protocol):
    def rewrite(self, question: str, history: Sequence[Turn] | None) -> str:
        """The standalone retrieval query for ``question`` after the turns in ``history``."""
