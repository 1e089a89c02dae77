import json
import logging

import pytest

from rag.errors import UserError
from rag.ingest.reading import decode, read_corpus, split_title
from rag.settings import Settings
from tests.conftest import write_corpus


def test_txt_title_and_doc_ids_are_relative_posix_paths(tiny_corpus):
    corpus = read_corpus(tiny_corpus)
    by_id = {a.doc_id: a for a in corpus.articles}
    assert set(by_id) == {"bakery.txt", "harbour.txt", "rail/strike.txt"}
    assert by_id["rail/strike.txt"].title == "Rail strike called off"
    assert by_id["harbour.txt"].text.startswith("The new harbour in Port Elms")


def test_txt_without_title_line_derives_title_from_first_sentence(tmp_path):
    write_corpus(tmp_path, {"a.txt": "Floods closed the bridge on Friday. Repairs will take a week.\nMore rain is due."})
    article = read_corpus(tmp_path).articles[0]
    assert article.title == "Floods closed the bridge on Friday."
    assert article.text.startswith("Floods closed the bridge")


def test_markdown_front_matter_is_honoured(tmp_path):
    md = "---\ntitle: Dam approved\ndate: 2024-05-01\nsource: Valley Post\nurl: https://example.org/dam\n---\n\nThe regional council approved the dam on Tuesday after a long debate about costs.\n"
    write_corpus(tmp_path, {"dam.md": md})
    article = read_corpus(tmp_path).articles[0]
    assert (article.title, article.date, article.source, article.url) == (
        "Dam approved", "2024-05-01", "Valley Post", "https://example.org/dam")
    assert article.text.startswith("The regional council approved the dam")


def test_markdown_heading_becomes_title(tmp_path):
    write_corpus(tmp_path, {"x.md": "# Zoo gets pandas\nTwo giant pandas arrived at the city zoo on loan from China for ten years.\n"})
    article = read_corpus(tmp_path).articles[0]
    assert article.title == "Zoo gets pandas"
    assert "Two giant pandas" in article.text


def test_html_extracts_title_date_and_main_text(tmp_path):
    html = """<html><head><title>Storm hits coast | Daily Wire</title>
    <meta property="article:published_time" content="2023-11-02T08:00:00Z"></head><body>
    <nav><a href="/">Home</a> <a href="/news">News</a></nav>
    <article><h1>Storm hits coast</h1>
    <p>A powerful storm hit the northern coast overnight, cutting power to 20,000 homes and closing three ports.</p>
    <p>Emergency crews worked through the night to clear fallen trees from the main coastal road.</p></article>
    <footer>Copyright Daily Wire. All rights reserved.</footer></body></html>"""
    write_corpus(tmp_path, {"storm.html": html})
    article = read_corpus(tmp_path).articles[0]
    assert "Storm hits coast" in article.title
    assert article.date == "2023-11-02"
    assert "cutting power to 20,000 homes" in article.text
    assert "All rights reserved" not in article.text


def test_json_and_jsonl_records(tmp_path):
    records = [{"id": "r1", "title": "Mine reopens", "body": "The copper mine reopened after the strike ended in June.", "date": "2022-06-30", "source": "Wire"},
               {"id": "r2", "title": "Port deal", "content": "The port signed a ten-year deal with a shipping group on Monday."}]
    jsonl = "\n".join(json.dumps(r) for r in records) + "\nnot json\n"
    write_corpus(tmp_path, {"one.json": json.dumps(records[0]), "many.jsonl": jsonl})
    ids = {a.doc_id: a for a in read_corpus(tmp_path).articles}
    assert set(ids) == {"one.json#r1", "many.jsonl#r1", "many.jsonl#r2"}
    assert ids["one.json#r1"].source == "Wire"
    assert ids["many.jsonl#r2"].text.startswith("The port signed")


