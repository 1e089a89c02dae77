"""Field check of the chat with the LLM writer: SmolLM2-135M on llama.cpp behind ``rag chat``,
driven in headless Chromium; counts the page updates whose streaming draft shows the prompt's scaffold.

    python scripts/check_llm_chat.py [QUESTION ...] [--index DIR] [--port 7871]

Needs: pip install -e ".[llm,dev]" and Debian's chromium. Prints, per question, the seconds to the
final message, how many page updates the draft went through, how many of them showed scaffold
("BEGIN/END ARTICLES", "Question:", a leading "Answer:") and the final message.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))

from llm_demo import llama_server  # noqa: E402

BOTS = "#rag-chat [data-testid='bot']"
WATCH = """(index) => { window.__snaps = []; const chat = document.querySelector('#rag-chat');
  new MutationObserver(() => { const bots = chat.querySelectorAll('[data-testid="bot"]');
    if (bots.length > index) window.__snaps.push(bots[index].innerText); })
  .observe(chat, {subtree: true, childList: true, characterData: true}); }"""
QUESTIONS = ["How many troops train at the Chimyon centre each year?", "What did the NATO delegation see in Azerbaijan?"]
TIMEOUT_MS = 300_000


def shows_scaffold(text: str) -> bool:
    return "ARTICLES" in text or "Question:" in text or text.lstrip().startswith("Answer:")


def ask(page, question: str) -> dict:
    index = page.locator(BOTS).count()
    page.evaluate(WATCH, index)
    started = time.monotonic()
    box = page.locator("#rag-question textarea")
    box.fill(question)
    box.press("Enter")
    answer = page.locator(BOTS).nth(index)
    expect(answer.locator(".rag-cards, .rag-error")).to_have_count(1, timeout=TIMEOUT_MS)
    snaps = page.evaluate("window.__snaps")
    return {"question": question, "seconds": round(time.monotonic() - started, 1), "updates": len(snaps),
            "updates_showing_scaffold": sum(map(shows_scaffold, snaps)), "final": answer.inner_text()}


def serve_chat(index: str, port: int, base_url: str) -> subprocess.Popen:
    env = {**os.environ, "RAG_COMPOSER": "llm", "RAG_LLM_BASE_URL": base_url, "RAG_K": "3",
           "RAG_LLM_CONTEXT_TOKENS": "1000", "RAG_LLM_TIMEOUT": "240"}
    chat = subprocess.Popen([str(Path(sys.executable).with_name("rag")), "chat", "--index", index, "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(240):
        try:
            httpx.get(f"http://127.0.0.1:{port}", timeout=2)
            return chat
        except httpx.HTTPError:
            time.sleep(0.5)
    chat.terminate()
    raise SystemExit(f"rag chat did not start on port {port}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", nargs="*", default=QUESTIONS)
    parser.add_argument("--index", default="index")
    parser.add_argument("--port", type=int, default=7871)
    args = parser.parse_args()
    with llama_server() as base_url:
        chat = serve_chat(args.index, args.port, base_url)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                     args=["--headless", "--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1366, "height": 900})
                page.goto(f"http://127.0.0.1:{args.port}")
                expect(page.locator("#rag-question textarea")).to_be_visible(timeout=TIMEOUT_MS)
                results = [ask(page, q) for q in args.questions]
                browser.close()
        finally:
            chat.terminate()
            chat.wait(timeout=30)
    print(json.dumps(results, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
