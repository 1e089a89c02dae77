"""``rag add`` and ``rag watch``: parse, call ``rag.ingest.fetching`` / ``rag.ingest.watching``, print."""

from __future__ import annotations

import argparse
import sys
import time

from rag.ingest.fetching import AddResult, add
from rag.ingest.web import FetchPolicy
from rag.settings import DEFAULT_INDEX, resolve
from rag.ingest.watching import WatchPlan, parse_interval, watch



def _print_result(result: AddResult) -> None:
    if result.status == "added":
        print(f"added    {result.url} -> {result.path} ({result.title})")
    elif result.status == "present":
        print(f"present  {result.url}")
    else:
        print(f"failed   {result.url}: {result.reason}", file=sys.stderr)


def cmd_add(args: argparse.Namespace) -> int:
    report = add(args.urls, args.corpus, args.index, on_result=_print_result, **_fetch_settings(args))
    if report.index is not None:
        print(report.index.summary())
    print(report.summary())
    return 1 if report.results and report.count("failed") == len(report.results) else 0


def _stamped(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)


def cmd_watch(args: argparse.Namespace) -> int:
    plan = WatchPlan.of(args.targets, args.index, args.corpus)
    policy = FetchPolicy.of(resolve(**_fetch_settings(args)))
    every = parse_interval(args.every)
    feeds = f" and {len(plan.feeds)} feed(s)" if plan.feeds else ""
    _stamped(f"watching {plan.corpus_dir}{feeds} -> {plan.index_dir}" + ("" if args.once else f", every {args.every}; Ctrl-C stops"))
    try:
        watch(plan, every, once=args.once, policy=policy, emit=_stamped)
    except KeyboardInterrupt:
        _stamped("stopped")
    return 0


def _fetch_settings(args: argparse.Namespace) -> dict:
    """Flags given on the command line (the rest come from rag.toml, RAG_* variables or the defaults)."""
    return {"fetch_allow_private": args.allow_private or None, "fetch_timeout": args.timeout, "fetch_max_bytes": args.max_bytes}


def _fetch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", default=DEFAULT_INDEX, help="index folder (default: index)")
    parser.add_argument("--allow-private", action="store_true",
                        help="allow private, loopback and link-local addresses (e.g. a server on 127.0.0.1)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per request and download (default: 15)")
    parser.add_argument("--max-bytes", type=int, default=None, help="largest response in bytes (default: 5 MB)")


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``rag add`` and ``rag watch`` to the ``rag`` command."""
    adding = commands.add_parser("add", help="fetch web pages or RSS/Atom feeds into the corpus and index them")
    adding.add_argument("urls", nargs="+", metavar="URL", help="a web page or a feed (every linked article is added)")
    adding.add_argument("--corpus", default=None, help="corpus folder (default: the one the index was built from)")
    _fetch_options(adding)
    adding.set_defaults(run=cmd_add)

    watching = commands.add_parser("watch", help="keep the index current with a folder and feeds")
    watching.add_argument("targets", nargs="*", metavar="DIR_OR_FEED",
                          help="the corpus folder and/or feed URLs (default: the index's corpus folder)")
    watching.add_argument("--corpus", default=None, help="corpus folder that feeds are saved into")
    watching.add_argument("--every", default="10m", help="how often to re-check, e.g. 30s, 10m, 1h (default: 10m)")
    watching.add_argument("--once", action="store_true", help="check once and exit")
    _fetch_options(watching)
    watching.set_defaults(run=cmd_watch)
