"""Stores behind one Protocol, and the local one: FAISS, bm25s and SQLite in the index folder.

Retrieval, diversity, the composers and the UI see a ``Store``: dense, lexical and hybrid
search with a ``Filter``, passages and vectors by chunk id, articles, the manifest. A store
is chosen by name from ``STORES`` (``store = "local" | "milvus"``); every index folder holds
the live manifest, which names the store it was built on, so loading needs no settings.

Layout of a local index folder::

    CURRENT              name of the live generation (replaced atomically)
    gen-000003/          manifest.json, vectors.faiss, bm25/, chunks.sqlite (articles, chunks,
                         files and terms: what an update reuses)
    embeddings.sqlite    embedding cache shared by all generations
    write.lock(.json)    the one writer's lock and who holds it (rag/store/locking.py)

A build writes a complete new generation folder, syncs it, and only then points
``CURRENT`` at it with ``os.replace``. A build killed at any moment therefore leaves
the previous generation live and loadable. Builds are serialised by ``rag.store.locking``.

A first build publishes a *lexical* generation before it embeds: texts, chunks and BM25,
no ``vectors.faiss``, its manifest saying ``"vectors": "pending"``. It is complete as
such: readers answer from BM25 (``pending_vectors``) until the full generation, which
hard-links the lexical one's unchanged files, replaces it.

A reader keeps working when a build removes the generation it loaded: the FAISS index
and BM25 arrays are read into memory, and the SQLite file is opened read-only and
immutable, so its open descriptor serves every later query of the removed file.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol

import faiss
import numpy as np

from rag.errors import IndexMismatchError, UserError
from rag.retrieve.fusion import reciprocal_rank_fusion
from rag.store.bm25 import BM25_DIR, build_bm25, bm25_search, load_bm25
from rag.text.terms import content_terms
from rag.schema import Article, Chunk, Passage
from rag.store.vectors import build_vector_index, one_thread, read_vector_index, spec_for

# 2: BM25 stored beside the vectors.
FORMAT_VERSION = 2
# A reader racing a build may find its generation gone between reading CURRENT and the files.
OPEN_ATTEMPTS = 5
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
CHUNKS_DB = "chunks.sqlite"
CACHE_DB = "embeddings.sqlite"
# manifest["vectors"] of a lexical generation: BM25 and texts only, vectors still being embedded.
PENDING = "pending"

SCHEMA = """
CREATE TABLE articles (doc_id TEXT PRIMARY KEY, title TEXT, text TEXT, date TEXT, source TEXT,
                       url TEXT, content_hash TEXT);
CREATE TABLE chunks (id INTEGER PRIMARY KEY, doc_id TEXT, ordinal INTEGER, start INTEGER, end INTEGER,
                     embed_hash TEXT);
CREATE INDEX chunks_doc ON chunks (doc_id);
CREATE TABLE files (path TEXT PRIMARY KEY, raw_hash TEXT, doc_ids TEXT);
CREATE TABLE terms (hash TEXT PRIMARY KEY, terms TEXT);
"""
# files: what each corpus file held when read (rag/store/read_cache.py); terms: each chunk text's BM25
# terms by embedding-text hash. Both only spare an update work: generations without them still load.


def rebuild_hint(index_dir: Path, manifest: dict[str, Any] | None = None) -> str:
    target = (manifest or {}).get("store") or {}
    flags = ""
    if target.get("name", "local") != "local":
        flags = f" --store {target['name']}" + (f" --milvus-uri {target['uri']}" if target.get("uri") else "")
    return f"rebuild it with: rag index CORPUS --index {index_dir}{flags}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())


def check_index_folder(index_dir: Path) -> None:
    """An index is a folder: a file (or anything else) at that path is a user error."""
    if index_dir.exists() and not index_dir.is_dir():
        raise UserError(f"{index_dir} is a file, not an index folder; give --index a folder")


def _generation_path(index_dir: Path) -> Path | None:
    pointer = index_dir / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    path = index_dir / name
    return path if (path / MANIFEST).is_file() else None


def _live(index_dir: Path) -> tuple[Path, dict[str, Any]] | None:
    """The live generation's folder and its own manifest (read from that folder), or None."""
    for _ in range(OPEN_ATTEMPTS):
        generation = _generation_path(index_dir)
        if generation is None:
            return None
        try:
            return generation, json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:  # a build switched generations and removed this one meanwhile
            continue
    return None


