"""A small GitHub REST client: injectable transport, Link pagination, rate limits, no token leaks.

The token lives in one private attribute and is only ever put in the Authorization header;
`repr()` hides it, error messages never include headers, and the default transport talks to
one host over https (no proxies from the environment, no redirects to other hosts).

Status handling (GitHub REST docs, "Rate limits" and "Troubleshooting"):
- 401: ScanError("GitHub rejected the token.");
- 403/429 with `x-ratelimit-remaining: 0` (reset at `x-ratelimit-reset`), or `retry-after`,
  or a secondary-limit message: wait with the injected `sleep` when the wait is at most
  `max_wait_seconds`, otherwise raise RateLimited (the scan then stops with a partial result);
- other 403 and 404: NotAvailable (the endpoint's findings become "could not determine");
- 5xx: retried twice, then NotAvailable.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from assessments.scans.engine.model import ScanError

GITHUB_API = "https://api.github.com"
API_VERSION = "2022-11-28"
MAX_RESPONSE_BYTES = 20 * 1024 * 1024
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]  # names lower-cased
    body: bytes


# (url, request headers) -> response. GET only. Tests inject a fake serving fixtures.
Transport = Callable[[str, Mapping[str, str]], HttpResponse]


class RateLimited(Exception):
    def __init__(self, wait_seconds: float) -> None:
        super().__init__(f"rate limited for {wait_seconds:.0f} s")
        self.wait_seconds = wait_seconds


class NotAvailable(Exception):
    """The endpoint answered 403/404/5xx: the token cannot see it, or it does not exist."""

    def __init__(self, status: int, url: str, message: str) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.url = url
        self.message = message


class HttpsTransport:
    """GET over https with the standard library, to the API host only."""

    def __init__(self, *, base_url: str = GITHUB_API, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError("the GitHub API URL must be https")
        self.host = parts.hostname
        self.port = parts.port or 443
        self.timeout = timeout

    def __call__(self, url: str, headers: Mapping[str, str]) -> HttpResponse:
        for _hop in range(4):
            parts = urlsplit(url)
            if parts.scheme != "https" or parts.hostname != self.host:
                raise OSError("refusing to leave the GitHub API host")
            connection = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout)
            try:
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                connection.request("GET", path, headers=dict(headers))
                response = connection.getresponse()
                body = response.read(MAX_RESPONSE_BYTES + 1)
                if len(body) > MAX_RESPONSE_BYTES:
                    raise OSError("response too large")
                names = {k.lower(): v for k, v in response.getheaders()}
            finally:
                connection.close()
            if response.status in (301, 302, 307, 308) and "location" in names:
                url = names["location"]
                continue
            return HttpResponse(response.status, names, body)
        raise OSError("too many redirects")


class GitHubClient:
    """GitHub REST calls for one token. `repr()` never shows the token."""

    def __init__(
        self,
        *,
        token: str,
        transport: Transport | None = None,
        base_url: str = GITHUB_API,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
        max_retries: int = 3,
    ) -> None:
        if not token or any(c in token for c in "\r\n"):
            raise ScanError("A GitHub token is required.")
        self.__token = token
        self.base_url = base_url.rstrip("/")
        self.transport: Transport = transport or HttpsTransport(base_url=self.base_url)
        self.sleep = sleep
        self.max_wait_seconds = max_wait_seconds
        self.clock = clock
        self.max_retries = max_retries
        self.requests = 0
        self.waited_seconds = 0.0

    def __repr__(self) -> str:
        return f"GitHubClient(base_url={self.base_url!r}, token=<hidden>)"

    def redact(self, text: str) -> str:
        return text.replace(self.__token, "***")

    def url(self, path: str, params: Mapping[str, str | int] | None = None) -> str:
        url = path if path.startswith(self.base_url + "/") else self.base_url + path
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        return url

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.__token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "opready-scan",
        }

    def get(
        self, path: str, params: Mapping[str, str | int] | None = None
    ) -> tuple[Any, HttpResponse]:
        """The decoded JSON of one GET and its response (headers for pagination)."""
        url = self.url(path, params)
        if not url.startswith(self.base_url + "/"):
            raise NotAvailable(0, url, "not a GitHub API URL")
        for attempt in range(self.max_retries + 1):
            try:
                response = self.transport(url, self._headers())
            except (OSError, http.client.HTTPException):
                if attempt < 2:
                    self.sleep(1.0 + attempt)
                    continue
                raise NotAvailable(0, url, "GitHub could not be reached") from None
            self.requests += 1
            status = response.status
            if 200 <= status < 300:
                try:
                    return json.loads(response.body or b"null"), response
                except ValueError:
                    raise NotAvailable(status, url, "GitHub returned invalid JSON") from None
            if status == 401:
                raise ScanError("GitHub rejected the token.")
            if status in (403, 429) and _is_rate_limited(response):
                wait = self._wait(response)
                if wait <= self.max_wait_seconds and attempt < self.max_retries:
                    self.sleep(wait)
                    self.waited_seconds += wait
                    continue
                raise RateLimited(wait)
            message = _message(response)
            if status >= 500 and attempt < 2:
                self.sleep(1.0 + attempt)
                continue
            raise NotAvailable(status, url, message)
        raise NotAvailable(0, url, "too many retries")

    def _wait(self, response: HttpResponse) -> float:
        headers = response.headers
        retry_after = headers.get("retry-after", "").strip()
        if retry_after.isdigit():
            return float(retry_after)
        reset = headers.get("x-ratelimit-reset", "").strip()
        if reset.isdigit():
            server_now = self.clock()
            if headers.get("date"):
                # GitHub's own clock: the reset time is in its terms, not ours.
                with suppress(TypeError, ValueError):
                    server_now = email.utils.parsedate_to_datetime(headers["date"]).timestamp()
            return max(0.0, float(reset) - server_now) + 1.0
        return 60.0  # a secondary limit without headers: GitHub asks for at least a minute

    def pages(
        self,
        path: str,
        params: Mapping[str, str | int] | None = None,
        *,
        max_pages: int = 10,
        key: str | None = None,
    ) -> Iterator[list[Any]]:
        """Each page's items, following `Link: rel="next"` (at most `max_pages`)."""
        url: str | None = self.url(path, params)
        for _page in range(max_pages):
            assert url is not None
            data, response = self.get(url)
            items = data.get(key, []) if key and isinstance(data, dict) else data
            yield items if isinstance(items, list) else []
            url = next_link(response.headers.get("link", ""))
            if url is None:
                return


def next_link(header: str) -> str | None:
    match = _LINK_NEXT.search(header)
    return match.group(1) if match else None


def _is_rate_limited(response: HttpResponse) -> bool:
    if response.status == 429:
        return True
    headers = response.headers
    if headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers:
        return True
    return "rate limit" in _message(response).lower()


def _message(response: HttpResponse) -> str:
    try:
        data = json.loads(response.body)
    except ValueError:
        return ""
    message = data.get("message") if isinstance(data, dict) else None
    return message[:300] if isinstance(message, str) else ""
