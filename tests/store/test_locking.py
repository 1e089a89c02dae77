"""One writer per index across real processes; kill -9 at any moment leaves a loadable index."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import rag
from rag.store.locking import HOLDER_FILE, holder, index_writer
from tests.conftest import FAST, TINY, write_corpus

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "RAG_MODEL": "hashing", "RAG_PROGRESS": "false"}

# A real build in its own process, slowed down inside the lock and saying when it got there.
SLOW_BUILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import rag, rag.store.build as indexing
    inner = indexing._build
    def slow(*args, **kwargs):
        Path(sys.argv[3]).write_text("locked")
        time.sleep(float(sys.argv[4]))
        return inner(*args, **kwargs)
    indexing._build = slow
    print(rag.build_index(sys.argv[1], sys.argv[2], model="hashing", progress=False).summary())
    """
)


def start_slow_build(corpus, index, marker, seconds):
    process = subprocess.Popen([sys.executable, "-c", SLOW_BUILD, str(corpus), str(index), str(marker), str(seconds)],
                               env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    return process


def rag_index(*args):
    return subprocess.run([sys.executable, "-m", "rag.cli", "index", *map(str, args)], env=ENV, capture_output=True,
                          text=True, timeout=120)


def test_two_processes_building_at_once_take_turns(tiny_corpus, tmp_path):
    index = tmp_path / "index"
    first = start_slow_build(tiny_corpus, index, tmp_path / "locked", seconds=3)
    (tiny_corpus / "extra.txt").write_text("Ferry returns\n\nThe island ferry returned to service after repairs.\n")
    second = rag_index(tiny_corpus, "--index", index)
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert second.returncode == 0, second.stderr
    assert f"being written by pid {first.pid}" in second.stderr and "waiting" in second.stderr
    assert "added 3" in out and "added 1" in second.stdout, "the second build saw the first one's index"
    assistant = rag.Assistant.load(index)
    assert assistant.search("island ferry repairs", k=1)[0].doc_id == "extra.txt"
    assert len(assistant.store) == rag.index_info(index).chunks
    assert not (index / HOLDER_FILE).exists()


def test_no_wait_fails_with_exit_2_naming_the_holder(tiny_corpus, tmp_path):
    index = tmp_path / "index"
    first = start_slow_build(tiny_corpus, index, tmp_path / "locked", seconds=3)
    busy = rag_index(tiny_corpus, "--index", index, "--no-wait")
    with pytest.raises(rag.IndexBusyError, match=f"pid {first.pid}"):
        rag.build_index(tiny_corpus, index, wait=False, **FAST)
    first.communicate(timeout=60)
    assert busy.returncode == 2 and len(busy.stderr.strip().splitlines()) == 1
    assert f"being written by pid {first.pid}" in busy.stderr and "Traceback" not in busy.stderr


def test_threads_of_one_process_take_turns(tiny_corpus, tmp_path):
    index, inside, overlaps = tmp_path / "index", [], []
    import rag.store.build as indexing

    inner = indexing._build

    def watched(*args, **kwargs):
        overlaps.append(len(inside))
        inside.append(1)
        time.sleep(0.3)
        try:
            return inner(*args, **kwargs)
        finally:
            inside.pop()

    indexing._build = watched
    try:
        threads = [threading.Thread(target=rag.build_index, args=(tiny_corpus, index), kwargs=FAST) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        indexing._build = inner
    assert overlaps == [0, 0, 0]


def test_a_killed_writer_leaves_no_lock_and_its_record_does_not_lie(tiny_corpus, tmp_path):
    index = tmp_path / "index"
    first = start_slow_build(tiny_corpus, index, tmp_path / "locked", seconds=30)
    assert f"pid {first.pid}" in holder(index)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert (index / HOLDER_FILE).exists(), "kill -9 leaves the record behind"
    assert "not yet recorded" in holder(index), "a dead pid is not named as the holder"
    began = time.monotonic()
    with index_writer(index, wait=False):  # the kernel dropped the lock with the process
        assert f"pid {os.getpid()}" in holder(index)
    assert time.monotonic() - began < 5
    report = rag.build_index(tiny_corpus, index, wait=False, **FAST)
    assert report.added == 3


def _story(number: int, round_: int) -> str:
    return (f"Council {number} round {round_}\n\nThe council of town {number} met on Monday for round {round_} of talks "
            f"about roads, schools and a harbour budget of {number * 3} million pounds.\n")


def test_kill_9_at_random_moments_of_ten_builds_leaves_a_loadable_index(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", {**TINY, **{f"towns/{i}.txt": _story(i, 0) for i in range(600)}})
    index = tmp_path / "index"
    command = [sys.executable, "-m", "rag.cli", "index", str(corpus), "--index", str(index)]
    began = time.monotonic()
    subprocess.run(command, env=ENV, check=True, capture_output=True, timeout=120)
    duration = time.monotonic() - began  # one whole build, process start included
    rng, inside = random.Random(10), 0
    for round_ in range(1, 11):
        # Every article changes, so each build chunks, embeds and writes a whole new generation.
        write_corpus(corpus, {f"towns/{i}.txt": _story(i, round_) for i in range(600)})
        build = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.1, duration))
        build.send_signal(signal.SIGKILL)
        build.wait()
        inside += (index / HOLDER_FILE).exists()  # killed while it held the lock: its record stays behind
        assistant = rag.Assistant.load(index)
        assert assistant.search("harbour boats", k=1)[0].doc_id == "harbour.txt"
        assert len(assistant.store) == assistant.store.manifest["chunks"] == rag.index_info(index).chunks
        assistant.close()
    print(f"kills inside a build: {inside} of 10")
    assert inside >= 3, f"only {inside} of 10 kills landed inside a build"
    final = rag.build_index(corpus, index, wait=False, **FAST)
    assert final.added + final.updated + final.unchanged == 603
    assert not list(index.glob("*.partial")), "a finished build clears what killed ones left"


def test_a_reader_keeps_answering_after_a_build_removes_its_generation(tiny_corpus, tmp_path):
    index = tmp_path / "index"
    rag.build_index(tiny_corpus, index, **FAST)
    reader = rag.Assistant.load(index, min_relevance=0.0)
    loaded = reader.store.generation
    for number in range(2):
        write_corpus(tiny_corpus, {f"new{number}.txt": f"Story {number}\n\nA new story number {number} about the bridge.\n"})
        rag.build_index(tiny_corpus, index, **FAST)
    assert not loaded.exists(), "the generation the reader loaded is gone"
    assert reader.search("rye bread prize", k=1)[0].doc_id == "bakery.txt"
    assert reader.store.article("harbour.txt").title == "New harbour opens in Port Elms"
    answer = reader.ask("Who owns the bakery?")
    assert answer.citations and answer.citations[0].doc_id == "bakery.txt"


def test_readers_loading_while_builds_switch_generations_always_get_a_whole_index(tiny_corpus, tmp_path):
    index = tmp_path / "index"
    rag.build_index(tiny_corpus, index, **FAST)
    stop, failures, loads = threading.Event(), [], []

    def read_loop():
        while not stop.is_set():
            try:
                assistant = rag.Assistant.load(index)
                assert assistant.search("harbour boats", k=1)[0].doc_id == "harbour.txt"
                assert len(assistant.store) == assistant.store.manifest["chunks"]
                assistant.close()
                loads.append(1)
            except Exception as exc:  # noqa: BLE001 - any failure of a reader is the finding
                failures.append(repr(exc))

    readers = [threading.Thread(target=read_loop) for _ in range(2)]
    for reader in readers:
        reader.start()
    for number in range(8):
        write_corpus(tiny_corpus, {f"n{number}.txt": f"Story {number}\n\nThe town council met again for talks number {number}.\n"})
        rag.build_index(tiny_corpus, index, **FAST)
    stop.set()
    for reader in readers:
        reader.join()
    assert not failures, failures[:3]
    assert len(loads) > 8


def test_a_reader_that_reads_the_pointer_just_before_a_switch_opens_the_new_generation(tiny_corpus, tmp_path, monkeypatch):
    """The race the test above caught once in CI ("no index found" while builds switched): the
    reader read CURRENT, a build switched it and removed that generation, then the reader looked
    for the removed generation's manifest."""
    from rag.store import generations

    index = tmp_path / "index"
    rag.build_index(tiny_corpus, index, **FAST)
    old = generations.current_generation(index)
    write_corpus(tiny_corpus, {"late.txt": "Late story\n\nThe council met again for late talks.\n"})
    rag.build_index(tiny_corpus, index, **FAST)
    new = generations.current_generation(index)
    assert new != old and not (index / old).exists()
    reads = iter([old])  # the first read of the pointer happened before the switch
    real = generations._pointer
    monkeypatch.setattr(generations, "_pointer", lambda folder: next(reads, None) or real(folder))
    assistant = rag.Assistant.load(index)
    assert assistant.store.generation.name == new and assistant.store.article("late.txt").title == "Late story"


# An update in its own process whose write steps are slowed down (a pause before and after each), saying
# when it starts writing: a kill after that lands inside the update's write path, between or in its steps.
SLOW_UPDATE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import faiss
    import rag, rag.store.writing as writing
    def slowed(step):
        def run(*args, **kwargs):
            time.sleep(0.15)
            result = step(*args, **kwargs)
            time.sleep(0.15)
            return result
        return run
    fill = writing._fill_update
    def marked(*args, **kwargs):
        Path(sys.argv[3]).write_text("writing")
        return fill(*args, **kwargs)
    writing._fill_update = marked
    writing.patch_sqlite, writing.write_segment = slowed(writing.patch_sqlite), slowed(writing.write_segment)
    writing.shutil.copyfile, faiss.write_index = slowed(writing.shutil.copyfile), slowed(faiss.write_index)
    print(rag.build_index(sys.argv[1], sys.argv[2], model="hashing", progress=False).summary())
    """
)


def test_kill_9_inside_updates_that_keep_the_live_generation_leaves_it_loadable_and_the_next_run_completes(tmp_path):
    """The update path (stable ids, appended vectors, a patched copy of the SQLite file) killed at random moments of its writing."""
    corpus = write_corpus(tmp_path / "corpus", {**TINY, **{f"towns/{i}.txt": _story(i, 0) for i in range(300)}})
    index, marker = tmp_path / "index", tmp_path / "writing"
    command = [sys.executable, "-m", "rag.cli", "index", str(corpus), "--index", str(index)]
    subprocess.run(command, env=ENV, check=True, capture_output=True, timeout=120)
    rng, inside = random.Random(9), 0
    for round_ in range(1, 7):
        write_corpus(corpus, {f"towns/{i}.txt": _story(i, round_) for i in rng.sample(range(300), 3)})
        write_corpus(corpus, {f"new/{round_}.txt": f"Lighthouse {round_}\n\nThe lighthouse number {round_} was relit by keeper Ida Brandt.\n"})
        (corpus / "towns" / f"{round_}.txt").unlink()
        marker.unlink(missing_ok=True)
        build = subprocess.Popen([sys.executable, "-c", SLOW_UPDATE, str(corpus), str(index), str(marker)], env=ENV,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not marker.exists() and build.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 1.5))  # the slowed write steps take about 1.2 s
        inside += build.poll() is None
        build.send_signal(signal.SIGKILL)
        build.wait()
        assistant = rag.Assistant.load(index)  # (not "harbour boats": 300 stories tie with it on "harbour")
        assert assistant.search("Mayor Ada Quill cut the ribbon", k=1)[0].doc_id == "harbour.txt"
        assert len(assistant.store) == assistant.store.manifest["chunks"]
        assistant.close()
        done = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assistant = rag.Assistant.load(index)
        assert set(assistant.store.articles()) == {p.relative_to(corpus).as_posix() for p in corpus.rglob("*.txt")}
        assert assistant.search(f"lighthouse number {round_} relit", k=1)[0].doc_id == f"new/{round_}.txt"
        assistant.close()
    print(f"kills inside an update's writing: {inside} of 6")
    assert inside >= 3, f"only {inside} of 6 kills landed inside an update's writing"
    assert not list(index.glob("*.partial"))
