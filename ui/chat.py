"""The conversation on the chat page: the pool of loaded assistants and the chat's handlers.

Each browser session keeps its turns in a ``gr.State`` (the shown messages and the
``(question, answer)`` history that ``rag.Assistant.ask_stream`` reads, as ``rag.Chat`` does);
the assistants themselves are shared through ``AssistantPool``, which swaps them after a rebuild.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from contextlib import contextmanager
from typing import Any, Iterator

import gradio as gr

import rag
from ui import render

log = logging.getLogger("rag.ui")

STREAM_DELAY = 0.015  # seconds between streamed pieces of a quoted answer (whole in under half a second)
STREAM_STEPS = 30  # an answer streams in at most this many pieces
WARM_UP_JOIN_S = 60.0


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
        self._warm_up: threading.Thread | None = None
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
        if self._warm_up is not None:
            self._warm_up.join(WARM_UP_JOIN_S)
        with self._cond:
            self._retired += list(self._by_retriever.values())
            self._by_retriever = {}
            for assistant in self._retired:
                assistant.close()
            self._retired = []


def new_conversation() -> dict[str, list]:
    return {"messages": [], "history": []}


def question_html(text: str) -> str:
    return f'<div class="rag-question">{render.esc(text)}</div>'


def writer_note(composer: str) -> str:
    """What writes the answers, under the chat's settings."""
    if composer == "extractive":
        return "Answers are written by the **extractive** composer: it only quotes sentences from the articles."
    return f"Answers are written by the **{composer}** composer."


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


class ChatHandlers:
    """The chat tab's event handlers and the page's API (``ask``, ``answer``) over one pool."""

    def __init__(self, pool: AssistantPool) -> None:
        self.pool = pool

    def respond(self, question: str, conversation: dict | None, k: float, mode: str, as_of: str = ""):
        """Stream the answer to ``question`` into the chat; outputs: chatbot, conversation, sources, question box."""
        conversation = conversation or new_conversation()
        text = (question or "").strip()
        if not text:
            gr.Warning("Type a question about the articles first.")
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        messages = conversation["messages"] + [{"role": "user", "content": question_html(text)}]
        yield messages, gr.skip(), gr.skip(), ""
        try:
            answer, articles, live = yield from self._answer(messages, text, conversation["history"], k, mode, as_of)
        except Exception as exc:  # never a traceback in the page; the log has it
            messages.append({"role": "assistant", "content": self._failure_html(exc, text)})
            yield messages, {**conversation, "messages": messages}, gr.skip(), gr.skip()
            return
        yield from self._reveal(messages, answer, articles, live)
        messages.append({"role": "assistant", "content": render.answer_html(answer, articles.get)})
        history = conversation["history"] + [(text, answer.text)]
        yield messages, {"messages": messages, "history": history}, render.sources_html(answer), gr.skip()

    def _answer(self, messages: list, text: str, history: list, k: float, mode: str, as_of: str):
        """Ask, showing an LLM writer's draft as it comes; returns (answer, cited articles, live)."""
        with self.pool.use(mode) as assistant:
            live = isinstance(assistant.composer, rag.StreamingComposer)  # an LLM writer: its tokens show as they come
            drafted = ""
            for piece in assistant.ask_stream(text, history=history, k=int(k) if k else None,
                                              as_of=(as_of or "").strip() or None):
                if isinstance(piece, rag.Answer):
                    answer = piece
                    break
                if live:
                    drafted += piece
                    yield messages + [{"role": "assistant", "content": render.draft_html(drafted)}], gr.skip(), gr.skip(), gr.skip()
            articles = {c.doc_id: assistant.article(c.doc_id) for c in answer.citations}
        return answer, articles, live

    @staticmethod
    def _failure_html(exc: Exception, text: str) -> str:
        if isinstance(exc, rag.UserError):
            return render.error_html(str(exc))
        log.error("answering %r failed", text, exc_info=exc)
        return render.error_html("Something went wrong answering that; the server log has the details.")

    @staticmethod
    def _reveal(messages: list, answer: rag.Answer, articles: dict, live: bool):
        """A quoted answer is ready at once; it is shown a few words at a time, as the LLM's would be.
        The checked final text (markers corrected, unsupported sentences flagged) then replaces
        the draft, and its source cards and the Sources panel follow it."""
        for partial in render.stream_steps(answer.text, 1 if live else STREAM_STEPS):
            piece = render.answer_html(answer, articles.get, text=partial, cards=False)
            yield messages + [{"role": "assistant", "content": piece}], gr.skip(), gr.skip(), gr.skip()
            time.sleep(0 if live else STREAM_DELAY)

    @staticmethod
    def clear():
        return [], new_conversation(), render.SOURCES_EMPTY, ""

    def api_answer(self, question: Any) -> rag.Answer:
        """``ask`` for the API: every failure is a readable ``gr.Error`` (never ``{"error": null}``)."""
        try:
            with self.pool.use() as assistant:
                return assistant.ask(question)
        except rag.UserError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:
            log.exception("answering %r through the API failed", question)
            raise gr.Error(f"could not answer that ({type(exc).__name__}); the server log has the details",
                           print_exception=False) from None

    def ask(self, question: str) -> str:
        """Answer a question with sentences quoted verbatim from the articles, each followed by its [n] marker."""
        return self.api_answer(question).text

    def answer(self, question: str) -> dict:
        """The full answer as JSON: text, citations (quote, doc_id, offsets), passages with scores, abstained."""
        return self.api_answer(question).to_dict()