def live_generation(index_dir: str | Path) -> Path | None:
    """Folder of the live generation, or None when there is no index."""
    return _generation_path(Path(index_dir))


def current_generation(index_dir: str | Path) -> str | None:
    """Name of the live generation (``gen-000003``), or None when there is no index."""
    generation = _generation_path(Path(index_dir))
    return generation.name if generation else None


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The live generation's manifest, or None when there is no index.

    Manifests written before stores existed are local ones."""
    live = _live(index_dir)
    return _with_store(live[1]) if live else None


def _with_store(manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` naming its store; manifests written before stores existed are local ones."""
    manifest.setdefault("store", {"name": "local"})
    if isinstance(manifest.get("settings"), dict):
        manifest["settings"].setdefault("store", manifest["store"].get("name", "local"))
    return manifest


def pending_vectors(manifest: dict[str, Any] | None) -> bool:
    """Whether ``manifest`` is a lexical generation's: texts and BM25 only, its vectors still being embedded."""
    return (manifest or {}).get("vectors") == PENDING


def embedding_progress(index_dir: str | Path, model: str) -> tuple[int, int] | None:
    """(distinct passage texts embedded so far, distinct passage texts) of the live lexical generation; None when it is not one.

    Counts the live chunks whose vectors the build has already put in the shared cache."""
    live = _live(Path(index_dir))
    if live is None or not pending_vectors(live[1]) or not (Path(index_dir) / CACHE_DB).is_file():
        return None
    with closing(_connect_readonly(live[0] / CHUNKS_DB)) as db:
        total = db.execute("SELECT count(DISTINCT embed_hash) FROM chunks").fetchone()[0]
        cache = f"{(Path(index_dir) / CACHE_DB).resolve().as_uri()}?mode=ro"
        try:
            db.execute("ATTACH DATABASE ? AS cache", (cache,))
            done = db.execute(
                "SELECT count(*) FROM (SELECT DISTINCT embed_hash FROM chunks) c "
                "JOIN cache.vectors v ON v.model = ? AND v.hash = c.embed_hash", (model,)
            ).fetchone()[0]
        except sqlite3.OperationalError:  # the cache is being written this instant: no count now
            return None
    return done, total


def _connect_readonly(path: Path) -> sqlite3.Connection:
    # immutable: a generation never changes, and SQLite then needs no lock or journal beside the
    # file, so an open connection keeps serving after a later build removed the folder.
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)


def _live_articles(index_dir: Path) -> list[tuple[str, str, str | None]] | None:
    """(doc id, content hash, date) of every article of the live index; None when there is none.

    A local generation answers from its SQLite file alone (no vectors loaded); another store
    (Milvus keeps only the manifest here) is asked through the ``Store`` Protocol."""
    generation = _generation_path(index_dir)
    if generation is None:
        return None
    if (generation / CHUNKS_DB).is_file():
        with closing(_connect_readonly(generation / CHUNKS_DB)) as db:
            return list(db.execute("SELECT doc_id, content_hash, date FROM articles"))
    store = open_store(index_dir)
    try:
        return [(a.doc_id, a.content_hash, a.date) for a in store.articles().values()]
    finally:
        store.close()


@dataclass(frozen=True)
class LiveRows:
    """What a local generation's SQLite file holds, for an update to reuse (no vectors or BM25 loaded)."""

    generation: Path
    articles: dict[str, Article]
    chunks: dict[str, list["StoredChunk"]]
    chunk_count: int
    files: dict[str, tuple[str, tuple[str, ...]]]
    terms: dict[str, list[str]]


