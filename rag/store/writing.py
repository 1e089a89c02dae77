"""The local store, write side: a generation's FAISS index, BM25 and SQLite file.

A first build (or one under other settings) writes every file afresh. An update writes what
changed and keeps the rest of the live generation, its ``base``:

- chunk ids are stable: unchanged chunks keep theirs, new ones take the next free ids from the
  base's ``id_limit``, and the ids of removed or changed chunks are never used again;
- vectors: the base's FAISS index with the new rows appended (FAISS ``add``; an HNSW graph takes
  them in without being built again). Removed rows stay in the file as tombstones that searches
  skip (an HNSW graph cannot remove nodes) until ``COMPACT_SHARE`` of the rows are dead, when the
  build writes every file afresh with ids 0..n-1 again (rag/store/build.py);
- SQLite: a copy of the base's file, patched (the changed articles' rows out, the new ones in);
- BM25 (rag/store/lexical.py): the base's segments hard-linked and one new segment of the new
  chunks; queries score with the live chunks' statistics, so scores are exactly a fresh build's.
  Past ``MAX_SEGMENTS`` they are folded into one (from the stored terms).

Every file goes into a staging folder published atomically (rag/store/generations.py).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import faiss
import numpy as np

from rag.store.chunks_db import _write_sqlite, lexical_rows, patch_sqlite
from rag.store.lexical import LEXICAL_DIR, segment_names, write_segment
from rag.store.generations import CHUNKS_DB, PENDING, VECTORS, publish_generation
from rag.store.protocol import Generation
from rag.store.vectors import build_vector_index
from rag.text.terms import content_terms

# Rebuild every file (ids 0..n-1 again) once this share of the vector rows are tombstones: dead rows
# cost search time and bytes, a rebuild costs one update's O(n) (vectors come from the cache).
COMPACT_SHARE = 0.2
# Lexical segments before an update folds them into one: each costs a few numpy calls per query term.
MAX_SEGMENTS = 12


def write_generation(index_dir: Path, generation: Generation) -> Path:
    """Write a complete local generation (FAISS, BM25, SQLite, manifest), then make it live atomically.

    Texts and BM25 are hard-linked from ``generation.lexical`` when it names a lexical generation
    of exactly these chunks; with ``generation.base`` only the change is written (module docstring)."""
    g = generation

    def fill(staging: Path) -> None:
        if g.base is not None:
            _fill_update(staging, g)
            return
        faiss.write_index(build_vector_index(g.vectors, g.manifest.get("vector_index")), str(staging / VECTORS))
        if g.lexical is not None:
            _link(g.lexical, staging, [CHUNKS_DB, LEXICAL_DIR])
        else:
            _fill_lexical(staging, g)

    return publish_generation(index_dir, g.manifest, fill)


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
    ids = list(g.ids) if g.ids is not None else list(range(len(g.chunks)))
    order = sorted(range(len(ids)), key=ids.__getitem__)
    write_segment(staging / LEXICAL_DIR, [ids[i] for i in order], [terms[g.chunks[i][1]] for i in order], 1)
    live = {h for _, h in g.chunks}
    _write_sqlite(staging / CHUNKS_DB, g.articles, g.chunks, g.files, {h: t for h, t in terms.items() if h in live})


def _fill_update(staging: Path, g: Generation) -> None:
    """The base generation's files with the change applied (stable ids, tombstones, patched SQLite)."""
    assert g.base is not None and g.ids is not None
    new = sorted(((i, pair, text) for i, pair, text in zip(g.ids, g.chunks, g.lexical_texts)
                  if pair[0].doc_id not in g.unchanged), key=lambda item: item[0])
    _write_vectors(staging, g, [i for i, _, _ in new])
    shutil.copyfile(g.base / CHUNKS_DB, staging / CHUNKS_DB)
    terms = {h: g.terms.get(h) or content_terms(text) for _, (_, h), text in new}
    fresh = [a for a in g.articles if a.doc_id not in g.unchanged]
    patch_sqlite(staging / CHUNKS_DB, g.unchanged, fresh, [p for _, p, _ in new], [i for i, _, _ in new], g.files, terms)
    _write_lexical(staging, g.base, [i for i, _, _ in new], [terms[h] for _, (_, h), _ in new])


def _write_lexical(staging: Path, base: Path, ids: list[int], terms: list[list[str]]) -> None:
    """The base's BM25 segments (hard-linked) and one of the new chunks; one segment of every live
    chunk instead when there would be too many, or when the base has none (a bm25s generation)."""
    names = segment_names(base / LEXICAL_DIR) if (base / LEXICAL_DIR).is_dir() else []
    if names and len(names) < MAX_SEGMENTS:
        _link(base, staging, [f"{LEXICAL_DIR}/{name}" for name in names])
        if ids:
            write_segment(staging / LEXICAL_DIR, ids, terms, int(names[-1].split("-")[1]) + 1)
        return
    all_ids, all_terms = lexical_rows(staging / CHUNKS_DB)
    write_segment(staging / LEXICAL_DIR, all_ids, all_terms, 1)


def _write_vectors(staging: Path, g: Generation, new_ids: list[int]) -> None:
    """The base's vector index with the new rows (``g.vectors``, ids from its ``ntotal`` on) appended."""
    if not new_ids:
        _link(g.base, staging, [VECTORS])
        return
    index = faiss.read_index(str(g.base / VECTORS))
    if new_ids != list(range(index.ntotal, index.ntotal + len(new_ids))) or len(g.vectors) != len(new_ids):
        raise AssertionError(f"cannot append ids {new_ids[0]}.. to a vector index of {index.ntotal} rows")
    index.add(np.ascontiguousarray(g.vectors, dtype=np.float32))
    faiss.write_index(index, str(staging / VECTORS))


def _link(source: Path, staging: Path, names: list[str]) -> None:
    """Hard-link files (or folders' files) of a generation into ``staging``: generations never change, so both may share them."""
    for name in names:
        paths = sorted(p for p in (source / name).rglob("*") if p.is_file()) if (source / name).is_dir() else [source / name]
        for path in paths:
            target = staging / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError:  # a file system without hard links
                shutil.copy2(path, target)
