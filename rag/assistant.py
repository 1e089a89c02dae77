"""The public entry point: an ``Assistant`` over one index, and module-level shortcuts."""

from __future__ import annotations

import operator
import threading
from dataclasses import replace
from functools import cached_property
from datetime import date
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from rag.answer.composer import ExtractiveComposer, Ranking, abstention
from rag.answer.factory import COMPOSERS, make_composer
from rag.answer.protocols import QueryRewriter, StreamingComposer
from rag.embed.embedding import RememberedVectors, get_embedder
from rag.errors import UserError
from rag.retrieve.followup import FollowupRewriter
from rag.store.build import build_index
from rag.retrieve.retrievers import RETRIEVERS, make_retriever
from rag.schema import Answer, Article, Passage, Turn
from rag.text.markers import marker_pieces
from rag.text.sentences import get_splitter
from rag.settings import INDEX_KEYS, Settings, override, resolve
from rag.store.local import Store, check_manifest, current_generation, open_store, pending_vectors
from rag.store.pending import PendingVectors, pending_note
from rag.store.manifest import index_settings
from rag.text.terms import content_terms, stop_words
from rag.retrieve.timeframe import Period, as_of_date, period_of

MAX_QUESTION_CHARS = 4000


def retriever_names() -> list[str]:
    """The retrievers a ``retriever`` setting may name.

    >>> retriever_names()
    ['dense', 'bm25', 'hybrid']
    """
    return list(RETRIEVERS)


def composer_names() -> list[str]:
    """The composers a ``composer`` setting may name.

    >>> composer_names()
    ['extractive', 'llm']
    """
    return list(COMPOSERS)


def check_question(question: Any) -> str:
    """The question stripped; non-text, invalid, empty or over-long questions are user errors."""
    if not isinstance(question, str):
        raise UserError(f"the question must be text, not {type(question).__name__}")
    try:
        question.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: undecodable bytes smuggled in by surrogateescape
        raise UserError("the question is not valid UTF-8 text (it holds undecodable bytes); ask it again in plain text") from None
    if not question.strip():
        raise UserError("the question is empty; ask something about the articles")
    if len(question) > MAX_QUESTION_CHARS:
        raise UserError(f"the question is too long ({len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,})")
    return question.strip()


def check_k(k: Any) -> int:
    """``k`` (passages to retrieve) must be a whole number of at least 1: 0 never means "the default"."""
    try:
        k = operator.index(k)  # int and numpy integers; not floats or strings
    except TypeError:
        raise UserError(f"k must be a whole number, not {k!r}") from None
    if k < 1 or isinstance(k, bool):
        raise UserError(f"k must be at least 1 (got {k})")
    return k


def _adopt_index_settings(settings: Settings, manifest: dict[str, Any], explicit: set[str], index_dir: Path) -> Settings:
    """Take the index's model and chunking unless the caller asked for others (then refuse)."""
    asked = {k: v for k, v in index_settings(settings).items() if k in explicit}
    check_manifest(manifest, index_dir, asked)
    built = manifest.get("settings", {})
    return replace(settings, **{k: v for k, v in built.items() if k in INDEX_KEYS})


