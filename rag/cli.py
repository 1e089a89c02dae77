"""The ``rag`` command: parse, call the library, print. Nothing here the Python API can't do.

Commands from outside the core (``rag eval``, ``rag chat``) plug in through the
``rag.commands`` entry-point group, so ``rag`` never imports ``eval/`` or ``ui/``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from importlib.metadata import entry_points
from typing import Any, Callable, NoReturn, Sequence

from rag.assistant import Assistant, check_k, check_question
from rag.errors import UserError
from rag.store.build import build_index, index_info
from rag.schema import Answer, Passage
from rag.ingest.source_commands import register as register_source_commands
from rag.retrieve.timeframe import as_of_date
from rag.settings import DEFAULT_CORPUS, DEFAULT_INDEX



def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def match(passage: Passage) -> str:
    """How close a passage is to the question, for people: its cosine similarity as a percentage.

    (Hybrid scores are rank-fusion numbers such as 0.033 that mean nothing to a reader; ``--json``
    keeps them.)"""
    similarity = passage.similarity if passage.similarity is not None else passage.score
    return f"{max(0.0, min(1.0, similarity)):.0%} match"


def format_answer(answer: Answer) -> str:
    """An answer for the terminal: text, then the numbered sources with their quotes."""
    lines = [answer.text, ""]
    lines += [f"Note: {note}\n" for note in answer.notes]
    if answer.abstained:
        lines.append("Closest passages:")
        lines += [f"  - {p.title} ({p.doc_id}), {match(p)}" for p in answer.passages[:3]]
        return "\n".join(lines)
    lines.append("Sources:")
    for c in answer.citations:
        dated = f", {c.date}" if c.date else ""
        lines.append(f"  [{c.n}] {c.title} ({c.doc_id}{dated}, characters {c.start}-{c.end})")
        lines.append(f"      “{c.quote}”")
    return "\n".join(lines)


def format_passages(passages: list[Passage]) -> str:
    if not passages:
        return "No passages found."
    rows = []
    for rank, p in enumerate(passages, start=1):
        snippet = " ".join(p.text.split())
        rows.append(f"{rank:>2}. {match(p):>10}  {p.title} ({p.doc_id})\n    {snippet[:240]}{'…' if len(snippet) > 240 else ''}")
    return "\n".join(rows)


def _question(text: str) -> str:
    """``-`` reads the question from standard input (for long or scripted questions)."""
    if text != "-":
        return text
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError("the question on standard input is not valid UTF-8 text") from None


def _as_of(value: str | None) -> str | None:
    """``--as-of`` checked before the index loads: a bad date is one line on stderr."""
    return as_of_date(value).isoformat() if value else None


def cmd_index(args: argparse.Namespace) -> int:
    corpus = args.corpus
    if corpus is None and index_info(args.index) is None:
        corpus = DEFAULT_CORPUS  # a new index with no folder named: the seed articles
    # Skipped files were each logged once as they were read; the summary counts them.
    report = build_index(corpus, args.index, wait=not args.no_wait, replace=args.replace, progress=not args.quiet,
                         csv_columns=args.columns, store=args.store,
                         milvus_uri=args.milvus_uri, milvus_token_env=args.milvus_token_env)
    _print_json(report.to_dict()) if args.json else print(report.summary())
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    query = check_question(_question(args.query))
    check_k(args.k)
    assistant = Assistant.load(args.index, as_of=_as_of(args.as_of))
    passages = assistant.search(query, k=args.k)
    _print_json([p.to_dict() for p in passages]) if args.json else print(format_passages(passages))
    return 0


def _ask_loop(assistant: Assistant) -> int:
    """A terminal conversation (``rag.Chat``): each question sees the earlier turns."""
    chat = assistant.chat()
    # Undecodable bytes arrive as lone surrogates, which the question check names, line by line.
    sys.stdin.reconfigure(errors="surrogateescape")  # type: ignore[union-attr]
    print("Ask about the articles (empty line or Ctrl-D to quit).")
    while True:
        try:
            question = input("? ").strip()
        except EOFError:
            return 0
        if not question:
            return 0
        try:
            answer = chat.ask(question)
        except UserError as exc:
            print(f"rag: {exc}", file=sys.stderr)
            continue
        print(format_answer(answer), end="\n\n")


def cmd_ask(args: argparse.Namespace) -> int:
    question = None if args.question is None else check_question(_question(args.question))
    if args.k is not None:
        check_k(args.k)
    assistant = Assistant.load(args.index, as_of=_as_of(args.as_of))
    if question is None:
        return _ask_loop(assistant)
    answer = assistant.ask(question, k=args.k)
    _print_json(answer.to_dict()) if args.json else print(format_answer(answer))
    return 0


def _add_core_commands(commands: argparse._SubParsersAction) -> None:
    index = commands.add_parser("index", help="build or update an index from a folder of articles")
    index.add_argument(
        "corpus", nargs="?", default=None,
        help="article folder (default: the folder the index was built from; seeds/ for a new index)",
    )
    index.add_argument("--index", default=DEFAULT_INDEX, help="index folder (default: index)")
    index.add_argument("--replace", action="store_true", help="rebuild the index from another folder than it records")
    index.add_argument("--no-wait", action="store_true", help="exit 2 instead of waiting when another build holds the index")
    index.add_argument("--json", action="store_true", help="print the report as JSON")
    index.add_argument("--quiet", action="store_true", help="no progress bars")
    index.add_argument("--columns", default=None, metavar="FIELD=COLUMN,...",
                       help="CSV/TSV columns by name, e.g. title=Headline,text=Story (default: found by name)")
    index.add_argument("--store", help="where the index lives: local (default) or milvus")
    index.add_argument("--milvus-uri", help="Milvus Lite path ending in .db (default: INDEX/milvus.db) or http(s)://host:19530")
    index.add_argument("--milvus-token-env", help="environment variable holding the Milvus token (default: RAG_MILVUS_TOKEN)")
    index.set_defaults(run=cmd_index)

    search = commands.add_parser("search", help="the passages most similar to a query")
    search.add_argument("query", help="the query ('-' reads it from standard input)")
    search.add_argument("--k", type=int, default=5, help="number of passages (default: 5)")
    search.add_argument("--index", default=DEFAULT_INDEX)
    search.add_argument("--json", action="store_true")
    search.add_argument("--as-of", metavar="YYYY-MM-DD", help='the day "last week" or "the latest" is read on (default: today)')
    search.set_defaults(run=cmd_search)

    ask = commands.add_parser("ask", help="a cited answer (no question: an interactive loop)")
    ask.add_argument("question", nargs="?", help="the question ('-' reads it from standard input)")
    ask.add_argument("--k", type=int, default=None, help="passages to draw the answer from")
    ask.add_argument("--index", default=DEFAULT_INDEX)
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--as-of", metavar="YYYY-MM-DD", help='the day "last week" or "the latest" is read on (default: today)')
    ask.set_defaults(run=cmd_ask)
    register_source_commands(commands)  # rag add, rag watch


def _add_plugin_commands(commands: argparse._SubParsersAction) -> None:
    for entry in entry_points(group="rag.commands"):
        try:
            register: Callable[[argparse._SubParsersAction], None] = entry.load()
            register(commands)
        except Exception as exc:  # a broken plugin must not take the core commands down
            print(f"rag: warning: command {entry.name!r} unavailable ({exc})", file=sys.stderr)


class _Parser(argparse.ArgumentParser):
    """Usage mistakes as one line on stderr and exit 2, like every other user error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rag", description="Cited answers from a folder of news articles.")
    parser.add_argument("-v", "--verbose", action="store_true", help="more logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_core_commands(commands)
    _add_plugin_commands(commands)
    return parser


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.INFO if verbose else logging.WARNING)
    for noisy in ("sentence_transformers", "transformers", "httpx", "faiss", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rag`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    try:
        return int(args.run(args) or 0)
    except UserError as exc:
        print(f"rag: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
