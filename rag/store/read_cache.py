"""Reading a corpus again without parsing the files it has read before.

An update reads every file's bytes (cheap) but parses (decodes, strips boilerplate, reads
front matter, CSV rows...) only the files whose bytes differ from what the live index
recorded: the others' articles come back from the index as stored. The record is a
``files`` table in each generation: path, a hash of the raw bytes, the ids of the articles
read from it, and the file's size and modification time (ns). A file whose size and time
are those recorded is not even read (as git trusts its index); any other is read and keyed
by content, so a touched but unchanged file is still reused and a changed one is not. A time
within ``RACY_SECONDS`` of the build is not recorded: a write in the same clock tick as the
recording would otherwise keep its old size and time unnoticed.
Stored articles are reused only when the readers are the same code (``reader_version``: a
hash of ``rag/ingest``'s sources), so a release with new parsing rules reads every file again.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from rag.ingest.formats import FileReader
from rag.ingest.reading import READERS, decode
from rag.schema import Article


# Modification times this close to the build's start are not trusted (file systems tick in 1-2 s on some).
RACY_SECONDS = 2.0


@dataclass(frozen=True)
class FileRecord:
    """What one file held when the live index read it: a hash of its bytes, its articles' ids, and
    its size and modification time (None: not recorded, the bytes are hashed on each build)."""

    raw_hash: str
    doc_ids: tuple[str, ...]
    size: int | None = None
    mtime_ns: int | None = None


@lru_cache(maxsize=1)
def reader_version() -> str:
    """A hash of the reading code (``rag/ingest/**/*.py``): parsed articles are reused only under the same code."""
    digest = hashlib.blake2b(digest_size=8)
    root = Path(__file__).resolve().parents[1] / "ingest"
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def raw_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass
class RememberingReaders:
    """File readers (by suffix) that return the stored articles of files whose bytes are unchanged.

    ``seen`` records every file read, for the generation being built; ``parsed`` counts the
    files that were parsed afresh. ``remembered`` (for ``read_corpus``) answers for a file whose
    size and time are recorded without reading it.
    """

    readers: Mapping[str, FileReader]
    known: Mapping[str, FileRecord]
    articles: Mapping[str, Article]
    seen: dict[str, FileRecord] = field(default_factory=dict)
    parsed: int = 0
    began_ns: int = field(default_factory=time.time_ns)
    _stats: dict[str, os.stat_result] = field(default_factory=dict)

    def remembered(self, doc_id: str, stat: os.stat_result) -> list[Article] | None:
        """The stored articles of ``doc_id`` when its size and time are the recorded ones; else None (read it)."""
        self._stats[doc_id] = stat
        old = self.known.get(doc_id)
        if old is None or old.mtime_ns is None or (old.size, old.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
            return None
        if not all(d in self.articles for d in old.doc_ids):
            return None
        self.seen[doc_id] = old
        return [self.articles[d] for d in old.doc_ids]

    def changed_records(self) -> bool:
        """Whether the files read differ from the recorded ones (bytes, names, or times to record)."""
        return self.seen != dict(self.known)

    def _record(self, doc_id: str, digest: str, doc_ids: tuple[str, ...]) -> FileRecord:
        stat = self._stats.get(doc_id)
        if stat is None or stat.st_mtime_ns > self.began_ns - RACY_SECONDS * 1e9:
            return FileRecord(digest, doc_ids)
        return FileRecord(digest, doc_ids, stat.st_size, stat.st_mtime_ns)

    def mapping(self) -> dict[str, FileReader]:
        """The readers to hand ``read_corpus``: every suffix it reads, each remembering."""
        return {suffix: self._reader(suffix) for suffix in [*READERS, *self.readers]}

    def _reader(self, suffix: str) -> FileReader:
        inner = self.readers.get(suffix)

        def read(doc_id: str, data: bytes) -> list[Article]:
            digest = raw_hash(data)
            old = self.known.get(doc_id)
            if old is not None and old.raw_hash == digest and all(d in self.articles for d in old.doc_ids):
                found = [self.articles[d] for d in old.doc_ids]
            else:
                self.parsed += 1
                found = inner(doc_id, data) if inner else READERS[suffix](doc_id, decode(data))
            self.seen[doc_id] = self._record(doc_id, digest, tuple(a.doc_id for a in found))
            return found

        return read
