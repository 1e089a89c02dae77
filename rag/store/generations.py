"""Generations: the live one named by ``CURRENT``, its manifest, and publishing a new one atomically.

A build writes a complete new generation folder, syncs it, and only then points ``CURRENT`` at
it with ``os.replace``: a build killed at any moment leaves the previous generation live.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable

from rag.errors import IndexMismatchError, UserError

# 2: BM25 stored beside the vectors (bm25s). 3: BM25 in segments (lexical/), chunk ids stable
# across updates, tombstoned vectors. This rag writes 3 and still reads 2 (updated, it becomes 3);
# a rag that reads only 2 refuses a 3 with the rebuild hint instead of failing on missing files.
FORMAT_VERSION = 3
READABLE_FORMATS = (2, 3)
# A reader racing a build may find its generation gone between reading CURRENT and the files.
OPEN_ATTEMPTS = 5
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
CHUNKS_DB = "chunks.sqlite"
CACHE_DB = "embeddings.sqlite"
# manifest["vectors"] of a lexical generation: BM25 and texts only, vectors still being embedded.
PENDING = "pending"


def rebuild_hint(index_dir: Path, manifest: dict[str, Any] | None = None) -> str:
    target = (manifest or {}).get("store") or {}
    flags = ""
    if target.get("name", "local") != "local":
        flags = f" --store {target['name']}" + (f" --milvus-uri {target['uri']}" if target.get("uri") else "")
    return f"rebuild it with: rag index CORPUS --index {index_dir}{flags}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())


def check_index_folder(index_dir: Path) -> None:
    """An index is a folder: a file (or anything else) at that path is a user error."""
    if index_dir.exists() and not index_dir.is_dir():
        raise UserError(f"{index_dir} is a file, not an index folder; give --index a folder")


def _pointer(index_dir: Path) -> str | None:
    """The generation name ``CURRENT`` holds, or None when there is no pointer."""
    try:
        return (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def _generation_path(index_dir: Path) -> Path | None:
    name = _pointer(index_dir)
    if name is None or not (index_dir / name / MANIFEST).is_file():
        return None
    return index_dir / name


def _live(index_dir: Path) -> tuple[Path, dict[str, Any]] | None:
    """The live generation's folder and its own manifest (read from that folder), or None."""
    for _ in range(OPEN_ATTEMPTS):
        name = _pointer(index_dir)
        if name is None:
            return None
        try:
            return index_dir / name, json.loads((index_dir / name / MANIFEST).read_text(encoding="utf-8"))
        except (FileNotFoundError, NotADirectoryError):
            # Gone while the pointer still names it: no index. Gone because a build switched
            # generations and removed it after we read the pointer: read the new one.
            if _pointer(index_dir) == name:
                return None
    return None


def live_generation(index_dir: str | Path) -> Path | None:
    """Folder of the live generation, or None when there is no index."""
    return _generation_path(Path(index_dir))


def current_generation(index_dir: str | Path) -> str | None:
    """Name of the live generation (``gen-000003``), or None when there is no index."""
    generation = _generation_path(Path(index_dir))
    return generation.name if generation else None


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The live generation's manifest, or None when there is no index.

    Manifests written before stores existed are local ones."""
    live = _live(index_dir)
    return _with_store(live[1]) if live else None


def _with_store(manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` naming its store; manifests written before stores existed are local ones."""
    manifest.setdefault("store", {"name": "local"})
    if isinstance(manifest.get("settings"), dict):
        manifest["settings"].setdefault("store", manifest["store"].get("name", "local"))
    return manifest


def pending_vectors(manifest: dict[str, Any] | None) -> bool:
    """Whether ``manifest`` is a lexical generation's: texts and BM25 only, its vectors still being embedded."""
    return (manifest or {}).get("vectors") == PENDING


def check_manifest(manifest: dict[str, Any], index_dir: Path, expected: dict[str, Any] | None) -> None:
    """Refuse an index of a newer format, or one built with other settings than ``expected``."""
    version = manifest.get("format_version")
    if not isinstance(version, int) or version not in READABLE_FORMATS:
        age = "a newer" if isinstance(version, int) and version > FORMAT_VERSION else "an older"
        raise IndexMismatchError(
            f"index {index_dir} has {age} format ({version}; this rag reads {', '.join(map(str, READABLE_FORMATS))}); {rebuild_hint(index_dir, manifest)}"
        )
    built = manifest.get("settings", {})
    differing = {k: (built.get(k), v) for k, v in (expected or {}).items() if built.get(k) != v}
    if differing:
        detail = ", ".join(f"{k}: index has {old!r}, asked for {new!r}" for k, (old, new) in differing.items())
        raise IndexMismatchError(f"index {index_dir} was built with other settings ({detail}); {rebuild_hint(index_dir, manifest)}")



def _next_generation(index_dir: Path) -> str:
    numbers = [int(p.name.split("-")[1].split(".")[0]) for p in index_dir.glob("gen-*") if p.name.split("-")[1][:6].isdigit()]
    return f"gen-{max(numbers, default=0) + 1:06d}"


def publish_generation(index_dir: Path, manifest: dict[str, Any], fill: Callable[[Path], None] | None = None) -> Path:
    """Write a generation folder (``fill`` adds files beside the manifest), then make it live atomically.

    Old generations are removed. A build killed at any moment leaves the previous one live.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    name = _next_generation(index_dir)
    staging = index_dir / f"{name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    if fill is not None:
        fill(staging)
    _write_json(staging / MANIFEST, {**manifest, "format_version": FORMAT_VERSION})
    for path in staging.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(staging)
    final = index_dir / name
    os.replace(staging, final)
    pointer = index_dir / f"{CURRENT}.tmp"
    pointer.write_text(name, encoding="utf-8")
    os.replace(pointer, index_dir / CURRENT)
    _fsync_dir(index_dir)
    _remove_stale(index_dir, keep=name)
    return final



def _remove_stale(index_dir: Path, keep: str) -> None:
    for path in index_dir.glob("gen-*"):
        if path.name != keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
