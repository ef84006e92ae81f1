from __future__ import annotations

import inspect
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from assessments.scans.engine import ScanError, scan_repository
from assessments.scans.engine.urls import (
    RemoteTarget,
    address_problem,
    resolve_remote,
    system_resolver,
    validate_remote_url,
)
from tests.scans.engine.gitbuild import day


def public(host: str, port: int) -> Sequence[str]:
    return ["140.82.121.4"]


def never(host: str, port: int) -> Sequence[str]:
    raise AssertionError("a refused URL must not be resolved")


LOCAL = "local files and paths are not allowed; use an https:// URL"
HELPER = "remote helpers such as ext:: are not allowed; use an https:// URL"
SSH = "ssh and scp-style (user@host:path) URLs are not allowed; use https://"
CREDENTIALS = "credentials in the URL are not allowed; provide a token separately"
CHARACTERS = "it contains spaces, control or non-ASCII characters"
QUERY = "a query or fragment is not allowed"
HOST = "the host name is not valid"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", LOCAL),
        ("/srv/repos/app", LOCAL),
        ("./app", LOCAL),
        ("~/app", LOCAL),
        ("ext::sh -c touch% /tmp/pwned", HELPER),
        ("ext::git-upload-pack", HELPER),
        ("fd::17/app", HELPER),
        ("git://example.com/app.git", "the git:// protocol is not allowed; use https://"),
        ("git://example.com/a::b.git", "the git:// protocol is not allowed; use https://"),
        ("ssh://git@example.com/app.git", SSH),
        ("git+ssh://example.com/app.git", SSH),
        ("ssh+git://example.com/app.git", SSH),
        ("git@github.com:acme/app.git", SSH),
        ("http://example.com/app.git", "plain http is not allowed; use https://"),
        ("ftp://example.com/app.git", "only https:// URLs are allowed"),
        ("https://user:pass@example.com/app.git", CREDENTIALS),
        ("https://ghp_secret@example.com/app.git", CREDENTIALS),
        ("https://example.com:8443/app.git", "only the standard https port 443 is allowed"),
        ("https://example.com:x/app.git", "the port is not a number"),
        ("-uhttps://example.com/app.git", "it starts with '-'"),
        ("https://example.com/app.git --upload-pack=x", CHARACTERS),
        ("https://ex\u00e4mple.com/app.git", CHARACTERS),
        ("https://example.com/app.git?x=1", QUERY),
        ("https://example.com/app.git#main", QUERY),
        ("https://example.com/app.git?", QUERY),
        ("https://example.com/app.git#", QUERY),
        ("https://example.com/", "it names no repository path"),
        ("https://example.com", "it names no repository path"),
        ("https://example.com/a\\b.git", "backslashes are not allowed"),
        ("https:///app.git", "it has no host"),
        ("https://localhost/app.git", HOST),
        ("https://2130706433/app.git", HOST),
        ("https://example.com./app.git", HOST),
        ("https://-example.com/app.git", HOST),
        ("https://" + ".".join(["a" * 60] * 5) + "/app.git", HOST),  # over 253 characters
        ("https://" + ".".join(["a" * 63] * 3) + "." + "b" * 62 + "/app.git", HOST),  # 254
        ("https://git.example.123/app.git", HOST),  # an all-numeric last label
        ("https://" + "a" * 2100 + ".com/x", "it is longer than 2048 characters"),
        ("", "no URL given"),
    ],
)
def test_dangerous_urls_are_refused_before_any_lookup(url: str, reason: str) -> None:
    with pytest.raises(ScanError) as caught:
        resolve_remote(url, resolver=never)
    assert str(caught.value) == f"This repository URL cannot be scanned: {reason}."


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "192.168.1.10", "172.16.0.1", "169.254.169.254", "100.64.0.1",
     "0.0.0.0", "224.0.0.1", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "::ffff:127.0.0.1",
     "::ffff:8.8.8.8", "2002:7f00:1::1", "64:ff9b::7f00:1", "::", "fec0::1"],
)  # fmt: skip
def test_hosts_resolving_to_non_global_addresses_are_refused(address: str) -> None:
    assert address_problem(address) is not None
    with pytest.raises(ScanError) as caught:
        resolve_remote("https://git.example.com/app.git", resolver=lambda h, p: [address])
    assert "resolves to" in str(caught.value)


def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    with pytest.raises(ScanError):
        resolve_remote(
            "https://git.example.com/a.git", resolver=lambda h, p: ["140.82.121.4", "10.0.0.5"]
        )


def test_ip_literals_are_checked_without_resolving() -> None:
    with pytest.raises(ScanError, match="loopback"):
        resolve_remote("https://127.0.0.1/app.git", resolver=never)
    with pytest.raises(ScanError, match="loopback"):
        resolve_remote("https://[::1]/app.git", resolver=never)


