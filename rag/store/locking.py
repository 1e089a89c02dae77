"""One writer at a time per index folder, across threads and processes.

A build holds an OS-level lock on ``<index>/write.lock`` (``filelock``: ``flock`` on Unix)
from reading the corpus to switching generations. The kernel drops the lock when its
process dies, so a build killed with ``kill -9`` never leaves a stale lock behind.

Who holds the lock is written to the sidecar ``write.lock.json`` (pid, host, command,
since when) after acquiring it, and removed before releasing it. A sidecar left by a
killed process is overwritten by the next writer; until then a waiter that finds its
pid dead on this host says so instead of naming a process that no longer exists.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from filelock import FileLock, Timeout

from rag.errors import IndexBusyError

log = logging.getLogger("rag")

LOCK_FILE = "write.lock"
HOLDER_FILE = "write.lock.json"


def _holder_record() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": " ".join(sys.argv) or sys.executable,
        "since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def holder(index_dir: Path) -> str:
    """Who writes ``index_dir`` now, in words (from the sidecar file; it may lag the lock by a moment)."""
    try:
        info = json.loads((Path(index_dir) / HOLDER_FILE).read_text(encoding="utf-8"))
        pid, host = int(info["pid"]), str(info["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (not yet recorded)"
    if host == socket.gethostname() and not _alive(pid):
        return "another process (not yet recorded)"  # the sidecar is a killed writer's: it would lie
    return f"pid {pid} on {host} ({info.get('command', '?')}) since {info.get('since', '?')}"


def _write_holder(path: Path) -> None:
    staged = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    staged.write_text(json.dumps(_holder_record()), encoding="utf-8")
    os.replace(staged, path)


@contextmanager
def index_writer(index_dir: str | Path, wait: bool = True) -> Iterator[None]:
    """Hold the write lock of ``index_dir`` for the ``with`` block.

    Busy and ``wait``: one message naming the holder, then block until it is free.
    Busy and not ``wait``: ``IndexBusyError``.
    """
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(index_dir / LOCK_FILE)
    try:
        lock.acquire(blocking=False)
    except Timeout:
        who = holder(index_dir)
        if not wait:
            raise IndexBusyError(f"index {index_dir} is being written by {who}; try again when it has finished") from None
        log.warning("index %s is being written by %s; waiting for it to finish", index_dir, who)
        lock.acquire()
    try:
        _write_holder(index_dir / HOLDER_FILE)
        yield
    finally:
        (index_dir / HOLDER_FILE).unlink(missing_ok=True)
        lock.release()
