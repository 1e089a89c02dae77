"""Store: building an index, the local store (manifest, vectors, BM25) and the Milvus store."""
