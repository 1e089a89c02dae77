"""Orchestration: build every variant over every corpus in fresh processes, measure, report.

Per corpus and variant (backend x index type): a fresh index folder (so an empty embedding
cache) is built, re-run unchanged, loaded cold to time search and ask over the questions,
then re-run over a copy of the corpus with 1% of its articles changed. Every step is a
subprocess (``bench.worker``), so peak RSS and cold start are per step. The optional peer
(txtai, in its own virtualenv) indexes the same passages with the same model and answers
the same questions.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.medians import median_result
from bench.synthetic import changed_copy, synthetic_corpus

ROOT = Path(__file__).resolve().parent.parent
PEER_VENV = ROOT / "bench" / ".peer-venv"
PEER_REQUIREMENTS = ROOT / "bench" / "peer-requirements.txt"
# Children never reach for a model hub: every model here is a local folder.
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


@dataclass
class Plan:
    """What one ``python -m bench`` run measures."""

    corpus: Path
    out: Path
    synthetic: list[int] = field(default_factory=list)
    backends: list[str] = field(default_factory=lambda: ["torch", "onnx-int8"])
    index_types: list[str] = field(default_factory=lambda: ["flat", "hnsw"])
    peer: str | None = None
    questions: list[str] = field(default_factory=list)
    model: str = "all-MiniLM-L6-v2"
    skip_base: bool = False
    reuse_embeddings: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    # "local" or "milvus" (Milvus Lite in <index>/milvus.db unless --set milvus_uri=... names a server).
    store: str = "local"
    # Each corpus is measured this many times over, variants and peer alike; rows hold the medians.
    runs: int = 1


def load_questions(path: Path, limit: int | None = None) -> list[str]:
    """The ``question`` of each JSON line in ``path`` (eval/bbc.jsonl by default)."""
    with open(path, encoding="utf-8") as handle:
        questions = [json.loads(line)["question"] for line in handle if line.strip()]
    return questions[:limit] if limit else questions


def _child(argv: list[str], python: str = sys.executable) -> dict[str, Any]:
    """Run one measurement process; its last stdout line is its JSON result."""
    env = {**os.environ, **OFFLINE, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env = {k: v for k, v in env.items() if not k.startswith("RAG_")}
    done = subprocess.run([python, *argv], capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _worker(command: str, payload: dict[str, Any]) -> dict[str, Any]:
    return _child(["-m", "bench.worker", command, json.dumps(payload)])


def _folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _index_bytes(index_dir: Path) -> dict[str, int | None]:
    """Bytes of the live index: the generation folder, plus Milvus Lite's data folder when there is one."""
    import rag

    files = rag.index_files(index_dir)
    lite = _folder_bytes(files.milvus_lite) if files.milvus_lite else 0
    return {
        "generation_bytes": _folder_bytes(files.generation) + lite,
        "vector_bytes": files.vectors.stat().st_size if files.vectors else None,  # Milvus: vectors are inside its files
        "embedding_cache_bytes": files.embedding_cache.stat().st_size,
    }


def _prepare_exports(plan: Plan) -> dict[str, float]:
    """Export ONNX models before any timing, so no build pays the one-off export."""
    seconds = {}
    for backend in plan.backends:
        if backend.startswith("onnx") and plan.model != "hashing":
            began = time.perf_counter()
            _child(["-c", f"from rag.embed.embedding import get_embedder; get_embedder({plan.model!r}, 'cpu', {backend!r}); print('{{}}')"])
            seconds[backend] = time.perf_counter() - began
    return seconds


