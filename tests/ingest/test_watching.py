"""rag watch: folder and feeds re-checked, one line per change, Ctrl-C; assistants notice new generations."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.cli import main
from rag.errors import UserError
from rag.ingest.pages import article_path
from rag.ingest.web import FetchPolicy
from rag.store.build import build_index
from rag.ingest.watching import WatchPlan, parse_interval, watch, watch_round
from tests.conftest import FAST, TINY, write_corpus
from tests.news_server import news_site, rss  # noqa: F401  (the fixture)

REPO = Path(__file__).resolve().parents[2]
LOCAL = FetchPolicy(allow_private=True, timeout=1.0)
QUEEN = "The Elms queen visited the harbour in Port Elms on Friday and named the new lifeboat Ada."


def test_a_round_reports_each_change_in_folder_and_feed(news_site, tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", TINY)
    news_site.feed("/feed.xml", rss(news_site.base, ["/news/harbour"]))
    plan = WatchPlan.of([str(corpus), f"{news_site.base}/feed.xml"], tmp_path / "index")
    lines: list[str] = []
    watch_round(plan, LOCAL, lines.append, **FAST)
    harbour = article_path(f"{news_site.base}/news/harbour").as_posix()
    assert lines == ["added bakery.txt (Bakery wins national prize)", "added harbour.txt (New harbour opens in Port Elms)",
                     "added rail/strike.txt (Rail strike called off)", f"added {harbour} (Harbour opens in Port Elms)"]
    # Then: a new feed item, a file edited, one deleted, one broken link.
    news_site.feed("/feed.xml", rss(news_site.base, ["/news/harbour", "/news/bakery", "/broken"]))
    (corpus / "harbour.txt").write_text(TINY["harbour.txt"] + "\n\n" + QUEEN, encoding="utf-8")
    (corpus / "rail" / "strike.txt").unlink()
    lines.clear()
    watch_round(plan, LOCAL, lines.append, **FAST)
    bakery = article_path(f"{news_site.base}/news/bakery").as_posix()
    assert lines == [f"failed {news_site.base}/broken: HTTP 500 Internal Server Error",
                     "updated harbour.txt (New harbour opens in Port Elms)", "removed rail/strike.txt (Rail strike called off)",
                     f"added {bakery} (Lowtown bakery wins national bread prize)"]
    lines.clear()
    watch_round(plan, LOCAL, lines.append, **FAST)
    assert lines == [f"failed {news_site.base}/broken: HTTP 500 Internal Server Error"]  # nothing else changed


def test_assistant_notices_a_new_generation(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", TINY)
    build_index(corpus, tmp_path / "index", **FAST)
    old = Assistant.load(tmp_path / "index", **FAST)
    assert old.is_current() and old.reloaded() is old
    (corpus / "queen.txt").write_text("Queen visits Port Elms\n\n" + QUEEN, encoding="utf-8")
    build_index(corpus, tmp_path / "index", **FAST)
    assert not old.is_current()
    fresh = old.reloaded()
    assert fresh is not old and fresh.is_current()
    assert fresh.search("who named the lifeboat", k=1)[0].doc_id == "queen.txt"
    # The old assistant still answers from its own generation until it is closed.
    assert "queen.txt" not in {p.doc_id for p in old.search("who named the lifeboat", k=5)}
    old.close()


def test_watch_loop_stops_when_asked_and_plan_errors(tmp_path: Path) -> None:
    import threading

    corpus = write_corpus(tmp_path / "corpus", TINY)
    stop, lines = threading.Event(), []
    stop.set()  # one round, then the wait returns at once
    watch(WatchPlan.of([str(corpus)], tmp_path / "index"), 3600, emit=lines.append, stop=stop, **FAST)
    assert len(lines) == 3
    with pytest.raises(UserError, match="single folder"):
        WatchPlan.of([str(corpus), str(tmp_path)], tmp_path / "index")
    with pytest.raises(UserError, match="corpus folder not found"):
        WatchPlan.of([str(tmp_path / "nope")], tmp_path / "index")
    assert parse_interval("90") == 90 and parse_interval("1.5h") == 5400
    for bad in ("0", "10 minutes", "-5m"):
        with pytest.raises(UserError, match="--every"):
            parse_interval(bad)


def test_cli_watch_once_and_an_empty_folder(tmp_path: Path, capsys, no_config, monkeypatch) -> None:
    monkeypatch.setenv("RAG_MODEL", "hashing")
    corpus = write_corpus(tmp_path / "corpus", TINY)
    assert main(["watch", str(corpus), "--index", str(tmp_path / "index"), "--once"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith(f"watching {corpus} -> {tmp_path / 'index'}") and len(out) == 4
    (tmp_path / "empty").mkdir()
    assert main(["watch", str(tmp_path / "empty"), "--index", str(tmp_path / "i2"), "--once"]) == 2
    assert "no readable articles" in capsys.readouterr().err


def test_ctrl_c_stops_watch_cleanly(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", TINY)
    env = {**os.environ, "PYTHONPATH": str(REPO), "RAG_MODEL": "hashing", "RAG_PROGRESS": "false"}
    command = [sys.executable, "-m", "rag.cli", "watch", str(corpus), "--index", str(tmp_path / "index"), "--every", "1s"]
    # Ctrl-C at a terminal: SIGINT handled by default even when this run inherited it ignored
    # (a shell's background job, e.g. CI started with "&", ignores SIGINT in all its children).
    restore = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=restore)
    try:
        lines = [process.stdout.readline() for _ in range(4)]  # "watching ..." and three "added" lines
        assert all(" added " in line for line in lines[1:]), lines
        (corpus / "queen.txt").write_text("Queen visits Port Elms\n\n" + QUEEN, encoding="utf-8")
        assert " added queen.txt (Queen visits Port Elms)" in process.stdout.readline()  # the next round saw it
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0 and out.strip().endswith("stopped")
    assert "Traceback" not in err
    assert Assistant.load(tmp_path / "index", **FAST).store.article("queen.txt") is not None
