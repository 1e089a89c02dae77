"""``rag eval``: registered into the ``rag`` command through the ``rag.commands`` entry point."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``eval`` to the ``rag`` command (filled in by the eval harness)."""
