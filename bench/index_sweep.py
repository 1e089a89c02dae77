"""Flat vs HNSW by corpus size: ``python -m bench.index_sweep --cache INDEX/embeddings.sqlite``.

Index-only measurements behind ``hnsw_threshold`` and ``hnsw_ef_search``: for each size,
build time, bytes per vector, single-query search p50/p95 and recall@10 against exact
search, for the real questions of eval/bbc.jsonl embedded with the same model.

Vectors are the real passage vectors of an embedding cache (e.g. a BBC build's); sizes
beyond what it holds are filled with normalised sums of three random real passage
vectors, so that 100,000 vectors cost seconds rather than an hour of embedding. Those
are stand-ins for real passages, not real passages: the JSON and table say how many.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from pathlib import Path

import faiss
import numpy as np

from bench.run import ROOT, load_questions
from rag.store.vectors import VectorIndexSpec, build_vector_index


def cached_vectors(cache: Path, model: str) -> np.ndarray:
    with sqlite3.connect(f"file:{cache}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT vector FROM vectors WHERE model = ? ORDER BY hash", (model,)).fetchall()
    return np.stack([np.frombuffer(blob, dtype=np.float32) for (blob,) in rows])


def grow(real: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """``size`` vectors: the real ones first, then normalised sums of three random real ones."""
    if size <= len(real):
        return real[:size].copy()
    rng = np.random.default_rng(seed)
    extra = real[rng.integers(0, len(real), (size - len(real), 3))].sum(axis=1)
    extra /= np.linalg.norm(extra, axis=1, keepdims=True)
    return np.concatenate([real, extra.astype(np.float32)])


def _latencies(index, queries: np.ndarray, k: int, repeat: int = 3) -> tuple[np.ndarray, list[float]]:
    found, times = None, []
    for _ in range(repeat):
        rows = []
        for query in queries:
            began = time.perf_counter()
            _, ids = index.search(query[None, :], k)
            times.append(time.perf_counter() - began)
            rows.append(ids[0])
        found = np.array(rows)
    return found, times


def sweep(vectors: np.ndarray, queries: np.ndarray, sizes: list[int], ef_values: list[int], m: int, ef_construction: int) -> list[dict]:
    results = []
    for size in sizes:
        base = grow(vectors, size)
        flat = build_vector_index(base, None)
        exact, flat_times = _latencies(flat, queries, 10)
        row = {"size": size, "real_vectors": min(size, len(vectors)), "flat_p50_ms": 1000 * float(np.median(flat_times)),
               "flat_p95_ms": 1000 * float(np.percentile(flat_times, 95)), "flat_bytes_per_vector": 4 * base.shape[1], "hnsw": {}}
        began = time.perf_counter()
        hnsw = build_vector_index(base, VectorIndexSpec("hnsw", m, ef_construction, ef_values[0]))
        row["hnsw_build_s"] = time.perf_counter() - began
        row["hnsw_bytes_per_vector"] = len(faiss.serialize_index(hnsw)) / size
        for ef in ef_values:
            hnsw.hnsw.efSearch = ef
            found, times = _latencies(hnsw, queries, 10)
            recall = float(np.mean([len(set(e) & set(f)) / 10 for e, f in zip(exact, found)]))
            row["hnsw"][ef] = {"recall_at_10": recall, "p50_ms": 1000 * float(np.median(times)),
                               "p95_ms": 1000 * float(np.percentile(times, 95))}
        results.append(row)
        print(_line(row), flush=True)
    return results


def _line(row: dict) -> str:
    parts = [f"{row['size']:>7} ({row['real_vectors']} real): flat p50 {row['flat_p50_ms']:.2f} ms",
             f"hnsw build {row['hnsw_build_s']:.1f} s, {row['hnsw_bytes_per_vector']:.0f} B/vector vs {row['flat_bytes_per_vector']}"]
    parts += [f"ef {ef}: recall {r['recall_at_10']:.3f} p50 {r['p50_ms']:.2f} ms" for ef, r in row["hnsw"].items()]
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.index_sweep", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cache", type=Path, required=True, help="an index folder's embeddings.sqlite")
    p.add_argument("--model", default="all-MiniLM-L6-v2")
    p.add_argument("--backend", default="onnx-int8", help="the backend whose vectors the cache holds")
    p.add_argument("--sizes", default="5000,10000,25000,50000,100000")
    p.add_argument("--ef", default="32,64,128", help="efSearch values")
    p.add_argument("--m", type=int, default=32)
    p.add_argument("--ef-construction", type=int, default=80)
    p.add_argument("--questions", type=Path, default=ROOT / "eval" / "bbc.jsonl")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "index_sweep.json")
    args = p.parse_args(argv)
    from rag.embed.embedding import get_embedder

    embedder = get_embedder(args.model, "cpu", args.backend)
    vectors = cached_vectors(args.cache, embedder.name)
    queries = embedder.encode(load_questions(args.questions))
    results = sweep(vectors, queries, [int(s) for s in args.sizes.split(",")], [int(e) for e in args.ef.split(",")],
                    args.m, args.ef_construction)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"real_vectors": len(vectors), "queries": len(queries), "m": args.m,
                                    "ef_construction": args.ef_construction, "results": results}, indent=1))
    print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