def measure_variant(plan: Plan, corpus: Path, changed: Path, work: Path, backend: str, index_type: str,
                    seed_cache: Path | None) -> dict[str, Any]:
    """Build, re-run, query and update one variant in a fresh index folder."""
    index = work / f"{backend}-{index_type}" if plan.store == "local" else work / f"{backend}-{plan.store}-{index_type}"
    shutil.rmtree(index, ignore_errors=True)
    if seed_cache is not None:  # --reuse-embeddings: this build measures everything but embedding
        index.mkdir(parents=True)
        shutil.copy(seed_cache, _embedding_cache(index))
    settings = {"model": plan.model, "backend": backend, "index_type": index_type, "store": plan.store, **plan.settings}
    build = _worker("build", {"corpus": str(corpus), "index": str(index), "settings": settings})
    unchanged = _worker("build", {"corpus": str(corpus), "index": str(index), "settings": settings, "preload": False})
    served = _worker("query", {"index": str(index), "questions": plan.questions, "settings": plan.settings})
    sizes = _index_bytes(index)
    update = _worker("build", {"corpus": str(changed), "index": str(index), "settings": settings, "preload": False})
    passages = build["passages"]
    return {
        "backend": backend,
        "index_type": index_type,
        "index_dir": str(index),
        "embeddings_cached": seed_cache is not None,
        "passages": passages,
        "build_s": build["build_s"],
        "passages_per_s": passages / build["build_s"] if build["build_s"] else None,
        "model_load_s": build["model_load_s"],
        "build_peak_rss_mb": build["peak_rss_mb"],
        # Re-runs: build_index time (model loaded only if needed), and the whole process (+ imports).
        "rerun_unchanged_s": unchanged["build_s"],
        "rerun_unchanged_wall_s": unchanged["wall_s"],
        "rerun_1pct_s": update["build_s"],
        "rerun_1pct_wall_s": update["wall_s"],
        "rerun_1pct_embedded": update["embedded"],
        "load_s": served["load_s"],
        "import_s": served["import_s"],
        "cold_start_s": served["import_s"] + served["load_s"],  # import rag + Assistant.load, in a fresh process
        "first_ask_s": served["first_ask_s"],
        "search_p50_ms": served["search"]["p50_ms"],
        "search_p95_ms": served["search"]["p95_ms"],
        "ask_p50_ms": served["ask"]["p50_ms"],
        "ask_p95_ms": served["ask"]["p95_ms"],
        "embed_query_p50_ms": served["embed_query"]["p50_ms"],
        "vector_search_p50_ms": served["vector_search"]["p50_ms"],
        "vector_search_p95_ms": served["vector_search"]["p95_ms"],
        "recall_at_10": served["recall_at_10"],
        "vector_index": served["vector_index"],
        "loaded_peak_rss_mb": served["peak_rss_mb"],
        "store": plan.store,
        "bytes_per_passage": sizes["generation_bytes"] / passages,
        "vector_bytes_per_passage": sizes["vector_bytes"] / passages if sizes["vector_bytes"] else None,
        **sizes,
    }


def ensure_peer_venv(peer: str) -> Path:
    """The peer's own virtualenv, created from bench/peer-requirements.txt on first use."""
    if peer != "txtai":
        raise SystemExit(f"unknown peer {peer!r}; choose: txtai")
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        base = getattr(sys, "_base_executable", sys.executable)  # the interpreter under our venv, not the venv
        subprocess.run([base, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(PEER_REQUIREMENTS)], check=True)
    return python


def export_passages(index_dir: Path, target: Path) -> int:
    """Our index's passages as JSON lines {id, text}: text is what we embed (title + chunk)."""
    from rag.text.chunking import embedding_text
    from rag.store.local import IndexStore

    store = IndexStore.open(index_dir)
    try:
        ids = list(range(len(store)))
        rows = store.passages(ids, [0.0] * len(ids))
    finally:
        store.close()
    with open(target, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps({"id": row.chunk_id, "text": embedding_text(row.title, row.text)}) + "\n")
    return len(rows)


def measure_peer(plan: Plan, python: Path, our_index: Path, work: Path) -> dict[str, Any]:
    from rag.embed.embedding import model_location

    passages = work / "passages.jsonl"
    export_passages(our_index, passages)
    index = work / "txtai-index"
    shutil.rmtree(index, ignore_errors=True)
    script = str(ROOT / "bench" / "peer_txtai.py")
    model = model_location(plan.model)
    build = _child([script, "build", json.dumps({"model": model, "passages": str(passages), "index": str(index)})], str(python))
    served = _child([script, "query", json.dumps({"index": str(index), "questions": plan.questions})], str(python))
    return {
        "peer": plan.peer,
        "passages": build["passages"],
        "build_s": build["build_s"],
        "passages_per_s": build["passages"] / build["build_s"],
        "model_load_s": build["model_load_s"],
        "build_peak_rss_mb": build["peak_rss_mb"],
        "load_s": served["load_s"],
        "import_s": served["import_s"],
        "cold_start_s": served["import_s"] + served["load_s"],  # import txtai + Embeddings.load
        "search_p50_ms": served["search"]["p50_ms"],
        "search_p95_ms": served["search"]["p95_ms"],
        "loaded_peak_rss_mb": served["peak_rss_mb"],
        "faiss": served["faiss"],
        "bytes_per_passage": _folder_bytes(index) / build["passages"],
    }


RATIO_KEYS = (
    "build_s", "search_p50_ms", "search_p95_ms", "build_peak_rss_mb", "loaded_peak_rss_mb", "cold_start_s", "bytes_per_passage"
)


def peer_ratios(ours: dict[str, dict[str, Any]], peer: dict[str, Any]) -> dict[str, dict[str, float]]:
    """ours / peer for each variant: below 1 means we are faster or smaller."""
    return {
        name: {key: row[key] / peer[key] for key in RATIO_KEYS if row.get(key) is not None and peer.get(key)}
        for name, row in ours.items()
    }


