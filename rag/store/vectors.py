"""The FAISS index over passage vectors: exact for small corpora, HNSW for large ones.

``flat`` (``IndexFlatIP``) compares the query with every vector: exact, no build cost, and
fast enough while the corpus is small. ``hnsw`` (``IndexHNSWFlat``, inner product) walks a
neighbour graph instead: search time grows roughly with log(n), at the price of a build
step, ~20% more bytes per passage and a recall slightly under 1. ``auto`` picks ``hnsw``
from ``hnsw_threshold`` passages up (see bench/README.md for the measurements behind it).

Both kinds answer what retrieval asks of ``IndexStore.vectors``: ``search(x, k, params=
SearchParameters(sel=IDSelectorBatch(ids)))``, ``reconstruct_batch(ids)`` and ``ntotal``.
An HNSW index is wrapped in ``HNSWVectors`` so that filtered searches stay exact.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import faiss
import numpy as np

from rag.errors import UserError

INDEX_TYPES = ("auto", "flat", "hnsw")
# Neighbours per node: 32 is FAISS's usual choice for ~100-1000-dim embeddings.
HNSW_M = 32


@dataclass(frozen=True)
class VectorIndexSpec:
    """What to build: the resolved kind and, for HNSW, its graph parameters."""

    kind: str
    m: int = HNSW_M
    ef_construction: int = 0
    ef_search: int = 0

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "flat":
            return {"kind": "flat"}
        return {"kind": self.kind, "m": self.m, "ef_construction": self.ef_construction, "ef_search": self.ef_search}


def choose_kind(index_type: str, count: int, threshold: int) -> str:
    """``flat`` or ``hnsw`` for ``count`` passages; ``auto`` switches at ``threshold``.

    >>> choose_kind("auto", 1_000, 50_000), choose_kind("auto", 50_000, 50_000)
    ('flat', 'hnsw')
    """
    if index_type not in INDEX_TYPES:
        raise UserError(f"unknown index_type {index_type!r}; choose one of: {', '.join(INDEX_TYPES)}")
    if index_type == "auto":
        return "hnsw" if threshold > 0 and count >= threshold else "flat"
    return index_type


def spec_for(settings: Any, count: int) -> VectorIndexSpec:
    """The index to build for ``count`` passages under ``settings`` (a ``Settings``)."""
    kind = choose_kind(settings.index_type, count, settings.hnsw_threshold)
    if kind == "flat":
        return VectorIndexSpec("flat")
    return VectorIndexSpec("hnsw", HNSW_M, settings.hnsw_ef_construction, settings.hnsw_ef_search)


def build_vector_index(vectors: np.ndarray, spec: dict[str, Any] | VectorIndexSpec | None = None) -> faiss.Index:
    """A FAISS inner-product index holding ``vectors`` (unit-length float32), ids 0..n-1 in row order."""
    spec = _as_spec(spec)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if spec.kind == "flat":
        index = faiss.IndexFlatIP(vectors.shape[1])
    else:
        index = faiss.IndexHNSWFlat(vectors.shape[1], spec.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = spec.ef_construction
        index.hnsw.efSearch = spec.ef_search  # saved in the file, so loading needs no settings
    index.add(vectors)
    return index


def _as_spec(spec: dict[str, Any] | VectorIndexSpec | None) -> VectorIndexSpec:
    if spec is None:
        return VectorIndexSpec("flat")
    if isinstance(spec, VectorIndexSpec):
        return spec
    if spec.get("kind") not in ("flat", "hnsw"):
        raise UserError(f"unknown vector index kind {spec.get('kind')!r}")
    return VectorIndexSpec(**spec)


def is_outdated(manifest: dict[str, Any] | None, settings: Any, count: int) -> bool:
    """Whether the live generation's vector index differs from what ``settings`` ask for now.

    Indexes written before this setting existed are flat."""
    if manifest is None:
        return False
    built = manifest.get("vector_index") or {"kind": "flat"}
    return built != spec_for(settings, count).to_dict()


class HNSWVectors:
    """An ``IndexHNSWFlat`` whose filtered searches run exactly over its stored vectors.

    A graph walk with a narrow filter (one article's chunks among 100,000) visits
    ``efSearch`` nodes and may find none that pass; the flat scan of the same vectors with
    the same ``IDSelector`` costs what a flat index costs and never misses.
    """

    def __init__(self, index: faiss.IndexHNSWFlat) -> None:
        self.index = index
        self.storage = faiss.downcast_index(index.storage)

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def d(self) -> int:
        return int(self.index.d)

    def search(self, x: np.ndarray, k: int, *, params: faiss.SearchParameters | None = None, **kwargs: Any):
        """A filter (``SearchParameters`` with a selector) scans the stored vectors exactly; HNSW's own
        parameters (``SearchParametersHNSW``, e.g. skipping removed rows) walk the graph."""
        if params is not None and params.sel is not None and not isinstance(params, faiss.SearchParametersHNSW):
            return self.storage.search(x, k, params=params, **kwargs)
        return self.index.search(x, k, params=params, **kwargs)

    def reconstruct_batch(self, ids: np.ndarray) -> np.ndarray:
        return self.index.reconstruct_batch(ids)

    def reconstruct(self, key: int) -> np.ndarray:
        return self.index.reconstruct(key)

    def __getattr__(self, name: str) -> Any:  # anything else: the FAISS index itself
        return getattr(self.index, name)


@contextmanager
def one_thread() -> Iterator[None]:
    """FAISS on the calling thread alone inside the block (OpenMP's thread count is per thread,
    so a build elsewhere keeps its own). One query over Reuters' 19,722 flat vectors took 16-28 ms
    on two OpenMP threads and 1.2 ms on one, on 2 cores at load 8: its threads wait for busy cores."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def read_vector_index(path: str | Path) -> faiss.Index | HNSWVectors:
    """Load an index written by ``build_vector_index`` (HNSW comes back wrapped)."""
    index = faiss.read_index(str(path))
    return HNSWVectors(index) if isinstance(index, faiss.IndexHNSWFlat) else index
