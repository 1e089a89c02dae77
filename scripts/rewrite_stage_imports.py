"""Rewrite references to the old flat ``rag/`` modules to their stage packages (#14).

For merging a branch written before the move: resolve an import conflict by taking that
branch's side, then run ``python scripts/rewrite_stage_imports.py FILE...`` on the files
(idempotent: new paths are left alone). Prints each file it changed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

MOVED = {  # old module under rag -> its place in the stage packages
    "reading": "ingest.reading", "boilerplate": "ingest.boilerplate", "dates": "ingest.dates",
    "fetching": "ingest.fetching", "watching": "ingest.watching", "source_commands": "ingest.source_commands",
    "formats": "ingest.formats",
    "sentences": "text.sentences", "tokens": "text.tokens", "terms": "text.terms", "chunking": "text.chunking",
    "pysbd_speed": "text.pysbd_speed",
    "embedding": "embed.embedding", "onnx_backend": "embed.onnx_backend", "gpu": "embed.gpu",
    "indexing": "store.build", "store": "store.local", "vector_index": "store.vectors", "lexical": "store.bm25",
    "milvus_store": "store.milvus", "locking": "store.locking",
    "retrieval": "retrieve.retrievers", "fusion": "retrieve.fusion", "diversity": "retrieve.diversity",
    "rerank": "retrieve.rerank", "followup": "retrieve.followup", "timeframe": "retrieve.timeframe",
    "composer": "answer.composer", "abstention": "answer.abstention", "answer_types": "answer.answer_types",
    "entities": "answer.entities", "claim_check": "answer.claim_check", "llm": "answer.llm",
}
# ``rag.store`` is an old module and a new package: a name already inside the package stays.
_STORE_MODULES = "local|build|manifest|vectors|bm25|milvus|locking|pending"
_NAMES = "|".join(sorted(MOVED, key=len, reverse=True))
DOTTED = re.compile(rf"\brag\.({_NAMES})\b(?!\.py)(?!\.(?:{_STORE_MODULES})\b)(?! import (?:{_STORE_MODULES})\b)")
SLASHED = re.compile(rf"\brag/({_NAMES})\b(?!/(?:{_STORE_MODULES})\b)")
FROM_RAG = re.compile(rf"\bfrom rag import ({_NAMES})\b( as \w+)?")


def _from_rag(match: re.Match) -> str:
    old, alias = match.group(1), match.group(2)
    package, _, module = MOVED[old].rpartition(".")
    return f"from rag.{package} import {module}" + (alias or ("" if module == old else f" as {old}"))


def _slashed(match: re.Match) -> str:
    old = match.group(1)
    if old == "store" and not match.string.startswith(".py", match.end()):
        return match.group()  # "rag/store/" is the new package folder; only rag/store.py was the module
    return "rag/" + MOVED[old].replace(".", "/")


def rewrite(text: str) -> str:
    """``text`` with every old module path replaced by its new one."""
    text = DOTTED.sub(lambda m: "rag." + MOVED[m.group(1)], text)
    text = SLASHED.sub(_slashed, text)
    return FROM_RAG.sub(_from_rag, text)


def main(paths: list[str]) -> int:
    for name in paths:
        path = Path(name)
        text = path.read_text(encoding="utf-8")
        new = rewrite(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"rewrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