def test_bad_files_are_skipped_with_one_warning_each(tmp_path, caplog):
    files = {
        "good.txt": "Good\n\nThe market rose by 3 percent on Friday as investors welcomed the news.",
        "empty.txt": "",
        "binary.txt": b"\x00\x01\x02PNG\x00\x00",
        "broken.json": "{not json",
        "bad_front.md": "---\ntitle: [unclosed\n---\nBody text here that is long enough to keep.",
        "latin1.txt": "Caf\xe9 opens\n\nThe caf\xe9 on the square reopened after a fire last year.".encode("latin-1"),
        "notes.csv": "a,b\n1,2",
    }
    write_corpus(tmp_path, files)
    with caplog.at_level(logging.WARNING, logger="rag"):
        corpus = read_corpus(tmp_path)
    assert {a.doc_id for a in corpus.articles} == {"good.txt", "latin1.txt"}
    # A CSV is read now (rag/ingest/formats): this one has no text column, and says which columns it has.
    assert dict(corpus.skipped).keys() == {"empty.txt", "binary.txt", "broken.json", "bad_front.md", "notes.csv"}
    assert dict(corpus.skipped)["notes.csv"].startswith("no text column (columns: a, b)")
    for name in ("empty.txt", "binary.txt", "broken.json", "bad_front.md"):
        assert sum(name in r.getMessage() for r in caplog.records) == 1
    latin = next(a for a in corpus.articles if a.doc_id == "latin1.txt")
    assert "café on the square" in latin.text


