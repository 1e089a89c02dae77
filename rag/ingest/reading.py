"""Read a folder of articles (.txt, .md, .html, .json, .jsonl; .csv, .tsv, .pdf, .docx by ``rag.ingest.formats``).

A file that cannot be read is skipped with one warning naming it and the reason;
one bad file never stops a build.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import yaml

from rag.ingest.boilerplate import remove_boilerplate
from rag.ingest.dates import normalise_date
from rag.errors import UserError
from rag.schema import Article

log = logging.getLogger("rag")

ARTICLE_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl")
FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)
FIRST_SENTENCE = re.compile(r"^(.{1,200}?[.!?])(?:\s|$)", re.S)
TITLE_WORDS = 14
# Among legacy encodings that decode a file about as cleanly as charset-normalizer's best guess,
# Windows-1252 wins: on a few accented words its language-coherence tie-break cannot tell French
# from Czech and picked cp1250 for "crème brûlée" ("crčme brűlée"). Chaos runs 0 (clean) to 1.
WESTERN = "cp1252"
CHAOS_TOLERANCE = 0.1


class SkipFile(Exception):
    """Raised by a format reader: the file (or record) is skipped for this reason."""


@dataclass
class Corpus:
    """Articles read from a folder, and the files skipped with their reasons."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # Files and folders whose names start with "." (relative paths): not read, reported once.
    hidden: list[str] = field(default_factory=list)
    # Files of no article type (a .png, a LICENSE): not read, reported once.
    ignored: list[str] = field(default_factory=list)


def text_problem(data: bytes) -> str | None:
    """Why the bytes of a file cannot be an article's text ("empty file", "binary file"), or None.

    >>> text_problem(b"  \\n"), text_problem(b"PK\\x03\\x04\\x00"), text_problem(b"Harbour opens")
    ('empty file', 'binary file', None)
    """
    if not data.strip():
        return "empty file"
    if b"\x00" in data[:8192]:
        return "binary file"
    return None


def decode(data: bytes) -> str:
    """Text of a file: UTF-8 (BOM allowed), else the encoding charset-normalizer detects."""
    problem = text_problem(data)
    if problem:
        raise SkipFile(problem)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise SkipFile("undecodable text (not UTF-8 and no other encoding fits)")
    western = next((m for m in matches if m.encoding == WESTERN), None)
    if western is not None and western.chaos <= best.chaos + CHAOS_TOLERANCE:
        return str(western)
    return str(best)


def _derived_title(text: str) -> str:
    match = FIRST_SENTENCE.match(text.strip())
    words = (match.group(1) if match else text.strip()).split()
    title = " ".join(words[:TITLE_WORDS])
    return title + ("…" if len(words) > TITLE_WORDS else "")


def split_title(text: str) -> tuple[str | None, str]:
    """``(title, body)``: the first line is the title when a blank line and more text follow it.

    A one-paragraph article ending in a newline ("Text.\n") has no title line: all of it is body.
    """
    lines = text.lstrip("\n").split("\n")
    if len(lines) >= 3 and lines[0].strip() and not lines[1].strip() and "".join(lines[2:]).strip():
        return lines[0].strip().lstrip("#").strip(), "\n".join(lines[2:])
    return None, "\n".join(lines)


def _make_article(doc_id: str, body: str, meta: dict[str, Any]) -> Article:
    text = remove_boilerplate(body.replace("\r\n", "\n").replace("\r", "\n")).strip("\n")
    if not text.strip():
        raise SkipFile("no article text after removing site boilerplate")
    title = str(meta.get("title") or "").strip() or _derived_title(text)
    fields_ = {key: (str(meta[key]).strip() or None) if meta.get(key) else None for key in ("source", "url")}
    fields_["date"] = normalise_date(meta.get("date"))
    digest = hashlib.sha256(json.dumps([title, text, fields_], sort_keys=True).encode()).hexdigest()
    return Article(doc_id=doc_id, title=title, text=text, content_hash=digest, **fields_)


def read_text(doc_id: str, raw: str) -> list[Article]:
    """A plain-text article: title line, blank line, body."""
    title, body = split_title(raw.replace("\r\n", "\n"))
    return [_make_article(doc_id, body, {"title": title})]


PLAIN_FIELD = re.compile(r"^([A-Za-z_][\w-]*):[ \t]*(.*?)[ \t]*$")


