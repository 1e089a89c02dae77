"""The browser chat: ask the indexed news articles, get verbatim quotes with their sources.

``build_app(index_dir, corpus_dir)`` lays out the page and wires its events to the handlers
in ``ui.chat`` (the conversation) and ``ui.corpus`` (uploads, re-indexing); ``serve(demo)``
launches it with the page's theme and ``style.css``. Everything shown comes from ``rag``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

import rag
from ui import render
from ui import sources as corpus_web  # "sources" in build_app is the answer's Sources panel
from ui.chat import AssistantPool, ChatHandlers, as_of_note, new_conversation, writer_note
from ui.corpus import CorpusHandlers, corpus_note
from ui.uploads import ALLOWED_SUFFIXES, MAX_UPLOAD_BYTES

MAX_K = 20
CSS = Path(__file__).with_name("style.css").read_text(encoding="utf-8")
# Gradio scopes @media rules of ``css`` to the app's content; the page margins sit outside it.
HEAD = """<style>
@media (max-width: 640px) {
  .gradio-container .main.app { padding-left: 8px !important; padding-right: 8px !important; }
}
</style>"""

HEADER = ("# Ask the articles\nAnswers are sentences quoted word for word from the indexed news articles, "
          "each followed by its source [n]. When the articles do not say, the answer is "
          "“Not found in these articles.”")
THEME = gr.themes.Soft(primary_hue="blue", neutral_hue="slate")


class ChatPage(gr.Blocks):
    """The page's Blocks, holding the pool of assistants it answers from (``close()`` it when done)."""

    def __init__(self, pool: AssistantPool, **blocks: Any) -> None:
        super().__init__(**blocks)
        self.rag_pool = pool


def build_app(index_dir: str, corpus_dir: str | None = None, **settings: Any) -> ChatPage:
    """The chat page over the index in ``index_dir``; uploads go into ``corpus_dir`` (None: no uploads).

    Uploads are also off when ``corpus_dir`` holds files tracked by git (``seeds/``): the page
    never modifies a tracked file. ``settings`` are passed to ``rag.Assistant.load`` (e.g. ``k=8``).
    Raises ``rag.UserError`` when the index cannot be loaded.
    """
    pool = AssistantPool(index_dir, **settings)
    corpus = Path(corpus_dir) if corpus_dir else None
    chat, corpus_tab = ChatHandlers(pool), CorpusHandlers(pool, index_dir, corpus)
    loaded = pool.default.settings
    with ChatPage(pool, title="Ask the articles", analytics_enabled=False) as demo:
        corpus_tab.cache_dir = demo.GRADIO_CACHE
        conversation = gr.State(new_conversation())
        gr.Markdown(HEADER, elem_id="rag-header")
        with gr.Tabs():
            chat_view = _chat_tab(loaded)
            corpus_view = _corpus_tab(corpus_tab, index_dir, settings)
        _wire_chat(demo, chat, chat_view, conversation, index_dir)
        _wire_corpus(demo, corpus_tab, corpus_view)
        gr.api(chat.ask, api_name="ask")
        gr.api(chat.answer, api_name="answer")
    return demo


def _chat_tab(loaded: rag.Settings) -> dict[str, Any]:
    """The Chat tab's components: the conversation, the question box, its settings, the Sources panel."""
    with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300):
            chatbot = gr.Chatbot(
                elem_id="rag-chat", show_label=False, height="58vh", min_height=320,
                placeholder="Ask a question about the articles. Follow-up questions see the conversation.",
                feedback_options=None, latex_delimiters=[], layout="bubble", buttons=[],
            )
            question = gr.Textbox(
                elem_id="rag-question", show_label=False, placeholder="Ask about the articles…",
                submit_btn="Ask", max_length=rag.MAX_QUESTION_CHARS, autofocus=True,
            )
            with gr.Row():
                new_chat = gr.Button("New conversation", size="sm", variant="secondary", elem_id="rag-new")
            with gr.Accordion("Settings", open=False, elem_id="rag-settings"):
                k = gr.Slider(1, MAX_K, value=min(loaded.k, MAX_K), step=1, label="Passages to retrieve (k)")
                names = rag.retriever_names()
                mode = gr.Dropdown(choices=names, value=loaded.retriever if loaded.retriever in names else None,
                                   label="Retrieval mode")
                as_of = gr.Textbox(value=rag.as_of_date(loaded.as_of).isoformat(), label="As of (YYYY-MM-DD)",
                                   max_lines=1, elem_id="rag-as-of")
                as_of_view = gr.Markdown(elem_classes="rag-note", elem_id="rag-as-of-note")
                gr.Markdown(writer_note(loaded.composer), elem_classes="rag-note")
        with gr.Column(scale=2, min_width=280):
            gr.Markdown("### Sources of the last answer")
            sources = gr.HTML(render.SOURCES_EMPTY, elem_id="rag-sources")
    return {"chatbot": chatbot, "question": question, "new_chat": new_chat, "k": k, "mode": mode,
            "as_of": as_of, "as_of_view": as_of_view, "sources": sources}


