"""The browser chat: ask the indexed news articles, get verbatim quotes with their sources.

``build_app(index_dir, corpus_dir)`` returns the Gradio Blocks; ``serve(demo, ...)``
launches it with the page's theme and CSS (Gradio 6 takes those in ``launch()``).
Everything the page shows comes from the ``rag`` library; nothing here writes answers.
Uploads and re-indexing go through ``rag.build_index`` and so through its one-writer
lock: a CLI build running at the same time makes the page say so instead of waiting.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import gradio as gr

import rag
from rag.retrieve.retrievers import RETRIEVERS
from ui import render
from ui import sources as corpus_web  # "sources" in build_app is the answer's Sources panel
from ui.uploads import ALLOWED_SUFFIXES, MAX_UPLOAD_BYTES, discard_temporary, save_uploads, tracked_by_git

log = logging.getLogger("rag.ui")

STREAM_DELAY = 0.015  # seconds between streamed pieces of a quoted answer (whole in under half a second)
STREAM_STEPS = 30  # an answer streams in at most this many pieces
MAX_K = 20
NO_CORPUS = "no corpus folder is configured (start with --corpus DIR)"
# A re-index that would drop more than this share of the indexed articles asks first.
REMOVAL_CONFIRM_SHARE = 0.5
WARM_UP_JOIN_S = 60.0

CSS = """
.gradio-container { max-width: 1280px !important; margin: 0 auto; }
#rag-header h1 { font-size: 1.45rem; margin: 0 0 .2rem; }
#rag-header p { margin: 0; opacity: .8; }
.rag-answer .rag-text { margin: 0 0 .35rem; line-height: 1.55; }
.rag-cite { font-size: .75em; font-weight: 600; color: var(--color-accent); margin-left: 1px; }
.rag-abstained .rag-text { font-style: italic; }
.rag-error .rag-text { color: var(--error-text-color, #b91c1c); }
.rag-cards { margin-top: .4rem; display: flex; flex-direction: column; gap: .3rem; }
.rag-cards-head { font-size: .8rem; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; opacity: .7; }
.rag-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .3rem .55rem;
            background: var(--background-fill-primary); }
.rag-card > summary { cursor: pointer; line-height: 1.4; }
.rag-card[open] > summary { margin-bottom: .3rem; }
.rag-n { font-weight: 700; color: var(--color-accent); }
.rag-title { font-weight: 600; }
.rag-meta, .rag-doc { font-size: .8rem; opacity: .75; }
.rag-doc { overflow-wrap: anywhere; margin-bottom: .25rem; }
.rag-score { font-family: var(--font-mono); font-size: .8rem; padding: 0 .3rem; border-radius: 4px;
             background: var(--background-fill-secondary); }
.rag-badge { font-size: .72rem; font-weight: 600; padding: 0 .35rem; margin-left: .2rem; border-radius: 999px;
             background: var(--color-accent-soft); color: var(--color-accent); white-space: nowrap; }
.rag-context { margin: 0; padding: .35rem .6rem; border-left: 3px solid var(--border-color-accent);
               font-size: .9rem; line-height: 1.5; white-space: normal; }
.rag-context mark, .rag-sources mark { background: #fde68a; color: #1f2937; padding: 0 1px; border-radius: 2px; }
.rag-sources { display: flex; flex-direction: column; gap: .4rem; }
.rag-sources-q { font-size: .85rem; opacity: .8; }
.rag-cited { border-color: var(--color-accent); }
.rag-empty { opacity: .7; font-size: .9rem; padding: .5rem 0; }
#rag-sources { max-height: 70vh; overflow-y: auto; }
.rag-note { font-size: .85rem; opacity: .8; }
.rag-stats { margin: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: .5rem; }
.rag-stat { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .4rem .6rem;
            background: var(--background-fill-primary); }
.rag-stat dt { font-size: .75rem; text-transform: uppercase; letter-spacing: .04em; opacity: .7; }
.rag-stat dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.rag-report .rag-bad { color: #b42318; }
.rag-report ul { margin: .2rem 0 0 1.1rem; }
#rag-chat .message-row.bot-row { max-width: calc(100% - 24px) !important; }
@media (max-width: 640px) {
  #rag-header h1 { font-size: 1.2rem; }
  #rag-header p { font-size: .85rem; }
  #rag-chat .message-row { margin-left: 6px !important; margin-right: 6px !important;
                           max-width: calc(100% - 12px) !important; }
  #rag-chat .message-wrap { margin-bottom: 8px !important; }
  #rag-sources { max-height: none; }
}
"""

# Gradio scopes @media rules of ``css`` to the app's content; the page margins sit outside it.
HEAD = """<style>
@media (max-width: 640px) {
  .gradio-container .main.app { padding-left: 8px !important; padding-right: 8px !important; }
}
</style>"""

THEME = gr.themes.Soft(primary_hue="blue", neutral_hue="slate")


class AssistantPool:
    """The loaded assistant(s), swappable after a rebuild while questions are being answered.

    ``use()`` lends an assistant for one question; ``reload()`` swaps in fresh ones and closes
    the old ones as soon as no question is using them.
    """

    def __init__(self, index_dir: str, **settings: Any) -> None:
        self.index_dir = index_dir
        self.settings = settings
        self._cond = threading.Condition()
        self._users: Counter[int] = Counter()
        self._retired: list[rag.Assistant] = []
        self._default = rag.Assistant.load(index_dir, **settings)
        self._by_retriever = {self._default.settings.retriever: self._default}

    @property
    def default(self) -> rag.Assistant:
        return self._default

    def _get(self, retriever: str | None) -> rag.Assistant:
        if not retriever or retriever == self._default.settings.retriever:
            return self._default
        if retriever not in self._by_retriever:
            settings = {**self.settings, "retriever": retriever}
            self._by_retriever[retriever] = rag.Assistant.load(self.index_dir, **settings)
        return self._by_retriever[retriever]

    def refresh(self) -> None:
        """Reload when a newer generation of the index went live (``rag add``, ``rag watch``, another build)."""
        if not self._default.is_current():
            self.reload()

    @contextmanager
    def use(self, retriever: str | None = None) -> Iterator[rag.Assistant]:
        self.refresh()
        with self._cond:
            assistant = self._get(retriever)
            self._users[id(assistant)] += 1
        try:
            yield assistant
        finally:
            with self._cond:
                self._users[id(assistant)] -= 1
                self._close_idle()

    def reload(self) -> None:
        fresh = rag.Assistant.load(self.index_dir, **self.settings)
        with self._cond:
            self._retired += list(self._by_retriever.values())
            self._default = fresh
            self._by_retriever = {fresh.settings.retriever: fresh}
            self._close_idle()

    def _close_idle(self) -> None:
        busy = []
        for assistant in self._retired:
            if self._users[id(assistant)] > 0:
                busy.append(assistant)
                continue
            del self._users[id(assistant)]
            assistant.close()
        self._retired = busy

    def warm_up(self) -> None:
        """Answer a throwaway question so the first real one does not pay for lazy loading."""
        try:
            with self.use() as assistant:
                assistant.ask("warm up")
        except Exception:  # only an optimisation
            log.debug("warm-up failed", exc_info=True)

    def start_warm_up(self) -> None:
        """``warm_up`` in the background; ``close`` waits for it."""
        self._warm_up = threading.Thread(target=self.warm_up, name="rag-warm-up", daemon=True)
        self._warm_up.start()

    def close(self) -> None:
        # A warm-up still inside the embedding runtime when the interpreter exits aborts the
        # process ("terminate called without an active exception", exit 134): wait for it.
        warm_up = getattr(self, "_warm_up", None)
        if warm_up is not None:
            warm_up.join(WARM_UP_JOIN_S)
        with self._cond:
            self._retired += list(self._by_retriever.values())
            self._by_retriever = {}
            for assistant in self._retired:
                assistant.close()
            self._retired = []


def _writer_note(composer: str) -> str:
    """What writes the answers; says plainly that no LLM writer exists while the library has none."""
    if composer == "extractive":
        note = "Answers are written by the **extractive** composer: it only quotes sentences from the articles."
    else:
        note = f"Answers are written by the **{composer}** composer."
    if not any(name != "extractive" for name in _composers()):
        note += " An LLM writer is not available yet."
    return note


def _composers() -> list[str]:
    try:
        from rag.answer.composer import COMPOSERS
    except ImportError:
        return []
    return list(COMPOSERS)


def _new_conversation() -> dict[str, list]:
    return {"messages": [], "history": []}


def _question_html(text: str) -> str:
    return f'<div class="rag-question">{render.esc(text)}</div>'


def as_of_note(as_of: str, newest: str | None) -> str:
    """What the chat says under its "As of" field: the day questions are read on, and a warning
    when the index's newest article is older (then "this week" or "the latest" may find nothing new).

    >>> as_of_note("1987-10-21", "1987-10-21")
    '"Today", "last week" and "the latest" are read as of **1987-10-21**.'
    """
    try:
        day = rag.as_of_date(as_of).isoformat()
    except rag.UserError as exc:
        return f"**{exc}**"
    note = f'"Today", "last week" and "the latest" are read as of **{day}**.'
    if newest and newest < day:
        note += f" The newest article in this index is dated **{newest}**: set an earlier day to ask about its news as it came."
    return note


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


def _uploads_off(corpus: Path | None) -> str | None:
    """Why uploads are off for ``corpus`` (None: they are on)."""
    if corpus is None:
        return NO_CORPUS
    if tracked_by_git(corpus):
        return (f"{corpus} holds files tracked by git, which uploads must not change; copy it and index the copy "
                f"(make chat does: corpus/ from seeds/)")
    return None


def build_app(index_dir: str, corpus_dir: str | None = None, **settings: Any) -> gr.Blocks:
    """The chat page over the index in ``index_dir``; uploads go into ``corpus_dir`` (None: no uploads).

    Uploads are also off when ``corpus_dir`` holds files tracked by git (``seeds/``): the page
    never modifies a tracked file. ``settings`` are passed to ``rag.Assistant.load`` (e.g. ``k=8``).
    Raises ``rag.UserError`` when the index cannot be loaded.
    """
    pool = AssistantPool(index_dir, **settings)
    corpus = Path(corpus_dir) if corpus_dir else None
    uploads_off = _uploads_off(corpus)
    build_lock = threading.Lock()
    loaded = pool.default.settings

    def stats() -> tuple[str, str]:
        pool.refresh()
        assistant = pool.default
        return render.stats_html(assistant.store.manifest, index_dir, corpus_dir), corpus_web.articles_html(assistant, corpus_dir)

    # ---- chat ---------------------------------------------------------------------------
    def respond(question: str, conversation: dict | None, k: float, mode: str, as_of: str = ""):
        conversation = conversation or _new_conversation()
        text = (question or "").strip()
        if not text:
            gr.Warning("Type a question about the articles first.")
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        messages = conversation["messages"] + [{"role": "user", "content": _question_html(text)}]
        yield messages, gr.skip(), gr.skip(), ""
        try:
            with pool.use(mode) as assistant:
                live = hasattr(assistant.composer, "stream")  # an LLM writer: its tokens show as they come
                drafted = ""
                for piece in assistant.ask_stream(text, history=conversation["history"], k=int(k) if k else None,
                                                     as_of=(as_of or "").strip() or None):
                    if isinstance(piece, rag.Answer):
                        answer = piece
                        break
                    if live:
                        drafted += piece
                        draft = {"role": "assistant", "content": render.draft_html(drafted)}
                        yield messages + [draft], gr.skip(), gr.skip(), gr.skip()
                articles = {c.doc_id: assistant.store.article(c.doc_id) for c in answer.citations}
        except rag.UserError as exc:
            messages.append({"role": "assistant", "content": render.error_html(str(exc))})
            yield messages, {**conversation, "messages": messages}, gr.skip(), gr.skip()
            return
        except Exception:  # never a traceback in the page; the log has it
            log.exception("answering %r failed", text)
            failed = render.error_html("Something went wrong answering that; the server log has the details.")
            messages.append({"role": "assistant", "content": failed})
            yield messages, {**conversation, "messages": messages}, gr.skip(), gr.skip()
            return
        # A quoted answer is ready at once; it is shown a few words at a time, as the LLM's would be.
        # The checked final text (markers corrected, unsupported sentences flagged) then replaces
        # the draft, and its source cards and the Sources panel follow it.
        for partial in render.stream_steps(answer.text, 1 if live else STREAM_STEPS):
            piece = render.answer_html(answer, articles.get, text=partial, cards=False)
            yield messages + [{"role": "assistant", "content": piece}], gr.skip(), gr.skip(), gr.skip()
            time.sleep(0 if live else STREAM_DELAY)
        messages.append({"role": "assistant", "content": render.answer_html(answer, articles.get)})
        history = conversation["history"] + [(text, answer.text)]
        yield messages, {"messages": messages, "history": history}, render.sources_html(answer), gr.skip()

    def clear():
        return [], _new_conversation(), render.SOURCES_EMPTY, ""

    # ---- corpus -------------------------------------------------------------------------
    def rebuild(progress: gr.Progress) -> tuple[rag.IndexReport | None, str | None]:
        """Index the corpus folder (only what changed) and reload; returns (report, error)."""
        progress(0, desc="Reading the corpus folder")
        index_settings = dict(pool.default.store.manifest.get("settings") or {})
        try:
            report = rag.build_index(str(corpus), index_dir, wait=False, progress=True, **index_settings)
            pool.reload()
        except rag.UserError as exc:  # IndexBusyError too: its message names the other writer
            return None, str(exc)
        except Exception as exc:
            log.exception("indexing %s failed", corpus)
            return None, f"unexpected error ({type(exc).__name__}); the server log has the details"
        return report, None

    def planned_removal() -> tuple[str | None, str | None]:
        """(why the next re-index needs confirming, error reading the corpus); both None: go ahead."""
        try:
            return removal_warning(rag.plan_index(str(corpus), index_dir)), None
        except rag.UserError as exc:
            return None, str(exc)

    def add_files(files: list[str] | str | None, progress=gr.Progress(track_tqdm=True)):
        paths = [files] if isinstance(files, str) else list(files or [])
        try:
            return save_and_index(paths, progress)
        finally:
            discard_temporary(paths, demo.GRADIO_CACHE)  # saved into the corpus, or refused: not kept twice

    def save_and_index(paths: list[str], progress: gr.Progress):
        if uploads_off is not None:
            return render.report_html(None, error=f"uploads are off: {uploads_off}"), *stats(), None
        if not paths:
            return render.report_html(None), *stats(), None
        with build_lock:
            existing = {p.name for p in corpus.iterdir()} if corpus.is_dir() else set()
            result = save_uploads(paths, corpus)
            if not result.saved:
                return render.report_html(None, rejected=result.rejected), *stats(), None
            warning, error = planned_removal()
            if warning or error:
                note = error or f"{warning} Saved, not indexed yet: press Re-index to confirm."
                return render.report_html(None, result.saved, result.rejected, note), *stats(), None
            report, error = rebuild(progress)
            rejected = list(result.rejected)
            saved = list(result.saved)
            unreadable = dict(report.skipped) if report else {}
            for name in result.saved:
                if name in unreadable and name not in existing:
                    # A new upload the reader could not use: take it out of the corpus again.
                    (corpus / name).unlink(missing_ok=True)
                    saved.remove(name)
                    rejected.append((name, unreadable[name]))
        return render.report_html(report, saved, rejected, error), *stats(), None

    hidden = gr.update(visible=False)

    def reindex(progress=gr.Progress(track_tqdm=True)):
        """Re-index, unless that would remove most of the index: then ask first."""
        if corpus is None:
            return render.report_html(None, error=NO_CORPUS), *stats(), hidden, gr.skip()
        warning, error = planned_removal()
        if error:
            return render.report_html(None, error=error), *stats(), hidden, gr.skip()
        if warning:
            ask_first = f"**{warning}** Re-index `{corpus}` anyway?"
            return "", *stats(), gr.update(visible=True), ask_first
        return (*confirmed_reindex(progress), hidden, gr.skip())

    def confirmed_reindex(progress=gr.Progress(track_tqdm=True)):
        if corpus is None:
            return render.report_html(None, error=NO_CORPUS), *stats()
        with build_lock:
            report, error = rebuild(progress)
        return render.report_html(report, error=error), *stats()

    def confirm(progress=gr.Progress(track_tqdm=True)):
        return (*confirmed_reindex(progress), hidden)

    # ---- API ----------------------------------------------------------------------------
    def api_answer(question: Any) -> rag.Answer:
        """``ask`` for the API: every failure is a readable ``gr.Error`` (never ``{"error": null}``)."""
        try:
            with pool.use() as assistant:
                return assistant.ask(question)
        except rag.UserError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:
            log.exception("answering %r through the API failed", question)
            raise gr.Error(f"could not answer that ({type(exc).__name__}); the server log has the details",
                           print_exception=False) from None

    def ask(question: str) -> str:
        """Answer a question with sentences quoted verbatim from the articles, each followed by its [n] marker."""
        return api_answer(question).text

    def answer(question: str) -> dict:
        """The full answer as JSON: text, citations (quote, doc_id, offsets), passages with scores, abstained."""
        return api_answer(question).to_dict()

    # ---- layout -------------------------------------------------------------------------
    with gr.Blocks(title="Ask the articles", analytics_enabled=False) as demo:
        conversation = gr.State(_new_conversation())
        gr.Markdown(
            "# Ask the articles\nAnswers are sentences quoted word for word from the indexed news articles, "
            "each followed by its source [n]. When the articles do not say, the answer is "
            "“Not found in these articles.”",
            elem_id="rag-header",
        )
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=300):
                        chatbot = gr.Chatbot(
                            elem_id="rag-chat",
                            show_label=False,
                            height="58vh",
                            min_height=320,
                            placeholder="Ask a question about the articles. Follow-up questions see the conversation.",
                            feedback_options=None,
                            latex_delimiters=[],
                            layout="bubble",
                            buttons=[],
                        )
                        question = gr.Textbox(
                            elem_id="rag-question",
                            show_label=False,
                            placeholder="Ask about the articles…",
                            submit_btn="Ask",
                            max_length=4000,
                            autofocus=True,
                        )
                        with gr.Row():
                            new_chat = gr.Button("New conversation", size="sm", variant="secondary", elem_id="rag-new")
                        with gr.Accordion("Settings", open=False, elem_id="rag-settings"):
                            k = gr.Slider(
                                1, MAX_K, value=min(loaded.k, MAX_K), step=1, label="Passages to retrieve (k)"
                            )
                            mode = gr.Dropdown(
                                choices=list(RETRIEVERS),
                                value=loaded.retriever if loaded.retriever in RETRIEVERS else None,
                                label="Retrieval mode",
                            )
                            as_of = gr.Textbox(
                                value=rag.as_of_date(loaded.as_of).isoformat(), label="As of (YYYY-MM-DD)",
                                max_lines=1, elem_id="rag-as-of",
                            )
                            as_of_view = gr.Markdown(elem_classes="rag-note", elem_id="rag-as-of-note")
                            gr.Markdown(_writer_note(loaded.composer), elem_classes="rag-note")
                    with gr.Column(scale=2, min_width=280):
                        gr.Markdown("### Sources of the last answer")
                        sources = gr.HTML(render.SOURCES_EMPTY, elem_id="rag-sources")
            with gr.Tab("Corpus", id="corpus"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1, min_width=280):
                        gr.Markdown("### What is indexed")
                        stats_now, articles_html = stats()
                        stats_view = gr.HTML(stats_now, elem_id="rag-stats")
                        with gr.Accordion("Indexed articles", open=False):
                            articles_view = gr.HTML(articles_html, elem_id="rag-articles")
                    with gr.Column(scale=1, min_width=280):
                        gr.Markdown("### Add articles")
                        upload = gr.File(
                            label=f"Article files ({' '.join(ALLOWED_SUFFIXES)}; "
                            f"up to {MAX_UPLOAD_BYTES // 1_048_576} MB each)",
                            file_count="multiple",
                            elem_id="rag-upload",
                            interactive=uploads_off is None,
                        )
                        reindex_btn = gr.Button(
                            f"Re-index {corpus}" if corpus else "Re-index corpus folder",
                            elem_id="rag-reindex", interactive=corpus is not None,
                        )
                        with gr.Row(visible=False, elem_id="rag-confirm") as confirm_row:
                            confirm_text = gr.Markdown("", elem_classes="rag-note")
                            confirm_btn = gr.Button("Re-index anyway", variant="stop", size="sm", elem_id="rag-confirm-yes")
                            cancel_btn = gr.Button("Cancel", size="sm", elem_id="rag-confirm-no")
                        gr.Markdown(_corpus_note(corpus, uploads_off), elem_classes="rag-note")
                        report_view = gr.HTML("", elem_id="rag-report")
                        corpus_web.add_web_form(corpus, index_dir, build_lock, stats, [stats_view, articles_view], settings)

        chat_outputs = [chatbot, conversation, sources, question]
        def newest_note(day: str) -> str:
            info = rag.index_info(index_dir)
            return as_of_note(day, info.newest_date if info else None)

        question.submit(
            respond, [question, conversation, k, mode, as_of], chat_outputs,
            api_visibility="private", show_progress="hidden", trigger_mode="once",
        )
        new_chat.click(clear, None, chat_outputs, api_visibility="private", queue=False)
        chatbot.clear(clear, None, chat_outputs, api_visibility="private", queue=False)
        upload.upload(
            add_files, upload, [report_view, stats_view, articles_view, upload],
            api_visibility="private", concurrency_id="index", concurrency_limit=1,
        )
        reindex_btn.click(
            reindex, None, [report_view, stats_view, articles_view, confirm_row, confirm_text],
            api_visibility="private", concurrency_id="index", concurrency_limit=1,
        )
        confirm_btn.click(
            confirm, None, [report_view, stats_view, articles_view, confirm_row],
            api_visibility="private", concurrency_id="index", concurrency_limit=1,
        )
        cancel_btn.click(lambda: hidden, None, confirm_row, api_visibility="private", queue=False)
        demo.load(stats, None, [stats_view, articles_view], api_visibility="private", queue=False)
        demo.load(newest_note, as_of, as_of_view, api_visibility="private", queue=False)
        as_of.change(newest_note, as_of, as_of_view, api_visibility="private", queue=False)
        gr.api(ask, api_name="ask")
        gr.api(answer, api_name="answer")

    demo.rag_pool = pool  # type: ignore[attr-defined]  # for callers that want to close it
    return demo


def _corpus_note(corpus: Path | None, uploads_off: str | None) -> str:
    if corpus is None:
        return "No corpus folder: start with `rag chat --corpus DIR` to add articles."
    if uploads_off is not None:
        return f"Indexes `{corpus}`. Uploads are off: {uploads_off}."
    return (f"Indexes `{corpus}`. Uploaded files are saved there and indexed right away; only new or "
            "changed articles are embedded.")


def serve(
    demo: gr.Blocks,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    share: bool = False,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
    concurrency: int = 4,
) -> tuple[Any, str, str | None]:
    """Queue and launch ``demo`` with this page's theme and CSS; returns Gradio's (app, local_url, share_url).

    Prints one line with the address (not Gradio's own banner, whose hint "set `share=True` in
    `launch()`" means ``--share`` here), then warms the assistant up; blocks unless ``prevent_thread_lock``.
    """
    demo.queue(default_concurrency_limit=concurrency)
    launched = demo.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        share=share,
        prevent_thread_lock=True,
        quiet=True,
        show_error=False,
        max_file_size=f"{MAX_UPLOAD_BYTES // 1_048_576 * 4}mb",
        ssr_mode=False,
        theme=THEME,
        css=CSS,
        head=HEAD,
        footer_links=["api"],
    )
    _, local_url, share_url = launched
    if not quiet:
        public = f" and {share_url}" if share_url else ""
        print(f"Chat on {local_url}{public} (Ctrl-C to stop)", flush=True)
    demo.rag_pool.start_warm_up()  # type: ignore[attr-defined]
    if not prevent_thread_lock:
        demo.block_thread()
    return launched