class Assistant:
    """Answers questions from one index with cited quotes.

    >>> assistant = Assistant.load("index")  # doctest: +SKIP
    >>> assistant.ask("How many troops train at the Chimyon centre?").text  # doctest: +SKIP
    """

    def __init__(self, store: Store, settings: Settings) -> None:
        self.settings = settings
        # Remembered: the question is embedded to search and again to score sentences.
        self.embedder = RememberedVectors(get_embedder(settings.model, settings.device, settings.backend))
        # A lexical generation (a first build still embedding): BM25 answers, and says so.
        self.store = PendingVectors(store, self.embedder) if pending_vectors(store.manifest) else store
        self.splitter = get_splitter(settings.sentence_splitter)
        retriever = "bm25" if isinstance(self.store, PendingVectors) else settings.retriever
        self.retriever = make_retriever(retriever, self.store, self.embedder, settings)
        self.composer = make_composer(settings.composer, self.embedder, self.splitter, settings)

    @classmethod
    def load(cls, index_dir: str | Path = "index", *, settings: Settings | None = None, **overrides: Any) -> "Assistant":
        """Open a built index on the store its manifest names. ``settings`` (default: ``rag.resolve()``)
        with ``overrides`` applied; model, chunking and store must match the index (``milvus_uri``
        may point elsewhere).

        >>> Assistant.load("index", k=8)  # doctest: +SKIP
        """
        config = resolve(**overrides) if settings is None else override(settings, **overrides)
        store = open_store(index_dir, settings=config)
        # Index settings the caller chose (arguments, config file or environment) must match the index.
        defaults = Settings()
        explicit = {k for k, v in overrides.items() if v is not None}
        explicit |= {k for k in INDEX_KEYS if getattr(config, k) != getattr(defaults, k)}
        return cls(store, _adopt_index_settings(config, store.manifest, explicit, Path(index_dir)))

    @classmethod
    def from_corpus(cls, corpus_dir: str | Path, index_dir: str | Path = "index", **settings: Any) -> "Assistant":
        """Build (or update) the index for ``corpus_dir``, then load it."""
        build_index(corpus_dir, index_dir, **settings)
        return cls.load(index_dir, **settings)

    def close(self) -> None:
        self.store.close()

    def article(self, doc_id: str) -> Article | None:
        """The stored article ``doc_id`` (its text is what citations' offsets point into), or None."""
        return self.store.article(doc_id)

    def passage_spans(self) -> dict[str, list[tuple[int, int]]]:
        """The character spans ``(start, end)`` of every stored passage, by doc id, in article order."""
        return {doc: [(row.start, row.end) for row in rows] for doc, rows in self.store.stored_chunks().items()}

    def index_settings(self) -> dict[str, Any]:
        """The settings the index was built with (model, backend, tokenizer, chunking, store)."""
        return dict(self.store.manifest.get("settings") or {})

    def is_current(self) -> bool:
        """False once a newer generation of the index went live (``rag index``, ``rag add``, ``rag watch``)."""
        return current_generation(self.store.index_dir) in (None, self.store.generation.name)

    def reloaded(self) -> "Assistant":
        """This assistant if its index is current, else a new one on the live generation, same settings.

        The caller closes the old one when nothing uses it any more.
        >>> assistant = assistant.reloaded()  # doctest: +SKIP
        """
        return self if self.is_current() else Assistant.load(self.store.index_dir, settings=self.settings)

    def chat(self, as_of: str | date | None = None) -> "Chat":
        """A conversation: ``chat.ask(...)`` passes the earlier turns as history; ``as_of`` as in ``ask``."""
        return Chat(self, as_of)

    def period(self, question: str, as_of: str | date | None = None) -> Period | None:
        """The days ``question`` asks about ("last week", "the latest"), read on ``as_of``
        (default: the ``as_of`` setting, else today); None when it names no time.

        >>> assistant.period("What did the bank say yesterday?", "1987-06-02").start  # doctest: +SKIP
        '1987-06-01'
        """
        return period_of(question, as_of_date(as_of or self.settings.as_of))

    def search(self, query: str, k: int = 5, filters: Mapping[str, Any] | None = None,
               as_of: str | date | None = None) -> list[Passage]:
        """The ``k`` passages most relevant to ``query``, best first, each with its score; a time
        in the query ("this week", "recently") is read on ``as_of`` and narrows or boosts the search."""
        query = check_question(query)
        return self.retriever.search(query, check_k(k), filters, self.period(query, as_of))

    def _retrieve(self, question: str, query: str, k: int | None, filters, as_of) -> list[Passage]:
        """Passages for the retrieval ``query``; the time is read from the question as asked."""
        period = self.period(question, as_of) or self.period(query, as_of)
        return self.retriever.search(query, check_k(self.settings.k if k is None else k), filters, period)

    def knows_words_of(self, question: str) -> bool:
        """Whether ``question`` holds any word the index's analyser knows: a term of the indexed
        texts, or one of the function words it drops ("who", "did", "he").

        A question in another script than the articles, or of emoji only, holds none: dense
        search would still return its nearest (unrelated) passages, so we abstain. A follow-up
        such as "What was he shown?" keeps its function words and is answered from its context."""
        return bool(stop_words(question)) or self.store.knows_any(content_terms(question))

    def _answerable(self, question: str, query: str, passages: list[Passage]) -> Answer | None:
        """The abstention for a question the index knows no word of; None when it may be answered."""
        return None if self.knows_words_of(question) else abstention(question, passages, query, confidence=0.0)

    def ask(
        self,
        question: str,
        history: Sequence[Turn] | None = None,
        k: int | None = None,
        filters: Mapping[str, Any] | None = None,
        as_of: str | date | None = None,
    ) -> Answer:
        """Answer ``question`` by quoting the articles; ``history`` is earlier (question, answer) turns.

        ``as_of`` is the day the question is asked on (default: the ``as_of`` setting, else today):
        "yesterday", "last month" or "the latest" are read against it."""
        query, passages = self.retrieve(question, history, k, filters, as_of)  # checks the question
        return self.answer(question, query, passages)

    def retrieve(
        self,
        question: str,
        history: Sequence[Turn] | None = None,
        k: int | None = None,
        filters: Mapping[str, Any] | None = None,
        as_of: str | date | None = None,
    ) -> tuple[str, list[Passage]]:
        """``ask``'s first half: the retrieval query for ``question`` after ``history``, and its passages.

        >>> query, passages = assistant.retrieve("Which centre did he tour?", history)  # doctest: +SKIP
        """
        question = check_question(question)
        query = self.query_for(question, history)
        return query, self._retrieve(question, query, k, filters, as_of)

    def answer(self, question: str, query: str, passages: list[Passage]) -> Answer:
        """``ask``'s second half: the cited answer to ``question`` from ``passages`` found with ``query``."""
        question = check_question(question)
        return self._noted(self._answerable(question, query, passages) or self.composer.compose(question, passages, query=query))

    def _noted(self, answer: Answer) -> Answer:
        """``answer`` with a note when it comes from a lexical generation (BM25 only, build in progress)."""
        if not isinstance(self.store, PendingVectors):
            return answer
        return replace(answer, notes=[*answer.notes, pending_note(self.store.index_dir, self.embedder.name)])

    def ask_stream(
        self,
        question: str,
        history: Sequence[Turn] | None = None,
        k: int | None = None,
        filters: Mapping[str, Any] | None = None,
        as_of: str | date | None = None,
    ) -> Iterator[str | Answer]:
        """``ask``, streamed: text deltas as they are written, then the final ``Answer``.

        The final ``Answer.text`` replaces the streamed text: an LLM's draft is checked
        against the articles after it ends (markers corrected, unsupported sentences flagged).
        The question is checked and the passages retrieved before this returns.
        """
        question = check_question(question)
        query, passages = self.retrieve(question, history, k, filters, as_of)
        unknown = self._answerable(question, query, passages)
        if unknown is not None:
            return _pieces(self._noted(unknown))
        if isinstance(self.composer, StreamingComposer):
            stream = self.composer.stream(question, passages, query=query)
            return (self._noted(p) if isinstance(p, Answer) else p for p in stream)
        return _pieces(self._noted(self.composer.compose(question, passages, query=query)))

    def abstention_signals(self, question: str, history: Sequence[Turn] | None = None,
                           as_of: str | date | None = None) -> dict[str, float] | None:
        """The signals the abstention model weighs for ``question`` (``rag.AbstentionModel.FEATURES``):
        those of the extractive composer's best sentence among the ``k`` passages found for its query;
        None when they hold no sentence to weigh. What ``python -m eval.fit_abstention`` fits on."""
        passages = self.search(self.query_for(question, history), k=self.settings.k, as_of=as_of)
        return self._extractive.abstention_signals(question, passages)

    def ranking(self, question: str, history: Sequence[Turn] | None = None,
                as_of: str | date | None = None) -> Ranking:
        """The sentences of the ``k`` passages found for ``question`` as the extractive composer ranks
        them, best first, with the answer span it found: what a measurement of a new signal reads."""
        passages = self.search(self.query_for(question, history), k=self.settings.k, as_of=as_of)
        return self._extractive.ranking(question, passages)

    @cached_property
    def _extractive(self) -> ExtractiveComposer:
        """This assistant's composer when it is the extractive one, else a new one on the same settings."""
        if isinstance(self.composer, ExtractiveComposer):
            return self.composer
        return make_composer("extractive", self.embedder, self.splitter, self.settings)

    def query_for(self, question: str, history: Sequence[Turn] | None = None) -> str:
        """The retrieval query for ``question`` in the context of ``history`` (shown as ``Answer.query``).

        A composer that is also a ``QueryRewriter`` (the LLM writer) rewrites follow-ups itself."""
        question = check_question(question)
        return self.rewriter().rewrite(question, history)

    def rewriter(self) -> QueryRewriter:
        """Who rewrites follow-ups: the composer when it declares it can, else the rule-based rewriter."""
        return self.composer if isinstance(self.composer, QueryRewriter) else FollowupRewriter()


