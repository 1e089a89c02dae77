"""Fast tests of the chat page's HTML helpers, upload checks and ``rag chat`` arguments (no browser, no model)."""

from __future__ import annotations

import argparse
import os

import pytest

import rag
from ui import render
from ui.cli import parse_auth, register
from ui.uploads import BadUpload, check_content, sanitise_filename, save_uploads

ARTICLE = "Title line\n\nFirst paragraph. It has <b>two</b> sentences.\n\nSecond & last: the quoted one. And more."


def citation(quote: str, n: int = 1, text: str = ARTICLE, **extra) -> rag.Citation:
    start = text.index(quote)
    return rag.Citation(n=n, doc_id="doc<1>.txt", title="A <i>title</i>", quote=quote, start=start,
                        end=start + len(quote), **extra)


# ---- escaping and highlighting ------------------------------------------------------------------


def test_esc_escapes_markup_quotes_dollars_and_keeps_lines():
    assert render.esc('<script>alert("x")</script>') == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
    assert render.esc("it's $5") == "it&#x27;s &#36;5"
    assert render.esc("a\n\nb\r\nc") == "a<br><br>b<br>c"
    assert render.esc(None) == ""


def test_highlight_marks_spans_and_escapes_the_rest():
    assert render.highlight("a <b> c", [(2, 5)]) == "a <mark>&lt;b&gt;</mark> c"
    assert render.highlight("abcdef", [(4, 6), (0, 1)]) == "<mark>a</mark>bcd<mark>ef</mark>"
    assert render.highlight("abcdef", [(1, 4), (2, 5)]) == "a<mark>bcd</mark>ef"  # overlap: first wins
    assert render.highlight("abc", [(-3, 1), (2, 99)]) == "<mark>a</mark>b<mark>c</mark>"
    assert render.highlight("abc", []) == "abc"


def test_quote_in_context_marks_the_quote_inside_its_paragraph():
    quote = "Second & last: the quoted one."
    html = render.quote_in_context(citation(quote), ARTICLE)
    assert html == "<mark>Second &amp; last: the quoted one.</mark> And more."
    html = render.quote_in_context(citation("It has <b>two</b> sentences."), ARTICLE)
    assert html == "First paragraph. <mark>It has &lt;b&gt;two&lt;/b&gt; sentences.</mark>"
    assert "Title line" not in html and "Second" not in html


def test_quote_in_context_trims_long_paragraphs_at_words():
    text = "word " * 200 + "The quote. " + "tail " * 200
    html = render.quote_in_context(citation("The quote.", text=text), text, context=50)
    before, _, after = html.partition("<mark>The quote.</mark>")
    assert before.startswith("…") and after.endswith("…")
    assert len(before) < 60 and len(after) < 60
    assert "wor…" not in after and " wo " not in before


def test_quote_in_context_falls_back_to_the_bare_quote():
    c = citation("First paragraph.")
    assert render.quote_in_context(c, None) == "<mark>First paragraph.</mark>"
    assert render.quote_in_context(c, "different text entirely") == "<mark>First paragraph.</mark>"


def test_paragraph_bounds():
    start = ARTICLE.index("It has")
    p_start, p_end = render.paragraph_bounds(ARTICLE, start, start + 5)
    assert ARTICLE[p_start:p_end] == "First paragraph. It has <b>two</b> sentences."
    assert render.paragraph_bounds("one paragraph", 4, 6) == (0, len("one paragraph"))


# ---- answers and sources ----------------------------------------------------------------------------


def passage(text: str = ARTICLE, score: float = 0.5, doc_id: str = "doc<1>.txt", similarity: float | None = 0.62
            ) -> rag.Passage:
    return rag.Passage(chunk_id=0, doc_id=doc_id, title="A <i>title</i>", text=text, start=0, end=len(text),
                       score=score, date="2024-05-01", source="Wire & Co", similarity=similarity)


class Lookup:
    def __init__(self, text: str = ARTICLE):
        self.calls: list[str] = []
        self.text = text

    def __call__(self, doc_id: str):
        self.calls.append(doc_id)
        return rag.Article(doc_id=doc_id, title="t", text=self.text)


