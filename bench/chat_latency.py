"""``python -m bench.chat_latency``: how long `make chat` takes to answer in a real browser.

    python -m bench.chat_latency                    # `make chat` on the built seeds index, 5 questions
    python -m bench.chat_latency --runs 3 --json

Each run starts ``make chat`` (the README's command; the index must already be built, so the
run measures start-up, not indexing) on a free port and measures, in headless Chromium:

* ``page_s``: from ``make chat`` to the page being served (HTTP 200);
* ``first_answer_s``: from ``make chat`` to the first answer finished in the page (question
  typed the moment the page has loaded);
* per question, ``first_token_ms`` (Enter to the first text of the answer in the page) and
  ``answer_ms`` (Enter to the finished answer with its source cards).

Medians over the runs are printed; every number goes to ``bench/out/chat_latency.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.run import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
QUESTIONS = [
    "How many troops train at the Chimyon centre each year?",
    "Who led the NATO delegation to Uzbekistan?",
    "Which centre did he tour?",
    "What did Pashinyan blame for the tensions?",
    "Who won the 2022 football world cup?",
]
BOTS = "#rag-chat [data-testid='bot']"
# Timestamps (performance.now) of the first non-empty text and of the source cards of bot message `index`.
WATCH = """
(index) => {
  window.__first = null; window.__done = null;
  const chat = document.querySelector('#rag-chat');
  const look = () => {
    const bot = chat.querySelectorAll('[data-testid="bot"]')[index];
    if (!bot) return;
    if (window.__first === null && bot.innerText.trim().length > 0) window.__first = performance.now();
    if (window.__done === null && bot.querySelector('.rag-cards, .rag-error')) window.__done = performance.now();
  };
  if (window.__observer) window.__observer.disconnect();  // the last question's watcher
  window.__observer = new MutationObserver(look);
  window.__observer.observe(chat, {subtree: true, childList: true, characterData: true});
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_page(url: str, process: subprocess.Popen, timeout: float) -> float:
    """Seconds until ``url`` answers 200 (the server process must stay alive)."""
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        if process.poll() is not None:
            raise SystemExit(f"`make chat` exited with {process.returncode} before serving the page")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - began
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"no page at {url} within {timeout:.0f} s")


def ask(page, question: str) -> dict[str, float]:
    """Type ``question``; milliseconds from Enter to the first text and to the finished answer."""
    index = page.locator(BOTS).count()
    page.evaluate(WATCH, index)
    box = page.locator("#rag-question textarea")
    box.fill(question)
    sent = page.evaluate("performance.now()")
    box.press("Enter")
    page.wait_for_function("window.__done !== null", timeout=120_000)
    first, done = page.evaluate("[window.__first, window.__done]")
    return {"first_token_ms": first - sent, "answer_ms": done - sent}


def one_run(browser, index: str, questions: list[str], timeout: float) -> dict:
    """Start `make chat`, time the page and every question, stop the server."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    began = time.perf_counter()
    process = subprocess.Popen(["make", "--no-print-directory", "chat", f"PORT={port}", f"INDEX={index}"], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        page_s = wait_for_page(url, process, timeout)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(url)
        page.locator("#rag-question textarea").wait_for(timeout=60_000)
        asked = [ask(page, questions[0])]
        first_answer_s = time.perf_counter() - began
        asked += [ask(page, q) for q in questions[1:]]
        page.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    return {"page_s": page_s, "first_answer_s": first_answer_s, "questions": dict(zip(questions, asked))}


def summarise(runs: list[dict]) -> dict[str, float]:
    """Medians over runs (and, for the per-question times, over questions too)."""
    per_question = [q for run in runs for q in run["questions"].values()]
    return {
        "page_s": statistics.median(r["page_s"] for r in runs),
        "first_answer_s": statistics.median(r["first_answer_s"] for r in runs),
        "first_token_ms": statistics.median(q["first_token_ms"] for q in per_question),
        "answer_ms": statistics.median(q["answer_ms"] for q in per_question),
        "answer_ms_max": max(q["answer_ms"] for q in per_question),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chat_latency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="index", help="a built index (default: index, as `make chat`)")
    parser.add_argument("--runs", type=int, default=3, help="fresh `make chat` starts (default: 3)")
    parser.add_argument("--timeout", type=float, default=180, help="seconds to wait for the page")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="where chat_latency.json goes")
    parser.add_argument("--json", action="store_true", help="print every number as JSON")
    args = parser.parse_args(argv)
    import rag

    if rag.index_info(ROOT / args.index) is None:
        raise SystemExit(f"no built index in {args.index}: run `make index` first (this measures start-up, not indexing)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        runs = [one_run(browser, args.index, QUESTIONS, args.timeout) for _ in range(args.runs)]
        browser.close()
    result = {"runs": runs, "median": summarise(runs), "load_average": os.getloadavg()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "chat_latency.json").write_text(json.dumps(result, indent=1))
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        for key, value in result["median"].items():
            print(f"{key:>16}: {value:,.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
