"""Ingest: read article files and feeds into ``Article``s (reading, boilerplate, dates, formats, fetching)."""