def test_answer_html_shows_text_markers_and_cards():
    c1 = citation("First paragraph.", 1, date="2024-05-01", source="Wire & Co")
    c2 = citation("Second & last: the quoted one.", 2)
    answer = rag.Answer(question="q", text=f"{c1.quote} [1] {c2.quote} [2]", citations=[c1, c2], passages=[passage()])
    lookup = Lookup()
    html = render.answer_html(answer, lookup)
    assert lookup.calls == ["doc<1>.txt"]  # each article read once
    assert '<sup class="rag-cite">[1]</sup>' in html and '<sup class="rag-cite">[2]</sup>' in html
    assert html.count('<details class="rag-card">') == 2
    assert "A &lt;i&gt;title&lt;/i&gt;" in html and "doc&lt;1&gt;.txt" in html
    assert "2024-05-01 · Wire &amp; Co" in html
    assert "<mark>Second &amp; last: the quoted one.</mark>" in html
    assert "\n\n" not in html and "<i>" not in html


def test_answer_html_while_streaming_has_no_cards():
    c1 = citation("First paragraph.")
    answer = rag.Answer(question="q", text="First paragraph. [1]", citations=[c1])
    html = render.answer_html(answer, Lookup(), text="First", cards=False)
    assert "rag-card" not in html and ">First</p>" in html


def test_draft_html_escapes_the_text_and_styles_markers():
    html = render.draft_html("Troops <b>train</b> [1")
    assert "rag-draft" in html and "&lt;b&gt;" in html and "rag-card" not in html
    assert '<sup class="rag-cite">[2]</sup>' in render.draft_html("Done. [2]")


def test_abstention_lists_the_closest_passages():
    answer = rag.Answer(question="q", text="Not found in these articles.", passages=[passage(score=0.016, similarity=0.21)] * 4,
                        abstained=True)
    html = render.answer_html(answer, Lookup())
    assert "rag-abstained" in html and "the articles may not answer this" in html
    assert "Closest passages" in html and html.count("<details") == 3 and "weak match 21%" in html


def test_not_found_shows_no_passages():
    answer = rag.Answer(question="q", text="Not found in these articles.", passages=[passage()] * 4,
                        abstained=True, confidence=0.0)
    html = render.answer_html(answer, Lookup())
    assert "Not found in these articles." in html and "<details" not in html


def test_the_answer_span_is_bold_in_the_answer_and_its_source_card():
    quote = "The delegation was led by John Smith."
    citation = rag.Citation(1, "a.txt", "A", quote, 100, 100 + len(quote), answer_start=126, answer_end=136)
    answer = rag.Answer(question="Who led it?", text=f"{quote} [1]", citations=[citation], short="John Smith")
    html = render.answer_html(answer, Lookup())
    assert html.count('<strong class="rag-short">John Smith</strong>') == 2  # answer text and source card
    assert '<sup class="rag-cite">[1]</sup>' in html
    assert "0.016" not in html  # the fusion score is a rank, not something to show people


def test_match_levels_are_similarity_percentages():
    assert "strong match 50%" in render.match_html(0.5)
    assert "partial match 49%" in render.match_html(0.49)
    assert "weak match 0%" in render.match_html(-0.2)  # a negative cosine is shown as no match, not -20%
    assert "strong match 100%" in render.match_html(1.0000002)
    assert render.match_html(None) == ""


def test_stream_steps_grow_to_the_full_text():
    text = "One two three four five six seven. [1] Eight nine ten. [2]"
    steps = list(render.stream_steps(text, max_steps=4))
    assert steps[-1] == text and len(steps) <= 4
    assert all(text.startswith(s) for s in steps)
    assert [len(s) for s in steps] == sorted(len(s) for s in steps)
    assert list(render.stream_steps("")) == [""]
    assert len(list(render.stream_steps("word " * 500, max_steps=30))) <= 30


def test_sources_panel_marks_cited_passages():
    c = citation("Second & last: the quoted one.")
    other = passage(text="Unrelated text <x>.", score=0.1, doc_id="other.txt", similarity=0.35)
    answer = rag.Answer(question="Who <said> it?", text=f"{c.quote} [1]", citations=[c], passages=[passage(), other])
    html = render.sources_html(answer)
    assert "Who &lt;said&gt; it?" in html
    assert html.count("<details") == 2 and html.count("rag-cited") == 1 and html.count(" open>") == 1
    assert ">strong match 62%</span>" in html and ">partial match 35%</span>" in html
    assert "0.500" not in html and "0.100" not in html
    assert "cited [1]" in html and "<mark>Second &amp; last: the quoted one.</mark>" in html
    assert "Unrelated text &lt;x&gt;." in html
    assert render.sources_html(None) == render.SOURCES_EMPTY