def measure_corpus(plan: Plan, name: str, corpus: Path) -> dict[str, Any]:
    work = plan.out / "work" / name
    work.mkdir(parents=True, exist_ok=True)
    changed, changed_count = changed_copy(corpus, work / "corpus-1pct-changed")
    result: dict[str, Any] = {"corpus": str(corpus), "articles_changed_for_1pct": changed_count, "variants": {}}
    for backend in plan.backends:
        seed_cache = None
        for index_type in plan.index_types:
            variant = f"{backend}/{index_type}" if plan.store == "local" else f"{backend}/{plan.store}-{index_type}"
            print(f"[bench] {name}: {variant} (load {os.getloadavg()[0]:.2f})", flush=True)
            row = measure_variant(plan, corpus, changed, work, backend, index_type, seed_cache)
            print(f"[bench] {name}: {variant}: build {row['build_s']:.1f} s, 1% update {row['rerun_1pct_s']:.1f} s, "
                  f"search p50 {row['search_p50_ms']:.1f} ms, recall@10 {row['recall_at_10']:.3f}", flush=True)
            row["load_average_1m"] = os.getloadavg()[0]
            result["variants"][variant] = row
            if plan.reuse_embeddings and seed_cache is None:
                seed_cache = work / f"{backend}-{index_type}.embeddings.sqlite"
                # The cache as the fresh build left it (before the 1% update added rows).
                _copy_fresh_cache(Path(row["index_dir"]), seed_cache)
    if plan.peer:
        first = next(iter(result["variants"].values()))
        print(f"[bench] {name}: peer {plan.peer} (load {os.getloadavg()[0]:.2f})", flush=True)
        try:
            python = ensure_peer_venv(plan.peer)
            our_index = work / f"{first['backend']}-{first['index_type']}"
            result["peer"] = measure_peer(plan, python, our_index, work)
            result["peer_ratios"] = peer_ratios(result["variants"], result["peer"])
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            result["peer"] = {"peer": plan.peer, "error": str(exc)[-2000:]}
    return result


def _copy_fresh_cache(index_dir: Path, target: Path) -> None:
    shutil.copy(_embedding_cache(index_dir), target)


def _embedding_cache(index_dir: Path) -> Path:
    """Where ``index_dir``'s embedding cache lies, whether or not it is built yet."""
    import rag

    return index_dir / rag.EMBEDDING_CACHE


def machine_info() -> dict[str, Any]:
    """Platform and package versions (read from metadata: importing torch here would inflate children's RSS)."""
    from importlib.metadata import PackageNotFoundError, version

    info: dict[str, Any] = {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()}
    for package in ("faiss-cpu", "numpy", "torch", "onnxruntime", "sentence-transformers", "transformers"):
        try:
            info[package] = version(package)
        except PackageNotFoundError:
            pass
    return info


def run(plan: Plan) -> dict[str, Any]:
    """Measure everything ``plan`` asks for; writes ``results.json`` under ``plan.out`` and returns it."""
    plan.out.mkdir(parents=True, exist_ok=True)
    began = time.time()
    report: dict[str, Any] = {"machine": machine_info(), "load_average_start": os.getloadavg(),
                              "questions": len(plan.questions), "model": plan.model, "corpora": {}}
    report["store"] = plan.store
    report["onnx_export_s"] = _prepare_exports(plan)
    corpora: list[tuple[str, Path]] = [] if plan.skip_base else [(plan.corpus.name, plan.corpus)]
    base_ppa = None
    for size in plan.synthetic:
        base_ppa = base_ppa or _passages_per_article(plan)
        target = plan.out / "corpora" / f"synthetic-{size}"
        corpora.append((f"synthetic-{size}", synthetic_corpus(plan.corpus, target, size, base_ppa)))
    for name, corpus in corpora:
        results = []
        for number in range(plan.runs):
            if plan.runs > 1:
                print(f"[bench] {name}: run {number + 1} of {plan.runs}", flush=True)
            results.append(measure_corpus(plan, name, corpus))
            report["corpora"][name] = median_result(results, peer_ratios) if plan.runs > 1 else results[0]
            _write(plan.out / "results.json", report)  # partial results survive a later failure
    report["load_average_end"] = os.getloadavg()
    report["seconds"] = time.time() - began
    _write(plan.out / "results.json", report)
    return report


def _passages_per_article(plan: Plan) -> float:
    """Chunks per article of the base corpus, chunked as a build would (chunking is what counts)."""
    import rag

    articles = rag.read_corpus(plan.corpus).articles[:300]
    # The real model's token counter when available, so the estimate matches real chunking.
    backend = "onnx-int8" if plan.model != "hashing" else "torch"
    settings = rag.resolve(env={}, **{**plan.settings, "model": plan.model, "backend": backend})
    chunks = sum(map(len, rag.chunk_articles(articles, settings=settings)))
    return chunks / max(1, len(articles))


def _write(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
