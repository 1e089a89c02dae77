"""A real HTTP server on 127.0.0.1 serving a news site: feeds, pages with site chrome, bad pages.

Started and stopped by the ``news_site`` fixture; pages can be changed while it runs
(``site.pages[path] = ...``) to test re-checking.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

CHROME_TOP = """<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a>
<a href="/login">Sign in</a></nav><div class="banner">Subscribe for 1 euro a week</div></header>"""
CHROME_BOTTOM = """<aside><h3>Most read</h3><ul><li><a href="/x">Celebrity chef opens pop-up</a></li>
<li><a href="/y">Ten things to do this weekend</a></li></ul></aside>
<div class="share">Share this article: Facebook Twitter Email</div>
<footer><p>Copyright 2024 Elms Post Media. All rights reserved.</p><a href="/privacy">Privacy</a></footer>"""


def article_html(title: str, date: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html><head><title>{title} | Elms Post</title>
<meta property="og:title" content="{title}"><meta property="og:site_name" content="Elms Post">
<meta property="article:published_time" content="{date}T08:00:00Z"></head>
<body>{CHROME_TOP}<main><article><h1>{title}</h1><p class="byline">By Jo Marsh</p>{body}</article></main>
{CHROME_BOTTOM}</body></html>"""


HARBOUR = article_html("Harbour opens in Port Elms", "2024-03-04", [
    "The new harbour in Port Elms opened on Monday after four years of building work and a long dispute over its cost.",
    "It cost 42 million pounds and can hold 300 boats, the harbour authority said in a statement on Monday morning.",
    "Mayor Ada Quill cut the ribbon. She said the harbour would bring 500 jobs to the town within two years.",
])
BAKERY = article_html("Lowtown bakery wins national bread prize", "2024-03-05", [
    "A family bakery in Lowtown won the national bread prize on Tuesday for its dark rye loaf, beating 240 entries.",
    "The judges praised the crust and the slow fermentation, which owner Tom Reyes said takes three full days.",
    "Reyes has run the bakery since 1998 and plans to open a second shop in Port Elms next spring.",
])
FERRY = article_html("Ferry to Stoney Isle returns", "2024-03-06", [
    "The ferry service to Stoney Isle resumed on Wednesday after the council agreed a new contract with Elms Ferries.",
    "Islanders had gone without a regular boat for eleven weeks, and the new contract runs for seven years.",
])

BRIEF = article_html("Port Elms names its new lifeboat", "2024-03-08", [
    "The new lifeboat of Port Elms was named Ada Quill on Friday, after the mayor who opened the harbour.",
    "The boat cost 2.1 million pounds, paid for by a public appeal that ran for three years.",
])


def rss(base: str, links: list[str]) -> str:
    items = "".join(
        f"<item><title>Item {i}</title><link>{base}{link}</link><pubDate>Tue, 05 Mar 2024 10:00:00 GMT</pubDate></item>"
        for i, link in enumerate(links)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Elms Post</title>
<link>{base}/</link><description>News from Port Elms</description>{items}</channel></rss>"""


def atom(base: str, links: list[str]) -> str:
    entries = "".join(
        f'<entry><title>Entry {i}</title><link href="{link}"/><id>{base}{link}</id><updated>2024-03-06T09:00:00Z</updated></entry>'
        for i, link in enumerate(links)
    )
    return f"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" xml:base="{base}/">
<title>Elms Post (Atom)</title><id>{base}/atom</id><updated>2024-03-06T09:00:00Z</updated>{entries}</feed>"""


@dataclass
class NewsSite:
    base: str
    pages: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, user agent)
    slow_seconds: float = 3.0

    def html(self, path: str, text: str, status: int = 200) -> None:
        self.pages[path] = (status, "text/html; charset=utf-8", text.encode("utf-8"))

    def feed(self, path: str, text: str, kind: str = "application/rss+xml") -> None:
        self.pages[path] = (200, kind, text.encode("utf-8"))


def _handler(site: NewsSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet test output
            pass

        def do_GET(self) -> None:
            try:
                self._serve()
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout, size limit)
                pass

        def _serve(self) -> None:
            site.requests.append((self.path, self.headers.get("User-Agent", "")))
            if self.path == "/slow":
                time.sleep(site.slow_seconds)
            if self.path.startswith("/redirect/"):  # /redirect/N: N more hops, then the harbour page
                hops = int(self.path.rsplit("/", 1)[1])
                return self._redirect("/news/harbour" if hops <= 1 else f"/redirect/{hops - 1}")
            if self.path == "/to-file":
                return self._redirect("file:///etc/passwd")
            if self.path == "/huge-stream":  # no Content-Length: the limit must stop the read
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                for _ in range(200):
                    self.wfile.write(b"<p>" + b"x" * 65536 + b"</p>")
                return
            status, kind, body = site.pages.get(self.path, (404, "text/plain", b"not found"))
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _redirect(self, location: str) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


@pytest.fixture
def news_site() -> Iterator[NewsSite]:
    """The site on 127.0.0.1: /feed.xml (RSS) linking pages with chrome, a broken, a slow and a huge page."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)  # type: ignore[arg-type]
    site = NewsSite(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(site)
    server.daemon_threads = True
    site.html("/news/harbour", HARBOUR)
    site.html("/news/bakery", BAKERY)
    site.html("/news/ferry", FERRY)
    site.html("/news/brief", BRIEF)
    site.html("/broken", "<html><body><h1>Internal error</h1></body></html>", status=500)
    site.html("/empty", "<!DOCTYPE html><html><body><nav><a href='/'>Home</a></nav></body></html>")
    site.html("/huge", "<!DOCTYPE html><html><body>" + "<p>Big page.</p>" * 600_000 + "</body></html>")
    site.pages["/report.pdf"] = (200, "application/pdf", b"%PDF-1.4 not parsed here")
    site.feed("/feed.xml", rss(site.base, ["/news/harbour", "/news/bakery", "/broken", "/slow", "/huge", "/empty"]))
    site.feed("/atom.xml", atom(site.base, ["news/ferry", "news/harbour"]), kind="application/atom+xml")
    thread = threading.Thread(target=server.serve_forever, name="news-site", daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
