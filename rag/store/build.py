"""Build or update an index from a corpus folder, embedding only what changed."""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from tqdm.auto import tqdm

from rag.text.chunking import chunk_article, embedding_text
from rag.errors import UserError
from rag.store.bm25 import PARAMS as LEXICAL_PARAMS
from rag.embed.embedding import EmbeddingCache, embed_missing, get_embedder, text_hash
from rag.ingest.formats import file_readers
from rag.store.locking import index_writer
from rag.store.manifest import index_settings
from rag.store.read_cache import FileRecord, RememberingReaders, raw_hash, reader_version
from rag.ingest.reading import Corpus, read_corpus
from rag.schema import Article, Chunk, IndexFiles, IndexInfo, IndexReport
from rag.text.sentences import get_splitter
from rag.settings import Settings, resolve
from rag.store.bm25 import BM25_DIR
from rag.store.chunks_db import read_terms
from rag.store.lexical import LEXICAL_DIR, missing_files
from rag.store.writing import COMPACT_SHARE
from rag.store.local import (
    CACHE_DB,
    CHUNKS_DB,
    VECTORS,
    Generation,
    LiveRows,
    StoredChunk,
    check_index_folder,
    live_generation,
    newest_date,
    open_store,
    pending_vectors,
    read_live_rows,
    read_article_hashes,
    read_manifest,
    store_backend,
)
from rag.text.tokens import load_encoding

log = logging.getLogger("rag")


@dataclass(frozen=True)
class _Previous:
    """What the live index holds, for incremental builds."""

    hashes: dict[str, str]
    chunks: dict[str, list[StoredChunk]]
    reusable: bool
    # The live local generation's rows: its files, articles and BM25 terms (None: none, or another store).
    rows: LiveRows | None = None


def _previous(index_dir: Path, settings: Settings, target: dict[str, Any]) -> _Previous:
    """What the live index holds; reusable only when built with these settings at this ``target``."""
    manifest = read_manifest(index_dir)
    if manifest is None:
        return _Previous({}, {}, False)
    reusable = manifest.get("settings") == index_settings(settings) and manifest.get("store") == target
    if not reusable and manifest["store"].get("name") != "local":
        return _Previous({}, {}, False)  # another engine or place: everything is written afresh there
    try:
        if manifest["store"].get("name") == "local":  # from its SQLite file alone: no vectors or BM25 loaded
            rows = read_live_rows(index_dir)
            missing = _missing(rows.generation, manifest) if rows is not None else []
            if missing:  # its SQLite file alone would call every article unchanged and keep the damage
                log.warning("rebuilding the damaged index in %s (missing: %s)", index_dir, ", ".join(missing))
                return _Previous({}, {}, False)
            if rows is not None:
                hashes = {doc_id: a.content_hash for doc_id, a in rows.articles.items()}
                return _Previous(hashes, rows.chunks if reusable else {}, reusable, rows)
        store = open_store(index_dir, settings=settings)
    except Exception as exc:  # an unreadable old index is rebuilt, not fatal
        log.warning("ignoring unreadable index in %s: %s", index_dir, exc)
        return _Previous({}, {}, False)
    try:
        hashes = {doc_id: a.content_hash for doc_id, a in store.articles().items()}
        return _Previous(hashes, store.stored_chunks() if reusable else {}, reusable)
    finally:
        store.close()


def _missing(generation: Path, manifest: dict[str, Any]) -> list[str]:
    """The files a local generation needs and lacks: its vectors (unless pending) and its BM25 files."""
    missing = [] if pending_vectors(manifest) or (generation / VECTORS).is_file() else [VECTORS]
    if (generation / BM25_DIR).is_dir():  # a format-2 generation: one bm25s model
        return missing
    return missing + missing_files(generation / LEXICAL_DIR)


def _readers(config: Settings, previous: _Previous, manifest: dict[str, Any] | None) -> RememberingReaders:
    """File readers that reuse the live generation's articles of files whose bytes are unchanged
    (when it read CSVs with the same columns, with the same reading code)."""
    rows, manifest = previous.rows, manifest or {}
    same = (rows is not None and manifest.get("csv_columns", "") == config.csv_columns
            and manifest.get("reader_version") == reader_version())
    known = {path: FileRecord(*record) for path, record in rows.files.items()} if same else {}
    return RememberingReaders(file_readers(config.csv_columns), known, rows.articles if same else {})


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


