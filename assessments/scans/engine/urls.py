"""Remote repository URLs: what may be cloned, and the address git is pinned to.

A URL is refused before any connection unless it is `https://host[:443]/path` with no
credentials, query or fragment. The host is then resolved once and every address must be
global (no loopback, private, link-local, CGNAT, ULA, multicast, unspecified, reserved or
v4-embedding v6 address). git is pinned to the checked addresses with `http.curloptResolve`,
so a DNS answer that changes between the check and the connection (rebinding) is never used.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from assessments.scans.engine.model import ScanError

MAX_URL_LENGTH = 2048
HTTPS_PORT = 443

# host, port -> the addresses the host resolves to (strings). Tests inject their own.
Resolver = Callable[[str, int], Sequence[str]]

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_SCP_LIKE = re.compile(r"^[^/:@]+@[^/:]+:")
# IPv6 ranges that embed an IPv4 address (6to4, Teredo, NAT64): the embedded v4 address
# could be private, so none of them is accepted.
_EMBEDDING_V6 = tuple(
    ipaddress.IPv6Network(net)
    for net in ("2002::/16", "2001::/32", "64:ff9b::/96", "64:ff9b:1::/48", "::/96")
)
# IANA has allocated only 2000::/3 for global unicast (the IPv6 address space registry).
# Python counts some addresses outside it as global, such as the deprecated site-local
# fec0::/10 (RFC 3879) that older networks still route internally.
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")


@dataclass(frozen=True)
class RemoteTarget:
    """A validated remote: the URL to pass to git and the addresses to pin it to."""

    url: str
    host: str
    port: int
    addresses: tuple[str, ...]

    def curlopt_resolve(self) -> str:
        """The `http.curloptResolve` value: `host:port:addr[,addr...]` (v6 in brackets)."""
        addrs = ",".join(f"[{a}]" if ":" in a else a for a in self.addresses)
        return f"{self.host}:{self.port}:{addrs}"


def _refuse(reason: str) -> ScanError:
    return ScanError(f"This repository URL cannot be scanned: {reason}.")


def validate_remote_url(url: str) -> tuple[str, str]:
    """Check the URL's shape; return (normalised url, lower-case host). No network access.

    Raises ScanError naming the reason: another transport (file, ssh, git, ext, http),
    scp-style or local paths, credentials, a port other than 443, a leading '-', spaces or
    control characters, a query or fragment, an over-long URL, or a malformed host.
    """
    if not isinstance(url, str) or not url:
        raise _refuse("no URL given")
    if len(url) > MAX_URL_LENGTH:
        raise _refuse(f"it is longer than {MAX_URL_LENGTH} characters")
    if url.startswith("-"):
        raise _refuse("it starts with '-'")
    lowered = url.lower()
    if "::" in lowered.split("/", 1)[0] and not lowered.startswith("https://"):
        raise _refuse("remote helpers such as ext:: are not allowed; use an https:// URL")
    if any(ord(c) < 33 or ord(c) == 127 for c in url) or not url.isascii():
        raise _refuse("it contains spaces, control or non-ASCII characters")
    if not lowered.startswith("https://"):
        if lowered.startswith("file:") or url.startswith(("/", ".", "~")):
            raise _refuse("local files and paths are not allowed; use an https:// URL")
        if _SCP_LIKE.match(url) or lowered.startswith(("ssh:", "git+ssh:", "ssh+git:")):
            raise _refuse("ssh and scp-style (user@host:path) URLs are not allowed; use https://")
        if lowered.startswith("git:"):
            raise _refuse("the git:// protocol is not allowed; use https://")
        if lowered.startswith("http:"):
            raise _refuse("plain http is not allowed; use https://")
        raise _refuse("only https:// URLs are allowed")
    parts = urlsplit(url)
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise _refuse("credentials in the URL are not allowed; provide a token separately")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise _refuse("a query or fragment is not allowed")
    try:
        port = parts.port
    except ValueError:
        raise _refuse("the port is not a number") from None
    if port is not None and port != HTTPS_PORT:
        raise _refuse("only the standard https port 443 is allowed")
    host = (parts.hostname or "").lower()
    if not host:
        raise _refuse("it has no host")
    if not _valid_host(host):
        raise _refuse("the host name is not valid")
    path = parts.path
    if not path or path == "/":
        raise _refuse("it names no repository path")
    if "\\" in path:
        raise _refuse("backslashes are not allowed")
    netloc = f"[{host}]" if ":" in host else host
    return f"https://{netloc}{path}", host


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    if len(host) > 253 or host.endswith("."):
        return False
    labels = host.split(".")
    if len(labels) < 2 or labels[-1].isdigit():
        return False  # single labels and all-numeric forms (0x7f.1, 2130706433) are refused
    return all(_LABEL.match(label) for label in labels)


def address_problem(address: str) -> str | None:
    """Why an address may not be contacted, or None if it is a global unicast address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_unspecified:
        return "an unspecified address"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "an IPv4-mapped IPv6 address"
        if any(ip in net for net in _EMBEDDING_V6):
            return "an IPv6 address embedding an IPv4 address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.IPv4Network("100.64.0.0/10"):
        return "a carrier-grade NAT address"
    if ip.is_reserved or not ip.is_global:
        return "a reserved or non-global address"
    if isinstance(ip, ipaddress.IPv6Address) and ip not in _GLOBAL_UNICAST_V6:
        return "a reserved or non-global address"
    return None


def system_resolver(host: str, port: int) -> Sequence[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def resolve_remote(
    url: str,
    *,
    resolver: Resolver | None = None,
    _allow_private_for_tests: bool = False,
) -> RemoteTarget:
    """Validate the URL, resolve its host once and check every address.

    `_allow_private_for_tests` lets tests clone from a local stand-in server; production code
    never sets it.
    """
    normalised, host = validate_remote_url(url)
    try:
        ipaddress.ip_address(host)
        literal = True
    except ValueError:
        literal = False
    try:
        found = [host] if literal else (resolver or system_resolver)(host, HTTPS_PORT)
        addresses = list(dict.fromkeys(found))
    except (OSError, UnicodeError):
        raise ScanError(f"The host {host} could not be resolved.") from None
    if not addresses:
        raise ScanError(f"The host {host} could not be resolved.")
    if not _allow_private_for_tests:
        for address in addresses:
            problem = address_problem(address)
            if problem is not None:
                raise _refuse(f"the host {host} resolves to {problem} ({address})")
    return RemoteTarget(url=normalised, host=host, port=HTTPS_PORT, addresses=tuple(addresses))