def _plain_front_matter(block: str) -> dict[str, str]:
    """``key: value`` lines of front matter that is not valid YAML, as exporters write it
    (``title: ""Britannia" Coin To Sell"``: inner quotes unescaped). One pair of quotes
    around a value is removed; {} when some line is not of that form or opens a YAML list/mapping."""
    meta: dict[str, str] = {}
    for line in filter(str.strip, block.splitlines()):
        found = PLAIN_FIELD.match(line)
        if not found or found.group(2)[:1] in "[{":  # a YAML list or mapping gone wrong: not plain text
            return {}
        value = found.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        meta[found.group(1)] = value
    return meta


def read_markdown(doc_id: str, raw: str) -> list[Article]:
    """Markdown with optional YAML front matter (title, date, source, url)."""
    raw = raw.replace("\r\n", "\n")
    meta: dict[str, Any] = {}
    match = FRONT_MATTER.match(raw)
    if match:
        try:
            meta = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as exc:
            meta = _plain_front_matter(match.group(1))
            if not meta:
                raise SkipFile(f"malformed front matter ({str(exc).splitlines()[0]})") from None
        if not isinstance(meta, dict):
            raise SkipFile("malformed front matter (not a mapping)")
        raw = raw[match.end():]
    if meta.get("title"):
        return [_make_article(doc_id, raw, meta)]
    if raw.lstrip().startswith("#"):
        first, _, body = raw.lstrip().partition("\n")
        return [_make_article(doc_id, body, {**meta, "title": first.lstrip("#").strip()})]
    title, body = split_title(raw)
    return [_make_article(doc_id, body, {**meta, "title": title})]


def read_html(doc_id: str, raw: str) -> list[Article]:
    """Main text, title and date of a web page, by trafilatura."""
    import trafilatura

    doc = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False, include_tables=False)
    if doc is None or not (doc.text or "").strip():
        raise SkipFile("no article text found in the HTML")
    meta = {"title": doc.title, "date": doc.date, "source": doc.sitename or doc.hostname, "url": doc.url}
    return [_make_article(doc_id, doc.text, meta)]


def _record_article(file_id: str, position: int, record: Any) -> Article:
    if not isinstance(record, dict):
        raise SkipFile(f"record {position} is not a JSON object")
    body = next((record[key] for key in ("text", "body", "content") if isinstance(record.get(key), str)), None)
    if not body or not body.strip():
        raise SkipFile(f"record {position} has no text/body/content")
    record_id = record.get("id", position)
    return _make_article(f"{file_id}#{record_id}", body, record)


def _records(file_id: str, records: list[Any], first: int = 0) -> list[Article]:
    articles = []
    for position, record in enumerate(records, start=first):
        try:
            articles.append(_record_article(file_id, position, record))
        except SkipFile as exc:
            log.warning("skipping %s: %s", file_id, exc)
    return articles


def read_json(doc_id: str, raw: str) -> list[Article]:
    """A JSON object or a list of objects with ``id``, ``title``, ``text`` (or body/content)."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SkipFile(f"malformed JSON ({exc})") from None
    records = data if isinstance(data, list) else [data]
    return _records(doc_id, records)


def read_jsonl(doc_id: str, raw: str) -> list[Article]:
    """One JSON record per line; a malformed line is skipped with a warning."""
    articles = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            log.warning("skipping %s line %d: malformed JSON (%s)", doc_id, number, exc.msg)
            continue
        articles.extend(_records(doc_id, [record], first=number))
    return articles


READERS: dict[str, Callable[[str, str], list[Article]]] = {
    ".txt": read_text,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".html": read_html,
    ".htm": read_html,
    ".json": read_json,
    ".jsonl": read_jsonl,
}


FileReader = Callable[[str, bytes], list[Article]]


def _file_readers(readers: Mapping[str, FileReader] | None) -> Mapping[str, FileReader]:
    """Readers of raw bytes (CSV, PDF, Word), imported late: they build on this module's helpers."""
    if readers is not None:
        return readers
    from rag.ingest.formats import file_readers

    return file_readers()


def article_suffixes() -> tuple[str, ...]:
    """The file suffixes read as articles: text formats, then those with their own reader.

    >>> article_suffixes()[:3]
    ('.txt', '.md', '.markdown')
    """
    return (*ARTICLE_SUFFIXES, *_file_readers(None))


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def _walk(folder: Path, corpus: Corpus, suffixes: Iterable[str]) -> Iterator[Path]:
    """Article files below ``folder`` in a stable order. Hidden entries are recorded in
    ``corpus.hidden`` and not entered; symlinks that lead outside the corpus are skipped."""
    suffixes = set(suffixes)
    for current, dirs, files in os.walk(folder):
        here = Path(current)
        corpus.hidden.extend((here / n).relative_to(folder).as_posix() for n in sorted(dirs + files) if n.startswith("."))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in dirs:
            if (here / name).is_symlink():  # os.walk does not follow it: say so rather than drop it silently
                _skip(corpus, (here / name).relative_to(folder).as_posix(), "symlinked folder, not followed")
        for name in sorted(f for f in files if not f.startswith(".")):
            path = here / name
            if not (path.is_file() or path.is_symlink()):
                continue
            if path.suffix.lower() not in suffixes:
                corpus.ignored.append(path.relative_to(folder).as_posix())
                continue
            if path.is_symlink() and not _inside(path, folder):
                _skip(corpus, path.relative_to(folder).as_posix(), "symlink to a file outside the corpus, not followed")
                continue
            yield path


