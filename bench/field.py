"""``python -m bench.field``: the field test. Real processes, real kill -9, a real ``rag chat`` server.

    python -m bench.field            # the full version (several minutes; BBC subset for the chat check when present)
    python -m bench.field --quick    # a minute or two; ``make test`` runs it

Prints one PASS/FAIL row per check with its figures and exits 1 when any check fails.
Builds use the model-free hashing embedder (``RAG_MODEL=hashing``) where the model is not
the point; the concurrent-chat check uses the real model, since it is the real runtime
that must give every client the serial answer.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import rag

ROOT = Path(__file__).resolve().parent.parent
BBC = ROOT.parent / "shared" / "corpora" / "bbc"
HASHING = {"RAG_MODEL": "hashing", "RAG_PROGRESS": "false"}
TOWNS = ["Port Elms", "Lowtown", "Harwick", "Dunmere", "Kelby", "Ashford Vale", "Brinmouth", "Carrow"]


@dataclass(frozen=True)
class Check:
    """One row of the table: what was tried, whether it held, and the figures that say so."""

    name: str
    passed: bool
    figures: str


@dataclass(frozen=True)
class Run:
    rc: int
    stdout: str
    stderr: str
    seconds: float


def rag_cmd(*args: str | bytes, env: dict[str, str] | None = None, stdin: bytes | None = None,
            timeout: float = 300, cwd: Path | None = None) -> Run:
    """``rag ARGS`` in a fresh interpreter (this checkout first on the path)."""
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "rag.cli", *args], input=stdin, capture_output=True,
                          env=_env(env), timeout=timeout, cwd=cwd)
    return Run(done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace"),
               time.perf_counter() - began)


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra or {})
    return env


def news_article(i: int, version: int = 0) -> str:
    """A made-up news article with a title, several paragraphs and numbers unique to ``i`` and ``version``."""
    town = TOWNS[i % len(TOWNS)]
    return (
        f"{town} council approves plan {i}\n\n"
        f"The council of {town} approved plan number {i} on Monday, revision {version}. "
        f"It will build {i * 7 + version} homes and a school for {i * 3 + 40} pupils. "
        f"Councillor Mara Voss said the vote was the closest in {i % 12 + 2} years.\n\n"
        f"Work on site {i} starts in spring. The budget is {i * 11 + 5} million pounds, "
        f"of which {i % 9 + 1} million comes from the regional fund. "
        "Residents at the meeting asked about traffic on the main road.\n\n"
        f"A second vote on the harbour wall of {town} is due next month. "
        "The opposition said it would ask for an independent review of the costs.\n"
    )


def write_news(folder: Path, count: int, version: int = 0, only: set[int] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        if only is None or i in only:
            (folder / f"news-{i:04d}.txt").write_text(news_article(i, version), encoding="utf-8")
    return folder


def loads_and_answers(index: Path) -> str | None:
    """None when the index loads in this process and answers with a citation; else what went wrong."""
    try:
        assistant = rag.Assistant.load(index, progress=False)
    except Exception as exc:
        return f"load: {type(exc).__name__}: {exc}"
    try:
        answer = assistant.ask("How many homes will the Lowtown plan build?")
        return None if answer.citations else f"no citation: {answer.text!r}"
    except Exception as exc:
        return f"ask: {type(exc).__name__}: {exc}"
    finally:
        assistant.close()


# ---- builds ---------------------------------------------------------------------------------------


def check_concurrent_builds(work: Path, writers: int, articles: int) -> Check:
    corpus = write_news(work / "corpus", articles)
    index = work / "index"
    began = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "rag.cli", "index", str(corpus), "--index", str(index), "--quiet"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(HASHING)) for _ in range(writers)]
    results = [p.communicate(timeout=600) for p in procs]
    seconds = time.perf_counter() - began
    codes = [p.returncode for p in procs]
    waited = sum("being written by" in err.decode(errors="replace") for _, err in results)
    problem = loads_and_answers(index)
    info = rag.index_info(index)
    passed = codes == [0] * writers and problem is None and info is not None and info.articles == articles
    figures = (f"{writers} `rag index` processes on one folder: exit codes {codes}, {waited} waited for the lock, "
               f"{seconds:.1f}s; index {info.articles if info else 0}/{articles} articles, "
               + ("loads and answers" if problem is None else problem))
    return Check("concurrent builds", passed, figures)


def _build_killed_at(corpus: Path, index: Path, delay: float) -> int | None:
    """Start ``rag index``, kill -9 it after ``delay`` seconds; its exit code when it finished first."""
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "index", str(corpus), "--index", str(index), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(HASHING),
                            start_new_session=True)
    try:
        return proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


def check_kill9(work: Path, kills: int, articles: int, seed: int = 10) -> Check:
    corpus = write_news(work / "corpus", articles)
    index = work / "index"
    first = rag_cmd("index", str(corpus), "--index", str(index), "--quiet", env=HASHING)
    if first.rc != 0:
        return Check("kill -9 during builds", False, f"first build failed: {first.stderr.strip()[-200:]}")
    rng = random.Random(seed)
    span = max(first.seconds, 1.0)  # a whole build, start-up included: kills land anywhere in it
    delays, broken, finished = [], [], 0
    for round_ in range(1, kills + 1):
        write_news(corpus, articles, version=round_)  # every article changes: each build is a whole one
        delay = rng.uniform(0.05, span)
        delays.append(delay)
        if _build_killed_at(corpus, index, delay) is not None:
            finished += 1
        problem = loads_and_answers(index)
        if problem:
            broken.append(f"kill {round_} at {delay:.2f}s: {problem}")
    after = rag_cmd("index", str(corpus), "--index", str(index), "--quiet", "--no-wait", env=HASHING)
    info = rag.index_info(index)
    complete = after.rc == 0 and info is not None and info.articles == articles
    figures = (f"{kills} builds killed at {min(delays):.2f}-{max(delays):.2f}s of a {span:.1f}s build "
               f"({finished} finished first): {kills - len(broken)}/{kills} left a loadable, answering index; "
               f"next build {'ran at once (no stale lock), complete' if complete else 'FAILED: ' + after.stderr.strip()[-160:]}")
    if broken:
        figures += "; " + "; ".join(broken[:2])
    return Check("kill -9 during builds", not broken and complete, figures)


# ---- files as they come ---------------------------------------------------------------------------


def _index_json(corpus: Path, index: Path, env: dict[str, str] | None = None) -> tuple[Run, dict]:
    run = rag_cmd("index", str(corpus), "--index", str(index), "--quiet", "--json", env={**HASHING, **(env or {})})
    try:
        return run, json.loads(run.stdout)
    except ValueError:
        return run, {}


def check_huge_file(work: Path) -> Check:
    corpus = write_news(work / "corpus", 3)
    limit_mb = rag.Settings().max_file_mb
    huge = corpus / "huge.txt"
    line = (news_article(7).replace("\n", " ") + "\n").encode()
    with open(huge, "wb") as out:
        for _ in range(int((limit_mb + 1) * 1_048_576 // len(line)) + 1):
            out.write(line)
    size_mb = huge.stat().st_size / 1_048_576
    run, report = _index_json(corpus, work / "index")
    skipped = dict(report.get("skipped", []))
    warned = "huge.txt" in run.stderr and "MB" in run.stderr
    passed = run.rc == 0 and report.get("added") == 3 and "huge.txt" in skipped and warned and run.seconds < 60
    figures = (f"a {size_mb:.1f} MB .txt (limit {limit_mb:g} MB) among 3 articles: build {run.seconds:.1f}s, "
               f"added {report.get('added')}, skipped: {skipped.get('huge.txt', 'NOT SKIPPED')}; warning on stderr: {warned}")
    return Check("huge file", passed, figures)


def check_one_paragraph(work: Path, count: int) -> Check:
    corpus = work / "corpus"
    corpus.mkdir()
    for i in range(count):
        body = news_article(i).split("\n\n", 1)[1].replace("\n\n", " ").replace("\n", " ").strip()
        (corpus / f"para-{i:03d}.txt").write_text(body + "\n", encoding="utf-8")
    run, report = _index_json(corpus, work / "index")
    passed = run.rc == 0 and report.get("added") == count and not report.get("skipped")
    return Check("one-paragraph articles", passed,
                 f"{count} single-paragraph .txt files (no title, trailing newline): added {report.get('added')}, "
                 f"skipped {len(report.get('skipped', []))}, exit {run.rc}")


def check_latin1(work: Path) -> Check:
    corpus = write_news(work / "corpus", 2)
    text = "Chef wins with crème brûlée\n\nA chef in Lowtown won the regional prize with a crème brûlée and a café au lait.\n"
    (corpus / "latin1.txt").write_bytes(text.encode("latin-1"))
    run, _ = _index_json(corpus, work / "index")
    found = rag_cmd("search", "crème brûlée prize", "--index", str(work / "index"), "--json", "--k", "1", env=HASHING)
    shown = found.stdout if found.rc == 0 else found.stderr
    passed = run.rc == 0 and "crème brûlée" in shown and "crčme" not in shown
    sample = re.search(r"cr.me br.l.e", shown)
    return Check("Latin-1 file", passed, f"'crème brûlée' in Latin-1 reads back as '{sample.group(0) if sample else '?'}'")


ODD_NAMES = [
    "with space.txt", "ünïcödé-Ärtikel.txt", "-starts-with-dash.txt", "#hash.txt", "semi;colon.txt",
    "quote'name.txt", "UPPER.TXT", "tab\tname.txt", ".hidden.txt", "deep/er/still/nested.txt", "x" * 200 + ".txt",
    "emoji-📰.txt", "not-really.pdf",  # plain text named .pdf: skipped with a reason, not lost
]
OTHER_TYPES = ["no-suffix", "photo.jpg"]  # not article files: not read


def check_odd_names(work: Path) -> Check:
    corpus = work / "corpus"
    for i, name in enumerate(ODD_NAMES + OTHER_TYPES):
        path = corpus / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(news_article(i), encoding="utf-8")
    run, report = _index_json(corpus, work / "index")
    accounted = (report.get("added") or 0) + len(report.get("skipped", [])) + len(report.get("hidden", []))
    passed = run.rc == 0 and accounted == len(ODD_NAMES)
    return Check("odd file names", passed,
                 f"{len(ODD_NAMES)} article files (spaces, accents, emoji, tab, leading '-', '#', '.', 200 chars, "
                 f"nested, text named .pdf): {report.get('added')} indexed, {len(report.get('skipped', []))} skipped with a reason, "
                 f"{len(report.get('hidden', []))} hidden reported, {len(ODD_NAMES) - accounted} silently lost; "
                 f"{len(OTHER_TYPES)} files of other types not read")


# ---- every bad input ------------------------------------------------------------------------------


def _busy_index(work: Path) -> tuple[Path, subprocess.Popen]:
    """A build that holds its index's write lock for a while (a slow corpus), and its process."""
    corpus = write_news(work / "busy-corpus", 600)
    index = work / "busy-index"
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "index", str(corpus), "--index", str(index), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(HASHING))
    deadline = time.time() + 60
    while not (index / "write.lock.json").exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    return index, proc


