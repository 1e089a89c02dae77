"""Speed and scale benchmark of the retrieval assistant: ``python -m bench`` (see bench/README.md)."""
