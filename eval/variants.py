"""Compare retrieval variants on the eval sets in one process: ``python -m eval.variants``.

Prints a Markdown table (the one in the README) and writes it as JSON beside the reports.
Each variant is a set of setting overrides; the index is built once per set.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import rag
from eval.dataset import load_set, resolve_set
from eval.harness import evaluate, index_for

VARIANTS = {
    "dense": {"retriever": "dense"},
    "bm25": {"retriever": "bm25"},
    "hybrid": {"retriever": "hybrid"},
}
COLUMNS = ("doc.R@1", "doc.R@5", "doc.MRR@10", "doc.nDCG@10", "passage.R@5", "answer.hit",
           "abstention.recall", "abstention.false_rate", "latency.search_p50_ms")


def compare(set_names: list[str], variants: dict[str, dict], k: int = 10) -> dict[str, dict[str, dict]]:
    """Aggregate metrics per set and variant."""
    results: dict[str, dict[str, dict]] = {}
    for name in set_names:
        if not resolve_set(name)[2].is_dir():
            print(f"skipping {name}: corpus not here")
            continue
        eval_set = load_set(name)
        index = index_for(eval_set, None, progress=False)
        for label, overrides in variants.items():
            assistant = rag.Assistant.load(index, **overrides)
            results.setdefault(name, {})[label] = evaluate(assistant, eval_set, k=k, progress=False).metrics
            print(f"{name:<6} {label:<28}" + " ".join(f"{(results[name][label].get(c) or 0):.3f}" for c in COLUMNS), flush=True)
    return results


def markdown_table(results: dict[str, dict[str, dict]]) -> str:
    lines = ["| set | variant | " + " | ".join(COLUMNS) + " |", "| --- | --- |" + " --- |" * len(COLUMNS)]
    for name, by_variant in results.items():
        for label, metrics in by_variant.items():
            values = [metrics.get(c) for c in COLUMNS]
            cells = ["—" if v is None else f"{v:.1f}" if c.startswith("latency") else f"{v:.3f}" for c, v in zip(COLUMNS, values)]
            lines.append(f"| {name} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", default=["seeds", "bbc"])
    parser.add_argument("--variants", help="JSON object label -> overrides (default: dense, bm25, hybrid)")
    parser.add_argument("--out", default="eval/out/variants.json")
    args = parser.parse_args()
    variants = json.loads(args.variants) if args.variants else VARIANTS
    results = compare(args.sets, variants)
    print(markdown_table(results))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