def bad_inputs(work: Path) -> list[tuple[str, Callable[[], Run]]]:
    corpus = write_news(work / "corpus", 3)
    index = work / "index"
    rag_cmd("index", str(corpus), "--index", str(index), "--quiet", env=HASHING)
    other = write_news(work / "other", 2)
    empty = work / "empty"
    empty.mkdir()
    a_file = work / "a-file.txt"
    a_file.write_text("not an index")
    ix = ("--index", str(index))
    return [
        ("invalid UTF-8 question argument", lambda: rag_cmd("ask", b"caf\xe9 au lait?", *ix, env=HASHING)),
        ("invalid UTF-8 question on stdin", lambda: rag_cmd("ask", "-", *ix, env=HASHING, stdin=b"\xff\xfe who?\n")),
        ("empty question", lambda: rag_cmd("ask", "   ", *ix, env=HASHING)),
        ("1 MB question", lambda: rag_cmd("ask", "-", *ix, env=HASHING, stdin=b"why " * 262_144)),
        ("--k 0", lambda: rag_cmd("ask", "Who voted?", "--k", "0", *ix, env=HASHING)),
        ("search --k -1", lambda: rag_cmd("search", "vote", "--k", "-1", *ix, env=HASHING)),
        ("--index is a file", lambda: rag_cmd("ask", "Who voted?", "--index", str(a_file), env=HASHING)),
        ("no index there", lambda: rag_cmd("ask", "Who voted?", "--index", str(work / "none"), env=HASHING)),
        ("corpus folder missing", lambda: rag_cmd("index", str(work / "missing"), "--index", str(work / "i2"), env=HASHING)),
        ("corpus folder empty", lambda: rag_cmd("index", str(empty), "--index", str(work / "i3"), env=HASHING)),
        ("another corpus, no --replace", lambda: rag_cmd("index", str(other), *ix, env=HASHING)),
        ("bad setting value", lambda: rag_cmd("ask", "Who voted?", *ix, env={**HASHING, "RAG_K": "many"})),
        ("chat --port 70000", lambda: rag_cmd("chat", *ix, "--port", "70000", env=HASHING)),
        ("chat --auth without a password", lambda: rag_cmd("chat", *ix, "--auth", "alice", env=HASHING)),
        ("chat on a port in use", lambda: _chat_on_taken_port(index)),
        ("index --no-wait while busy", lambda: _no_wait_while_busy(work)),
    ]


