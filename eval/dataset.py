"""Question-answer sets: one JSON object per line, checked against the corpus on load."""

from __future__ import annotations

import datetime
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import rag
from rag import UserError

EVAL_DIR = Path(__file__).resolve().parent
SETS_FILE = EVAL_DIR / "sets.toml"
TYPES = ("factoid", "paraphrase", "number", "entity", "multi", "unanswerable", "followup", "temporal")


class EvalSetError(UserError):
    """A set that breaks the format; the message names the file and line."""


@dataclass(frozen=True)
class Item:
    """One question with its gold answer, the articles that answer it and the evidence span."""

    id: str
    type: str
    question: str
    answer: str | None
    docs: list[str]
    evidence: str | None
    history: list[tuple[str, str]] = field(default_factory=list)
    standalone: str | None = None
    as_of: datetime.date | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.docs)


@dataclass(frozen=True)
class EvalSet:
    name: str
    path: Path
    corpus: Path
    items: list[Item]


def _as_of(value: object, where: str) -> datetime.date | None:
    """The day a question is asked on (``YYYY-MM-DD``), against which "last week" or "the latest" is read."""
    if value is None:
        return None
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise EvalSetError(f"{where}: as_of {value!r} is not a date (YYYY-MM-DD)") from None


def _item(data: dict, where: str) -> Item:
    for key in ("id", "type", "question", "docs"):
        if key not in data:
            raise EvalSetError(f"{where}: missing {key!r}")
    if data["type"] not in TYPES:
        raise EvalSetError(f"{where}: type {data['type']!r} is not one of {', '.join(TYPES)}")
    if bool(data["docs"]) != bool(data.get("evidence")):
        raise EvalSetError(f"{where}: answerable items need docs and evidence, unanswerable ones neither")
    if data["type"] == "temporal" and not data.get("as_of"):
        raise EvalSetError(f"{where}: a temporal item needs as_of, the day the question is asked on")
    history = [(turn["question"], turn.get("answer") or "") for turn in data.get("history") or []]
    return Item(data["id"], data["type"], data["question"], data.get("answer"), list(data["docs"]),
                data.get("evidence"), history, data.get("standalone"), _as_of(data.get("as_of"), where))


def _check_evidence(item: Item, corpus: Path, where: str, texts: dict[str, str]) -> None:
    doc = item.docs[0]
    if doc not in texts:
        path = corpus / doc.split("#")[0]
        articles = rag.file_articles(path, doc.split("#")[0]) if path.is_file() else []
        texts.update({a.doc_id: a.text for a in articles})
    if doc not in texts:
        raise EvalSetError(f"{where}: docs[0] {doc!r} is not an article of {corpus}")
    if item.evidence not in texts[doc]:
        raise EvalSetError(f"{where}: evidence is not an exact substring of {doc}: {item.evidence[:80]!r}")


def load_items(path: Path, corpus: Path) -> list[Item]:
    """Items of a JSONL set; each answerable item's evidence must occur verbatim in docs[0]."""
    items, seen, texts = [], set(), {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name} line {number}"
        try:
            item = _item(json.loads(line), where)
        except json.JSONDecodeError as exc:
            raise EvalSetError(f"{where}: not JSON ({exc.msg})") from None
        if item.id in seen:
            raise EvalSetError(f"{where}: duplicate id {item.id!r}")
        seen.add(item.id)
        if item.answerable:
            _check_evidence(item, corpus, where, texts)
        items.append(item)
    if not items:
        raise EvalSetError(f"{path}: no items")
    return items


def declared_sets() -> dict[str, dict]:
    """The sets declared in ``eval/sets.toml`` (name -> file, corpus)."""
    return tomllib.loads(SETS_FILE.read_text(encoding="utf-8"))


def resolve_set(name_or_path: str, corpus: str | None = None) -> tuple[str, Path, Path]:
    """``(name, jsonl path, corpus folder)`` for a declared set name or a JSONL path."""
    declared = declared_sets()
    path = Path(name_or_path)
    name = path.stem if path.suffix == ".jsonl" else name_or_path
    if name not in declared and corpus is None:
        raise EvalSetError(f"unknown eval set {name_or_path!r}; declared: {', '.join(declared)} (or pass --corpus)")
    entry = declared.get(name, {})
    jsonl = path if path.suffix == ".jsonl" else EVAL_DIR / entry["file"]
    folder = Path(corpus) if corpus else (EVAL_DIR / entry["corpus"]).resolve()
    return name, jsonl, folder


def load_set(name_or_path: str, corpus: str | None = None) -> EvalSet:
    """Load and check a set; raises ``EvalSetError`` if the corpus folder is absent."""
    name, jsonl, folder = resolve_set(name_or_path, corpus)
    if not jsonl.is_file():
        raise EvalSetError(f"eval set file not found: {jsonl}")
    if not folder.is_dir():
        raise EvalSetError(f"corpus for set {name!r} not found: {folder}")
    return EvalSet(name, jsonl, folder, load_items(jsonl, folder))
