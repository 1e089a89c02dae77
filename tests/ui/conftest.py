"""Fixtures for the chat UI tests: a seed index in a temporary folder, served in-process."""

from __future__ import annotations

import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"


@dataclass
class Server:
    url: str
    corpus: Path
    index: Path
    demo: object

    @property
    def pool(self):
        return self.demo.rag_pool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """The chat app over a freshly built seed index (its own copy of the corpus), on a free port."""
    import rag
    from ui.app import build_app, serve

    base = tmp_path_factory.mktemp("chat")
    corpus, index = base / "corpus", base / "index"
    shutil.copytree(SEEDS, corpus)
    rag.build_index(str(corpus), str(index), progress=False)
    demo = build_app(str(index), str(corpus))
    _, url, _ = serve(demo, host="127.0.0.1", port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield Server(url=url, corpus=corpus, index=index, demo=demo)
    finally:
        demo.close()
        demo.rag_pool.close()