def _chat_on_taken_port(index: Path) -> Run:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        return rag_cmd("chat", "--index", str(index), "--port", str(taken.getsockname()[1]), env=HASHING)


def _no_wait_while_busy(work: Path) -> Run:
    index, proc = _busy_index(work)
    try:
        return rag_cmd("index", "--index", str(index), "--no-wait", env=HASHING)
    finally:
        proc.kill()
        proc.wait()


def _one_clean_line(run: Run) -> bool:
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    return run.rc == 2 and len(lines) == 1 and lines[0].startswith("rag: error:") and "Traceback" not in run.stderr


def check_bad_inputs(work: Path) -> Check:
    cases = bad_inputs(work)
    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = list(pool.map(lambda case: (case[0], case[1]()), cases))
    bad = [f"{name} (exit {run.rc}: {run.stderr.strip().splitlines()[-1:] or ['no message']})" for name, run in runs
           if not _one_clean_line(run)]
    figures = f"{len(runs) - len(bad)}/{len(runs)} mistakes gave exit 2 and one 'rag: error:' line, no traceback"
    return Check("every bad input (CLI)", not bad, figures + ("; failed: " + "; ".join(bad) if bad else ""))


# ---- the chat under concurrent clients -----------------------------------------------------------


def _questions(path: Path, docs: set[str] | None, count: int) -> list[str]:
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    picked = [i["question"] for i in items if i.get("type") != "follow-up" and i.get("docs")
              and (docs is None or set(i["docs"]) <= docs)]
    return picked[:count]


