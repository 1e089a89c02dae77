"""Embed: the ``Embedder`` Protocol and its table, the embedding cache, ONNX and GPU backends."""