@dataclass(frozen=True)
class _Chunked:
    """Every chunk with the hash of its embedding text, and the stored id of each reused one (None: new)."""

    chunks: list[tuple[Chunk, str]]
    stored_ids: list[int | None]


# Chunking is pure Python (pysbd, tiktoken calls): two processes on two cores chunk BBC's 2,096
# articles ~1.9x faster (bench/README.md). Below this many articles to chunk, starting the workers
# (imports, tokenizer; ~1 s) costs more than it saves.
PARALLEL_MIN_ARTICLES = 400
_worker_chunker: _Chunker | None = None


def _start_worker(settings: Settings) -> None:
    global _worker_chunker
    exit_with_parent()
    _worker_chunker = _Chunker(settings)


def exit_with_parent() -> None:
    """End this pool worker when the process that started it dies, even by kill -9.

    A pool worker holds both ends of its task queue's pipe, so it never sees end-of-file when its
    parent is killed: without this, every killed build left its chunking workers waiting forever
    (about 130 MB each). The parent's sentinel becomes ready when the parent exits.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _chunk_in_worker(article: Article) -> list[Chunk]:
    assert _worker_chunker is not None
    return _worker_chunker(article)


def _workers(settings: Settings, articles: int) -> int:
    """Processes to chunk with: one per core for large folders; one for small ones, and for torch
    (each worker would load the whole model to count its tokens: seconds and ~900 MB apiece)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if cores < 2 or articles < PARALLEL_MIN_ARTICLES or index_settings(settings)["backend"] == "torch":
        return 1
    return min(cores, 8)


def _chunked(articles: list[Article], settings: Settings) -> Iterator[list[Chunk]]:
    """The chunks of each article, in order; in a pool of processes when that is faster."""
    workers = _workers(settings, len(articles))
    if workers == 1:
        chunker = _Chunker(settings)
        yield from (chunker(a) for a in articles)
        return
    # spawn, not fork: the parent holds ONNX Runtime and tokenizers thread pools a fork would copy half-alive.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(settings,)) as pool:
        yield from pool.map(_chunk_in_worker, articles, chunksize=16)  # map keeps the articles' order


def chunk_articles(articles: list[Article], **settings: Any) -> list[list[Chunk]]:
    """The chunks of each of ``articles``, as a build makes them (in parallel for large folders).

    >>> [len(c) for c in chunk_articles(rag.read_corpus("seeds").articles)]  # doctest: +SKIP
    [4, 6]
    """
    config = settings.pop("settings", None) or resolve(**settings)
    return list(_chunked(articles, config))


def _chunk_all(articles: list[Article], previous: _Previous, settings: Settings) -> _Chunked:
    """Every chunk with the hash of its embedding text; unchanged articles keep their chunks (and ids)."""

    def reusable(article: Article) -> list[StoredChunk] | None:
        rows = previous.chunks.get(article.doc_id)
        return rows if rows and previous.hashes.get(article.doc_id) == article.content_hash else None

    fresh = [a for a in articles if reusable(a) is None]
    # Loaded before the chunking bar starts: the model (and its one-off ONNX export, with its
    # own named progress bar) must not look like a stalled "chunking 1/2".
    if fresh:
        get_embedder(settings.model, settings.device, settings.backend)
    by_id: dict[str, list[Chunk]] = {}
    with tqdm(total=len(fresh), desc="chunking", unit="article", disable=not settings.progress, leave=False) as bar:
        for article, chunks in zip(fresh, _chunked(fresh, settings)):
            by_id[article.doc_id] = chunks
            bar.update()
    result = _Chunked([], [])
    for article in articles:
        rows = reusable(article)
        if rows is not None:
            result.chunks.extend(_reused(article, rows))
            result.stored_ids.extend(r.chunk_id if r.chunk_id >= 0 else None for r in rows)
        else:
            fresh_chunks = by_id[article.doc_id]
            result.chunks.extend((c, text_hash(embedding_text(c.title, c.text))) for c in fresh_chunks)
            result.stored_ids.extend([None] * len(fresh_chunks))
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
        "settings": index_settings(settings),
        "dimension": dimension,
        "lexical": LEXICAL_PARAMS,
        "corpus_fingerprint": _fingerprint(articles),
        "corpus_dir": str(corpus_dir),
        "csv_columns": settings.csv_columns,  # so `rag add` / `rag watch` re-read CSVs the same way
        "reader_version": reader_version(),  # stored articles are reused only under the same readers
        "articles": len(articles),
        "chunks": chunks,  # live chunks; "id_limit" (the next free chunk id) is set by the caller
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _store_for(config: Settings, asked: str | None, index_dir: Path) -> Settings:
    """The store to build on: the one asked for, else the index's own (a plain ``rag index`` updates in place)."""
    if asked is not None or config.store != Settings.store:
        return config
    live = read_manifest(index_dir)
    return replace(config, store=live["store"].get("name", "local")) if live else config