def chat_corpus(work: Path, full: bool) -> tuple[Path, list[str]]:
    """The corpus and questions of the concurrency check: a BBC subset in the full version, else seeds."""
    if full and BBC.is_dir():
        items = [json.loads(line) for line in (ROOT / "eval" / "bbc.jsonl").read_text().splitlines() if line.strip()]
        docs = sorted({d for i in items[:40] for d in i.get("docs", [])})
        corpus = work / "bbc-subset"
        for doc in docs:
            (corpus / doc).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(BBC / doc, corpus / doc)
        return corpus, _questions(ROOT / "eval" / "bbc.jsonl", set(docs), 5)
    corpus = work / "seeds"
    shutil.copytree(ROOT / "seeds", corpus)
    return corpus, _questions(ROOT / "eval" / "seeds.jsonl", None, 5)


class ChatServer:
    """A real ``rag chat`` process on a free 127.0.0.1 port."""

    def __init__(self, index: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "chat", "--index", str(index), "--port", str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=_env({"RAG_PROGRESS": "false"}), text=True)
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        self.output.extend(self.proc.stdout)  # type: ignore[arg-type]  # drained, so the server never blocks

    def wait(self, timeout: float = 180) -> bool:
        """Whether the page is served within ``timeout`` seconds (polled, whatever the banner says)."""
        import httpx

        deadline = time.time() + timeout
        while time.time() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(self.url, timeout=5).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        return False

    def stop(self) -> int:
        """Ctrl-C, as a person stops it; returns the exit code (-9: it had to be killed)."""
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -9


def _answer_key(answer: dict) -> tuple:
    cites = tuple((c["doc_id"], c["start"], c["end"]) for c in answer["citations"])
    return answer["text"], cites, answer["abstained"]


def _concurrent_answers(url: str, questions: list[str], clients: int) -> tuple[list[tuple[str, tuple]], list[float]]:
    from gradio_client import Client

    connected = [Client(url, verbose=False) for _ in range(clients)]
    start = threading.Barrier(clients)
    results: list[tuple[str, tuple]] = []
    latencies: list[float] = []
    lock = threading.Lock()

    def one_client(n: int) -> None:
        start.wait()
        for q in questions[n % len(questions):] + questions[: n % len(questions)]:
            began = time.perf_counter()
            got = connected[n].predict(q, api_name="/answer")
            with lock:
                latencies.append(time.perf_counter() - began)
                results.append((q, _answer_key(got)))

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(one_client, range(clients)))
    return results, latencies