def test_report_html_lists_counts_and_problems_once():
    report = rag.IndexReport(index_dir="i", added=1, updated=0, removed=0, unchanged=2, chunks=7, embedded=1,
                             seconds=0.4, skipped=[("bad<1>.html", "no article text"), ("x.txt", "empty file")])
    html = render.report_html(report, saved=["new.txt"], rejected=[("x.txt", "empty file"), ("a.exe", "type")])
    assert "added 1, updated 0, removed 0, unchanged 2" in html
    assert "<code>new.txt</code>" in html and "bad&lt;1&gt;.html" in html
    assert html.count("x.txt") == 1
    assert "Indexing failed: boom &lt;3" in render.report_html(None, error="boom <3")
    assert "Nothing to do" in render.report_html(None)


def test_stats_html_from_index_info():
    info = rag.IndexInfo("idx", None, articles=2, chunks=6, built_at="2024-01-02T03:04:05+00:00", newest_date=None,
                         settings={"model": "m<1>"})
    html = render.stats_html(info, "idx", None)
    assert "<dd>2</dd>" in html and "<dd>6</dd>" in html and "m&lt;1&gt;" in html and "2024-01-02 03:04:05" in html
    assert "No index" in render.stats_html(None, "idx", "c")


# ---- uploads ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("story.txt", "story.txt"),
        ("../../etc/cron.d/evil.md", "evil.md"),
        ("..\\..\\windows\\notes.HTML", "notes.html"),
        (".hidden.txt", "hidden.txt"),
        ("...bashrc.json", "bashrc.json"),
        ("Report 2024 (final).TXT", "Report_2024_final.txt"),
        ("Café – résumé.md", "Cafe_resume.md"),
        ("-rf.jsonl", "rf.jsonl"),
        ("a" * 300 + ".htm", "a" * 116 + ".htm"),
        ("日本.txt", "article-" + __import__("hashlib").sha256("日本".encode()).hexdigest()[:8] + ".txt"),
    ],
)
def test_sanitise_filename(name, safe):
    assert sanitise_filename(name) == safe


@pytest.mark.parametrize(
    "name", ["setup.exe", "archive.txt.gz", "noext", ".txt", "..", "", "/", "../.md", "x.t xt", "a.exe\x00.txt.exe"]
)
def test_sanitise_filename_refuses(name):
    with pytest.raises(BadUpload):
        sanitise_filename(name)


def test_check_content():
    check_content(b"Title\n\nBody.")
    for data, reason in ((b"", "empty"), (b" \n\t", "empty"), (b"ab\x00cd", "binary"), (b"x" * 11, "too large")):
        with pytest.raises(BadUpload, match=reason):
            check_content(data, limit=10)


def test_save_uploads(tmp_path):
    corpus, incoming = tmp_path / "corpus", tmp_path / "in"
    corpus.mkdir()
    incoming.mkdir()
    (incoming / "Good one.txt").write_text("Title\n\nBody.")
    (incoming / "empty.txt").write_bytes(b"")
    (incoming / "big.md").write_bytes(b"x" * 2000)
    (incoming / "prog.exe").write_bytes(b"MZ")
    (incoming / "sub").mkdir()
    (incoming / "sub" / "Good_one.txt").write_text("Other\n\nText.")
    names = ("Good one.txt", "empty.txt", "big.md", "prog.exe", "sub/Good_one.txt")
    paths = [incoming / n for n in names]
    result = save_uploads(paths, corpus, limit=1000)
    assert result.saved == ["Good_one.txt"]
    reasons = dict(result.rejected)
    assert reasons["empty.txt"] == "empty file"
    assert reasons["big.md"].startswith("too large")
    assert "not accepted" in reasons["prog.exe"]
    assert "same name" in reasons["Good_one.txt"]
    assert sorted(os.listdir(corpus)) == ["Good_one.txt"]  # no temporary files left behind
    assert (corpus / "Good_one.txt").read_text() == "Title\n\nBody."