def read_live_rows(index_dir: Path) -> LiveRows | None:
    """The live local generation's rows; None when there is none or it is another store's.

    Generations written before the ``files`` and ``terms`` tables existed give them empty."""
    generation = _generation_path(index_dir)
    if generation is None or not (generation / CHUNKS_DB).is_file():
        return None
    with closing(_connect_readonly(generation / CHUNKS_DB)) as db:
        rows = db.execute("SELECT doc_id, title, text, date, source, url, content_hash FROM articles")
        articles = {row[0]: Article(*row) for row in rows}
        chunks: dict[str, list[StoredChunk]] = {}
        count = 0
        for row in db.execute("SELECT doc_id, ordinal, start, end, embed_hash FROM chunks ORDER BY id"):
            chunks.setdefault(row[0], []).append(StoredChunk(*row))
            count += 1
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        files, terms = {}, {}
        if {"files", "terms"} <= tables:
            files = {p: (h, tuple(json.loads(ids))) for p, h, ids in db.execute("SELECT path, raw_hash, doc_ids FROM files")}
            terms = {h: t.split("\n") if t else [] for h, t in db.execute("SELECT hash, terms FROM terms")}
    return LiveRows(generation, articles, chunks, count, files, terms)


def read_article_hashes(index_dir: Path) -> dict[str, str]:
    """doc id -> content hash of the live index."""
    return {doc_id: content_hash for doc_id, content_hash, _ in _live_articles(index_dir) or []}


def newest_date(index_dir: Path) -> str | None:
    """The date of the newest dated article in the live index."""
    return max((date for _, _, date in _live_articles(index_dir) or [] if date), default=None)


def check_manifest(manifest: dict[str, Any], index_dir: Path, expected: dict[str, Any] | None) -> None:
    """Refuse an index of a newer format, or one built with other settings than ``expected``."""
    version = manifest.get("format_version")
    if not isinstance(version, int) or version != FORMAT_VERSION:
        age = "a newer" if isinstance(version, int) and version > FORMAT_VERSION else "an older"
        raise IndexMismatchError(
            f"index {index_dir} has {age} format ({version}; this rag reads {FORMAT_VERSION}); {rebuild_hint(index_dir, manifest)}"
        )
    built = manifest.get("settings", {})
    differing = {k: (built.get(k), v) for k, v in (expected or {}).items() if built.get(k) != v}
    if differing:
        detail = ", ".join(f"{k}: index has {old!r}, asked for {new!r}" for k, (old, new) in differing.items())
        raise IndexMismatchError(f"index {index_dir} was built with other settings ({detail}); {rebuild_hint(index_dir, manifest)}")


@dataclass(frozen=True)
class Filter:
    """Which passages a search may return: any of these articles and sources, dated in range.

    Dates are ISO days (``2024-05-01``); an undated article fails any date bound.
    """

    doc_ids: tuple[str, ...] | None = None
    sources: tuple[str, ...] | None = None
    date_from: str | None = None
    date_to: str | None = None


Ranked = list[tuple[int, float]]