def _api_error(url: str, body: str) -> str:
    import httpx

    base = url.rstrip("/") + "/gradio_api/call/answer"
    posted = httpx.post(base, content=body.encode(), headers={"content-type": "application/json"}, timeout=30)
    stream = httpx.get(f"{base}/{posted.json()['event_id']}", timeout=60).text
    match = re.search(r'"error": ("[^"]*"|null)', stream)
    return match.group(1) if match else "(no error)"


def check_chat(work: Path, clients: int, full: bool) -> list[Check]:
    corpus, questions = chat_corpus(work, full)
    index = work / "chat-index"
    built = rag_cmd("index", str(corpus), "--index", str(index), "--quiet", env={"RAG_PROGRESS": "false"}, timeout=900)
    if built.rc != 0:
        return [Check("concurrent chat clients", False, f"build failed: {built.stderr.strip()[-200:]}")]
    server = ChatServer(index)
    stopped = None
    try:
        if not server.wait():
            return [Check("concurrent chat clients", False, "server did not start: " + "".join(server.output)[-300:])]
        from gradio_client import Client

        serial_client = Client(server.url, verbose=False)
        serial = {q: _answer_key(serial_client.predict(q, api_name="/answer")) for q in questions}
        began = time.perf_counter()
        results, latencies = _concurrent_answers(server.url, questions, clients)
        wall = time.perf_counter() - began
        errors = [_api_error(server.url, '{"data": ["caf\\udce9?"]}'), _api_error(server.url, '{"data": [123]}')]
    finally:
        stopped = server.stop()
    same = sum(serial[q] == key for q, key in results)
    p50, p95 = statistics.median(latencies) * 1000, statistics.quantiles(latencies, n=20)[18] * 1000
    where = f"{corpus.name} ({sum(1 for _ in corpus.rglob('*.txt'))} articles, real model)"
    concurrent = Check(
        "concurrent chat clients", same == len(results) == clients * len(questions) and stopped in (0, 130),
        f"{clients} gradio_client clients x {len(questions)} questions on `rag chat` over {where}: "
        f"{same}/{len(results)} answers identical to the serial ones; latency p50 {p50:.0f} ms, p95 {p95:.0f} ms; "
        f"{len(results) / wall:.1f} answers/s; Ctrl-C stopped the server with exit {stopped}")
    readable = all(e not in ("null", "(no error)") for e in errors)
    api = Check("bad questions via the chat API", readable,
                f"invalid UTF-8 -> {errors[0]}; a number -> {errors[1]}")
    return [concurrent, api]


# ---- the table ----------------------------------------------------------------------------------


def run_checks(work: Path, quick: bool) -> list[Check]:
    steps: list[tuple[str, Callable[[Path], Check | list[Check]]]] = [
        ("builds", lambda w: check_concurrent_builds(w, writers=3 if quick else 4, articles=150 if quick else 400)),
        ("kills", lambda w: check_kill9(w, kills=3 if quick else 10, articles=150 if quick else 400)),
        ("huge", check_huge_file),
        ("para", lambda w: check_one_paragraph(w, 100 if quick else 300)),
        ("latin1", check_latin1),
        ("names", check_odd_names),
        ("bad", check_bad_inputs),
        ("chat", lambda w: check_chat(w, clients=20, full=not quick)),
    ]
    checks: list[Check] = []
    for name, step in steps:
        folder = work / name
        folder.mkdir()
        began = time.perf_counter()
        try:
            got = step(folder)
        except Exception as exc:  # a crashed check is a failed check, and the others still run
            got = Check(name, False, f"crashed: {type(exc).__name__}: {exc}")
        got = got if isinstance(got, list) else [got]
        for check in got:
            print(f"{'PASS' if check.passed else 'FAIL'}  {check.name} ({time.perf_counter() - began:.0f}s)",
                  file=sys.stderr, flush=True)
        checks += got
    return checks


def table(checks: list[Check]) -> str:
    rows = ["| check | result | figures |", "| --- | --- | --- |"]
    rows += [f"| {c.name} | {'PASS' if c.passed else '**FAIL**'} | {c.figures.replace('|', '/')} |" for c in checks]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.field", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short version (a minute or two): make test runs it")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (its path is printed)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="rag-field-"))
    began = time.perf_counter()
    try:
        checks = run_checks(work, args.quick)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    failed = [c for c in checks if not c.passed]
    print(table(checks))
    print(f"\n{len(checks) - len(failed)}/{len(checks)} checks passed in {time.perf_counter() - began:.0f}s"
          f" ({'quick' if args.quick else 'full'} version){f'; work folder kept: {work}' if args.keep else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
