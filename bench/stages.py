"""Chunking and embedding alone, medians of repeated runs: ``python -m bench.stages chunk|embed``.

Each stage runs in this process only (run it once per measurement); the machine's load average
is printed with every result, since a shared 2-core machine moves these numbers.

    python -m bench.stages chunk --repeat 3                 # read + chunk BBC (both cores from 400 articles)
    python -m bench.stages chunk --repeat 3 --set sentence_splitter=blingfire
    python -m bench.stages embed --passages 1000 --repeat 3 # the first 1,000 BBC passages, as built
    python -m bench.stages tokens --set chunk_overlap=0     # passages and model tokens a build embeds
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BBC = ROOT.parent / "shared" / "corpora" / "bbc"


def _load() -> float:
    return os.getloadavg()[0]


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children: the work, whatever the load."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _median_run(call, repeat: int) -> tuple[float, list[float], float]:
    """Median wall seconds, every run's, and the median CPU seconds."""
    times, cpu = [], []
    for _ in range(repeat):
        began, began_cpu = time.perf_counter(), _cpu_s()
        call()
        times.append(time.perf_counter() - began)
        cpu.append(_cpu_s() - began_cpu)
    return statistics.median(times), times, statistics.median(cpu)


def chunk(args, overrides: dict) -> dict:
    from rag import chunk_articles, read_corpus

    began = time.perf_counter()
    articles = read_corpus(args.corpus).articles
    read_s = time.perf_counter() - began
    counts: list[int] = []
    median, times, cpu = _median_run(lambda: counts.append(sum(map(len, chunk_articles(articles, **overrides)))), args.repeat)
    return {"stage": "chunk", "articles": len(articles), "chunks": counts[-1], "read_s": read_s,
            "chunk_s_median": median, "chunk_s": times, "chunk_cpu_s_median": cpu}


def _passages(corpus: Path, count: int, overrides: dict) -> list[str]:
    from rag.text.chunking import embedding_text
    from rag import chunk_articles, read_corpus

    articles = sorted(read_corpus(corpus).articles, key=lambda a: a.doc_id)
    texts: list[str] = []
    for article in articles:
        texts.extend(embedding_text(c.title, c.text) for c in chunk_articles([article], **overrides)[0])
        if len(texts) >= count:
            return texts[:count]
    return texts


def embed(args, overrides: dict) -> dict:
    from rag.embed.embedding import get_embedder
    from rag import resolve

    settings = resolve(env={}, **overrides)
    texts = _passages(args.corpus, args.passages, {"settings": settings})
    embedder = get_embedder(settings.model, settings.device, settings.backend)
    limit = embedder.max_tokens or 10**9
    tokens = sum(min(limit, embedder.count_tokens(t)) for t in texts)
    embedder.encode(texts[:64], batch_size=settings.embed_batch_size)  # warm-up
    median, times, cpu = _median_run(lambda: embedder.encode(texts, batch_size=settings.embed_batch_size), args.repeat)
    return {"stage": "embed", "embedder": embedder.name, "passages": len(texts), "tokens": tokens,
            "seconds_median": median, "seconds": times, "passages_per_s": len(texts) / median,
            "tokens_per_s": tokens / median, "cpu_s_median": cpu}


def tokens(args, overrides: dict) -> dict:
    """What a build would embed: passages, and model tokens with and without the title prefix."""
    from rag.text.chunking import embedding_text
    from rag.embed.embedding import get_embedder
    from rag import chunk_articles, read_corpus, resolve

    settings = resolve(env={}, **overrides)
    embedder = get_embedder(settings.model, settings.device, settings.backend)
    chunks = [c for cs in chunk_articles(read_corpus(args.corpus).articles, settings=settings) for c in cs]
    limit = embedder.max_tokens or 10**9
    titled = sum(min(limit, embedder.count_tokens(embedding_text(c.title, c.text))) for c in chunks)
    bare = sum(min(limit, embedder.count_tokens(c.text)) for c in chunks)
    return {"stage": "tokens", "passages": len(chunks), "tokens_with_title": titled, "tokens_without_title": bare}


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.stages", description=__doc__.splitlines()[0])
    p.add_argument("stage", choices=["chunk", "embed", "tokens"])
    p.add_argument("--corpus", type=Path, default=BBC)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--passages", type=int, default=1000)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = p.parse_args()
    overrides = dict(item.split("=", 1) for item in args.overrides)
    load_before = _load()
    stage = {"chunk": chunk, "embed": embed, "tokens": tokens}[args.stage]
    result = stage(args, {"progress": False, **overrides})
    result.update(overrides=overrides, load_start=load_before, load_end=_load())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
