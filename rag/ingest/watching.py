"""``rag watch``: keep an index current with its corpus folder and feeds.

Each round fetches the feeds' new articles into the corpus folder (``rag.ingest.fetching``), updates
the index incrementally and reports one line per article added, updated or removed. Writers
that go through here (``rag add``, ``rag watch``, the chat's Corpus tab) take a lock file in
the index folder, so two of them never build at once. A loaded ``Assistant`` notices the new
generation (``Assistant.is_current()``) and the chat reloads it before the next question.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from rag.errors import UserError
from rag.ingest.fetching import AddResult, add_to_corpus, check_corpus_of_index, default_corpus
from rag.ingest.web import FetchPolicy
from rag.store.build import build_index
from rag.schema import IndexReport
from rag.store.local import IndexStore, read_manifest

INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.I)
UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> float:
    """Seconds in ``"90"``, ``"30s"``, ``"10m"``, ``"1h"``, ``"1d"``; anything else is a user error.

    >>> parse_interval("10m")
    600.0
    """
    match = INTERVAL.match(str(text))
    if not match or float(match.group(1)) <= 0:
        raise UserError(f"--every expects a duration such as 30s, 10m or 1h, got {text!r}")
    return float(match.group(1)) * UNIT_SECONDS[match.group(2).lower()]


def index_settings_of(index_dir: str | Path) -> dict[str, Any]:
    """The settings the index was built with (model, chunking, CSV columns), or {} when there is none."""
    manifest = read_manifest(Path(index_dir)) or {}
    settings = dict(manifest.get("settings") or {})
    if manifest.get("csv_columns"):
        settings["csv_columns"] = manifest["csv_columns"]
    return settings


def update_index(corpus_dir: str | Path, index_dir: str | Path, **settings: Any) -> IndexReport:
    """``build_index`` without progress bars (it holds the index's single-writer lock, waiting while another builds)."""
    return build_index(corpus_dir, index_dir, **{"progress": False, **settings})


def _article_hashes(index_dir: Path) -> dict[str, tuple[str, str]]:
    if read_manifest(index_dir) is None:
        return {}
    store = IndexStore.open(index_dir)
    try:
        return {doc_id: (a.content_hash, a.title) for doc_id, a in store.articles().items()}
    finally:
        store.close()


def changes(before: dict[str, tuple[str, str]], after: dict[str, tuple[str, str]]) -> list[str]:
    """One line per article added, updated or removed between two snapshots of an index."""
    lines = [f"added {d} ({after[d][1]})" for d in after if d not in before]
    lines += [f"updated {d} ({after[d][1]})" for d in after if d in before and before[d][0] != after[d][0]]
    lines += [f"removed {d} ({before[d][1]})" for d in before if d not in after]
    return sorted(lines, key=lambda line: line.split(" ", 1)[1])


@dataclass(frozen=True)
class WatchPlan:
    """What one ``rag watch`` keeps current: a corpus folder, the feeds saved into it, an index."""

    corpus_dir: Path
    feeds: tuple[str, ...]
    index_dir: Path

    @classmethod
    def of(cls, targets: Iterable[str], index_dir: str | Path, corpus_dir: str | Path | None = None) -> "WatchPlan":
        """Folders and feed URLs from the command line: at most one folder, the corpus."""
        feeds = tuple(t for t in targets if re.match(r"^https?://", t, re.I))
        folders = [Path(t) for t in targets if t not in feeds] + ([Path(corpus_dir)] if corpus_dir else [])
        if len({f.resolve() for f in folders}) > 1:
            raise UserError("one index keeps one corpus folder current; name a single folder (feeds are saved into it)")
        for folder in folders:
            if not folder.is_dir() and not (feeds and not folder.exists()):
                raise UserError(f"corpus folder not found: {folder}")
        corpus = folders[0] if folders else default_corpus(index_dir)
        check_corpus_of_index(corpus, index_dir)
        return cls(corpus, feeds, Path(index_dir))


def watch_round(plan: WatchPlan, policy: FetchPolicy, emit: Callable[[str], None], **settings: Any) -> list[str]:
    """Fetch the feeds, update the index, emit and return one line per change (and per failed fetch)."""
    lines: list[str] = []

    def failed(result: AddResult) -> None:
        if result.status == "failed":
            lines.append(f"failed {result.url}: {result.reason}")
            emit(lines[-1])

    if plan.feeds:
        add_to_corpus(plan.feeds, plan.corpus_dir, policy, on_result=failed)
    before = _article_hashes(plan.index_dir)
    update_index(plan.corpus_dir, plan.index_dir, **{**index_settings_of(plan.index_dir), **settings})
    for line in changes(before, _article_hashes(plan.index_dir)):
        lines.append(line)
        emit(line)
    return lines


def watch(
    plan: WatchPlan,
    every: float = 600.0,
    *,
    once: bool = False,
    policy: FetchPolicy = FetchPolicy(),
    emit: Callable[[str], None] = print,
    stop: threading.Event | None = None,
    **settings: Any,
) -> None:
    """Run ``watch_round`` now and then every ``every`` seconds until ``stop`` is set (or after one, ``once``).

    A round that cannot index (say the folder is empty for now) is reported and retried next time.
    """
    stop = stop or threading.Event()
    while True:
        began = time.monotonic()
        try:
            watch_round(plan, policy, emit, **settings)
        except UserError as exc:
            if once:
                raise
            emit(f"not indexed: {exc}")
        if once or stop.wait(max(0.0, every - (time.monotonic() - began))):
            return
