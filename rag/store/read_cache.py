"""Reading a corpus again without parsing the files it has read before.

An update reads every file's bytes (cheap) but parses (decodes, strips boilerplate, reads
front matter, CSV rows...) only the files whose bytes differ from what the live index
recorded: the others' articles come back from the index as stored. The record is a
``files`` table in each generation: path, a hash of the raw bytes, and the ids of the
articles read from it. Keyed by content, not by modification time, so a touched but
unchanged file is still reused and a changed one of the same size and time is not.
Stored articles are reused only when the readers are the same code (``reader_version``: a
hash of ``rag/ingest``'s sources), so a release with new parsing rules reads every file again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from rag.ingest.formats import FileReader
from rag.ingest.reading import READERS, decode
from rag.schema import Article


@dataclass(frozen=True)
class FileRecord:
    """What one file held when the live index read it: a hash of its bytes and its articles' ids."""

    raw_hash: str
    doc_ids: tuple[str, ...]


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
    files that were parsed afresh.
    """

    readers: Mapping[str, FileReader]
    known: Mapping[str, FileRecord]
    articles: Mapping[str, Article]
    seen: dict[str, FileRecord] = field(default_factory=dict)
    parsed: int = 0

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
            self.seen[doc_id] = FileRecord(digest, tuple(a.doc_id for a in found))
            return found

        return read
