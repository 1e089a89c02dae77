"""Shared fixtures: tiny inline corpora and the model-free hashing embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

TINY = {
    "harbour.txt": "New harbour opens in Port Elms\n\nThe new harbour in Port Elms opened on Monday after four years of building work. "
    "It cost 42 million pounds and can hold 300 boats.\n\nMayor Ada Quill cut the ribbon. She said the harbour would bring 500 jobs to the town.",
    "bakery.txt": "Bakery wins national prize\n\nA family bakery in Lowtown won the national bread prize for its rye loaf. "
    "The judges praised its crust.\n\nOwner Tom Reyes has run the bakery since 1998.",
    "rail/strike.txt": "Rail strike called off\n\nA planned rail strike was called off late on Sunday after talks between the union and "
    "the operator. Drivers had asked for a pay rise of 6 percent.",
}

FAST = {"model": "hashing", "progress": False}


def write_corpus(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus", TINY)


@pytest.fixture
def no_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run from an empty folder with no RAG_* variables, so defaults are the defaults."""
    for key in list(__import__("os").environ):
        if key.startswith("RAG_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
