import datetime
import json

import pytest

from eval.dataset import EvalSetError, load_items, load_set
from rag.ingest.reading import read_file
from tests.conftest import TINY, write_corpus


def write_set(path, items):
    path.write_text("\n".join(json.dumps(i) for i in items) + "\n", encoding="utf-8")
    return path


GOOD = {"id": "t-1", "type": "number", "question": "How many boats?", "answer": "300", "docs": ["harbour.txt"], "evidence": "can hold 300 boats"}


def test_a_good_set_loads(tiny_corpus, tmp_path):
    items = load_items(write_set(tmp_path / "s.jsonl", [GOOD, {"id": "t-2", "type": "unanswerable", "question": "Who?", "answer": None, "docs": [], "evidence": None}]), tiny_corpus)
    assert [i.id for i in items] == ["t-1", "t-2"] and items[0].answerable and not items[1].answerable


@pytest.mark.parametrize("bad, message", [
    ({**GOOD, "evidence": "can hold 301 boats"}, "line 2: evidence is not an exact substring"),
    ({**GOOD, "docs": ["missing.txt"]}, "line 2: docs\\[0\\] 'missing.txt'"),
    ({**GOOD, "type": "riddle"}, "line 2: type 'riddle'"),
    ({**GOOD, "id": "t-1"}, "line 2: duplicate id"),
])
def test_a_bad_set_is_rejected_naming_the_line(tiny_corpus, tmp_path, bad, message):
    first = {**GOOD, "id": "t-0"}
    with pytest.raises(EvalSetError, match=message):
        load_items(write_set(tmp_path / "s.jsonl", [first, bad] if bad["id"] != "t-1" or "duplicate" not in message else [GOOD, bad]), tiny_corpus)


def test_shipped_sets_are_valid():
    seeds = load_set("seeds")
    assert len(seeds.items) >= 40
    types = [i.type for i in seeds.items]
    assert types.count("unanswerable") >= 8 and types.count("followup") >= 8


def test_bbc_set_is_valid_when_the_corpus_is_here():
    from eval.dataset import resolve_set

    if not resolve_set("bbc")[2].is_dir():
        pytest.skip("../shared/corpora/bbc is not here; the BBC set cannot be checked")
    bbc = load_set("bbc")
    assert len(bbc.items) >= 150


def test_as_of_is_read_as_a_date(tiny_corpus, tmp_path):
    temporal = {**GOOD, "id": "t-2", "type": "temporal", "question": "How many boats this week?", "as_of": "1987-03-05"}
    items = load_items(write_set(tmp_path / "s.jsonl", [GOOD, temporal]), tiny_corpus)
    assert items[0].as_of is None and items[1].as_of == datetime.date(1987, 3, 5)


@pytest.mark.parametrize("as_of", ["5 March 1987", "1987-02-30", "1987-3-5", 19870305, "1987-03-05T10:00"])
def test_an_as_of_that_is_not_a_date_is_rejected_naming_the_line(tiny_corpus, tmp_path, as_of):
    with pytest.raises(EvalSetError, match=r"line 2: as_of .* is not a date \(YYYY-MM-DD\)"):
        load_items(write_set(tmp_path / "s.jsonl", [GOOD, {**GOOD, "id": "t-2", "as_of": as_of}]), tiny_corpus)


def test_a_temporal_item_without_as_of_is_rejected(tiny_corpus, tmp_path):
    with pytest.raises(EvalSetError, match="line 1: a temporal item needs as_of"):
        load_items(write_set(tmp_path / "s.jsonl", [{**GOOD, "type": "temporal"}]), tiny_corpus)


def test_reuters_set_is_valid_when_the_corpus_is_here():
    from eval.dataset import resolve_set

    if not resolve_set("reuters")[2].is_dir():
        pytest.skip("../shared/corpora/reuters is not here; the Reuters set cannot be checked")
    items = load_set("reuters").items
    types = [i.type for i in items]
    assert len(items) >= 150 and types.count("unanswerable") >= 40 and types.count("followup") >= 20
    assert set(types) >= {"factoid", "paraphrase", "number", "entity", "multi", "followup", "temporal", "unanswerable"}
    timed = [i for i in items if i.as_of]
    assert len(timed) >= 20
    corpus = resolve_set("reuters")[2]
    for item in timed:
        # A question asked on as_of can only be answered by articles already written that day.
        for doc in item.docs:
            date = read_file(corpus / doc, doc)[0].date
            assert date and datetime.date.fromisoformat(date) <= item.as_of, (item.id, doc, date)
