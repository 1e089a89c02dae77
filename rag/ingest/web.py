"""Polite, guarded HTTP for ``rag add``: timeouts, a size limit, our User-Agent, redirects checked by hand.

http/https only, at most ``max_redirects`` redirects (each target checked like the first), and no
private, loopback or link-local addresses unless ``allow_private``.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from rag.errors import UserError
from rag.settings import Settings

USER_AGENT = "rag-news-reader/0.1 (rag add: saves articles for offline cited answers)"


class FetchError(Exception):
    """A URL that could not be fetched or used; the message is the reason shown to the user."""


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for every request ``rag add`` makes."""

    timeout: float = 15.0  # seconds per connect/read, and for a whole download
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    allow_private: bool = False
    user_agent: str = USER_AGENT

    @classmethod
    def of(cls, settings: Settings) -> "FetchPolicy":
        """The policy that ``settings.fetch_*`` describe (a bad value is a user error)."""
        if settings.fetch_timeout <= 0 or settings.fetch_max_bytes <= 0:
            raise UserError("fetch_timeout and fetch_max_bytes must be positive")
        return cls(settings.fetch_timeout, settings.fetch_max_bytes, allow_private=settings.fetch_allow_private)


@dataclass(frozen=True)
class Page:
    """A fetched response: the URL it came from after redirects, its content type and bytes."""

    url: str
    content_type: str
    body: bytes


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve host {host} ({exc})") from None
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def check_url(url: str, allow_private: bool = False) -> None:
    """Raise ``FetchError`` unless ``url`` is http(s) to a public address (any address with ``allow_private``).

    >>> check_url("ftp://example.org/feed")
    Traceback (most recent call last):
    rag.ingest.fetching.FetchError: only http and https URLs are fetched, not ftp
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"only http and https URLs are fetched, not {parts.scheme or 'a bare path'}")
    if not parts.hostname:
        raise FetchError("the URL has no host")
    if allow_private:
        return
    for address in _addresses(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)):
        if not address.is_global:
            raise FetchError(f"{parts.hostname} is a private or local address ({address}); pass --allow-private to fetch it")


def _read_limited(response: Any, policy: FetchPolicy, deadline: float) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise FetchError(f"too large ({int(declared):,} bytes; the limit is {policy.max_bytes:,})")
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > policy.max_bytes:
            raise FetchError(f"too large (over the limit of {policy.max_bytes:,} bytes)")
        if time.monotonic() > deadline:  # a server trickling bytes never trips the read timeout
            raise FetchError(f"timed out after {policy.timeout:g}s")
    return bytes(body)


def _get(client: Any, url: str, policy: FetchPolicy, deadline: float) -> tuple[str | None, Page | None]:
    """One request: (the redirect target, None) or (None, the page)."""
    with client.stream("GET", url) as response:
        if response.is_redirect:
            location = response.headers.get("location")
            if not location:
                raise FetchError(f"redirect ({response.status_code}) without a target")
            return urljoin(url, location), None
        if response.status_code >= 400:
            raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}".rstrip())
        body = _read_limited(response, policy, deadline)
        return None, Page(url, response.headers.get("content-type", "").lower(), body)


def fetch(url: str, client: Any, policy: FetchPolicy = FetchPolicy()) -> Page:
    """GET ``url`` within ``policy``, following redirects by hand; raises ``FetchError`` with the reason."""
    import httpx

    deadline = time.monotonic() + policy.timeout
    try:
        for _ in range(policy.max_redirects + 1):
            check_url(url, policy.allow_private)
            target, page = _get(client, url, policy, deadline)
            if page is not None:
                return page
            url = target  # type: ignore[assignment]
    except httpx.TimeoutException:
        raise FetchError(f"timed out after {policy.timeout:g}s") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"network error ({type(exc).__name__}: {exc})") from None
    raise FetchError(f"more than {policy.max_redirects} redirects")


def make_client(policy: FetchPolicy = FetchPolicy()) -> Any:
    """An httpx client for ``fetch``: the project's User-Agent, the timeout, no automatic redirects.

    Proxies from the environment are not used: the address check must see the real target.
    """
    import httpx

    headers = {"User-Agent": policy.user_agent, "Accept": "text/html, application/rss+xml, application/atom+xml, */*;q=0.5"}
    return httpx.Client(timeout=policy.timeout, follow_redirects=False, headers=headers, trust_env=False)
