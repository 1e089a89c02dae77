"""``rag eval``: registered into the ``rag`` command through the ``rag.commands`` entry point."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag import UserError


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``eval`` to the ``rag`` command."""
    parser = commands.add_parser("eval", help="run eval sets: retrieval, citation and abstention metrics")
    parser.add_argument("sets", nargs="*", help="set names from eval/sets.toml or .jsonl paths (default: all)")
    parser.add_argument("--index", help="index folder (default: index/eval-SET, built or updated as needed)")
    parser.add_argument("--corpus", help="corpus folder (overrides the set's declared corpus)")
    parser.add_argument("--k", type=int, default=10, help="passages retrieved per question (default: 10)")
    parser.add_argument("--out", help="report folder (default: eval/out/SET)")
    parser.add_argument("--json", action="store_true", help="print the aggregates as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 if a metric falls outside eval/thresholds.toml")
    parser.add_argument("--compare", metavar="OLD_REPORT", help="an earlier report.json to compare with")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a setting, e.g. --set retriever=bm25 (repeatable)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(run=run)


def _overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--set expects KEY=VALUE, got {pair!r}")
        overrides[key.strip()] = value.strip()
    return overrides


def _one_set(name: str, args: argparse.Namespace) -> list[str]:
    """Evaluate one set, write its report, print it; returns the gate's failures."""
    import rag
    from eval.dataset import EvalSetError, load_set, resolve_set
    from eval.harness import evaluate, index_for
    from eval.report import check, compare, summary_json, table, thresholds, write_outputs

    try:
        eval_set = load_set(name, args.corpus)
    except EvalSetError as exc:
        set_name, _, corpus = resolve_set(name, args.corpus)
        if not corpus.is_dir():
            print(f"skipping eval set {set_name!r}: its corpus {corpus} is not here")
            return []
        raise exc
    overrides = _overrides(args.overrides)
    index = index_for(eval_set, args.index, progress=not args.quiet, **overrides)
    assistant = rag.Assistant.load(index, **overrides)
    report = evaluate(assistant, eval_set, k=args.k, progress=not args.quiet)
    out = Path(args.out) if args.out and len(args.sets) <= 1 else Path(args.out or "eval/out") / eval_set.name
    write_outputs(report, out)
    print(json.dumps(summary_json(report), indent=1) if args.json else f"\n== {eval_set.name} ({len(eval_set.items)} items) ==\n{table(report)}")
    print(f"report: {out}/report.md")
    if args.compare:
        print(compare(report, Path(args.compare)))
    return [f"{eval_set.name}: {failure}" for failure in check(report.metrics, thresholds(eval_set.name))] if args.check else []


def run(args: argparse.Namespace) -> int:
    from eval.dataset import declared_sets

    if args.k < 1:
        raise UserError("--k must be at least 1")
    names = args.sets or list(declared_sets())
    failures = [failure for name in names for failure in _one_set(name, args)]
    for failure in failures:
        print(f"GATE FAILED {failure}")
    if args.check and not failures:
        print("gate passed")
    return 1 if failures else 0
