"""The index on disk: a FAISS inner-product index, SQLite for texts and metadata, a manifest.

Layout of an index folder::

    CURRENT              name of the live generation (replaced atomically)
    gen-000003/          manifest.json, vectors.faiss, chunks.sqlite
    embeddings.sqlite    embedding cache shared by all generations
    write.lock(.json)    the one writer's lock and who holds it (rag/locking.py)

A build writes a complete new generation folder, syncs it, and only then points
``CURRENT`` at it with ``os.replace``. A build killed at any moment therefore leaves
the previous generation live and loadable. Builds are serialised by ``rag.locking``.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import faiss
import numpy as np

from rag.errors import IndexMismatchError, UserError
from rag.lexical import BM25_DIR, build_bm25, load_bm25
from rag.schema import Article, Chunk, Passage
from rag.vector_index import build_vector_index, read_vector_index

# 2: BM25 stored beside the vectors.
FORMAT_VERSION = 2
# A reader racing a build may find its generation gone between reading CURRENT and the files.
OPEN_ATTEMPTS = 5
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
CHUNKS_DB = "chunks.sqlite"
CACHE_DB = "embeddings.sqlite"

SCHEMA = """
CREATE TABLE articles (doc_id TEXT PRIMARY KEY, title TEXT, text TEXT, date TEXT, source TEXT,
                       url TEXT, content_hash TEXT);
CREATE TABLE chunks (id INTEGER PRIMARY KEY, doc_id TEXT, ordinal INTEGER, start INTEGER, end INTEGER,
                     embed_hash TEXT);
CREATE INDEX chunks_doc ON chunks (doc_id);
"""


def rebuild_hint(index_dir: Path) -> str:
    return f"rebuild it with: rag index CORPUS --index {index_dir}"


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


def current_generation(index_dir: str | Path) -> str | None:
    """Name of the live generation (``gen-000003``), or None when there is no index."""
    generation = _generation_path(Path(index_dir))
    return generation.name if generation else None


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The live generation's manifest, or None when there is no index."""
    live = _live(index_dir)
    return live[1] if live else None


def _connect_readonly(path: Path) -> sqlite3.Connection:
    # immutable: a generation never changes, and SQLite then needs no lock or journal beside the
    # file, so an open connection keeps serving after a later build removed the folder.
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)


def read_article_hashes(index_dir: Path) -> dict[str, str]:
    """doc id -> content hash of the live generation (SQLite only: no vectors loaded)."""
    generation = _generation_path(index_dir)
    if generation is None:
        return {}
    with closing(_connect_readonly(generation / CHUNKS_DB)) as db:
        return dict(db.execute("SELECT doc_id, content_hash FROM articles"))


def newest_date(index_dir: Path) -> str | None:
    """The date of the newest dated article in the live generation."""
    generation = _generation_path(index_dir)
    if generation is None:
        return None
    with closing(_connect_readonly(generation / CHUNKS_DB)) as db:
        return db.execute("SELECT max(date) FROM articles WHERE date IS NOT NULL").fetchone()[0]


def check_manifest(manifest: dict[str, Any], index_dir: Path, expected: dict[str, Any] | None) -> None:
    """Refuse an index of a newer format, or one built with other settings than ``expected``."""
    version = manifest.get("format_version")
    if not isinstance(version, int) or version != FORMAT_VERSION:
        age = "a newer" if isinstance(version, int) and version > FORMAT_VERSION else "an older"
        raise IndexMismatchError(
            f"index {index_dir} has {age} format ({version}; this rag reads {FORMAT_VERSION}); {rebuild_hint(index_dir)}"
        )
    built = manifest.get("settings", {})
    differing = {k: (built.get(k), v) for k, v in (expected or {}).items() if built.get(k) != v}
    if differing:
        detail = ", ".join(f"{k}: index has {old!r}, asked for {new!r}" for k, (old, new) in differing.items())
        raise IndexMismatchError(f"index {index_dir} was built with other settings ({detail}); {rebuild_hint(index_dir)}")


@dataclass(frozen=True)
class StoredChunk:
    """A chunk row as it sits in the store: enough to reuse it without re-chunking."""

    doc_id: str
    ordinal: int
    start: int
    end: int
    embed_hash: str


class IndexStore:
    """Read access to one generation: vectors for search, SQLite for texts."""

    def __init__(self, index_dir: Path, generation: Path, manifest: dict[str, Any]) -> None:
        self.index_dir = index_dir
        self.generation = generation
        self.manifest = manifest
        self.vectors = read_vector_index(generation / VECTORS)  # HNSW comes wrapped: filtered search stays exact
        self.bm25 = load_bm25(generation / BM25_DIR)
        self._vocabulary = frozenset(self.bm25.vocab_dict)
        self._db = _connect_readonly(generation / CHUNKS_DB)
        # One connection serves every thread; queries and their fetches run one at a time.
        self._db_lock = threading.Lock()

    @classmethod
    def open(cls, index_dir: str | Path, expected: dict[str, Any] | None = None) -> "IndexStore":
        """Open the live generation, checking its manifest against ``expected`` settings."""
        index_dir = Path(index_dir)
        check_index_folder(index_dir)
        for attempt in range(OPEN_ATTEMPTS):
            live = _live(index_dir)
            if live is None:
                raise UserError(f"no index found in {index_dir}; build one with: rag index CORPUS --index {index_dir}")
            generation, manifest = live
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
        return int(self.vectors.ntotal)

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


def _write_sqlite(path: Path, articles: list[Article], chunks: list[tuple[Chunk, str]]) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        db.executescript(SCHEMA)
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


def write_generation(
    index_dir: Path,
    articles: list[Article],
    chunks: list[tuple[Chunk, str]],
    vectors: np.ndarray,
    lexical_texts: list[str],
    manifest: dict[str, Any],
) -> Path:
    """Write a complete generation, then make it live atomically; old generations are removed."""
    index_dir.mkdir(parents=True, exist_ok=True)
    name = _next_generation(index_dir)
    staging = index_dir / f"{name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    index = build_vector_index(vectors, manifest.get("vector_index"))  # flat unless the manifest says hnsw
    faiss.write_index(index, str(staging / VECTORS))
    build_bm25(lexical_texts, staging / BM25_DIR)
    _write_sqlite(staging / CHUNKS_DB, articles, chunks)
    _write_json(staging / MANIFEST, {**manifest, "format_version": FORMAT_VERSION})
    for path in [*staging.iterdir(), *(staging / BM25_DIR).iterdir()]:
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


def _remove_stale(index_dir: Path, keep: str) -> None:
    for path in index_dir.glob("gen-*"):
        if path.name != keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
