"""All tunable settings in one object.

Configuration flows one way: defaults here, then a TOML config file, then
``RAG_*`` environment variables, then explicit keyword overrides (CLI flags).
This is the only module that reads the environment.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

from rag.errors import UserError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
CONFIG_FILE = "rag.toml"
# Where the CLI looks when no folder is named: the index, and the articles of a new one.
DEFAULT_INDEX = "index"
DEFAULT_CORPUS = "seeds"
# The settings that shape an index: a mismatch on load means rebuild.
INDEX_KEYS = ("model", "backend", "tokenizer", "sentence_splitter", "chunk_tokens", "chunk_overlap", "store")
ENV_PREFIX = "RAG_"


@dataclass(frozen=True)
class Settings:
    """Defaults for indexing, retrieval and answering. Override with ``replace`` or ``resolve``."""

    model: str = DEFAULT_MODEL
    tokenizer: str = "cl100k_base"
    sentence_splitter: str = "pysbd"
    # Chunks of ~150 tiktoken tokens stay well inside MiniLM's 256 word-piece window
    # (news prose runs ~1.2 word pieces per tiktoken token) with room for the title.
    chunk_tokens: int = 150
    chunk_overlap: int = 30
    embed_batch_size: int = 32
    # Article files above this size are skipped with a warning: the largest of the 8,268 BBC and
    # Reuters articles is 0.04 MB, and a 141 MB log dump once stalled a build for minutes.
    max_file_mb: float = 10.0
    device: str = "cpu"
    # Embedding runtime: "torch" (sentence-transformers), "onnx" / "onnx-int8" (ONNX Runtime, exported
    # locally), or "auto": onnx-int8 where the model is a folder the exporter reproduces (the packaged
    # default is), else torch. On BBC (python -m bench) onnx-int8 embedded 1.25x faster, searched 2.1x
    # and answered 1.6x faster in a third of the memory, every gated eval metric within a point of torch.
    backend: str = "auto"
    # Vector index (rag/store/vectors.py): "flat" (exact), "hnsw" (approximate graph) or "auto":
    # hnsw from hnsw_threshold passages up. efSearch is stored in the index; changing any of
    # these rebuilds the vector index from the embedding cache on the next `rag index`.
    index_type: str = "auto"
    hnsw_threshold: int = 50_000
    # On 115,737 real passage vectors (bench/README.md) efConstruction 80 reached recall@10 0.948
    # at efSearch 128 and 0.973-0.984 at 512 (graph builds vary); efConstruction 200 gave 0.992 at
    # 256 and 0.997 at 512 (~2 ms; exact search 17 ms), for a graph rebuild of 57 s instead of 24 s.
    hnsw_ef_construction: int = 200
    hnsw_ef_search: int = 512
    # Where the index lives (rag/store/local.py): "local" (FAISS + bm25s + SQLite in the index folder) or
    # "milvus" (rag/store/milvus.py, the optional extra `.[milvus]`): milvus_uri is a local path
    # ending in .db (Milvus Lite; empty: <index>/milvus.db) or http(s)://host:19530 (a server or
    # cluster, passed through unchanged). The token is read from the variable milvus_token_env names.
    store: str = "local"
    milvus_uri: str = ""
    milvus_token_env: str = "RAG_MILVUS_TOKEN"
    # Hybrid beat dense and BM25 on MRR@10 and passage Recall@5 on both eval sets (README table).
    retriever: str = "hybrid"
    # Hybrid retrieval: reciprocal-rank fusion of this many dense and BM25 candidates.
    fusion_candidates: int = 50
    rrf_k: float = 60.0
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    # Story-level diversity: passages of different articles this similar (cosine) are one
    # story told twice and collapse into one result listing every source.
    duplicate_similarity: float = 0.95
    # At most this many passages per article (0: no cap). Off by default: on eval/bbc.jsonl
    # a cap of 2 or 3 lowered passage Recall@5 (0.847 -> 0.794 / 0.832) and raised nothing.
    max_per_article: int = 0
    # "Latest news" questions fuse a newest-first ranking of the candidates with this weight.
    recency_weight: float = 0.5
    # The day questions are asked on (YYYY-MM-DD; empty: today): "last week", "in March", "the
    # latest" are read against it (rag/retrieve/timeframe.py). Exact periods ("today", "last week") filter
    # retrieval to their days and loose ones ("recently", "currently") to days up to as_of, both
    # falling back to the whole index when that leaves nothing; period_weight fuses an
    # inside-the-period-first order into the ranking.
    as_of: str = ""
    period_filter: bool = True
    period_weight: float = 0.5
    # Optional cross-encoder (e.g. cross-encoder/ms-marco-MiniLM-L-6-v2) reranking the
    # first ``rerank_candidates`` passages; empty: off (none ships offline in a package).
    reranker: str = ""
    rerank_candidates: int = 20
    composer: str = "extractive"
    k: int = 5
    # Extractive answers quote at most this many sentences.
    max_quotes: int = 3
    # A quote must score at least this much relative to the best one to be added.
    quote_ratio: float = 0.8
    # Below this sentence relevance the assistant abstains whatever the abstention model says
    # (a floor for the plainly off-topic; the fitted model in rag/answer/abstention.json decides the rest).
    min_relevance: float = 0.2
    # Extractive answers embed at most this many of the retrieved passages' sentences (0: all),
    # those with the most lexical and passage evidence: embedding them is most of an answer's time.
    # Chosen on eval/bbc.jsonl (answer hit 0.718 at 0 (all, ~25 a question), 18 and 15; 0.710 at 12);
    # held out, 15 against all: seeds and Reuters answers identical (54 and 239 items).
    max_sentences: int = 15
    progress: bool = True
    # CSV/TSV columns named explicitly, e.g. "title=Headline,text=Story" (rag index --columns);
    # empty: found by their usual names (rag/ingest/formats/delimited.py).
    csv_columns: str = ""
    # rag add / rag watch / the chat's Corpus tab (rag/ingest/fetching.py): seconds per request and per
    # download, the largest response, and whether private/loopback addresses may be fetched.
    fetch_timeout: float = 15.0
    fetch_max_bytes: int = 5 * 1024 * 1024
    fetch_allow_private: bool = False
    # Optional LLM writer (composer "llm"): any OpenAI-compatible chat endpoint.
    llm_base_url: str = "http://127.0.0.1:8080/v1"
    llm_model: str = "default"
    # Name of the environment variable holding the API key (the key itself is never stored).
    llm_api_key_env: str = "RAG_LLM_API_KEY"
    llm_timeout: float = 30.0
    llm_context_tokens: int = 1500

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _coerce(name: str, raw: Any) -> Any:
    """Convert a config/env value to the type of the default for ``name``."""
    default = getattr(Settings, name)
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise UserError(f"setting {name!r} expects true/false, got {raw!r}")
    try:
        return type(default)(raw)
    except (TypeError, ValueError):
        raise UserError(f"setting {name!r} expects {type(default).__name__}, got {raw!r}") from None


def _known(values: Mapping[str, Any], where: str) -> dict[str, Any]:
    names = {f.name for f in fields(Settings)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise UserError(f"unknown setting(s) {', '.join(unknown)} in {where}; known: {', '.join(sorted(names))}")
    return {key: _coerce(key, value) for key, value in values.items()}


def _from_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        path = Path(CONFIG_FILE)
        if not path.is_file():
            return {}
    elif not path.is_file():
        raise UserError(f"config file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"config file {path} is not valid TOML: {exc}") from None
    return _known(data.get("rag", data), str(path))


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    names = {f.name for f in fields(Settings)}
    picked = {key[len(ENV_PREFIX):].lower(): value for key, value in env.items() if key.startswith(ENV_PREFIX)}
    return _known({k: v for k, v in picked.items() if k in names}, "environment")


def resolve(config: str | Path | None = None, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults <- config file <- ``RAG_*`` environment <- ``overrides`` (None values ignored).

    >>> resolve(env={}, k=3).k
    3
    """
    env = os.environ if env is None else env
    layered: dict[str, Any] = {}
    layered.update(_from_file(Path(config) if config else None))
    layered.update(_from_env(env))
    layered.update(_known({k: v for k, v in overrides.items() if v is not None}, "arguments"))
    return replace(Settings(), **layered)


def override(settings: Settings, **overrides: Any) -> Settings:
    """``settings`` with ``overrides`` applied (None values ignored; unknown names are user errors).

    >>> override(Settings(), k=3).k
    3
    """
    return replace(settings, **_known({k: v for k, v in overrides.items() if v is not None}, "arguments"))


def env_value(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """The environment variable ``name`` (e.g. the API key that ``llm_api_key_env`` names), or None if unset or empty.

    >>> env_value("RAG_LLM_API_KEY", {"RAG_LLM_API_KEY": "sk-test"})
    'sk-test'
    """
    value = (os.environ if env is None else env).get(name)
    return value or None
