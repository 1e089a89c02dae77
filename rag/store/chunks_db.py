"""A generation's SQLite file (``chunks.sqlite``): articles, chunks, files read and BM25 terms."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.schema import Article, Chunk
from rag.store.generations import CACHE_DB, CHUNKS_DB, _generation_path, _live, pending_vectors

SCHEMA = """
CREATE TABLE articles (doc_id TEXT PRIMARY KEY, title TEXT, text TEXT, date TEXT, source TEXT,
                       url TEXT, content_hash TEXT);
CREATE TABLE chunks (id INTEGER PRIMARY KEY, doc_id TEXT, ordinal INTEGER, start INTEGER, end INTEGER,
                     embed_hash TEXT);
CREATE INDEX chunks_doc ON chunks (doc_id);
CREATE TABLE files (path TEXT PRIMARY KEY, raw_hash TEXT, doc_ids TEXT, size INTEGER, mtime_ns INTEGER);
CREATE TABLE terms (hash TEXT PRIMARY KEY, terms TEXT);
"""
# files: what each corpus file held when read (rag/store/read_cache.py); terms: each chunk text's BM25
# terms by embedding-text hash. Both only spare an update work: generations without them still load.
# Chunk ids are stable across updates: an update keeps the ids of unchanged chunks and gives new
# ones the next free ids (manifest "id_limit"), so ids may have gaps (rag/store/writing.py).


@dataclass(frozen=True)
class StoredChunk:
    """A chunk row as it sits in the store: enough to reuse it without re-chunking."""

    doc_id: str
    ordinal: int
    start: int
    end: int
    embed_hash: str
    chunk_id: int = -1  # its id in the store (-1: not known, e.g. from another store)


@dataclass(frozen=True)
class LiveRows:
    """What a local generation's SQLite file holds, for an update to reuse (no vectors or BM25 loaded)."""

    generation: Path
    articles: dict[str, Article]
    chunks: dict[str, list["StoredChunk"]]
    chunk_count: int
    # path -> (raw hash, doc ids, size, mtime_ns): read_cache.FileRecord's fields.
    files: dict[str, tuple]
    # Whether its file has the files and terms tables an update reuses (patches in place).
    patchable: bool = False



def read_live_rows(index_dir: Path) -> LiveRows | None:
    """The live local generation's rows; None when there is none or it is another store's.

    Generations written before the ``files`` and ``terms`` tables existed give no files. BM25
    terms are not read here (``read_terms``): an unchanged re-run needs none of them."""
    generation = _generation_path(index_dir)
    if generation is None or not (generation / CHUNKS_DB).is_file():
        return None
    with closing(_connect_readonly(generation / CHUNKS_DB)) as db:
        rows = db.execute("SELECT doc_id, title, text, date, source, url, content_hash FROM articles")
        articles = {row[0]: Article(*row) for row in rows}
        chunks: dict[str, list[StoredChunk]] = {}
        count = 0
        for row in db.execute("SELECT doc_id, ordinal, start, end, embed_hash, id FROM chunks ORDER BY id"):
            chunks.setdefault(row[0], []).append(StoredChunk(*row))
            count += 1
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        files = _files(db) if {"files", "terms"} <= tables else {}
    return LiveRows(generation, articles, chunks, count, files, {"files", "terms"} <= tables)


def _files(db: sqlite3.Connection) -> dict[str, tuple]:
    columns = {row[1] for row in db.execute("PRAGMA table_info(files)")}
    stat = ", size, mtime_ns" if "mtime_ns" in columns else ", NULL, NULL"  # recorded since stable ids
    rows = db.execute(f"SELECT path, raw_hash, doc_ids{stat} FROM files")
    return {p: (h, tuple(json.loads(ids)), size, mtime) for p, h, ids, size, mtime in rows}


def read_terms(path: Path) -> dict[str, list[str]]:
    """The BM25 terms by embedding-text hash stored in the SQLite file at ``path`` (none if it has no such table)."""
    with closing(_connect_readonly(path)) as db:
        try:
            return {h: t.split("\n") if t else [] for h, t in db.execute("SELECT hash, terms FROM terms")}
        except sqlite3.OperationalError:
            return {}


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



def _write_sqlite(
    path: Path, articles: list[Article], chunks: list[tuple[Chunk, str]], files: dict[str, Any], terms: dict[str, list[str]],
    ids: list[int] | None = None,
) -> None:
    """A new SQLite file of every row; chunk ``ids`` (default 0..n-1) in the order of ``chunks``."""
    with closing(sqlite3.connect(path)) as db, db:
        db.executescript(SCHEMA)
        _insert(db, articles, chunks, ids if ids is not None else range(len(chunks)), terms)
        _write_files(db, files)


def _insert(db: sqlite3.Connection, articles: list[Article], chunks: list[tuple[Chunk, str]], ids: Any,
            terms: dict[str, list[str]]) -> None:
    db.executemany("INSERT OR IGNORE INTO terms VALUES (?, ?)", [(h, "\n".join(t)) for h, t in terms.items()])
    db.executemany(
        "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(a.doc_id, a.title, a.text, a.date, a.source, a.url, a.content_hash) for a in articles],
    )
    db.executemany(
        "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?)",
        [(i, c.doc_id, c.ordinal, c.start, c.end, h) for i, (c, h) in zip(ids, chunks)],
    )


def _write_files(db: sqlite3.Connection, files: dict[str, Any]) -> None:
    db.execute("DELETE FROM files")
    db.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?)",
                   [(p, r.raw_hash, json.dumps(r.doc_ids), r.size, r.mtime_ns) for p, r in files.items()])


def patch_sqlite(
    path: Path, keep: frozenset[str], articles: list[Article], chunks: list[tuple[Chunk, str]], ids: list[int],
    files: dict[str, Any], terms: dict[str, list[str]],
) -> int:
    """Change a copy of the live SQLite file in place: every article not in ``keep`` goes with its
    chunks, the new ``articles`` and ``chunks`` (with ``ids``) come in, and terms no chunk uses any
    more go. Returns how many chunk rows went. Costs what the change costs plus a few C-level scans."""
    with closing(sqlite3.connect(path)) as db, db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(files)")}
        for column in ("size", "mtime_ns"):
            if column not in columns:  # a generation written before stat records
                db.execute(f"ALTER TABLE files ADD COLUMN {column} INTEGER")
        db.execute("CREATE TEMP TABLE keep (doc_id TEXT PRIMARY KEY)")
        db.executemany("INSERT INTO keep VALUES (?)", [(doc_id,) for doc_id in keep])
        dropped = db.execute("DELETE FROM chunks WHERE doc_id NOT IN (SELECT doc_id FROM keep)").rowcount
        db.execute("DELETE FROM articles WHERE doc_id NOT IN (SELECT doc_id FROM keep)")
        if dropped:
            db.execute("DELETE FROM terms WHERE hash NOT IN (SELECT embed_hash FROM chunks)")
        _insert(db, articles, chunks, ids, terms)
        _write_files(db, files)
    return dropped


def lexical_rows(path: Path) -> tuple[list[int], list[list[str]]]:
    """(chunk ids ascending, each chunk's BM25 terms) of the SQLite file at ``path``."""
    with closing(_connect_readonly(path)) as db:
        rows = db.execute("SELECT c.id, t.terms FROM chunks c LEFT JOIN terms t ON t.hash = c.embed_hash ORDER BY c.id").fetchall()
    if any(t is None for _, t in rows):
        raise AssertionError(f"{path}: a chunk without stored BM25 terms")
    return [i for i, _ in rows], [t.split("\n") if t else [] for _, t in rows]