class Store(Protocol):
    """What retrieval and the UI ask of an index, whichever engine holds it."""

    index_dir: Path
    manifest: dict[str, Any]

    def __len__(self) -> int: ...

    def dense(self, vector: np.ndarray, k: int, where: Filter | None = None) -> Ranked:
        """``(chunk id, cosine)`` of the ``k`` passages nearest ``vector`` (shape 1 x d), best first."""

    def lexical(self, query: str, k: int, where: Filter | None = None) -> Ranked:
        """``(chunk id, score)`` of the ``k`` best BM25 matches for ``query``, best first."""

    def hybrid(self, query: str, vector: np.ndarray, k: int, depth: int, where: Filter | None,
               weights: tuple[float, float], rrf_k: float) -> Ranked:
        """Reciprocal-rank fusion of the dense and BM25 rankings, ``depth`` candidates each."""

    def vectors_of(self, ids: list[int]) -> np.ndarray:
        """The stored (unit-length) vectors of chunk ids, in order."""

    def passages(self, ids: list[int], scores: list[float]) -> list[Passage]:
        """Passages for chunk ids, in the given order."""

    def article(self, doc_id: str) -> Article | None: ...

    def articles(self) -> dict[str, Article]: ...

    def stored_chunks(self) -> dict[str, list["StoredChunk"]]:
        """Chunk rows by doc id, in order (incremental builds reuse them)."""

    def knows_any(self, terms: Iterable[str]) -> bool:
        """Whether any of ``terms`` (stemmed content terms) occurs in the indexed texts."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class Generation:
    """What one build writes: the whole corpus as it now stands.

    ``unchanged`` names the articles whose stored rows are still right: a store that
    writes changes (Milvus) leaves them alone; the local store rewrites everything.
    ``full`` says nothing stored may be kept (first build, other settings or store).
    """

    articles: list[Article]
    chunks: list[tuple[Chunk, str]]
    vectors: np.ndarray
    lexical_texts: list[str]
    manifest: dict[str, Any]
    unchanged: frozenset[str] = frozenset()
    full: bool = True
    # A published lexical generation of exactly these articles and chunks (its files may be reused).
    lexical: Path | None = None
    # The live generation whose chunks are this one's first rows, ids unchanged: ``vectors`` then
    # holds only the rows after them, appended to its vector index (an update that only adds).
    appended_to: Path | None = None
    # What the corpus files held (path -> read_cache.FileRecord) and known BM25 terms by text hash.
    files: dict[str, Any] = field(default_factory=dict)
    terms: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredChunk:
    """A chunk row as it sits in the store: enough to reuse it without re-chunking."""

    doc_id: str
    ordinal: int
    start: int
    end: int
    embed_hash: str


class IndexStore:
    """The local store, read side: one generation's FAISS vectors, bm25s model and SQLite texts."""

    def __init__(self, index_dir: Path, generation: Path, manifest: dict[str, Any]) -> None:
        self.index_dir = index_dir
        self.generation = generation
        self.manifest = manifest
        # None in a lexical generation (vectors pending); HNSW comes wrapped: filtered search stays exact.
        self.vectors = None if pending_vectors(manifest) else read_vector_index(generation / VECTORS)
        self.bm25 = load_bm25(generation / BM25_DIR)
        self._vocabulary = frozenset(self.bm25.vocab_dict)
        self._db = _connect_readonly(generation / CHUNKS_DB)
        # One connection serves every thread; queries and their fetches run one at a time.
        self._db_lock = threading.Lock()
        self._size = self._rows("SELECT count(*) FROM chunks")[0][0]

    @classmethod
    def open(cls, index_dir: str | Path, expected: dict[str, Any] | None = None) -> "IndexStore":
        """Open the live generation, checking its manifest against ``expected`` settings."""
        index_dir = Path(index_dir)
        check_index_folder(index_dir)
        for attempt in range(OPEN_ATTEMPTS):
            live = _live(index_dir)
            if live is None:
                raise UserError(f"no index found in {index_dir}; build one with: rag index CORPUS --index {index_dir}")
            generation, manifest = live[0], _with_store(live[1])
            check_manifest(manifest, index_dir, expected)
            try:
                return cls(index_dir, generation, manifest)
            except (FileNotFoundError, RuntimeError, sqlite3.OperationalError):
                if _generation_path(index_dir) == generation or attempt == OPEN_ATTEMPTS - 1:
                    raise  # not a generation switch: a damaged index
                time.sleep(0.05)  # a build replaced it while we read it: open the new one
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._db.close()

    def __len__(self) -> int:
        return int(self._size)

    @property
    def pending(self) -> bool:
        """Whether this is a lexical generation: BM25 answers while the build embeds."""
        return self.vectors is None

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        with self._db_lock:
            return self._db.execute(sql, list(params)).fetchall()

    def knows_any(self, terms: Iterable[str]) -> bool:
        """Whether any of ``terms`` (content terms) occurs in the indexed texts."""
        return any(term in self._vocabulary for term in terms)

    def articles(self) -> dict[str, Article]:
        rows = self._rows("SELECT doc_id, title, text, date, source, url, content_hash FROM articles")
        return {row[0]: Article(*row) for row in rows}

    def article(self, doc_id: str) -> Article | None:
        rows = self._rows("SELECT doc_id, title, text, date, source, url, content_hash FROM articles WHERE doc_id = ?", (doc_id,))
        return Article(*rows[0]) if rows else None

    def stored_chunks(self) -> dict[str, list[StoredChunk]]:
        """Chunk rows by doc id, in order."""
        by_doc: dict[str, list[StoredChunk]] = {}
        for row in self._rows("SELECT doc_id, ordinal, start, end, embed_hash FROM chunks ORDER BY id"):
            by_doc.setdefault(row[0], []).append(StoredChunk(*row))
        return by_doc

    def chunk_ids(
        self,
        doc_ids: Iterable[str] | None = None,
        sources: Iterable[str] | None = None,
        dates: tuple[str | None, str | None] = (None, None),
    ) -> np.ndarray:
        """Ids of the chunks of the given articles, sources and date range (for filtered search).

        Dates are ISO strings, so they compare as text; undated articles fail any date bound.
        """
        clauses, params = [], []
        for column, values in (("a.doc_id", doc_ids), ("a.source", sources)):
            if values is not None:
                values = list(values)
                clauses.append(f"{column} IN ({','.join('?' * len(values))})")
                params.extend(values)
        for bound, operator in zip(dates, (">=", "<=")):
            if bound:
                clauses.append(f"substr(a.date, 1, 10) {operator} ?")
                params.append(bound)
        where = " AND ".join(clauses) or "1"
        rows = self._rows(f"SELECT c.id FROM chunks c JOIN articles a USING (doc_id) WHERE {where}", params)
        return np.fromiter((row[0] for row in rows), dtype=np.int64)

    def _allowed(self, where: Filter | None) -> np.ndarray | None:
        if where is None:
            return None
        return self.chunk_ids(where.doc_ids, where.sources, (where.date_from, where.date_to))

    def _dense(self, vector: np.ndarray, k: int, ids: np.ndarray | None) -> Ranked:
        k = min(k, len(self) if ids is None else len(ids))
        if k <= 0 or self.vectors is None:  # a lexical generation ranks nothing by vector
            return []
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids)) if ids is not None else None
        with one_thread():  # a single query: OpenMP threads cost more than they split
            scores, found = self.vectors.search(vector, k, params=params)
        return [(int(i), float(s)) for i, s in zip(found[0], scores[0]) if i >= 0]

    def dense(self, vector: np.ndarray, k: int, where: Filter | None = None) -> Ranked:
        return self._dense(vector, k, self._allowed(where))

    def lexical(self, query: str, k: int, where: Filter | None = None) -> Ranked:
        ids = self._allowed(where)
        return [] if ids is not None and len(ids) == 0 else bm25_search(self.bm25, len(self), query, k, ids)

    def hybrid(self, query, vector, k, depth, where, weights, rrf_k) -> Ranked:
        ids = self._allowed(where)  # once for both rankings
        if ids is not None and len(ids) == 0:
            return []
        lexical = [i for i, _ in bm25_search(self.bm25, len(self), query, depth, ids)]
        if self.vectors is None:
            return reciprocal_rank_fusion([lexical], [weights[1]], rrf_k)[:k]
        dense = [i for i, _ in self._dense(vector, depth, ids)]
        return reciprocal_rank_fusion([dense, lexical], list(weights), rrf_k)[:k]

    def vectors_of(self, ids: list[int]) -> np.ndarray:
        if self.vectors is None:
            raise UserError(f"index {self.index_dir} holds no vectors yet (its build is embedding); open it with rag.Assistant")
        return self.vectors.reconstruct_batch(np.asarray(ids, dtype=np.int64)) if ids else np.zeros((0, self.vectors.d), np.float32)

    def passages(self, ids: list[int], scores: list[float]) -> list[Passage]:
        """Passages for chunk ids, in the given order."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self._rows(
            f"SELECT c.id, c.doc_id, a.title, substr(a.text, c.start + 1, c.end - c.start), c.start, c.end, "
            f"a.date, a.source FROM chunks c JOIN articles a USING (doc_id) WHERE c.id IN ({marks})",
            ids,
        )
        by_id = {row[0]: row for row in rows}
        return [
            Passage(chunk_id=i, doc_id=r[1], title=r[2], text=r[3], start=r[4], end=r[5], score=float(s), date=r[6], source=r[7])
            for i, s in zip(ids, scores)
            if (r := by_id.get(i))
        ]


def _write_sqlite(
    path: Path, articles: list[Article], chunks: list[tuple[Chunk, str]], files: dict[str, Any], terms: dict[str, list[str]]
) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        db.executescript(SCHEMA)
        db.executemany("INSERT INTO files VALUES (?, ?, ?)", [(p, r.raw_hash, json.dumps(r.doc_ids)) for p, r in files.items()])
        db.executemany("INSERT INTO terms VALUES (?, ?)", [(h, "\n".join(t)) for h, t in terms.items()])
        db.executemany(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(a.doc_id, a.title, a.text, a.date, a.source, a.url, a.content_hash) for a in articles],
        )
        db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?)",
            [(i, c.doc_id, c.ordinal, c.start, c.end, h) for i, (c, h) in enumerate(chunks)],
        )


def _next_generation(index_dir: Path) -> str:
    numbers = [int(p.name.split("-")[1].split(".")[0]) for p in index_dir.glob("gen-*") if p.name.split("-")[1][:6].isdigit()]
    return f"gen-{max(numbers, default=0) + 1:06d}"


def publish_generation(index_dir: Path, manifest: dict[str, Any], fill: Callable[[Path], None] | None = None) -> Path:
    """Write a generation folder (``fill`` adds files beside the manifest), then make it live atomically.

    Old generations are removed. A build killed at any moment leaves the previous one live.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    name = _next_generation(index_dir)
    staging = index_dir / f"{name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    if fill is not None:
        fill(staging)
    _write_json(staging / MANIFEST, {**manifest, "format_version": FORMAT_VERSION})
    for path in staging.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(staging)
    final = index_dir / name
    os.replace(staging, final)
    pointer = index_dir / f"{CURRENT}.tmp"
    pointer.write_text(name, encoding="utf-8")
    os.replace(pointer, index_dir / CURRENT)
    _fsync_dir(index_dir)
    _remove_stale(index_dir, keep=name)
    return final


