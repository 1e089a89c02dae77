"""Retrieve: retrievers, fusion, diversity, rerank, time periods and follow-up rewriting."""
