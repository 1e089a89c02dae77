"""The txtai peer, run inside its own virtualenv (bench/.peer-venv): ``python bench/peer_txtai.py build|query JSON``.

It indexes exactly the passages our index holds (title + chunk text, exported by
``bench.run``), with the same model folder, txtai's faiss backend and ``content=True``
(SQLite beside the vectors, as we keep texts in SQLite), then answers the same questions
with ``Embeddings.search``. Chunking is ours, so its build time is embedding + indexing +
storing. Standalone: it must not import rag, which is not installed in that virtualenv.
"""

from __future__ import annotations

import json
import sys
import time

from rss import peak_rss_mb  # run as a script: its folder, bench/, is first on sys.path

STARTED = time.perf_counter()


def _percentiles(seconds: list[float]) -> dict[str, float]:
    import numpy as np

    ms = np.asarray(seconds) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)), "mean_ms": float(ms.mean())}


def build(args: dict) -> dict:
    began = time.perf_counter()
    from txtai import Embeddings

    imported = time.perf_counter()
    embeddings = Embeddings(path=args["model"], backend="faiss", content=True)
    loaded = time.perf_counter()
    with open(args["passages"], encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    indexing = time.perf_counter()
    embeddings.index((row["id"], row["text"], None) for row in rows)
    embeddings.save(args["index"])
    done = time.perf_counter()
    return {
        "import_s": imported - began,
        "model_load_s": loaded - imported,
        "build_s": done - indexing,
        "passages": len(rows),
        "faiss": embeddings.config.get("faiss", {}),
        "wall_s": time.perf_counter() - STARTED,
        "peak_rss_mb": peak_rss_mb(),
    }


def query(args: dict) -> dict:
    began = time.perf_counter()
    from txtai import Embeddings

    imported = time.perf_counter()
    embeddings = Embeddings()
    embeddings.load(args["index"])
    loaded = time.perf_counter()
    questions, k = args["questions"], args.get("k", 5)
    for question in questions[:4]:  # warm-up, as for ours
        embeddings.search(question, k)
    times = []
    for question in questions:
        start = time.perf_counter()
        embeddings.search(question, k)
        times.append(time.perf_counter() - start)
    return {
        "import_s": imported - began,
        "load_s": loaded - imported,
        "search": _percentiles(times),
        "faiss": embeddings.config.get("faiss", {}),
        "passages": embeddings.count(),
        "peak_rss_mb": peak_rss_mb(),
    }


if __name__ == "__main__":
    command, payload = sys.argv[1], json.loads(sys.argv[2])
    print(json.dumps({"build": build, "query": query}[command](payload), default=str))
