"""One measurement in a fresh process: ``python -m bench.worker build|query JSON``.

Run by ``bench.run`` as a subprocess so that every build and every loaded assistant has
its own peak RSS (VmHWM of the process, printed in the result) and a cold start
that is really cold (imports, model load, index read). Prints one JSON object on the
last line of stdout.
"""

from __future__ import annotations

import json
import sys
import time

from bench.rss import peak_rss_mb

STARTED = time.perf_counter()


def _settings(overrides: dict):
    from rag.settings import resolve

    return resolve(env={}, progress=False, **overrides)  # env={}: RAG_* variables of the caller do not leak in


def build(args: dict) -> dict:
    """Build (or update) an index, as ``rag index`` would.

    With ``preload`` the embedder is loaded first, so build_s is chunking, embedding and
    writing alone; without it (re-runs) build_s includes loading the model when the build needs it."""
    began = time.perf_counter()
    from rag.embed.embedding import get_embedder
    from rag import build_index

    settings = _settings(args["settings"])
    imported = time.perf_counter()
    if args.get("preload", True):
        get_embedder(settings.model, settings.device, settings.backend)
    loaded = time.perf_counter()
    # Re-runs index a changed copy of the corpus into the same index: a deliberate replace.
    report = build_index(args["corpus"], args["index"], replace=True, settings=settings)
    return {
        "import_s": imported - began,
        "model_load_s": loaded - imported,
        "build_s": report.seconds,
        "passages": report.chunks,
        "embedded": report.embedded,
        "articles_added": report.added,
        "articles_updated": report.updated,
        "wall_s": time.perf_counter() - STARTED,
        "peak_rss_mb": peak_rss_mb(),
    }


def _percentiles(seconds: list[float]) -> dict[str, float]:
    import numpy as np

    ms = np.asarray(seconds) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)), "mean_ms": float(ms.mean())}


def _timed(call, items, before=lambda: None) -> list[float]:
    times = []
    for item in items:
        before()
        began = time.perf_counter()
        call(item)
        times.append(time.perf_counter() - began)
    return times


def _stored_vectors(store):
    """(chunk ids, vectors) of every stored passage: FAISS rows locally, a full scan on Milvus."""
    import numpy as np

    if hasattr(store, "stored_vectors"):
        return store.stored_vectors()
    return np.arange(store.vectors.ntotal), store.vectors.reconstruct_n(0, store.vectors.ntotal)


def _recall_at_k(store, queries, k: int) -> float:
    """Share of the exact top-k (brute force over the stored vectors) that the store's dense search returns."""
    import numpy as np

    ids, stored = _stored_vectors(store)
    k = min(k, len(ids))
    exact = ids[np.argsort(-(queries @ stored.T), axis=1)[:, :k]]
    found = [[i for i, _ in store.dense(q[None, :], k)] for q in queries]
    return float(np.mean([len(set(e.tolist()) & set(f)) / k for e, f in zip(exact, found)]))


def query(args: dict) -> dict:
    """Load an assistant cold, then time search, ask and the bare vector search over the questions."""
    began = time.perf_counter()
    import rag

    imported = time.perf_counter()
    assistant = rag.Assistant.load(args["index"], settings=_settings(args.get("settings", {})))
    loaded = time.perf_counter()
    questions, k = args["questions"], args.get("k", 5)
    first = _timed(lambda q: assistant.ask(q), questions[:1])[0]
    for question in questions[1:4]:  # warm-up: lazy imports, allocator, caches
        assistant.ask(question)
    # Each question cold: the assistant's embedder forgets the vectors of earlier calls, so ask pays
    # its own query embedding and sentences after search did, and a chat's repeats go uncounted.
    cold = assistant.embedder.forget
    search = _timed(lambda q: assistant.search(q, k), questions, cold)
    ask = _timed(lambda q: assistant.ask(q), questions, cold)
    embed = _timed(lambda q: assistant.embedder.encode([q]), questions, cold)
    vectors = assistant.embedder.encode(questions)
    store = assistant.store
    bare = _timed(lambda v: store.dense(v[None, :], 10), vectors)  # the store's own vector search, no filter
    peak = peak_rss_mb()  # before the recall check, whose brute force copies every vector
    return {
        "import_s": imported - began,
        "load_s": loaded - imported,
        "first_ask_s": first,
        "search": _percentiles(search),
        "ask": _percentiles(ask),
        "embed_query": _percentiles(embed),
        "vector_search": _percentiles(bare),
        "recall_at_10": _recall_at_k(store, vectors, 10),
        "vector_index": store.manifest.get("vector_index", {"kind": "flat"}),
        "embedder": assistant.embedder.name,
        "passages": len(store),
        "questions": len(questions),
        "peak_rss_mb": peak,
    }


def main(argv: list[str]) -> int:
    command, payload = argv[0], json.loads(argv[1])
    result = {"build": build, "query": query}[command](payload)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
