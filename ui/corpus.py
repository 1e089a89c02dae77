"""The Corpus tab's handlers: what is indexed, uploads saved into the corpus folder, re-indexing.

Uploads and re-indexing go through ``rag.build_index`` and so through its one-writer lock:
a CLI build running at the same time makes the page say so instead of waiting.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import gradio as gr

import rag
from ui import render
from ui import sources as corpus_web
from ui.chat import AssistantPool
from ui.uploads import discard_temporary, save_uploads, tracked_by_git

log = logging.getLogger("rag.ui")

NO_CORPUS = "no corpus folder is configured (start with --corpus DIR)"
# A re-index that would drop more than this share of the indexed articles asks first.
REMOVAL_CONFIRM_SHARE = 0.5
HIDDEN = {"visible": False}


def removal_warning(plan: dict[str, int]) -> str | None:
    """Why a re-index with this ``rag.plan_index`` result needs confirming (None: it does not).

    >>> removal_warning({"added": 0, "updated": 0, "removed": 3, "unchanged": 1})
    'Re-indexing would remove 3 of the 4 indexed articles (their files are not in the corpus folder).'
    """
    indexed = plan["removed"] + plan["updated"] + plan["unchanged"]
    if not plan["removed"] or plan["removed"] <= indexed * REMOVAL_CONFIRM_SHARE:
        return None
    return (f"Re-indexing would remove {plan['removed']:,} of the {indexed:,} indexed articles "
            "(their files are not in the corpus folder).")


def uploads_off(corpus: Path | None) -> str | None:
    """Why uploads are off for ``corpus`` (None: they are on)."""
    if corpus is None:
        return NO_CORPUS
    if tracked_by_git(corpus):
        return (f"{corpus} holds files tracked by git, which uploads must not change; copy it and index the copy "
                f"(make chat does: corpus/ from seeds/)")
    return None


def corpus_note(corpus: Path | None, off: str | None) -> str:
    if corpus is None:
        return "No corpus folder: start with `rag chat --corpus DIR` to add articles."
    if off is not None:
        return f"Indexes `{corpus}`. Uploads are off: {off}."
    return (f"Indexes `{corpus}`. Uploaded files are saved there and indexed right away; only new or "
            "changed articles are embedded.")


class CorpusHandlers:
    """The Corpus tab over one pool: its outputs are (report, stats, articles, ...) as wired in ``ui.app``."""

    def __init__(self, pool: AssistantPool, index_dir: str, corpus: Path | None, cache_dir: str | None = None) -> None:
        self.pool = pool
        self.index_dir = index_dir
        self.corpus = corpus
        self.uploads_off = uploads_off(corpus)
        self.cache_dir = cache_dir
        self.build_lock = threading.Lock()

    def stats(self) -> tuple[str, str]:
        """The index's figures and its list of articles, after picking up a newer generation."""
        self.pool.refresh()
        info = rag.index_info(self.index_dir)
        corpus_dir = str(self.corpus) if self.corpus else None
        return render.stats_html(info, self.index_dir, corpus_dir), corpus_web.articles_html(self.pool.default, corpus_dir)

    def rebuild(self, progress: gr.Progress) -> tuple[rag.IndexReport | None, str | None]:
        """Index the corpus folder (only what changed) and reload; returns (report, error)."""
        progress(0, desc="Reading the corpus folder")
        try:
            report = rag.build_index(str(self.corpus), self.index_dir, wait=False, progress=True,
                                     **self.pool.default.index_settings())
            self.pool.reload()
        except rag.UserError as exc:  # IndexBusyError too: its message names the other writer
            return None, str(exc)
        except Exception as exc:
            log.exception("indexing %s failed", self.corpus)
            return None, f"unexpected error ({type(exc).__name__}); the server log has the details"
        return report, None

    def planned_removal(self) -> tuple[str | None, str | None]:
        """(why the next re-index needs confirming, error reading the corpus); both None: go ahead."""
        try:
            return removal_warning(rag.plan_index(str(self.corpus), self.index_dir)), None
        except rag.UserError as exc:
            return None, str(exc)

    def add_files(self, files: list[str] | str | None, progress=gr.Progress(track_tqdm=True)):
        paths = [files] if isinstance(files, str) else list(files or [])
        try:
            return self.save_and_index(paths, progress)
        finally:
            discard_temporary(paths, self.cache_dir)  # saved into the corpus, or refused: not kept twice

    def save_and_index(self, paths: list[str], progress: gr.Progress):
        if self.uploads_off is not None:
            return render.report_html(None, error=f"uploads are off: {self.uploads_off}"), *self.stats(), None
        if not paths:
            return render.report_html(None), *self.stats(), None
        with self.build_lock:
            existing = {p.name for p in self.corpus.iterdir()} if self.corpus.is_dir() else set()
            result = save_uploads(paths, self.corpus)
            if not result.saved:
                return render.report_html(None, rejected=result.rejected), *self.stats(), None
            warning, error = self.planned_removal()
            if warning or error:
                note = error or f"{warning} Saved, not indexed yet: press Re-index to confirm."
                return render.report_html(None, result.saved, result.rejected, note), *self.stats(), None
            report, error = self.rebuild(progress)
            saved, rejected = self._drop_unreadable(result, report, existing)
        return render.report_html(report, saved, rejected, error), *self.stats(), None

    def _drop_unreadable(self, result, report: rag.IndexReport | None, existing: set[str]):
        """A new upload the reader could not use is taken out of the corpus again; returns (saved, rejected)."""
        rejected, saved = list(result.rejected), list(result.saved)
        unreadable = dict(report.skipped) if report else {}
        for name in result.saved:
            if name in unreadable and name not in existing:
                (self.corpus / name).unlink(missing_ok=True)
                saved.remove(name)
                rejected.append((name, unreadable[name]))
        return saved, rejected

    def reindex(self, progress=gr.Progress(track_tqdm=True)):
        """Re-index, unless that would remove most of the index: then ask first."""
        hidden = gr.update(**HIDDEN)
        if self.corpus is None:
            return render.report_html(None, error=NO_CORPUS), *self.stats(), hidden, gr.skip()
        warning, error = self.planned_removal()
        if error:
            return render.report_html(None, error=error), *self.stats(), hidden, gr.skip()
        if warning:
            ask_first = f"**{warning}** Re-index `{self.corpus}` anyway?"
            return "", *self.stats(), gr.update(visible=True), ask_first
        return (*self.confirmed_reindex(progress), hidden, gr.skip())

    def confirmed_reindex(self, progress=gr.Progress(track_tqdm=True)):
        if self.corpus is None:
            return render.report_html(None, error=NO_CORPUS), *self.stats()
        with self.build_lock:
            report, error = self.rebuild(progress)
        return render.report_html(report, error=error), *self.stats()

    def confirm(self, progress=gr.Progress(track_tqdm=True)):
        return (*self.confirmed_reindex(progress), gr.update(**HIDDEN))
