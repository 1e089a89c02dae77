"""Stores by name (``STORES``), and the local one: FAISS, BM25 segments and SQLite in the index folder.

Retrieval, diversity, the composers and the UI see a ``Store``: dense, lexical and hybrid
search with a ``Filter``, passages and vectors by chunk id, articles, the manifest. A store
is chosen by name from ``STORES`` (``store = "local" | "milvus"``); every index folder holds
the live manifest, which names the store it was built on, so loading needs no settings.

Layout of a local index folder::

    CURRENT              name of the live generation (replaced atomically)
    gen-000003/          manifest.json, vectors.faiss, lexical/ (BM25 segments; bm25/ before them),
                         chunks.sqlite (articles, chunks, files and terms: what an update reuses)
    embeddings.sqlite    embedding cache shared by all generations
    write.lock(.json)    the one writer's lock and who holds it (rag/store/locking.py)

A build writes a complete new generation folder, syncs it, and only then points
``CURRENT`` at it with ``os.replace``. A build killed at any moment therefore leaves
the previous generation live and loadable. Builds are serialised by ``rag.store.locking``.
An update derives the new folder from the live one and writes only the change (stable chunk
ids, appended vectors, tombstones, a patched copy of the SQLite file, one more BM25 segment).

The parts: ``generations`` (CURRENT, the manifest, publishing), ``chunks_db`` (the SQLite file),
``protocol`` (``Store``, ``Filter``, ``Generation``), ``index_store`` (reading), ``writing``,
``lexical`` (BM25 segments), ``vectors`` (FAISS); this module names the backends.

A first build publishes a *lexical* generation before it embeds: texts, chunks and BM25,
no ``vectors.faiss``, its manifest saying ``"vectors": "pending"``. It is complete as
such: readers answer from BM25 (``pending_vectors``) until the full generation, which
hard-links the lexical one's unchanged files, replaces it.

A reader keeps working when a build removes the generation it loaded: the FAISS index
and BM25 arrays are read into memory, and the SQLite file is opened read-only and
immutable, so its open descriptor serves every later query of the removed file.
"""


from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Any, Callable

from rag.errors import UserError
from rag.store.chunks_db import (  # noqa: F401  (re-exported: the store's names, one import away)
    SCHEMA, LiveRows, StoredChunk, _connect_readonly, _write_sqlite, embedding_progress, read_live_rows,
)
from rag.store.generations import (  # noqa: F401
    CACHE_DB, CHUNKS_DB, CURRENT, FORMAT_VERSION, MANIFEST, OPEN_ATTEMPTS, PENDING, VECTORS, _generation_path, _live,
    _with_store, check_index_folder, check_manifest, current_generation, live_generation, pending_vectors,
    publish_generation, read_manifest, rebuild_hint,
)
from rag.store.index_store import IndexStore
from rag.store.protocol import Filter, Generation, Ranked, Store  # noqa: F401
from rag.store.vectors import spec_for
from rag.store.writing import write_generation, write_lexical_generation  # noqa: F401


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



def read_article_hashes(index_dir: Path) -> dict[str, str]:
    """doc id -> content hash of the live index."""
    return {doc_id: content_hash for doc_id, content_hash, _ in _live_articles(index_dir) or []}


def newest_date(index_dir: Path) -> str | None:
    """The date of the newest dated article in the live index."""
    return max((date for _, _, date in _live_articles(index_dir) or [] if date), default=None)



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
