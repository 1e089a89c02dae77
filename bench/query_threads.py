"""How the query session's threads wait between ops: ``python -m bench.query_threads [--rounds N] [--busy K]``.

Embeds eval/bbc.jsonl's questions one at a time (as a search does) on the int8 model's
two-threaded session, once per variant and round, interleaved so that the machine's load falls
on all alike, with a 2 ms pause between questions (a chat's gap, which a spinning pool keeps
burning). ``--busy K`` runs K busy-looping processes beside it, to see the variants under load.
Prints p50 / p90 wall ms and the CPU ms a question costs (the process's, all threads), and checks
that every variant gives the same vectors as the session that does not spin.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import time
from pathlib import Path

import numpy as np

from rag.embed.embedding import get_embedder
from rag.embed.onnx_backend import QUERY_SPINNING, OnnxEmbedder

QUESTIONS = Path(__file__).resolve().parent.parent / "eval" / "bbc.jsonl"
VARIANTS = {
    "no spinning": {"session.intra_op.allow_spinning": "0"},
    "spinning (ONNX Runtime's default)": {"session.intra_op.allow_spinning": "1"},
    "spinning, stopped after each run": {"session.intra_op.allow_spinning": "1", "session.force_spinning_stop": "1"},
    "shipped: spin <= 100 us, stopped after each run": QUERY_SPINNING,
}


def _busy() -> None:
    while True:
        pass


def measure(rounds: int) -> dict[str, dict[str, float]]:
    """Per variant: p50 and p90 wall ms and mean CPU ms of embedding one question."""
    embedder = get_embedder("all-MiniLM-L6-v2", "cpu", "onnx-int8")
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]
    # The product's own query session (threads 0: one per core), only its waiting varied.
    sessions = {name: OnnxEmbedder._open_session(embedder.path, 0, ["CPUExecutionProvider"], spinning)
                for name, spinning in VARIANTS.items()}
    before = [embedder._run(sessions["no spinning"], [q]) for q in questions[:20]]
    for name, session in sessions.items():
        if not all(np.array_equal(v, embedder._run(session, [q])) for v, q in zip(before, questions)):
            raise SystemExit(f"{name}: vectors differ from the no-spinning session's")
    wall: dict[str, list[float]] = {name: [] for name in sessions}
    cpu = dict.fromkeys(sessions, 0.0)
    for _ in range(rounds):
        for name, session in sessions.items():
            began_cpu = time.process_time()
            for question in questions:
                began = time.perf_counter()
                embedder._run(session, [question])
                wall[name].append(time.perf_counter() - began)
                time.sleep(0.002)
            cpu[name] += time.process_time() - began_cpu
    return {
        name: {"p50_ms": 1000 * statistics.median(t), "p90_ms": 1000 * sorted(t)[int(0.9 * len(t))],
               "cpu_ms": 1000 * cpu[name] / len(t)}
        for name, t in wall.items()
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--busy", type=int, default=0, help="busy-looping processes to run beside it")
    args = parser.parse_args(argv)
    hogs = [multiprocessing.Process(target=_busy, daemon=True) for _ in range(args.busy)]
    for hog in hogs:
        hog.start()
    try:
        load = os.getloadavg()[0]
        rows = measure(args.rounds)
    finally:
        for hog in hogs:
            hog.terminate()
    print(f"load at start {load:.2f}, {args.busy} busy processes beside it")
    for name, row in rows.items():
        print(f"{name:50s} p50 {row['p50_ms']:6.2f} ms  p90 {row['p90_ms']:6.2f} ms  CPU {row['cpu_ms']:5.2f} ms a question")


if __name__ == "__main__":
    main()
