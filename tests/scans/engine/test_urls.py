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
    validate_remote_url,
)
from tests.scans.engine.gitbuild import day


def public(host: str, port: int) -> Sequence[str]:
    return ["140.82.121.4"]


def never(host: str, port: int) -> Sequence[str]:
    raise AssertionError("a refused URL must not be resolved")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "local files"),
        ("/srv/repos/app", "local files"),
        ("./app", "local files"),
        ("ext::sh -c touch% /tmp/pwned", "ext::"),
        ("ext::git-upload-pack", "ext::"),
        ("git://example.com/app.git", "git:// protocol"),
        ("ssh://git@example.com/app.git", "ssh and scp-style"),
        ("git@github.com:acme/app.git", "ssh and scp-style"),
        ("http://example.com/app.git", "plain http"),
        ("https://user:pass@example.com/app.git", "credentials"),
        ("https://ghp_secret@example.com/app.git", "credentials"),
        ("https://example.com:8443/app.git", "port 443"),
        ("https://example.com:x/app.git", "not a number"),
        ("-uhttps://example.com/app.git", "starts with '-'"),
        ("https://example.com/app.git --upload-pack=x", "spaces"),
        ("https://example.com/app.git?x=1", "query"),
        ("https://example.com/", "no repository path"),
        ("https://localhost/app.git", "not valid"),
        ("https://2130706433/app.git", "not valid"),
        ("https://" + "a" * 2100 + ".com/x", "longer than"),
    ],
)
def test_dangerous_urls_are_refused_before_any_lookup(url: str, reason: str) -> None:
    with pytest.raises(ScanError) as caught:
        resolve_remote(url, resolver=never)
    assert reason in str(caught.value)
    assert "pass" not in str(caught.value) and "ghp_secret" not in str(caught.value)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "192.168.1.10", "172.16.0.1", "169.254.169.254", "100.64.0.1",
     "0.0.0.0", "224.0.0.1", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "::ffff:127.0.0.1",
     "::ffff:8.8.8.8", "2002:7f00:1::1", "64:ff9b::7f00:1", "::"],
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