def recorded_corpus(index_dir: str | Path) -> Path | None:
    """The corpus folder the index in ``index_dir`` was built from (None: no index, or none recorded).

    Indexes built before paths were stored resolved hold the path as given, relative to the
    working directory of that build; it is resolved against the current one.
    """
    manifest = read_manifest(Path(index_dir))
    recorded = (manifest or {}).get("corpus_dir")
    return Path(recorded).resolve() if recorded else None


def _corpus_folder(corpus_dir: str | Path | None, index_dir: Path, replace: bool) -> Path:
    """The folder to index: the one given, else the one the index records; a different one only with ``replace``."""
    recorded = recorded_corpus(index_dir)
    if corpus_dir is None:
        if recorded is None:
            raise UserError(f"no corpus folder given and index {index_dir} records none; name one: rag index CORPUS --index {index_dir}")
        return recorded
    chosen = Path(corpus_dir).resolve()
    if recorded is not None and chosen != recorded and not replace and not _same_files(chosen, index_dir):
        raise UserError(
            f"index {index_dir} holds the articles of {recorded}, not {chosen}; re-index it with "
            f"`rag index --index {index_dir}`, or add --replace (replace=True) to rebuild it from {chosen}"
        )
    return chosen


def _same_files(folder: Path, index_dir: Path) -> bool:
    """Whether ``folder`` holds every file the live index read, byte for byte (a copy of its corpus
    elsewhere, e.g. ``make chat``'s corpus/ copied from seeds/): indexing it then removes nothing."""
    rows = read_live_rows(index_dir)
    if rows is None or not rows.files:
        return False
    for doc_id, (digest, *_) in rows.files.items():
        path = folder / doc_id
        if not path.is_file() or raw_hash(path.read_bytes()) != digest:
            return False
    return True


def build_index(
    corpus_dir: str | Path | None = None,
    index_dir: str | Path = "index",
    *,
    wait: bool = True,
    replace: bool = False,
    **settings: Any,
) -> IndexReport:
    """Build or incrementally update the index in ``index_dir`` from the articles in ``corpus_dir``.

    ``corpus_dir=None`` re-indexes the folder the index records. A folder other than the
    recorded one is refused (``UserError``) unless ``replace=True``. One writer at a time:
    while another build holds the index, this one waits (saying who holds it), or with
    ``wait=False`` raises ``IndexBusyError``. Only new or changed articles are chunked and
    embedded; an unchanged folder is not rewritten at all. ``settings`` override
    ``Settings`` fields (e.g. ``chunk_tokens=200``).

    >>> rag.build_index("seeds", "index").summary()  # doctest: +SKIP
    'added 2, updated 0, removed 0, unchanged 0; ...'
    """
    began = time.perf_counter()
    config = settings.pop("settings", None) or resolve(**settings)
    index_dir = Path(index_dir)
    check_index_folder(index_dir)
    # The clear errors (no such corpus, another corpus recorded) before the lock creates a folder.
    if corpus_dir is not None and not Path(corpus_dir).is_dir():
        raise UserError(f"corpus folder not found: {corpus_dir}")
    _corpus_folder(corpus_dir, index_dir, replace)
    config = _store_for(config, settings.get("store"), index_dir)
    backend = store_backend(config.store)
    target = backend.target(index_dir, config)
    with index_writer(index_dir, wait=wait):
        folder = _corpus_folder(corpus_dir, index_dir, replace)
        previous = _previous(index_dir, config, target)
        readers = _readers(config, previous, read_manifest(index_dir))
        corpus = read_corpus(folder, max_file_mb=config.max_file_mb, readers=readers.mapping(), remembered=readers.remembered)
        log.debug("parsed %d of %d files (the others unchanged since the live generation)", readers.parsed, len(readers.seen))
        backend.prepare(index_dir, target)
        return _build(corpus, folder, index_dir, config, began, backend, target, previous, readers)


