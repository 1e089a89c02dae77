"""The chat page in a real browser: Debian's Chromium driven by Playwright (no browser download)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ui import render

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
expect = sync_api.expect

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
TIMEOUT = 60_000  # ms; answers take about a second, indexing a few, but CI machines can be slow
BOTS = "#rag-chat [data-testid='bot']"

pytestmark = pytest.mark.slow

# Records the length of the newest bot message each time the chat changes: a streamed
# answer is seen at several lengths before it is complete.
WATCH_STREAM = """
(index) => {
  window.__lengths = [];
  const chat = document.querySelector('#rag-chat');
  new MutationObserver(() => {
    const bots = chat.querySelectorAll('[data-testid="bot"]');
    if (bots.length > index) window.__lengths.push(bots[index].innerText.length);
  }).observe(chat, {subtree: true, childList: true, characterData: true});
}
"""


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.set_default_timeout(TIMEOUT)
    page.goto(server.url)
    expect(page.locator("#rag-question textarea")).to_be_visible()
    yield page
    page.close()


def ask(page, question: str, watch: bool = False):
    """Ask in the chat box; returns the locator of the finished answer message."""
    index = page.locator(BOTS).count()
    if watch:
        page.evaluate(WATCH_STREAM, index)
    box = page.locator("#rag-question textarea")
    box.fill(question)
    box.press("Enter")
    answer = page.locator(BOTS).nth(index)
    # The final message has its source cards (or an error line); streamed pieces have neither.
    expect(answer.locator(".rag-cards, .rag-error")).to_have_count(1, timeout=TIMEOUT)
    return answer


def test_cited_answer_streams_in(page):
    answer = ask(page, "How many troops train at the Chimyon centre each year?", watch=True)
    expect(answer).to_contain_text("300 troops")
    expect(answer).to_contain_text("[1]")
    lengths = page.evaluate("window.__lengths")
    assert len(set(lengths)) >= 3, f"the answer did not stream in (lengths seen: {lengths})"
    # The Sources panel lists the retrieved passages with their match level, the cited ones marked.
    sources = page.locator("#rag-sources")
    expect(sources.locator("details.rag-card")).to_have_count(5)
    expect(sources.locator(".rag-badge").first).to_contain_text("cited [")
    expect(sources.locator(".rag-score").first).to_have_text(
        __import__("re").compile(r"^(strong|partial|weak) match \d{1,3}%$"))


def test_citation_card_highlights_the_quote(page, server):
    question = "How many troops train at the Chimyon centre each year?"
    expected = server.pool.default.ask(question)
    answer = ask(page, question)
    cards = answer.locator("details.rag-card")
    expect(cards).to_have_count(len(expected.citations))
    for citation, card in zip(expected.citations, cards.all()):
        card.locator("summary").click()
        expect(card).to_have_attribute("open", "")
        expect(card.locator("mark")).to_have_text(citation.quote)
        expect(card.locator(".rag-doc")).to_contain_text(citation.doc_id)
        expect(card.locator("summary")).to_contain_text(citation.title)
        # The quote sits inside its paragraph: the card shows more than the quote alone.
        assert len(card.locator(".rag-context").inner_text()) >= len(citation.quote)


def test_follow_up_sees_the_conversation(page, server, monkeypatch):
    assistant = server.pool.default
    original = assistant.ask_stream
    calls: list[tuple[str, list, object]] = []

    def spy(question, history=None, **kwargs):
        pieces = list(original(question, history=history, **kwargs))
        calls.append((question, list(history or []), pieces[-1]))
        return iter(pieces)

    monkeypatch.setattr(assistant, "ask_stream", spy)
    first = ask(page, "What did Lt. Gen. Janusz Adamczyk do in Uzbekistan?")
    expect(first).to_contain_text("[1]")
    follow_up = ask(page, "Which centre did he tour?")
    asked = [q for q, _, _ in calls]
    assert asked == ["What did Lt. Gen. Janusz Adamczyk do in Uzbekistan?", "Which centre did he tour?"]
    # The follow-up was asked with the first turn as history, and its answer is what the page shows.
    assert calls[0][1] == []
    assert calls[1][1] == [(calls[0][0], calls[0][2].text)]
    shown = " ".join(follow_up.locator(".rag-text").inner_text().split())
    expected = {"answer": calls[1][2].text, "closest": render.CLOSEST}.get(calls[1][2].outcome, calls[1][2].text)
    assert shown == " ".join(expected.split())
    assert shown in ("Not found in these articles.", "Closest passages — the articles may not answer this.") or "[1]" in shown


def test_off_topic_question_is_not_answered(page):
    answer = ask(page, "Who won the 2022 football world cup?")
    expect(answer.locator(".rag-text")).to_have_text("Closest passages — the articles may not answer this.")
    expect(answer.locator("details.rag-card").first).to_be_attached()


def _umask() -> int:
    from ui.uploads import _umask as read

    return read()


def test_upload_an_article_then_ask_about_it(page, server, tmp_path):
    story = tmp_path / "Floating library (Vellmar Quay).txt"
    story.write_text(
        "Harbour Town Opens Floating Library\n\n"
        "The coastal town of Vellmar Quay opened a floating library on a converted ferry on Saturday.\n\n"
        "The library ship, named Marginalia, holds 7,400 books donated by residents. "
        "Librarian Odile Ferrant said the ship will visit four island villages every month.\n",
        encoding="utf-8",
    )
    page.get_by_role("tab", name="Corpus").click()
    page.locator("#rag-upload input[type=file]").set_input_files(str(story))
    report = page.locator("#rag-report")
    expect(report).to_contain_text("added 1, updated 0, removed 0, unchanged 2", timeout=120_000)
    expect(report).to_contain_text("Floating_library_Vellmar_Quay.txt")
    expect(page.locator("#rag-stats .rag-stat", has_text="Articles")).to_contain_text("3")
    saved = server.corpus / "Floating_library_Vellmar_Quay.txt"
    assert saved.is_file() and saved.stat().st_mode & 0o077 == 0o666 & ~_umask() & 0o077  # not 0600

    page.get_by_role("tab", name="Chat").click()
    answer = ask(page, "How many books does the Marginalia library ship hold?")
    expect(answer).to_contain_text("7,400 books")
    expect(answer.locator(".rag-doc").first).to_contain_text("Floating_library_Vellmar_Quay.txt")


def test_bad_uploads_are_reported(page, server, tmp_path):
    before = sorted(p.name for p in server.corpus.iterdir())
    program = tmp_path / "setup.exe"
    program.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    blank = tmp_path / "menu only.html"  # passes the upload checks; the article reader finds no text in it
    blank.write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>", encoding="utf-8")
    page.get_by_role("tab", name="Corpus").click()
    page.locator("#rag-upload input[type=file]").set_input_files([str(program), str(empty), str(blank)])
    report = page.locator("#rag-report")
    expect(report).to_contain_text("Not indexed", timeout=120_000)
    expect(report.locator("li", has_text="setup.exe")).to_contain_text("file type .exe is not accepted")
    expect(report.locator("li", has_text="empty.txt")).to_contain_text("empty file")
    expect(report.locator("li", has_text="menu_only.html")).to_contain_text("no article text")
    expect(report).not_to_contain_text("Saved to the corpus")
    assert sorted(p.name for p in server.corpus.iterdir()) == before  # nothing bad left in the corpus
    temp = Path(server.demo.GRADIO_CACHE)
    assert not [p for p in temp.rglob("*") if p.name in ("setup.exe", "empty.txt", "menu only.html")]  # nor in Gradio's
    # The app carries on.
    page.get_by_role("tab", name="Chat").click()
    expect(ask(page, "How many troops train at the Chimyon centre each year?")).to_contain_text("300 troops")


def test_phone_width_has_no_sideways_scroll(browser, server):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.set_default_timeout(TIMEOUT)
    try:
        page.goto(server.url)
        answer = ask(page, "How many troops train at the Chimyon centre each year?")
        answer.locator("details.rag-card summary").first.click()
        expect(answer.locator("details.rag-card mark").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        page.close()


def test_upload_while_another_build_writes_says_so(page, server, tmp_path):
    from rag.store.locking import index_writer

    story = tmp_path / "busy.txt"
    story.write_text("Busy day at the port\n\nThe port of Vellmar Quay handled 90 ships on Friday.\n", encoding="utf-8")
    page.get_by_role("tab", name="Corpus").click()
    try:
        with index_writer(server.index, wait=False):  # as a `rag index` run in another process would
            page.locator("#rag-upload input[type=file]").set_input_files(str(story))
            report = page.locator("#rag-report")
            expect(report).to_contain_text("is being written by", timeout=120_000)
        expect(report).to_contain_text("Indexing failed")
        temp = __import__("pathlib").Path(server.demo.GRADIO_CACHE)
        assert not list(temp.rglob("busy.txt"))  # Gradio's temporary copy is gone
    finally:
        (server.corpus / "busy.txt").unlink(missing_ok=True)


def test_reindex_that_would_remove_most_articles_asks_first(page, server, tmp_path):
    """Last in this module: it empties most of the corpus folder."""
    import shutil

    page.get_by_role("tab", name="Corpus").click()
    page.locator("#rag-reindex").click()  # nothing removed: no question asked
    expect(page.locator("#rag-report")).to_contain_text("removed 0")
    expect(page.locator("#rag-confirm")).to_be_hidden()
    indexed = sorted(p.name for p in server.corpus.iterdir())
    moved = tmp_path / "moved"
    moved.mkdir()
    for name in indexed[1:]:
        shutil.move(server.corpus / name, moved / name)
    page.locator("#rag-reindex").click()
    confirm = page.locator("#rag-confirm")
    expect(confirm).to_be_visible(timeout=60_000)
    expect(confirm).to_contain_text(f"would remove {len(indexed) - 1} of the {len(indexed)} indexed articles")
    page.locator("#rag-confirm-no").click()
    expect(confirm).to_be_hidden()
    assert server.pool.default.store.manifest["articles"] == len(indexed)  # nothing was removed
    page.locator("#rag-reindex").click()
    page.locator("#rag-confirm-yes").click()
    expect(page.locator("#rag-report")).to_contain_text(f"removed {len(indexed) - 1}", timeout=120_000)
    expect(confirm).to_be_hidden()
