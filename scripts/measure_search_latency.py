"""Search latency over an eval set's questions, each at its own ``as_of`` (README, "Speed and scale").

    python scripts/measure_search_latency.py SET --index DIR [--out results.json]

Prints the milliseconds of the first filtered search (which reads the chunk filters' arrays), then the
p50 and p90 over the set (each question's best of three, after one untimed pass, so the query
embedding is cached and what is timed is the retrieval itself) and the p50 of the questions with a
time period. ``--out`` writes every question's ranked passages, to check that a change keeps them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rag  # noqa: E402
from eval.dataset import load_set  # noqa: E402
from eval.harness import index_for  # noqa: E402


def timed_ms(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set")
    parser.add_argument("--index", required=True)
    parser.add_argument("--out")
    args = parser.parse_args()
    eval_set = load_set(args.set)
    assistant = rag.Assistant.load(index_for(eval_set, Path(args.index), progress=False))
    first = timed_ms(lambda: assistant.search("first filtered search", k=10, filters={"date_from": "1900-01-01"}))
    items = eval_set.items
    for item in items:
        assistant.search(item.question, k=10, as_of=item.as_of)
    best = [min(timed_ms(lambda: assistant.search(item.question, k=10, as_of=item.as_of)) for _ in range(3))
            for item in items]
    with_period = [ms for ms, item in zip(best, items) if assistant.period(item.question, item.as_of) is not None]
    print(json.dumps({"set": args.set, "questions": len(items), "first_filtered_ms": round(first, 1),
                      "p50_ms": round(statistics.median(best), 2), "p90_ms": round(float(np.percentile(best, 90)), 2),
                      "with_period": len(with_period),
                      "with_period_p50_ms": round(statistics.median(with_period), 2) if with_period else None}))
    if args.out:
        ranked = {item.id: [[p.doc_id, p.start, p.end, p.duplicates, round(p.score, 6)]
                            for p in assistant.search(item.question, k=10, as_of=item.as_of)] for item in items}
        Path(args.out).write_text(json.dumps(ranked), encoding="utf-8")


if __name__ == "__main__":
    main()
