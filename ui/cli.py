"""``rag chat``: registered into the ``rag`` command through the ``rag.commands`` entry point."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path

import rag

DEFAULT_INDEX = rag.DEFAULT_INDEX


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``USER:PASS`` as a pair (the password may contain ``:``); None stays None."""
    if value is None:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise rag.UserError("--auth expects USER:PASS (both non-empty), e.g. --auth alice:s3cret")
    return user.strip(), password


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _has_index(index: str) -> bool:
    try:
        return rag.index_info(index) is not None
    except rag.UserError:  # not a folder at all (a file, say): nothing to keep
        return False


def _load_app(index: str, corpus: str | None):
    """The app over ``index``; a missing index is built from ``corpus`` first."""
    from ui.app import build_app  # gradio is imported only when chatting

    try:
        return build_app(index, corpus)
    except rag.IndexMismatchError:
        raise
    except rag.UserError as exc:
        if _has_index(index):
            raise  # an index is there but could not be loaded: building over it would not help
        if corpus is None:
            raise rag.UserError(f"{exc}; no corpus folder to build it from either (use --corpus DIR)") from None
    print(f"No index in {index}: building it from {corpus} …", file=sys.stderr)
    report = rag.build_index(corpus, index, progress=True)
    print(report.summary(), file=sys.stderr)
    return build_app(index, corpus)


def corpus_for(index: str, given: str | None) -> str | None:
    """The folder the chat indexes: ``--corpus``, else the one the index records (None: none usable).

    A ``--corpus`` other than the recorded folder is refused: re-indexing it would replace the index.
    """
    info = rag.index_info(index)
    recorded = info.corpus_dir if info else None
    if given is not None:
        if not Path(given).is_dir():
            raise rag.UserError(f"corpus folder not found: {given}")
        if recorded and Path(given).resolve() != Path(recorded).resolve():
            raise rag.UserError(
                f"index {index} holds the articles of {recorded}, not {given}; chat without --corpus, "
                f"or rebuild it from {given} first: rag index {given} --index {index} --replace")
        return given
    if recorded and not Path(recorded).is_dir():
        print(f"rag: note: {recorded}, the corpus folder of {index}, is gone: no uploads or re-indexing",
              file=sys.stderr)
        return None
    return recorded


def _serve_line(host: str, port: int, exc: OSError) -> str:
    if "empty port" in str(exc) or getattr(exc, "errno", None) == 98:
        return f"port {port} on {host} is in use; choose another --port"
    return f"cannot serve on {host}:{port} ({exc}); choose another --port or --host"


def cmd_chat(args: argparse.Namespace) -> int:
    from ui.app import serve

    auth = parse_auth(args.auth)
    corpus = corpus_for(args.index, args.corpus)
    if not (1 <= args.port <= 65535):
        raise rag.UserError(f"--port must be between 1 and 65535, not {args.port}")
    demo = _load_app(args.index, corpus)
    if not _is_loopback(args.host) and auth is None:
        print(f"rag: note: serving on {args.host} without --auth: anyone who can reach it can ask and upload",
              file=sys.stderr)
    try:
        serve(demo, host=args.host, port=args.port, auth=auth, share=args.share)
    except OSError as exc:
        raise rag.UserError(_serve_line(args.host, args.port, exc)) from None
    finally:
        demo.rag_pool.close()  # waits for the warm-up: exiting inside the embedding runtime aborts
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``rag chat`` to the ``rag`` command's subparsers."""
    chat = commands.add_parser(
        "chat",
        help="chat with the articles in the browser (cited answers, uploads)",
        description="Serve the chat page: ask questions, read the cited sources, add articles.",
    )
    chat.add_argument("--index", default=DEFAULT_INDEX,
                      help="index folder (default: index); built from --corpus if missing")
    chat.add_argument(
        "--corpus", default=None, metavar="DIR",
        help="article folder for uploads and re-indexing (default: the folder the index was built from)",
    )
    chat.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    chat.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    chat.add_argument("--auth", metavar="USER:PASS", help="require this login")
    chat.add_argument("--share", action="store_true",
                      help="also make a temporary public gradio.live link (off by default)")
    chat.set_defaults(run=cmd_chat)
