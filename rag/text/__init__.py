"""Text: sentences, tokens, terms and chunking (``Article`` -> ``Chunk``)."""
