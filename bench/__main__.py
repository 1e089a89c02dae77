"""``python -m bench``: build, search and ask timings, memory and recall for each variant (see bench/README.md).

    python -m bench                                   # BBC: torch and onnx-int8, flat and hnsw
    python -m bench --synthetic 10000,100000 --skip-base --backends onnx-int8 --reuse-embeddings
    python -m bench --peer txtai                      # txtai in bench/.peer-venv on the same passages
    python -m bench --store milvus --backends onnx-int8  # the same on Milvus (Lite here; --set milvus_uri=... a server)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.report import render
from bench.run import ROOT, Plan, load_questions, run


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _pairs(pairs: list[str]) -> dict[str, str]:
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--set expects KEY=VALUE, got {pair!r}")
        result[key.strip()] = value.strip()
    return result


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of runs >= 1, got {text!r}")
    return int(text)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpora" / "bbc",
                   help="base corpus, and source of the synthetic ones (default: ../shared/corpora/bbc)")
    p.add_argument("--synthetic", type=lambda t: [int(x) for x in _csv(t)], default=[],
                   help="also measure synthetic corpora of about these many passages, e.g. 10000,100000")
    p.add_argument("--skip-base", action="store_true", help="measure only the synthetic corpora")
    p.add_argument("--backends", "--variants", dest="backends", type=_csv, default=["torch", "onnx-int8"],
                   help="embedding backends (default: torch,onnx-int8)")
    p.add_argument("--index-types", type=_csv, help="vector index types (default: flat,hnsw; hnsw on milvus)")
    p.add_argument("--store", choices=["local", "milvus"], default="local",
                   help="where the index lives (milvus: Milvus Lite in each index folder unless --set milvus_uri=...)")
    p.add_argument("--peer", choices=["txtai"], help="also run this peer on the same passages, in its own virtualenv")
    p.add_argument("--questions", type=Path, default=ROOT / "eval" / "bbc.jsonl", help="JSON lines with a 'question' field")
    p.add_argument("--limit-questions", type=int, help="use only the first N questions")
    p.add_argument("--model", default="all-MiniLM-L6-v2", help="embedding model ('hashing': model-free smoke run)")
    p.add_argument("--reuse-embeddings", action="store_true",
                   help="after a backend's first index type, copy its embedding cache instead of embedding again")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="a rag setting for every variant, e.g. --set hnsw_ef_search=128")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="results.json, results.txt and work folders")
    p.add_argument("--runs", type=_positive, default=1,
                   help="measure each corpus this many times (variants and peer); rows hold the medians")
    p.add_argument("--json", action="store_true", help="print the JSON instead of the tables")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    plan = Plan(
        corpus=args.corpus.resolve(),
        out=args.out.resolve(),
        synthetic=args.synthetic,
        backends=args.backends,
        index_types=args.index_types or (["hnsw"] if args.store == "milvus" else ["flat", "hnsw"]),
        store=args.store,
        peer=args.peer,
        questions=load_questions(args.questions, args.limit_questions),
        model=args.model,
        skip_base=args.skip_base,
        reuse_embeddings=args.reuse_embeddings,
        settings=_pairs(args.overrides),
        runs=args.runs,
    )
    report = run(plan)
    text = render(report)
    (plan.out / "results.txt").write_text(text + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1, default=str) if args.json else text)
    print(f"\nresults: {plan.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