def test_a_public_host_is_pinned_to_its_checked_addresses() -> None:
    target = resolve_remote(
        "https://GitHub.com:443/acme/app.git",
        resolver=lambda h, p: ["140.82.121.4", "2606:50c0::1", "140.82.121.4"],
    )
    assert target.url == "https://github.com/acme/app.git"
    assert target.addresses == ("140.82.121.4", "2606:50c0::1")
    assert target.curlopt_resolve() == "github.com:443:140.82.121.4,[2606:50c0::1]"


def test_resolution_failure_is_a_clear_error() -> None:
    def fails(host: str, port: int) -> Sequence[str]:
        raise OSError("no such host")

    with pytest.raises(ScanError, match="could not be resolved"):
        resolve_remote("https://nowhere.example/app.git", resolver=fails)


def test_the_private_address_escape_hatch_is_off_by_default() -> None:
    for function in (resolve_remote, scan_repository):
        parameter = inspect.signature(function).parameters["_allow_private_for_tests"]
        assert parameter.default is False
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
    target = resolve_remote(
        "https://git.test.example/app.git",
        resolver=lambda h, p: ["127.0.0.1"],
        _allow_private_for_tests=True,
    )
    assert target == RemoteTarget(
        "https://git.test.example/app.git", "git.test.example", 443, ("127.0.0.1",)
    )


def test_refused_urls_start_no_process(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_process(*args: object, **kwargs: object) -> None:
        raise AssertionError("no process may start for a refused URL")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    for url in ("file:///etc", "git@github.com:a/b.git", "https://a:b@example.com/x.git"):
        with pytest.raises(ScanError):
            scan_repository(source=url, kind="url", workdir=workdir, now=day(1), resolver=never)
    with pytest.raises(ScanError):
        scan_repository(
            source="https://internal.example/x.git", kind="url", workdir=workdir, now=day(1),
            resolver=lambda h, p: ["10.0.0.1"],
        )  # fmt: skip
    assert list(workdir.iterdir()) == []


def test_validate_normalises_only_what_is_safe() -> None:
    assert validate_remote_url("https://gitlab.example.com/group/sub/app") == (
        "https://gitlab.example.com/group/sub/app",
        "gitlab.example.com",
    )
    assert validate_remote_url("HTTPS://GitLab.Example.com:443/Group/App") == (
        "https://gitlab.example.com/Group/App",
        "gitlab.example.com",
    )
    assert validate_remote_url("https://[2606:50c0::1]/a/b.git") == (
        "https://[2606:50c0::1]/a/b.git",
        "2606:50c0::1",
    )
    assert validate_remote_url("https://example.com/a!b.git")[0] == "https://example.com/a!b.git"
    long_host = ".".join(["a" * 63] * 3) + "." + "b" * 61  # 253 characters: the most allowed
    assert validate_remote_url(f"https://{long_host}/x")[1] == long_host


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("::ffff:8.8.8.8", "an IPv4-mapped IPv6 address"),
        ("2002:7f00:1::1", "an IPv6 address embedding an IPv4 address"),
        ("64:ff9b::7f00:1", "an IPv6 address embedding an IPv4 address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1%eth0", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("10.1.2.3", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("10.0.0.1%eth0", "a private address"),
        ("100.64.0.1", "a carrier-grade NAT address"),
        ("4000::1", "a reserved or non-global address"),
        ("fec0::1", "a reserved or non-global address"),  # site-local: Python calls it global
        ("fec0::1%eth0", "a reserved or non-global address"),
        ("git.example.com", "not an IP address"),
        ("140.82.121.4", None),
        ("2606:50c0::1", None),
        ("2a00:1450:4001:80b::200e", None),
    ],
)
def test_each_refused_address_says_what_kind_it_is(address: str, problem: str | None) -> None:
    assert address_problem(address) == problem


def test_a_resolver_answer_that_is_not_an_address_is_refused() -> None:
    with pytest.raises(ScanError) as caught:
        resolve_remote("https://git.example.com/app.git", resolver=lambda h, p: ["garbage"])
    assert str(caught.value) == (
        "This repository URL cannot be scanned: the host git.example.com resolves to "
        "not an IP address (garbage)."
    )


def test_the_resolver_is_asked_once_for_the_https_port() -> None:
    asked: list[tuple[str, int]] = []

    def recording(host: str, port: int) -> Sequence[str]:
        asked.append((host, port))
        return ["140.82.121.4"]

    resolve_remote("https://Git.Example.com/app.git", resolver=recording)
    assert asked == [("git.example.com", 443)]


def test_the_system_resolver_answers_with_addresses() -> None:
    # No network needed: localhost is in /etc/hosts.
    assert "127.0.0.1" in system_resolver("localhost", 443)


def test_a_host_that_resolves_to_nothing_is_a_clear_error() -> None:
    with pytest.raises(ScanError) as caught:
        resolve_remote("https://empty.example/app.git", resolver=lambda h, p: [])
    assert str(caught.value) == "The host empty.example could not be resolved."
