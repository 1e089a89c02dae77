"""Checking and saving uploaded article files into the corpus folder.

Uploaded names are never trusted: only the base name is kept, reduced to safe
characters, with no leading dot (so never a hidden file) and an article suffix.
Files are written atomically and never through a symlink or outside the folder, with
the mode any new file of the server's user gets (0644 under the usual umask 022), so
the articles stay readable by whoever reads the rest of the corpus.

Uploads never go into a folder that holds files tracked by git (``seeds/`` ships
with the project): ``make chat`` serves a git-ignored copy, ``corpus/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import rag

ALLOWED_SUFFIXES = rag.article_suffixes()
# Binary formats (read from their bytes by rag.ingest.formats): checked by their signature instead.
SIGNATURES = {".pdf": b"%PDF-", ".docx": b"PK\x03\x04"}
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class BadUpload(ValueError):
    """An uploaded file that is refused; the message is the reason shown to the user."""


def _ascii_safe(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _UNSAFE.sub("_", text)


def sanitise_filename(name: str) -> str:
    """A safe file name for ``name`` (base name only, ``[A-Za-z0-9._-]``, no leading dot, article suffix).

    A name with nothing usable left (``日本.txt``) gets a stable made-up one (``article-1f2e3d4c.txt``).

    >>> sanitise_filename("../../etc/Report 2024 (final).TXT")
    'Report_2024_final.txt'
    """
    base = re.split(r"[\\/]", str(name or ""))[-1].strip()
    stem, dot, suffix = base.rpartition(".")
    suffix = "." + _ascii_safe(suffix).lower()
    if not dot or suffix not in ALLOWED_SUFFIXES:
        shown = suffix if dot and suffix != "." else "(none)"
        raise BadUpload(f"file type {shown} is not accepted (use one of {', '.join(ALLOWED_SUFFIXES)})")
    if not stem.strip(". "):
        raise BadUpload("no usable file name")
    safe = re.sub(r"_*\._*", ".", _ascii_safe(stem))  # "name_.v2" -> "name.v2"
    safe = re.sub(r"\.{2,}", ".", safe).strip("._- ")[: MAX_NAME_CHARS - len(suffix)].rstrip("._-")
    if not safe:
        safe = "article-" + hashlib.sha256(stem.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return safe + suffix


def check_content(data: bytes, limit: int = MAX_UPLOAD_BYTES, suffix: str = ".txt") -> None:
    """Refuse empty, oversized or binary content, or a PDF/Word file that is none (raises ``BadUpload``)."""
    if len(data) > limit:
        raise BadUpload(f"too large ({len(data) / 1_048_576:.1f} MB; the limit is {limit / 1_048_576:.0f} MB)")
    problem = rag.text_problem(data)
    if problem == "empty file":
        raise BadUpload(problem)
    if suffix in SIGNATURES:
        if not data.startswith(SIGNATURES[suffix]):
            raise BadUpload(f"not a {suffix} file (its content does not start like one)")
        return
    if problem:
        raise BadUpload(f"{problem}, not text")


@dataclass
class SaveResult:
    saved: list[str] = field(default_factory=list)  # safe names written into the corpus folder
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (name as uploaded, reason)


def _umask() -> int:
    """The process umask, read without changing it (``os.umask`` would race other threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _write_atomic(folder: Path, name: str, data: bytes) -> None:
    target = folder / name
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise BadUpload("a file of that name exists in the corpus and cannot be replaced")
    if target.resolve().parent != folder.resolve():
        raise BadUpload("refusing to write outside the corpus folder")
    # A hidden temporary file: the corpus reader skips it if a build runs meanwhile.
    handle, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=folder)
    try:
        # mkstemp creates 0600; an article is as readable as any file the user creates.
        os.fchmod(handle, 0o666 & ~_umask())
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_uploads(
    paths: Iterable[str | os.PathLike], corpus_dir: str | os.PathLike, limit: int = MAX_UPLOAD_BYTES
) -> SaveResult:
    """Check each uploaded file and save the good ones into ``corpus_dir`` under a safe name."""
    folder = Path(corpus_dir)
    result = SaveResult()
    taken: set[str] = set()
    for path in paths:
        shown = os.path.basename(str(path)) or str(path)
        try:
            name = sanitise_filename(shown)
            if name in taken:
                raise BadUpload("another file in this upload has the same name")
            size = os.path.getsize(path)
            if size > limit:
                raise BadUpload(f"too large ({size / 1_048_576:.1f} MB; the limit is {limit / 1_048_576:.0f} MB)")
            data = Path(path).read_bytes()
            check_content(data, limit, Path(name).suffix)
            _write_atomic(folder, name, data)
        except BadUpload as exc:
            result.rejected.append((shown, str(exc)))
            continue
        except OSError as exc:
            result.rejected.append((shown, f"could not be saved ({exc.strerror or exc})"))
            continue
        taken.add(name)
        result.saved.append(name)
    return result


def discard_temporary(paths: Iterable[str | os.PathLike], temp_root: str | os.PathLike) -> int:
    """Delete uploaded files that lie inside Gradio's temp folder ``temp_root`` (and their emptied folders).

    Gradio keeps every upload in its own ``<temp_root>/<hash>/`` folder until the server
    stops; once a file is saved into the corpus or refused, its copy there is only clutter
    (and for a refused file, a copy the user did not want kept). Returns how many were deleted.
    """
    root = Path(temp_root).resolve()
    deleted = 0
    for path in paths:
        try:
            resolved = Path(path).resolve()
        except OSError:
            continue
        if root not in resolved.parents or not resolved.is_file():
            continue  # never delete anything outside Gradio's own folder
        resolved.unlink(missing_ok=True)
        deleted += 1
        if resolved.parent != root:
            with contextlib.suppress(OSError):
                resolved.parent.rmdir()  # only succeeds when the folder is empty
    return deleted


def tracked_by_git(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds files tracked by git (False where git or a repository is absent)."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(folder), "ls-files", "--cached", "--", "."],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return listed.returncode == 0 and bool(listed.stdout.strip())