def _build(
    corpus: Corpus, corpus_dir: Path, index_dir: Path, config: Settings, began: float, backend: Any, target: Any,
    previous: _Previous, readers: RememberingReaders,
) -> IndexReport:
    articles = _unique(corpus.articles)
    counts = _counts(articles, previous.hashes)
    chunked = _chunk_all(articles, previous, config)
    live = read_manifest(index_dir)
    changed = counts["added"] or counts["updated"] or counts["removed"] or not previous.reusable
    # A lexical generation left by a killed build still needs its vectors.
    changed = changed or (live or {}).get("corpus_dir") != str(corpus_dir) or pending_vectors(live)
    spec = backend.vector_spec(config, len(chunked.chunks))
    built = (live or {}).get("vector_index") or {"kind": "flat"}
    outdated = previous.reusable and built != spec  # e.g. index_type changed: rebuild from the cache
    # The same articles from files read anew (touched, or new reading code): recorded, so that the
    # next run trusts them by size and time again instead of reading (or parsing) them every time.
    stale = previous.rows is not None and (readers.changed_records() or (live or {}).get("reader_version") != reader_version())
    embedded = 0
    if changed or outdated or stale:
        embedded = _write(articles, chunked, corpus_dir, index_dir, config, backend, target, previous, readers.seen,
                          live, spec, full=not previous.reusable or outdated)
    return IndexReport(
        index_dir=str(index_dir),
        chunks=len(chunked.chunks),
        embedded=embedded,
        seconds=time.perf_counter() - began,
        skipped=corpus.skipped,
        hidden=corpus.hidden,
        corpus_dir=str(corpus_dir),
        ignored=corpus.ignored,
        **counts,
    )


def _write(
    articles: list[Article], chunked: _Chunked, corpus_dir: Path, index_dir: Path, config: Settings, backend: Any,
    target: Any, previous: _Previous, files: dict[str, FileRecord], live: dict[str, Any] | None, spec: dict[str, Any],
    full: bool,
) -> int:
    """Embed what is new and write the generation (only the change where the live one can be kept); returns how many were embedded."""
    plan = None if full or pending_vectors(live) else _stable_ids(chunked, previous, backend, live or {})
    chunks, new_rows = (plan.chunks, plan.new) if plan else (chunked.chunks, chunked.chunks)
    texts = {h: embedding_text(c.title, c.text) for c, h in chunks}
    embedder = get_embedder(config.model, config.device, config.backend) if new_rows or live is None else None
    dimension = embedder.dimension if embedder else int(live["dimension"])
    manifest = _manifest(config, dimension, articles, len(chunks), corpus_dir)
    manifest.update(vector_index=spec, store=target, id_limit=plan.limit + len(plan.new) if plan else len(chunks))
    unchanged = frozenset(a.doc_id for a in articles if previous.hashes.get(a.doc_id) == a.content_hash)
    rows = previous.rows
    terms = read_terms(rows.generation / CHUNKS_DB) if plan is None and previous.reusable and rows is not None else {}
    generation = Generation(articles, chunks, np.zeros((0, dimension), np.float32), [texts[h] for _, h in chunks], manifest,
                            unchanged, full, files=files, terms=terms, base=plan.base if plan else None,
                            ids=plan.ids if plan else None)
    lexical = _publish_lexical(index_dir, backend, generation, live, config)
    embedded, matrix = 0, generation.vectors
    if new_rows:
        cache = EmbeddingCache(index_dir / CACHE_DB)
        vectors, embedded = embed_missing(embedder, cache, {h: texts[h] for _, h in new_rows}, config.embed_batch_size, config.progress)
        matrix = np.stack([vectors[h] for _, h in new_rows])
    backend.write(index_dir, replace(generation, vectors=matrix, lexical=lexical), config)
    return embedded


@dataclass(frozen=True)
class _Plan:
    """An update that keeps the live generation (``base``): its chunks keep their ids, ``new`` ones take ``limit`` on."""

    base: Path
    chunks: list[tuple[Chunk, str]]
    ids: tuple[int, ...]
    new: list[tuple[Chunk, str]]
    limit: int