def file_articles(path: str | Path, doc_id: str) -> list[Article]:
    """The articles one file holds, read as ``build_index`` reads them; none for a file it would skip.

    >>> [a.title for a in file_articles("seeds/001_3e3ff5a6ecbc7e1c.txt", "001.txt")]  # doctest: +SKIP
    """
    try:
        return read_file(Path(path), doc_id)
    except SkipFile:
        return []


# (doc id, the file's stat) -> its articles as read before, or None to read it: lets an update
# skip the files whose size and modification time it has seen (rag/store/read_cache.py).
Remembered = Callable[[str, os.stat_result], "list[Article] | None"]


def read_file(
    path: Path, doc_id: str, max_file_mb: float | None = None, readers: Mapping[str, FileReader] | None = None,
    remembered: Remembered | None = None,
) -> list[Article]:
    """Articles in one file; raises ``SkipFile`` with the reason when it has none (or is over ``max_file_mb``)."""
    try:
        stat = path.stat()
        if max_file_mb is not None and stat.st_size > max_file_mb * 1e6:
            raise SkipFile(f"file is {stat.st_size / 1e6:,.1f} MB, over the {max_file_mb:g} MB limit (setting max_file_mb)")
        if remembered is not None and (known := remembered(doc_id, stat)) is not None:
            return known
        data = path.read_bytes()
    except OSError as exc:
        raise SkipFile(f"unreadable ({exc.strerror})") from None
    file_reader = _file_readers(readers).get(path.suffix.lower())
    articles = file_reader(doc_id, data) if file_reader else READERS[path.suffix.lower()](doc_id, decode(data))
    if not articles:
        raise SkipFile("no articles in file")
    return articles


def _skip(corpus: Corpus, doc_id: str, reason: str) -> None:
    corpus.skipped.append((doc_id, reason))


def _shown(paths: list[str]) -> str:
    return ", ".join(paths[:5]) + (", ..." if len(paths) > 5 else "")


def _warn(corpus: Corpus, root: Path) -> None:
    """One warning per skipped file, one for the hidden entries, one for the files of no article type."""
    for doc_id, reason in corpus.skipped:
        log.warning("skipping %s: %s", doc_id, reason)
    if corpus.hidden:
        log.warning("not reading %d hidden file(s) or folder(s) in %s: %s", len(corpus.hidden), root, _shown(corpus.hidden))
    if corpus.ignored:
        log.warning("not reading %d file(s) of no article type in %s: %s", len(corpus.ignored), root, _shown(corpus.ignored))


def read_corpus(
    folder: str | Path, max_file_mb: float | None = None, readers: Mapping[str, FileReader] | None = None,
    *, remembered: Remembered | None = None, quiet: bool = False,
) -> Corpus:
    """Every article below ``folder``; raises ``UserError`` if it is missing or has none.

    Each skipped file is logged once and listed in ``Corpus.skipped``; hidden files and
    folders (names starting with ".") are not read, and listed in ``Corpus.hidden``; files of no
    article type (``.png``) in ``Corpus.ignored``. ``readers`` replaces the byte readers of
    ``rag.ingest.formats.file_readers()`` (e.g. CSV columns); ``remembered`` answers for files
    read before; ``quiet`` logs nothing (the caller reports ``skipped``, ``hidden``, ``ignored``).

    >>> corpus = read_corpus("seeds")  # doctest: +SKIP
    """
    root = Path(folder)
    if not root.is_dir():
        raise UserError(f"corpus folder not found: {root}")
    corpus = Corpus()
    readers = _file_readers(readers)
    for path in _walk(root, corpus, [*READERS, *readers]):
        doc_id = path.relative_to(root).as_posix()
        try:
            corpus.articles.extend(read_file(path, doc_id, max_file_mb, readers, remembered))
        except SkipFile as exc:
            _skip(corpus, doc_id, str(exc))
    if not quiet:
        _warn(corpus, root)
    if not corpus.articles:
        raise UserError(f"no readable articles in {root} (looked for {', '.join([*ARTICLE_SUFFIXES, *readers])})")
    return corpus
