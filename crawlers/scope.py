"""Where a source may go, and where its secret may go.

A source stays on its own hosts: those of its configured URLs (``start_url``, ``api_url``) plus the ones
its ``allowed_hosts:`` adds, over http or https only; an inbox reads files inside its own folder only.
A secret (token, key header, cookie, signed query) goes only to the origin it was configured for (the
scheme, host and port of the source's URL) and only over https; plain http is accepted for loopback hosts
(127.0.0.0/8, ::1, ``localhost``), which is how the demo site and the tests serve.

These are pure functions: the configuration loaders refuse a secret with an http:// URL, and the
downloader middlewares (:class:`crawlers.middlewares.ScopeMiddleware`, ``SecretsMiddleware``) apply the
rest to every request, redirects included.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from crawlers.errors import SourceConfigError

# A host name as written in allowed_hosts (after its "*." and case are dealt with).
_HOST = re.compile(r"[a-z0-9_][a-z0-9_-]{0,62}(\.[a-z0-9_][a-z0-9_-]{0,62})*")
_DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_ALLOWED_HOSTS = 50

# Why a request was not sent; each is counted as ``yuqing/dropped/out of scope: <reason>``.
ANOTHER_HOST = "another host"
NOT_HTTP = "not http(s)"
OUTSIDE_INBOX = "outside the inbox"


def normalise_host(host: str) -> str:
    """A host name as compared: lower case, no trailing dot, international names in their ASCII form."""
    name = host.strip().lower().rstrip(".")
    if name and not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            return name
    return name


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine: ``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    name = normalise_host(host).strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


# The attributes a source's configured URLs are in, whatever its kind.
URL_ATTRIBUTES = ("start_url", "api_url", "feed_url", "list_url")


def source_urls(source: Any) -> tuple[str, ...]:
    """The URLs a source is configured with (``start_url``, ``api_url``, ``feed_url``, ``list_url``)."""
    urls = (getattr(source, name, None) for name in URL_ATTRIBUTES)
    return tuple(dict.fromkeys(url for url in urls if isinstance(url, str) and url))


def source_hosts(source: Any) -> frozenset[str]:
    """The hosts a source may fetch from: its URLs' hosts and its ``allowed_hosts``."""
    hosts = {normalise_host(urlsplit(url).hostname or "") for url in source_urls(source)}
    hosts.update(normalise_host(host) for host in getattr(source, "allowed_hosts", ()) or ())
    hosts.discard("")
    return frozenset(hosts)


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    """Whether ``host`` is one of ``allowed``; an entry ``*.example.gov.cn`` allows its subdomains."""
    name = normalise_host(host)
    for entry in allowed:
        if entry.startswith("*."):
            if name.endswith(entry[1:]) and len(name) > len(entry) - 1:
                return True
        elif name == entry:
            return True
    return False


def out_of_scope(url: str, source: Any) -> str | None:
    """Why ``source`` must not fetch ``url`` (:data:`ANOTHER_HOST`, :data:`NOT_HTTP`, ...), or None."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if getattr(source, "kind", "board") == "hotline-inbox":
        inbox = getattr(source, "inbox", None)
        if scheme != "file" or parts.netloc not in ("", "localhost") or not isinstance(inbox, Path):
            return OUTSIDE_INBOX
        if not Path(url2pathname(parts.path)).resolve().is_relative_to(inbox.resolve()):
            return OUTSIDE_INBOX
        return None
    if scheme not in ("http", "https"):
        return NOT_HTTP
    try:
        host = parts.hostname or ""
    except ValueError:
        return ANOTHER_HOST
    if not host_allowed(host, source_hosts(source)):
        return ANOTHER_HOST
    return None


def origin(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of an http(s) URL with the default port filled in; None for anything else."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return None
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        return None
    return scheme, normalise_host(parts.hostname or ""), port


def secure_for_secrets(url: str) -> bool:
    """Whether a secret may travel to ``url`` at all: https, or http to a loopback host."""
    where = origin(url)
    return where is not None and (where[0] == "https" or is_loopback(where[1]))


def may_carry_secret(url: str, source: Any) -> bool:
    """Whether a request to ``url`` may carry ``source``'s secret: its configured origin, safely."""
    where = origin(url)
    configured = {origin(own) for own in source_urls(source)}
    return where is not None and where in configured and secure_for_secrets(url)


def parse_allowed_hosts(value: object, fail: Callable[[str, str], SourceConfigError]) -> tuple[str, ...]:
    """``allowed_hosts: [files.example.gov.cn, "*.cdn.example.gov.cn"]`` checked; ``fail(field, reason)``."""
    if not isinstance(value, list) or not value or len(value) > MAX_ALLOWED_HOSTS:
        raise fail(
            "allowed_hosts",
            f"应为 1–{MAX_ALLOWED_HOSTS} 个主机名的列表 / expected a list of 1-{MAX_ALLOWED_HOSTS} hosts",
        )
    hosts: list[str] = []
    for index, entry in enumerate(value):
        where = f"allowed_hosts[{index}]"
        if not isinstance(entry, str) or not entry.strip():
            raise fail(where, "应为主机名文本 / expected a host name as text")
        wildcard = entry.strip().startswith("*.")
        name = normalise_host(entry.strip().removeprefix("*."))
        try:
            ipaddress.ip_address(name.strip("[]"))
            literal = not wildcard
        except ValueError:
            literal = False
        if not literal and not _HOST.fullmatch(name):
            raise fail(
                where,
                f"“{entry}”不是主机名（不带 http://、端口和路径）/ not a host name (no scheme, port, path)",
            )
        hosts.append(f"*.{name}" if wildcard else name.strip("[]"))
    return tuple(hosts)