def write_generation(index_dir: Path, generation: Generation) -> Path:
    """Write a complete local generation (FAISS, BM25, SQLite, manifest), then make it live atomically.

    Texts and BM25 are hard-linked from ``generation.lexical`` when it names a lexical generation
    of exactly these chunks; vectors are appended to ``generation.appended_to``'s when it names one."""
    g = generation

    def fill(staging: Path) -> None:
        faiss.write_index(_vector_index(g), str(staging / VECTORS))
        if g.lexical is not None:
            _link_lexical(g.lexical, staging)
        else:
            _fill_lexical(staging, g)

    return publish_generation(index_dir, g.manifest, fill)


def _vector_index(g: Generation) -> faiss.Index:
    """A new FAISS index of the generation's vectors, or the live one's with the new rows added."""
    if g.appended_to is None:
        return build_vector_index(g.vectors, g.manifest.get("vector_index"))  # flat unless the manifest says hnsw
    index = faiss.read_index(str(g.appended_to / VECTORS))
    if index.ntotal + len(g.vectors) != len(g.chunks):
        raise AssertionError(f"cannot append {len(g.vectors)} vectors to {index.ntotal} for {len(g.chunks)} chunks")
    index.add(np.ascontiguousarray(g.vectors, dtype=np.float32))  # ids continue from ntotal: the new chunks' ids
    return index


