"""Cited answers from a folder of news articles.

>>> import rag
>>> rag.build_index("seeds", "index")  # doctest: +SKIP
>>> rag.ask("How many troops train at the Chimyon centre each year?").text  # doctest: +SKIP
"""

from rag.answer.abstention import AbstentionModel
from rag.answer.composer import Ranking
from rag.answer.protocols import Composer, QueryRewriter, StreamingComposer
from rag.assistant import MAX_QUESTION_CHARS, Assistant, Chat, ask, composer_names, retriever_names
from rag.errors import IndexBusyError, IndexMismatchError, UserError
from rag.ingest.fetching import AddReport, AddResult, add, saved_articles
from rag.ingest.reading import article_suffixes, file_articles, read_corpus, text_problem
from rag.store.build import EMBEDDING_CACHE, build_index, chunk_articles, index_files, index_info, plan_index
from rag.schema import Answer, Article, Chunk, Citation, IndexFiles, IndexInfo, IndexReport, Passage
from rag.settings import DEFAULT_INDEX, Settings, resolve
from rag.text.markers import link_markers, strip_markers
from rag.retrieve.timeframe import Period, as_of_date, period_of

__all__ = [
    "DEFAULT_INDEX",
    "EMBEDDING_CACHE",
    "MAX_QUESTION_CHARS",
    "AbstentionModel",
    "AddReport",
    "AddResult",
    "Answer",
    "Article",
    "Assistant",
    "Chat",
    "Chunk",
    "Citation",
    "Composer",
    "IndexBusyError",
    "IndexFiles",
    "IndexInfo",
    "IndexMismatchError",
    "IndexReport",
    "Passage",
    "Period",
    "QueryRewriter",
    "Ranking",
    "Settings",
    "StreamingComposer",
    "UserError",
    "add",
    "article_suffixes",
    "as_of_date",
    "ask",
    "build_index",
    "chunk_articles",
    "composer_names",
    "file_articles",
    "index_files",
    "index_info",
    "link_markers",
    "period_of",
    "plan_index",
    "read_corpus",
    "resolve",
    "retriever_names",
    "saved_articles",
    "strip_markers",
    "text_problem",
]