def _stable_ids(chunked: _Chunked, previous: _Previous, backend: Any, live: dict[str, Any]) -> _Plan | None:
    """The kept chunks (by id) then the new ones; None when the live generation cannot be kept (another
    store, an old file without the tables an update patches) or too many of its rows would be dead."""
    rows = previous.rows
    if rows is None or not rows.patchable or not getattr(backend, "appends", False) or not (rows.generation / VECTORS).is_file():
        return None
    limit = int(live.get("id_limit", rows.chunk_count))  # generations before stable ids: ids 0..n-1
    pairs = list(zip(chunked.chunks, chunked.stored_ids))
    kept = sorted(((i, pair) for pair, i in pairs if i is not None), key=lambda item: item[0])
    new = [pair for pair, i in pairs if i is None]
    if limit - len(kept) > COMPACT_SHARE * (limit + len(new)):
        return None  # compaction: every file afresh, ids 0..n-1
    ids = tuple([i for i, _ in kept] + list(range(limit, limit + len(new))))
    return _Plan(rows.generation, [pair for _, pair in kept] + new, ids, new, limit)


def _publish_lexical(index_dir: Path, backend: Any, generation: Generation, live: dict[str, Any] | None, config: Settings) -> Path | None:
    """Make a lexical generation live before embedding, so BM25 answers meanwhile; its folder, or None.

    Only where no full generation is live (a first build, or one a killed build left lexical):
    an update keeps serving its full generation until the new one is complete."""
    if not hasattr(backend, "write_lexical") or (live is not None and not pending_vectors(live)):
        return None
    folder = backend.write_lexical(index_dir, generation, config)
    if config.progress:
        tqdm.write(f"keyword search is ready in {index_dir} (rag ask answers from BM25); embedding the passages for hybrid search")
    return folder


def index_info(index_dir: str | Path = "index") -> IndexInfo | None:
    """What the index in ``index_dir`` holds (corpus folder, counts, build time), or None if there is none.

    >>> rag.index_info("index").corpus_dir  # doctest: +SKIP
    '/home/me/rag/seeds'
    """
    index_dir = Path(index_dir)
    check_index_folder(index_dir)
    manifest = read_manifest(index_dir)
    if manifest is None:
        return None
    recorded = recorded_corpus(index_dir)
    return IndexInfo(
        index_dir=str(index_dir),
        corpus_dir=str(recorded) if recorded else None,
        articles=int(manifest.get("articles", 0)),
        chunks=int(manifest.get("chunks", 0)),
        built_at=str(manifest.get("built_at", "")),
        newest_date=newest_date(index_dir),
        settings=dict(manifest.get("settings", {})),
    )


# The embedding cache's file name inside an index folder, shared by all its generations: copying
# another index's cache there before a build reuses its vectors.
EMBEDDING_CACHE = CACHE_DB


def index_files(index_dir: str | Path = "index") -> IndexFiles | None:
    """The live generation's folder, vectors file and embedding cache, or None if there is no index.

    >>> rag.index_files("index").generation.name  # doctest: +SKIP
    'gen-000003'
    """
    from rag.store.milvus import LITE_FILE

    index_dir = Path(index_dir)
    check_index_folder(index_dir)
    generation = live_generation(index_dir)
    if generation is None:
        return None
    vectors, lite = generation / VECTORS, index_dir / LITE_FILE
    return IndexFiles(
        generation=generation,
        vectors=vectors if vectors.is_file() else None,
        embedding_cache=index_dir / CACHE_DB,
        milvus_lite=lite if lite.is_dir() else None,
    )

def plan_index(corpus_dir: str | Path | None = None, index_dir: str | Path = "index", **settings: Any) -> dict[str, int]:
    """What ``build_index`` would do, without embedding: counts of added/updated/removed/unchanged articles.

    Reads and hashes the corpus only (``corpus_dir=None``: the recorded folder), so a caller can
    ask for confirmation before a re-index that would remove most of the articles.
    """
    config = settings.pop("settings", None) or resolve(**settings)
    index_dir = Path(index_dir)
    check_index_folder(index_dir)
    folder = _corpus_folder(corpus_dir, index_dir, replace=True)
    readers = _readers(config, _Previous({}, {}, False, read_live_rows(index_dir)), read_manifest(index_dir))
    # Quiet: the build that follows names the skipped files, once.
    corpus = read_corpus(folder, max_file_mb=config.max_file_mb, readers=readers.mapping(), remembered=readers.remembered, quiet=True)
    return _counts(_unique(corpus.articles), read_article_hashes(index_dir))