def write_lexical_generation(index_dir: Path, generation: Generation) -> Path:
    """Write a lexical generation (BM25, SQLite, manifest saying its vectors are pending), then make it live."""
    manifest = {**generation.manifest, "vectors": PENDING}
    return publish_generation(index_dir, manifest, lambda staging: _fill_lexical(staging, generation))


def _fill_lexical(staging: Path, g: Generation) -> None:
    """Texts (SQLite) and BM25; terms known from the live generation are not computed again."""
    terms = dict(g.terms)
    for (_, h), text in zip(g.chunks, g.lexical_texts):
        if h not in terms:
            terms[h] = content_terms(text)
    build_bm25(g.lexical_texts, staging / BM25_DIR, [terms[h] for _, h in g.chunks])
    live = {h for _, h in g.chunks}
    _write_sqlite(staging / CHUNKS_DB, g.articles, g.chunks, g.files, {h: t for h, t in terms.items() if h in live})


def _link_lexical(source: Path, staging: Path) -> None:
    """Hard-link a generation's texts and BM25 into ``staging``: generations never change, so both may share them."""
    for path in [source / CHUNKS_DB, *sorted((source / BM25_DIR).iterdir())]:
        target = staging / path.relative_to(source)
        target.parent.mkdir(exist_ok=True)
        try:
            os.link(path, target)
        except OSError:  # a file system without hard links
            shutil.copy2(path, target)