def test_save_uploads_never_writes_through_a_symlink(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    (corpus / "link.txt").symlink_to(outside)
    upload = tmp_path / "link.txt"
    upload.write_text("New\n\nText.")
    result = save_uploads([upload], corpus)
    assert result.saved == [] and "cannot be replaced" in result.rejected[0][1]
    assert outside.read_text() == "keep me"


# ---- rag chat arguments ------------------------------------------------------------------------------


def chat_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag")
    register(parser.add_subparsers(dest="command"))
    return parser


def test_chat_defaults():
    args = chat_parser().parse_args(["chat"])
    got = (args.index, args.corpus, args.host, args.port, args.auth, args.share)
    assert got == ("index", None, "127.0.0.1", 7860, None, False)
    assert callable(args.run)
    args = chat_parser().parse_args(["chat", "--index", "i", "--corpus", "c", "--host", "0.0.0.0", "--port", "8000",
                                     "--auth", "ann:pa:ss", "--share"])
    assert (args.index, args.corpus, args.host, args.port, args.share) == ("i", "c", "0.0.0.0", 8000, True)
    assert parse_auth(args.auth) == ("ann", "pa:ss")


@pytest.mark.parametrize("value", ["nocolon", ":pass", "user:", " :x"])
def test_bad_auth_is_a_user_error(value):
    with pytest.raises(rag.UserError, match="USER:PASS"):
        parse_auth(value)


def test_rag_chat_reports_user_errors(tmp_path, capsys, monkeypatch):
    from rag.cli import main

    assert main(["chat", "--auth", "nocolon"]) == 2
    assert "USER:PASS" in capsys.readouterr().err
    assert main(["chat", "--corpus", str(tmp_path / "missing")]) == 2
    assert "corpus folder not found" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)  # no ./seeds here, and no index
    assert main(["chat", "--index", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert "no index found" in err and "corpus" in err and "Traceback" not in err


# ---- field fixes: file modes, Gradio's temp copies, tracked folders, re-index confirmation -------


def test_saved_uploads_get_the_users_normal_file_mode(tmp_path):
    upload = tmp_path / "in" / "story.txt"
    upload.parent.mkdir()
    upload.write_text("Title\n\nA body sentence.\n", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    old = os.umask(0o022)
    try:
        assert save_uploads([upload], corpus).saved == ["story.txt"]
    finally:
        os.umask(old)
    assert (corpus / "story.txt").stat().st_mode & 0o777 == 0o644  # mkstemp alone gives 0600


def test_discard_temporary_deletes_only_inside_gradios_folder(tmp_path):
    from ui.uploads import discard_temporary

    root = tmp_path / "gradio"
    inside = root / "0f3a" / "setup.exe"
    inside.parent.mkdir(parents=True)
    inside.write_bytes(b"MZ")
    outside = tmp_path / "mine.txt"
    outside.write_text("keep me")
    assert discard_temporary([inside, outside, tmp_path / "missing.txt"], root) == 1
    assert not inside.exists() and not inside.parent.exists() and root.is_dir()
    assert outside.read_text() == "keep me"


def test_folders_tracked_by_git_are_recognised(tmp_path):
    from pathlib import Path

    from ui.uploads import tracked_by_git

    seeds = Path(__file__).resolve().parents[2] / "seeds"
    if not (seeds.parent / ".git").exists():
        pytest.skip("not a git checkout")
    assert tracked_by_git(seeds)
    assert not tracked_by_git(tmp_path)  # not in a repository at all


def test_a_reindex_removing_most_articles_asks_first():
    from ui.corpus import removal_warning

    assert removal_warning({"added": 0, "updated": 0, "removed": 2096, "unchanged": 0}).startswith(
        "Re-indexing would remove 2,096 of the 2,096")
    assert removal_warning({"added": 5, "updated": 1, "removed": 3, "unchanged": 2}) is None  # 3 of 6: half
    assert removal_warning({"added": 2, "updated": 0, "removed": 0, "unchanged": 0}) is None


def test_chat_corpus_is_the_recorded_one(tmp_path, monkeypatch):
    from tests.conftest import TINY, write_corpus
    from ui.cli import corpus_for

    corpus = write_corpus(tmp_path / "articles", TINY)
    rag.build_index(str(corpus), str(tmp_path / "index"), model="hashing", progress=False)
    monkeypatch.chdir(tmp_path)
    assert corpus_for("index", None) == str(corpus.resolve())  # not ./seeds
    assert corpus_for("index", "articles") == "articles"
    (tmp_path / "other").mkdir()
    with pytest.raises(rag.UserError, match="holds the articles of .*--replace"):
        corpus_for("index", "other")
    assert corpus_for("no-index-here", None) is None


def test_as_of_note_says_when_the_index_is_older_than_as_of():
    from ui.chat import as_of_note

    assert "newest article" not in as_of_note("1987-10-20", "1987-10-20")
    older = as_of_note("2026-12-01", "1987-10-20")
    assert "1987-10-20" in older and "2026-12-01" in older
    assert "not a date" in as_of_note("31/31/87", "1987-10-20")
    assert "newest article" not in as_of_note("1987-06-01", None)  # an undated corpus