def test_missing_or_empty_folder_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        read_corpus(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no readable articles"):
        read_corpus(tmp_path / "empty")


NEWS = [
    "The city council approved a new budget on Tuesday, raising spending on schools by 4 percent.",
    "Heavy rain closed three roads in the valley overnight and officials warned of more flooding.",
    "The local football club signed a young striker from a rival team for an undisclosed fee.",
]


def test_one_paragraph_articles_with_a_trailing_newline_are_kept_whole(tmp_path):
    files = {f"{i:03d}.txt": NEWS[i % 3] + f" Report {i}.\n" for i in range(300)}
    corpus = read_corpus(write_corpus(tmp_path, files))
    assert len(corpus.articles) == 300 and corpus.skipped == []
    first = next(a for a in corpus.articles if a.doc_id == "000.txt")
    assert first.text == NEWS[0] + " Report 0."
    assert first.title.startswith("The city council approved")


def test_a_first_line_is_a_title_only_when_a_blank_line_and_more_text_follow():
    assert split_title("Headline\n\nBody text.\n") == ("Headline", "Body text.\n")
    assert split_title("Only a paragraph.\n") == (None, "Only a paragraph.\n")
    assert split_title("Only a paragraph.\n\n\n") == (None, "Only a paragraph.\n\n\n")
    assert split_title("Line one\nline two\n") == (None, "Line one\nline two\n")


def test_files_over_the_size_limit_are_skipped_naming_their_size(tmp_path, caplog):
    write_corpus(tmp_path, {"ok.txt": NEWS[0], "huge.txt": ("word " * 500_000) + "\n"})  # 2.5 MB
    with caplog.at_level(logging.WARNING, logger="rag"):
        corpus = read_corpus(tmp_path, max_file_mb=1)
    assert [a.doc_id for a in corpus.articles] == ["ok.txt"]
    assert dict(corpus.skipped)["huge.txt"] == "file is 2.5 MB, over the 1 MB limit (setting max_file_mb)"
    assert sum("huge.txt" in r.getMessage() and "2.5 MB" in r.getMessage() for r in caplog.records) == 1
    assert Settings().max_file_mb == 10


def test_hidden_files_and_folders_are_not_read_but_reported_once(tmp_path, caplog):
    files = {"a.txt": NEWS[0], ".draft.txt": NEWS[1], ".git/config.txt": NEWS[2], ".git/objects/x.txt": NEWS[2],
             "sub/.DS_Store": "junk", "sub/b.txt": NEWS[1]}
    with caplog.at_level(logging.WARNING, logger="rag"):
        corpus = read_corpus(write_corpus(tmp_path, files))
    assert sorted(a.doc_id for a in corpus.articles) == ["a.txt", "sub/b.txt"]
    assert sorted(corpus.hidden) == [".draft.txt", ".git", "sub/.DS_Store"]
    hidden_lines = [r.getMessage() for r in caplog.records if "hidden" in r.getMessage()]
    assert len(hidden_lines) == 1 and "3 hidden" in hidden_lines[0] and ".git" in hidden_lines[0]


def test_a_symlink_to_a_file_outside_the_corpus_is_not_followed(tmp_path, caplog):
    outside = tmp_path / "secret.txt"
    outside.write_text("Private notes\n\nThe password is swordfish and nobody may know.\n")
    corpus_dir = write_corpus(tmp_path / "corpus", {"a.txt": NEWS[0], "inner/b.txt": NEWS[1]})
    (corpus_dir / "leak.txt").symlink_to(outside)
    (corpus_dir / "alias.txt").symlink_to(corpus_dir / "inner" / "b.txt")
    (corpus_dir / "elsewhere").symlink_to(tmp_path, target_is_directory=True)
    with caplog.at_level(logging.WARNING, logger="rag"):
        corpus = read_corpus(corpus_dir)
    assert sorted(a.doc_id for a in corpus.articles) == ["a.txt", "alias.txt", "inner/b.txt"]
    assert "outside the corpus" in dict(corpus.skipped)["leak.txt"]
    assert dict(corpus.skipped)["elsewhere"] == "symlinked folder, not followed"
    assert sum("leak.txt" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.parametrize(
    "text",
    [
        "Crème brûlée\n\nLa crème brûlée est un dessert français.\n",
        "crème brûlée",
        "Le garçon a mangé une crème brûlée à Noël.",
        "Señor Muñoz visitó la ciudad de León en España.",
        "Die Größe der Straße in München überrascht.",
        "São Paulo e a coração da nação.",
        "Smörgåsbord på Åland är gött.",
    ],
)
def test_western_legacy_bytes_decode_as_western_text(text):
    for encoding in ("latin-1", "cp1252"):
        assert decode(text.encode(encoding)) == text


def test_cp1252_punctuation_and_central_european_text_keep_their_encodings():
    assert decode("naïve façade — “quoted” €5".encode("cp1252")) == "naïve façade — “quoted” €5"
    polish = "Zażółć gęślą jaźń, powiedział Łukasz."
    assert decode(polish.encode("cp1250")) == polish
    czech = "Příliš žluťoučký kůň úpěl ďábelské ódy."
    assert decode(czech.encode("cp1250")) == czech


def test_front_matter_with_unescaped_inner_quotes_is_read_not_skipped(tmp_path):
    # As in 28 Reuters files: not valid YAML, but plainly key: value lines.
    write_corpus(tmp_path / "c", {"coin.md": '---\ntitle: ""Britannia" Coin To Sell At Premium"\ndate: 1987-03-12\n'
                                             'source: Reuters\n---\nThe Britannia gold coin will sell at a premium, dealers said.\n'})
    corpus = read_corpus(tmp_path / "c")
    (article,) = corpus.articles
    assert article.title == '"Britannia" Coin To Sell At Premium'
    assert article.date.startswith("1987-03-12") and article.source == "Reuters"
    assert not corpus.skipped


def test_front_matter_that_is_neither_yaml_nor_key_value_is_skipped_with_a_reason(tmp_path):
    write_corpus(tmp_path / "c", {"bad.md": "---\ntitle: [unclosed\n  - what\n---\nBody text of the article here.\n",
                                  "ok.md": "---\ntitle: Fine\n---\nThe council in Port Elms approved the new harbour budget of 42 million pounds on Monday.\n"})
    corpus = read_corpus(tmp_path / "c")
    assert [doc for doc, _ in corpus.skipped] == ["bad.md"] and "malformed front matter" in corpus.skipped[0][1]
