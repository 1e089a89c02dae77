"""The concepts that flow through the pipeline: Article -> Chunk -> Passage -> Answer.

Each is a small frozen dataclass with ``to_dict()`` so results serialise to JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Mapping

# An earlier turn of a conversation: (question, answer), or a {"question", "answer"} mapping.
Turn = tuple[str, str] | Mapping[str, str]


class _Serialisable:
    def to_dict(self) -> dict:
        """Plain-JSON form of this object (nested dataclasses included)."""
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class Article(_Serialisable):
    """One cleaned article. ``text`` is the body that chunks and citations point into."""

    doc_id: str
    title: str
    text: str
    date: str | None = None
    source: str | None = None
    url: str | None = None
    content_hash: str = ""


@dataclass(frozen=True)
class Chunk(_Serialisable):
    """A span of an article: ``article.text[start:end] == text``."""

    doc_id: str
    title: str
    text: str
    start: int
    end: int
    ordinal: int


@dataclass(frozen=True)
class Passage(_Serialisable):
    """A retrieved chunk with its score (higher is more similar)."""

    chunk_id: int
    doc_id: str
    title: str
    text: str
    start: int
    end: int
    score: float
    date: str | None = None
    source: str | None = None
    # Cosine similarity of the chunk to the query, whatever ranked it (fusion scores are rank-based).
    similarity: float | None = None
    # Other articles carrying the same text (syndicated copies), collapsed into this passage.
    duplicates: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Citation(_Serialisable):
    """A verbatim quote: ``article.text[start:end] == quote``; ``n`` is its marker ``[n]``."""

    n: int
    doc_id: str
    title: str
    quote: str
    start: int
    end: int
    date: str | None = None
    source: str | None = None
    # The answer span inside the quote, in article offsets (start <= answer_start < answer_end <= end):
    # the name, date or number the question asks for. None when no such span was found.
    answer_start: int | None = None
    answer_end: int | None = None


@dataclass(frozen=True)
class Answer(_Serialisable):
    """What ``ask`` returns: text with ``[n]`` markers, the citations they point to,
    the passages that were retrieved, and whether the assistant abstained."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    abstained: bool = False
    query: str = ""
    # Sentences of a generated answer that no passage supports (flagged, never cited).
    unsupported: list[str] = field(default_factory=list)
    # Visible remarks, e.g. that the LLM was unreachable and the extractive answer stands in.
    notes: list[str] = field(default_factory=list)
    # Estimated probability that the passages hold the answer (None when not estimated).
    confidence: float | None = None
    # The asked-for thing itself ("Lt. Gen. John Smith", "300", "March 1987"), a verbatim span of
    # the first citation's quote; "" when the question asks for no named kind or none was found.
    short: str = ""

    @property
    def outcome(self) -> str:
        """``"answer"``; ``"closest"`` (abstained, with the closest passages: the articles may not
        answer this); or ``"not_found"`` (abstained with nothing close)."""
        if not self.abstained:
            return "answer"
        return "closest" if self.passages and (self.confidence is None or self.confidence > 0.0) else "not_found"

    def to_dict(self) -> dict:
        return {**asdict(self), "outcome": self.outcome}


@dataclass(frozen=True)
class IndexReport(_Serialisable):
    """What a build did: article counts by change, chunks embedded, files skipped."""

    index_dir: str
    added: int
    updated: int
    removed: int
    unchanged: int
    chunks: int
    embedded: int
    seconds: float
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # Files and folders whose names start with "." (.git, .DS_Store): not read, but counted.
    hidden: list[str] = field(default_factory=list)
    corpus_dir: str = ""
    # Files of no article type (a .png, a LICENSE): not read, but named.
    ignored: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for people: ``added 2, updated 0, removed 0, unchanged 0 ...``."""
        hidden = f", {len(self.hidden)} hidden not read" if self.hidden else ""
        shown = ", ".join(self.ignored[:3]) + (", ..." if len(self.ignored) > 3 else "")
        ignored = f", {len(self.ignored)} not of an article type ({shown})" if self.ignored else ""
        return (
            f"added {self.added}, updated {self.updated}, removed {self.removed}, "
            f"unchanged {self.unchanged}; {self.chunks} chunks, {self.embedded} embedded, "
            f"{len(self.skipped)} skipped{hidden}{ignored}, {self.seconds:.1f}s -> {self.index_dir}"
        )


@dataclass(frozen=True)
class IndexInfo(_Serialisable):
    """What an index holds, from its manifest: ``rag.index_info("index")``."""

    index_dir: str
    corpus_dir: str | None
    articles: int
    chunks: int
    built_at: str
    newest_date: str | None
    settings: dict = field(default_factory=dict)


@dataclass(frozen=True)
class IndexFiles:
    """Where the live index's data lies on disk: ``rag.index_files("index")``.

    ``vectors`` is None when the store keeps its vectors elsewhere (Milvus) or they are
    still pending; ``milvus_lite`` is the Milvus Lite data folder when there is one.
    """

    generation: Path
    vectors: Path | None
    embedding_cache: Path
    milvus_lite: Path | None = None