def _pieces(answer: Answer) -> Iterator[str | Answer]:
    """A composed answer as sentence-sized pieces (each up to its ``[n]``), then the answer."""
    yield from marker_pieces(answer.text)
    yield answer


class Chat:
    """A conversation with an assistant: each question sees the turns before it.

    >>> chat = assistant.chat()  # doctest: +SKIP
    >>> chat.ask("Who led the NATO delegation to Uzbekistan?")  # doctest: +SKIP
    >>> chat.ask("Which centre did he tour?").query  # doctest: +SKIP
    """

    def __init__(self, assistant: Assistant, as_of: str | date | None = None) -> None:
        self.assistant = assistant
        self.as_of = as_of_date(as_of) if as_of else None
        self.history: list[tuple[str, str]] = []

    def ask(self, question: str, k: int | None = None, filters: Mapping[str, Any] | None = None,
            as_of: str | date | None = None) -> Answer:
        """Answer ``question`` in the context of this conversation, and remember the turn."""
        answer = self.assistant.ask(question, history=self.history, k=k, filters=filters, as_of=as_of or self.as_of)
        self.history.append((answer.question, answer.text))
        return answer

    def reset(self) -> None:
        """Forget the conversation so far."""
        self.history.clear()


_loaded: dict[Path, Assistant] = {}
_loading = threading.Lock()  # threads asking at once load the index once


def ask(question: str, index_dir: str | Path = "index", history: Sequence[Turn] | None = None,
        as_of: str | date | None = None) -> Answer:
    """One-call question answering over the index in ``index_dir`` (loaded once per process)."""
    key = Path(index_dir).resolve()
    with _loading:
        if key not in _loaded:
            _loaded[key] = Assistant.load(index_dir)
        elif (fresh := _loaded[key].reloaded()) is not _loaded[key]:  # rebuilt since: answer from the new index
            _loaded.pop(key).close()
            _loaded[key] = fresh
        assistant = _loaded[key]
    return assistant.ask(question, history=history, as_of=as_of)