def _remove_stale(index_dir: Path, keep: str) -> None:
    for path in index_dir.glob("gen-*"):
        if path.name != keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


class LocalBackend:
    """``store = "local"``: everything in the index folder (the embedded default)."""

    name = "local"
    # An update that only adds articles appends their vectors to the live vector index.
    appends = True

    @staticmethod
    def target(index_dir: Path, settings: Any) -> dict[str, Any]:
        """Where the data lives, as the manifest records it."""
        return {"name": "local"}

    @staticmethod
    def prepare(index_dir: Path, target: dict[str, Any]) -> None:
        """Nothing to check before a build: the folder is created when written."""

    @staticmethod
    def vector_spec(settings: Any, count: int) -> dict[str, Any]:
        return spec_for(settings, count).to_dict()

    @staticmethod
    def open(index_dir: Path, manifest: dict[str, Any], settings: Any = None) -> IndexStore:
        # Opens the live generation again, with its own manifest: a build may have switched since.
        return IndexStore.open(index_dir)

    @staticmethod
    def write(index_dir: Path, generation: Generation, settings: Any = None) -> None:
        write_generation(index_dir, generation)

    @staticmethod
    def write_lexical(index_dir: Path, generation: Generation, settings: Any = None) -> Path:
        """Publish ``generation`` without its vectors (``generation.vectors`` is ignored); returns its folder."""
        return write_lexical_generation(index_dir, generation)


def _milvus() -> Any:
    from rag.store.milvus import MilvusBackend  # optional extra: imported only when asked for

    return MilvusBackend


# Store name -> the backend class (a loader, so an optional engine is imported only when chosen).
STORES: dict[str, Callable[[], Any]] = {"local": lambda: LocalBackend, "milvus": _milvus}


def store_backend(name: str) -> Any:
    """The backend of the store called ``name``; an unknown name lists the choices."""
    if name not in STORES:
        raise UserError(f"unknown store {name!r}; choose from: {', '.join(STORES)}")
    return STORES[name]()


def open_store(index_dir: str | Path, expected: dict[str, Any] | None = None, settings: Any = None) -> Store:
    """Open the live index in ``index_dir`` on the store its manifest names, checking ``expected`` settings.

    ``settings`` may point a reader elsewhere (``milvus_uri``, ``milvus_token_env``)."""
    index_dir = Path(index_dir)
    check_index_folder(index_dir)
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise UserError(f"no index found in {index_dir}; build one with: rag index CORPUS --index {index_dir}")
    check_manifest(manifest, index_dir, expected)
    return store_backend(manifest["store"].get("name", "local")).open(index_dir, manifest, settings)