def _corpus_tab(handlers: CorpusHandlers, index_dir: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The Corpus tab's components: what is indexed, uploads, re-indexing, adding from the web."""
    corpus = handlers.corpus
    with gr.Tab("Corpus", id="corpus"), gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            gr.Markdown("### What is indexed")
            stats_now, articles_html = handlers.stats()
            stats_view = gr.HTML(stats_now, elem_id="rag-stats")
            with gr.Accordion("Indexed articles", open=False):
                articles_view = gr.HTML(articles_html, elem_id="rag-articles")
        with gr.Column(scale=1, min_width=280):
            gr.Markdown("### Add articles")
            upload = gr.File(
                label=f"Article files ({' '.join(ALLOWED_SUFFIXES)}; up to {MAX_UPLOAD_BYTES // 1_048_576} MB each)",
                file_count="multiple", elem_id="rag-upload", interactive=handlers.uploads_off is None,
            )
            reindex = gr.Button(f"Re-index {corpus}" if corpus else "Re-index corpus folder",
                                elem_id="rag-reindex", interactive=corpus is not None)
            with gr.Row(visible=False, elem_id="rag-confirm") as confirm_row:
                confirm_text = gr.Markdown("", elem_classes="rag-note")
                confirm = gr.Button("Re-index anyway", variant="stop", size="sm", elem_id="rag-confirm-yes")
                cancel = gr.Button("Cancel", size="sm", elem_id="rag-confirm-no")
            gr.Markdown(corpus_note(corpus, handlers.uploads_off), elem_classes="rag-note")
            report_view = gr.HTML("", elem_id="rag-report")
            corpus_web.add_web_form(corpus, index_dir, handlers.build_lock, handlers.stats,
                                    [stats_view, articles_view], settings)
    return {"stats": stats_view, "articles": articles_view, "upload": upload, "reindex": reindex,
            "confirm_row": confirm_row, "confirm_text": confirm_text, "confirm": confirm, "cancel": cancel,
            "report": report_view}


def _wire_chat(demo: ChatPage, chat: ChatHandlers, view: dict[str, Any], conversation: gr.State, index_dir: str) -> None:
    outputs = [view["chatbot"], conversation, view["sources"], view["question"]]
    inputs = [view["question"], conversation, view["k"], view["mode"], view["as_of"]]
    view["question"].submit(chat.respond, inputs, outputs, api_visibility="private", show_progress="hidden",
                            trigger_mode="once")
    view["new_chat"].click(chat.clear, None, outputs, api_visibility="private", queue=False)
    view["chatbot"].clear(chat.clear, None, outputs, api_visibility="private", queue=False)

    def newest_note(day: str) -> str:
        info = rag.index_info(index_dir)
        return as_of_note(day, info.newest_date if info else None)

    demo.load(newest_note, view["as_of"], view["as_of_view"], api_visibility="private", queue=False)
    view["as_of"].change(newest_note, view["as_of"], view["as_of_view"], api_visibility="private", queue=False)


def _wire_corpus(demo: ChatPage, handlers: CorpusHandlers, view: dict[str, Any]) -> None:
    shown = [view["report"], view["stats"], view["articles"]]
    index_events = {"api_visibility": "private", "concurrency_id": "index", "concurrency_limit": 1}
    view["upload"].upload(handlers.add_files, view["upload"], [*shown, view["upload"]], **index_events)
    view["reindex"].click(handlers.reindex, None, [*shown, view["confirm_row"], view["confirm_text"]], **index_events)
    view["confirm"].click(handlers.confirm, None, [*shown, view["confirm_row"]], **index_events)
    view["cancel"].click(lambda: gr.update(visible=False), None, view["confirm_row"], api_visibility="private",
                         queue=False)
    demo.load(handlers.stats, None, [view["stats"], view["articles"]], api_visibility="private", queue=False)


def serve(
    demo: ChatPage,
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
    demo.rag_pool.start_warm_up()
    if not prevent_thread_lock:
        demo.block_thread()
    return launched
