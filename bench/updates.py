"""First answer and update times: ``python -m bench.updates --corpus ../shared/corpora/bbc``.

Works on a copy of the corpus (``--work``, default /tmp/rag-bench-updates), so the rows are:

- ``first answer``: seconds from starting ``rag index`` on a new index until ``rag ask``
  (a fresh process, polled) answers: from the lexical generation, before the vectors exist;
- ``full build``: wall seconds until that ``rag index`` exits;
- ``unchanged re-run``, ``1% changed`` (a paragraph appended to 1% of the articles) and
  ``1% added`` (as many new articles): wall seconds of ``rag index`` in a fresh process,
  imports included, medians of ``--runs``; and its CPU seconds (user + system), which a
  busy machine disturbs far less than the wall time.

``--cache EMBEDDINGS.sqlite`` seeds the new index's embedding cache (e.g. a BBC build's), so
the full build measures everything but embedding; ``--synthetic N`` measures a recombined
corpus of about N passages (bench/synthetic.py) instead; ``--model hashing`` skips the model.
``--reuse`` keeps the corpus and index already in ``--work`` (a copy of an earlier run's: the
first build at 115k passages takes long) and measures the update rows only, after one untimed
re-run that lets the index record what it needs (e.g. an index written by an older release).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import rag
from bench.synthetic import synthetic_corpus

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "What did the government say?"


def _env(model: str | None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAG_PROGRESS": "false"}
    return {**env, "RAG_MODEL": model} if model else env


def _rag(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], env=env, capture_output=True, text=True)


def first_answer(corpus: Path, index: Path, env: dict[str, str]) -> tuple[float, float]:
    """(seconds until ``rag ask`` answers, seconds until the build ends) of a first build."""
    began = time.perf_counter()
    # stderr to a file, not a pipe: nobody reads a pipe while polling, and a full one (64 KB of
    # warnings) stopped a 115k-passage build dead.
    with tempfile.TemporaryFile("w+") as err:
        build = subprocess.Popen([sys.executable, "-m", "rag.cli", "index", str(corpus), "--index", str(index), "--quiet"],
                                 env=env, stdout=subprocess.DEVNULL, stderr=err, text=True)
        answered = None
        while answered is None and build.poll() is None:
            if rag.index_files(index) is not None and _rag("ask", QUESTION, "--index", str(index), env=env).returncode == 0:
                answered = time.perf_counter() - began
                print(f"first answer after {answered:.1f} s", flush=True)
            time.sleep(0.2)
        build.wait()
        err.seek(0)
        if build.returncode != 0:
            raise SystemExit(f"rag index failed: {err.read().strip()[-2000:]}")
    ended = time.perf_counter() - began
    return answered or ended, ended


# CPU seconds (user + system) of every `rag index` timed so far, by row: on a shared machine the
# wall time mostly measures the other work, the CPU time what the update itself costs.
CPU: dict[str, list[float]] = {}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_index(corpus: Path, index: Path, env: dict[str, str], row: str = "") -> float:
    """Wall seconds of one `rag index` in a fresh process; its CPU seconds go to ``CPU[row]``."""
    began, cpu = time.perf_counter(), _children_cpu()
    run = _rag("index", str(corpus), "--index", str(index), "--quiet", env=env)
    if run.returncode != 0:
        raise SystemExit(f"rag index failed: {run.stderr.strip()}")
    CPU.setdefault(row, []).append(_children_cpu() - cpu)
    return time.perf_counter() - began


def _articles(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*.txt") if p.name not in {"LICENSE", "SOURCE.md"})


def change(corpus: Path, fraction: float, seed: int) -> None:
    rng = random.Random(seed)
    files = _articles(corpus)
    for path in rng.sample(files, max(1, round(len(files) * fraction))):
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"\n\nUpdate {seed}-{rng.randint(1, 10**6)}: the story was revised after publication with new figures.\n")


def add(corpus: Path, fraction: float, seed: int) -> None:
    rng = random.Random(seed)
    files = _articles(corpus)
    folder = corpus / f"added-{seed}"
    folder.mkdir()
    for number, path in enumerate(rng.sample(files, max(1, round(len(files) * fraction)))):
        text = path.read_text(encoding="utf-8")
        (folder / f"{number:04d}-{path.name}").write_text(f"{text}\nA follow-up report {seed}-{number} added new details.\n")


def _first_build(args: argparse.Namespace, corpus: Path, index: Path, env: dict[str, str]) -> dict[str, float]:
    """A fresh copy of the corpus and its first build: the first-answer and full-build rows."""
    shutil.rmtree(args.work, ignore_errors=True)
    if args.synthetic:
        synthetic_corpus(args.corpus, corpus, args.synthetic, 8765 / 2096)
    else:
        shutil.copytree(args.corpus, corpus)
    if args.cache:
        index.mkdir(parents=True)
        shutil.copy2(args.cache, index / rag.EMBEDDING_CACHE)
    answer, build = first_answer(corpus, index, env)
    print(f"full build {build:.1f} s", flush=True)
    return {"first answer s": answer, "full build s": build}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpora" / "bbc")
    p.add_argument("--work", type=Path, default=Path("/tmp/rag-bench-updates"))
    p.add_argument("--cache", type=Path, help="an embeddings.sqlite to seed the new index with")
    p.add_argument("--synthetic", type=int, help="measure a synthetic corpus of about this many passages")
    p.add_argument("--model", help="embedding model (e.g. hashing: no model, for large synthetic corpora)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json", type=Path, help="also write the rows here")
    p.add_argument("--reuse", action="store_true", help="measure updates of the corpus and index already in --work")
    args = p.parse_args(argv)
    env = _env(args.model)
    corpus, index = args.work / "corpus", args.work / "index"
    rows = {"load before": os.getloadavg()[0]}
    if args.reuse:
        print(f"settling re-run {timed_index(corpus, index, env):.2f} s", flush=True)
    else:
        rows.update(_first_build(args, corpus, index, env))
    rows["unchanged re-run s"] = statistics.median(timed_index(corpus, index, env, "unchanged re-run") for _ in range(args.runs))
    changed, added = [], []
    first_seed = len(list(corpus.glob("added-*")))  # a reused corpus holds earlier runs' added-N folders
    for run in range(first_seed, first_seed + args.runs):
        change(corpus, 0.01, seed=run)
        changed.append(timed_index(corpus, index, env, "1% changed"))
        add(corpus, 0.01, seed=run)
        added.append(timed_index(corpus, index, env, "1% added"))
    rows["1% changed s"], rows["1% added s"] = statistics.median(changed), statistics.median(added)
    rows.update({f"{name} cpu s": statistics.median(values) for name, values in CPU.items() if name})
    chunks = rag.index_info(index).chunks
    rows.update(passages=chunks, load=os.getloadavg()[0], corpus=str(args.corpus), synthetic=args.synthetic, model=args.model)
    for name, value in rows.items():
        print(f"{name:>20}: {value:.2f}" if isinstance(value, float) else f"{name:>20}: {value}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
