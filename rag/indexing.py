"""Build or update an index from a corpus folder, embedding only what changed."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from rag.chunking import chunk_article, embedding_text
from rag.lexical import PARAMS as LEXICAL_PARAMS
from rag.embedding import EmbeddingCache, embed_missing, get_embedder, text_hash
from rag.reading import read_corpus
from rag.schema import Article, Chunk, IndexReport
from rag.sentences import get_splitter
from rag.settings import Settings, resolve
from rag.store import CACHE_DB, Generation, StoredChunk, open_store, read_manifest, store_backend
from rag.tokens import load_encoding

log = logging.getLogger("rag")


@dataclass(frozen=True)
class _Previous:
    """What the live index holds, for incremental builds."""

    hashes: dict[str, str]
    chunks: dict[str, list[StoredChunk]]
    reusable: bool


def _previous(index_dir: Path, settings: Settings, target: dict[str, Any]) -> _Previous:
    """What the live index holds; reusable only when built with these settings at this ``target``."""
    manifest = read_manifest(index_dir)
    if manifest is None:
        return _Previous({}, {}, False)
    reusable = manifest.get("settings") == settings.index_settings() and manifest.get("store") == target
    if not reusable and manifest["store"].get("name") != "local":
        return _Previous({}, {}, False)  # another engine or place: everything is written afresh there
    try:
        store = open_store(index_dir, settings=settings)
    except Exception as exc:  # an unreadable old index is rebuilt, not fatal
        log.warning("ignoring unreadable index in %s: %s", index_dir, exc)
        return _Previous({}, {}, False)
    try:
        hashes = {doc_id: a.content_hash for doc_id, a in store.articles().items()}
        return _Previous(hashes, store.stored_chunks() if reusable else {}, reusable)
    finally:
        store.close()


def _unique(articles: list[Article]) -> list[Article]:
    seen: dict[str, Article] = {}
    for article in articles:
        if article.doc_id in seen:
            log.warning("skipping duplicate article id %s", article.doc_id)
            continue
        seen[article.doc_id] = article
    return list(seen.values())


def _fingerprint(articles: list[Article]) -> str:
    digest = hashlib.sha256()
    for article in sorted(articles, key=lambda a: a.doc_id):
        digest.update(f"{article.doc_id}\0{article.content_hash}\n".encode())
    return digest.hexdigest()


class _Chunker:
    """Chunks articles with the settings' splitter, tokenizer and the model's window."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.splitter = get_splitter(settings.sentence_splitter)
        self.encoding = load_encoding(settings.tokenizer)
        self.embedder = get_embedder(settings.model, settings.device, settings.backend)

    def __call__(self, article: Article) -> list[Chunk]:
        return chunk_article(
            article,
            self.splitter,
            self.encoding,
            self.settings.chunk_tokens,
            self.settings.chunk_overlap,
            self.embedder.count_tokens,
            self.embedder.max_tokens,
        )


def _reused(article: Article, rows: list[StoredChunk]) -> list[tuple[Chunk, str]]:
    return [
        (Chunk(article.doc_id, article.title, article.text[r.start : r.end], r.start, r.end, r.ordinal), r.embed_hash)
        for r in rows
    ]


def _chunk_all(articles: list[Article], previous: _Previous, settings: Settings) -> list[tuple[Chunk, str]]:
    """Every chunk with the hash of its embedding text; unchanged articles keep their chunks."""
    chunker = None
    result: list[tuple[Chunk, str]] = []
    for article in tqdm(articles, desc="chunking", unit="article", disable=not settings.progress, leave=False):
        rows = previous.chunks.get(article.doc_id)
        if rows and previous.hashes.get(article.doc_id) == article.content_hash:
            result.extend(_reused(article, rows))
            continue
        chunker = chunker or _Chunker(settings)
        result.extend((c, text_hash(embedding_text(c.title, c.text))) for c in chunker(article))
    return result


def _counts(articles: list[Article], previous: dict[str, str]) -> dict[str, int]:
    current = {a.doc_id: a.content_hash for a in articles}
    return {
        "added": sum(1 for d in current if d not in previous),
        "updated": sum(1 for d, h in current.items() if d in previous and previous[d] != h),
        "removed": sum(1 for d in previous if d not in current),
        "unchanged": sum(1 for d, h in current.items() if previous.get(d) == h),
    }


def _manifest(settings: Settings, dimension: int, articles: list[Article], chunks: int, corpus_dir: Path) -> dict[str, Any]:
    return {
        "settings": settings.index_settings(),
        "dimension": dimension,
        "lexical": LEXICAL_PARAMS,
        "corpus_fingerprint": _fingerprint(articles),
        "corpus_dir": str(corpus_dir),
        "articles": len(articles),
        "chunks": chunks,
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _store_for(config: Settings, asked: str | None, index_dir: Path) -> Settings:
    """The store to build on: the one asked for, else the index's own (a plain ``rag index`` updates in place)."""
    if asked is not None or config.store != Settings.store:
        return config
    live = read_manifest(index_dir)
    return replace(config, store=live["store"].get("name", "local")) if live else config


def build_index(corpus_dir: str | Path = "seeds", index_dir: str | Path = "index", **settings: Any) -> IndexReport:
    """Build or incrementally update the index in ``index_dir`` from the articles in ``corpus_dir``.

    Only new or changed articles are chunked and embedded; an unchanged folder is not
    rewritten at all. ``settings`` override ``Settings`` fields (e.g. ``chunk_tokens=200``).

    >>> rag.build_index("seeds", "index").summary()  # doctest: +SKIP
    'added 2, updated 0, removed 0, unchanged 0; ...'
    """
    began = time.perf_counter()
    config = settings.pop("settings", None) or resolve(**settings)
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    config = _store_for(config, settings.get("store"), index_dir)
    backend = store_backend(config.store)
    target = backend.target(index_dir, config)
    corpus = read_corpus(corpus_dir)
    backend.prepare(index_dir, target)
    articles = _unique(corpus.articles)
    previous = _previous(index_dir, config, target)
    counts = _counts(articles, previous.hashes)
    chunks = _chunk_all(articles, previous, config)
    changed = counts["added"] or counts["updated"] or counts["removed"] or not previous.reusable
    spec = backend.vector_spec(config, len(chunks))
    built = (read_manifest(index_dir) or {}).get("vector_index") or {"kind": "flat"}
    outdated = previous.reusable and built != spec  # e.g. index_type changed: rebuild from the cache
    embedded = 0
    if changed or outdated:
        embedder = get_embedder(config.model, config.device, config.backend)
        texts = {h: embedding_text(c.title, c.text) for c, h in chunks}
        cache = EmbeddingCache(index_dir / CACHE_DB)
        vectors, embedded = embed_missing(embedder, cache, texts, config.embed_batch_size, config.progress)
        matrix = np.stack([vectors[h] for _, h in chunks]) if chunks else np.zeros((0, embedder.dimension), np.float32)
        manifest = _manifest(config, embedder.dimension, articles, len(chunks), corpus_dir)
        manifest.update(vector_index=spec, store=target)
        unchanged = frozenset(a.doc_id for a in articles if previous.hashes.get(a.doc_id) == a.content_hash)
        full = not previous.reusable or outdated
        generation = Generation(articles, chunks, matrix, [texts[h] for _, h in chunks], manifest, unchanged, full)
        backend.write(index_dir, generation, config)
    return IndexReport(
        index_dir=str(index_dir),
        chunks=len(chunks),
        embedded=embedded,
        seconds=time.perf_counter() - began,
        skipped=corpus.skipped,
        **counts,
    )
