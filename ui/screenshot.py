"""Screenshots of the chat page for the README: ``python -m ui.screenshot [LAPTOP.png] [PHONE.png]``.

Builds the seed index in a temporary folder, serves the app, asks one question in
Debian's Chromium (driven by Playwright; no browser is downloaded) and saves the page
at laptop size and at phone width (390 px).
"""

from __future__ import annotations

import shutil
import socket
import sys
import tempfile
from pathlib import Path

import rag

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
QUESTION = "How many troops train at the Chimyon centre each year?"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ask(page, question: str) -> None:
    box = page.locator("#rag-question textarea")
    box.fill(question)
    box.press("Enter")
    page.locator("#rag-chat [data-testid='bot'] .rag-cards").last.wait_for(timeout=60_000)


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    from ui.app import build_app, serve

    laptop = Path(argv[0]) if argv else ROOT / "ui" / "screenshot.png"
    phone = Path(argv[1]) if len(argv) > 1 else Path(tempfile.gettempdir()) / "phone.png"
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        shutil.copytree(ROOT / "seeds", corpus)
        rag.build_index(corpus, Path(tmp) / "index", progress=False)
        demo = build_app(str(Path(tmp) / "index"), str(corpus))
        _, url, _ = serve(demo, port=free_port(), prevent_thread_lock=True, quiet=True)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                sizes = ((laptop, {"width": 1366, "height": 900}), (phone, {"width": 390, "height": 844}))
                for path, viewport in sizes:
                    page = browser.new_page(viewport=viewport, device_scale_factor=1 if viewport["width"] > 800 else 2)
                    page.goto(url)
                    ask(page, QUESTION)
                    page.locator("#rag-chat [data-testid='bot'] details.rag-card summary").first.click()
                    page.wait_for_timeout(300)  # let the card's opening settle before the picture
                    page.screenshot(path=str(path), full_page=True)
                    print(f"wrote {path}")
                    page.close()
                browser.close()
        finally:
            demo.close()
            demo.rag_pool.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
