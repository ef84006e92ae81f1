"""A workshop of 200 phones against a real gunicorn, on loopback.

Usage: DATABASE_URL=postgres://... [CACHE_URL=redis://...] .venv/bin/python benchmarks/workshop.py
       [--participants 200] [--window 30] [--workers 3] [--threads 4]

What it does, in one run:
- migrates the database, creates a facilitator, an organisation and a workshop (removed again
  at the end), and starts gunicorn with production settings (DEBUG=0) on a free port;
- joins N participants through the join page (GET, then POST role and name), each then polling
  its participant page every 2 s as the browser does (htmx, `?v=<phase>`: 204 until it moves);
- logs the facilitator in; the console and two big screens poll every second;
- opens a capability; every participant votes at a random moment within the window, 15 %
  change their vote (a second POST), 10 % reload the page first and vote again with the same
  value; then the facilitator reveals the votes;
- prints p50/p95/p99 latency per endpoint, the errors, and the votes in the database against
  the votes sent (lost: a participant's last vote missing or different; doubled: more than one
  row for one participant), ending with
  `RESULT voters=... errors=... lost=... doubled=... p95_ms=...` (p95 over every request).

Target (issue 9): 200 voters within 30 s, zero errors, zero lost or doubled votes, p95 < 300 ms
on one 2-core machine with gunicorn and PostgreSQL. Without DATABASE_URL it runs on a
throwaway SQLite file and says so (not the target set-up).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "bench-" + uuid.uuid4().hex
OK = {200, 204, 286, 302}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stats:
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: list[str] = field(default_factory=list)

    def record(self, name: str, seconds: float, status: int, expected: set[int]) -> None:
        self.latency[name].append(seconds * 1000)
        if status not in expected:
            self.errors[name] += 1
            if len(self.examples) < 5:
                self.examples.append(f"{name}: HTTP {status}")


class Browser:
    """A minimal HTTP/1.1 client: one connection per request, cookies, CSRF header."""

    def __init__(self, port: int, stats: Stats) -> None:
        self.port = port
        self.stats = stats
        self.cookies: dict[str, str] = {}

    async def request(
        self,
        name: str,
        method: str,
        path: str,
        data: dict[str, str] | None = None,
        *,
        htmx: bool = False,
        expected: set[int] = OK,  # noqa: B006 - read only
    ) -> tuple[int, dict[str, str], str]:
        body = urlencode(data).encode() if data is not None else b""
        headers = [
            f"{method} {path} HTTP/1.1",
            f"Host: 127.0.0.1:{self.port}",
            "Connection: close",
            "User-Agent: opready-bench",
        ]
        if self.cookies:
            headers.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if htmx:
            headers.append("HX-Request: true")
        if method == "POST":
            headers.append("Content-Type: application/x-www-form-urlencoded")
            headers.append(f"Content-Length: {len(body)}")
            if "csrftoken" in self.cookies:
                headers.append(f"X-CSRFToken: {self.cookies['csrftoken']}")
        start = time.perf_counter()
        status = 0
        response_headers: dict[str, str] = {}
        text = ""
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            writer.write(("\r\n".join(headers) + "\r\n\r\n").encode() + body)
            await writer.drain()
            raw = await reader.read()
            writer.close()
            head, _, payload = raw.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            for line in lines[1:]:
                key, _, value = line.partition(":")
                response_headers[key.strip().lower()] = value.strip()
                if key.lower() == "set-cookie":
                    cookie = value.strip().split(";", 1)[0]
                    ckey, _, cvalue = cookie.partition("=")
                    self.cookies[ckey] = cvalue
            text = payload.decode("utf-8", "replace")
        except (OSError, ValueError, IndexError) as exc:
            if len(self.stats.examples) < 5:
                self.stats.examples.append(f"{name}: {exc!r}")
        self.stats.record(name, time.perf_counter() - start, status, expected)
        return status, response_headers, text


PHASE = re.compile(r'data-phase="(\d+)"')
POLL_URL = re.compile(r'hx-get="(/w/p/[^"]+)"')
VERSION = re.compile(r'data-version="(\d+)"')
HIDDEN = re.compile(r'name="(capability|round)" value="([^"]*)"')


@dataclass
class Phone:
    browser: Browser
    participant: str = ""
    phase: str = "0"
    poll_url: str = ""
    voting: dict[str, str] = field(default_factory=dict)
    sent: str = ""  # the last value this phone sent, which the database must hold


async def join(phone: Phone, code: str, index: int) -> None:
    await phone.browser.request("join_page", "GET", f"/w/{code}/")
    role = ["engineering", "engineering", "operations", "leadership", "product"][index % 5]
    status, headers, _ = await phone.browser.request(
        "join_post",
        "POST",
        f"/w/{code}/",
        {"role": role, "display_name": f"P{index}"},
        expected={302},
    )
    if status == 302:
        phone.participant = headers["location"].rstrip("/").split("/")[-1]
        # The browser follows the redirect to the participant page.
        _status, _, text = await phone.browser.request(
            "participant_page", "GET", f"/w/p/{phone.participant}/"
        )
        _read(phone, text)


def _read(phone: Phone, text: str) -> None:
    found = PHASE.search(text)
    if found:
        phone.phase = found.group(1)
    poll = POLL_URL.search(text)
    if poll:  # the URL the page polls, exactly as htmx would request it
        phone.poll_url = poll.group(1).replace("&amp;", "&")
    phone.voting = dict(HIDDEN.findall(text))


async def poll_phone(phone: Phone, stop: asyncio.Event) -> None:
    await asyncio.sleep(random.uniform(0, 2))
    while not stop.is_set():
        status, _, text = await phone.browser.request(
            "participant_poll", "GET", phone.poll_url, htmx=True
        )
        if status == 200:
            _read(phone, text)
        await asyncio.sleep(2)


async def vote(phone: Phone, window: float) -> None:
    await asyncio.sleep(random.uniform(0.5, window - 3))
    # Whatever the phone's last poll said, it must know the open capability: wait for it.
    while not phone.voting:
        await asyncio.sleep(0.2)
    value = random.choice(["1", "2", "3", "4", "5", "dk"])
    roll = random.random()
    if roll < 0.10:  # a reload before voting: the full page again, then the vote
        _status, _, text = await phone.browser.request(
            "participant_page", "GET", f"/w/p/{phone.participant}/"
        )
        _read(phone, text)
    await phone.browser.request(
        "vote",
        "POST",
        f"/w/p/{phone.participant}/vote/",
        {**phone.voting, "value": value},
        htmx=True,
    )
    phone.sent = value
    if roll < 0.10:  # ... and the same vote once more, as a resend after a dropped connection
        await phone.browser.request(
            "vote",
            "POST",
            f"/w/p/{phone.participant}/vote/",
            {**phone.voting, "value": value},
            htmx=True,
        )
    elif roll < 0.25:  # a change of mind: the second vote replaces the first
        await asyncio.sleep(random.uniform(0.2, 2))
        value = random.choice([v for v in ["1", "2", "3", "4", "5", "dk"] if v != value])
        await phone.browser.request(
            "vote",
            "POST",
            f"/w/p/{phone.participant}/vote/",
            {**phone.voting, "value": value},
            htmx=True,
        )
        phone.sent = value


async def poll_view(browser: Browser, name: str, path: str, stop: asyncio.Event) -> None:
    version = "0"
    while not stop.is_set():
        status, _, text = await browser.request(name, "GET", f"{path}?v={version}", htmx=True)
        if status == 200:
            found = VERSION.search(text)
            version = found.group(1) if found else version
        await asyncio.sleep(1)


async def warm_up(port: int, threads: int) -> None:
    """Let every gunicorn worker import and connect before anything is measured."""
    idle = Browser(port, Stats())
    for _round in range(3):
        await asyncio.gather(*(idle.request("warm", "GET", "/w/") for _ in range(threads * 4)))


async def run(port: int, code: str, console: str, participants: int, window: float) -> Stats:
    stats = Stats()
    facilitator = Browser(port, stats)
    await facilitator.request("login_page", "GET", "/login/")
    status, _, _ = await facilitator.request(
        "login",
        "POST",
        "/login/",
        {"username": "bench-facilitator", "password": PASSWORD},
        expected={302},
    )
    assert status == 302, "the facilitator could not log in"
    screens = [Browser(port, stats), Browser(port, stats)]
    for screen in screens:
        screen.cookies = dict(facilitator.cookies)

    phones = [Phone(Browser(port, stats)) for _ in range(participants)]
    joined_at = time.perf_counter()
    # People arrive over about ten seconds, not all in the same millisecond.
    await asyncio.gather(*(_join_later(p, code, i, participants) for i, p in enumerate(phones)))
    join_seconds = time.perf_counter() - joined_at
    stop = asyncio.Event()
    pollers = [asyncio.create_task(poll_phone(p, stop)) for p in phones if p.participant]
    pollers.append(asyncio.create_task(poll_view(facilitator, "console_poll", console, stop)))
    for screen in screens:
        pollers.append(
            asyncio.create_task(poll_view(screen, "screen_poll", console + "screen/", stop))
        )
    await asyncio.sleep(2)
    await facilitator.request(
        "action", "POST", console + "action/", {"action": "next"}, expected={302}
    )
    open_at = time.perf_counter()
    await asyncio.gather(*(vote(p, window) for p in phones if p.participant))
    vote_seconds = time.perf_counter() - open_at
    await facilitator.request(
        "action", "POST", console + "action/", {"action": "reveal"}, expected={302}
    )
    await asyncio.sleep(3)
    stop.set()
    await asyncio.gather(*pollers)
    stats.examples.append(
        f"joins took {join_seconds:.1f} s; all votes sent {vote_seconds:.1f} s after opening"
    )
    run.phones = phones  # type: ignore[attr-defined]
    return stats


async def _join_later(phone: Phone, code: str, index: int, total: int) -> None:
    await asyncio.sleep(10 * index / total)
    await join(phone, code, index)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of processes (Linux /proc), to price a request in CPU."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def server_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    found = [int(p) for p in children.read_text().split()] if children.exists() else []
    return [master, *found]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    random.seed(9)
    workdir = tempfile.mkdtemp(prefix="opready-bench-workshop-")
    database = os.environ.get("DATABASE_URL", "")
    if not database:
        print("DATABASE_URL not set: a throwaway SQLite file (the target is PostgreSQL)")
    env = {
        **os.environ,
        "OPREADY_VAR_DIR": workdir,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": uuid.uuid4().hex * 2,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from assessments import services as assessments
    from assessments.models import Membership, Organisation
    from assessments.workshops import services
    from assessments.workshops.models import Vote
    from scoring.rubric import DEFAULT_RUBRIC

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG=0 serves the manifest
    user_model = get_user_model()
    user_model.objects.filter(username="bench-facilitator").delete()
    user = user_model.objects.create_user("bench-facilitator", password=PASSWORD)
    org = Organisation.objects.create(name=f"Benchmark {uuid.uuid4().hex[:6]}")
    Membership.objects.create(user=user, organisation=org, role=Membership.Role.FACILITATOR)
    assessment = assessments.assessment_create(
        organisation=org,
        title="Workshop benchmark",
        created_by=user,
        rubric_id=DEFAULT_RUBRIC[0],
        rubric_version=DEFAULT_RUBRIC[1],
    )
    workshop = services.workshop_create(
        assessment=assessment, title="Benchmark room", minutes_per_capability=5, created_by=user
    )
    console = f"/assessments/{assessment.pk}/workshops/{workshop.pk}/"
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(args.threads),
            "--backlog",
            "2048",
            "--preload",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        asyncio.run(warm_up(port, args.threads))
        pids = server_pids(server.pid)
        server_before, client_before = cpu_seconds(pids), time.process_time()
        wall_before = time.perf_counter()
        stats = asyncio.run(run(port, workshop.code, console, args.participants, args.window))
        wall = time.perf_counter() - wall_before
        server_cpu = cpu_seconds(pids) - server_before
        client_cpu = time.process_time() - client_before
        phones = run.phones  # type: ignore[attr-defined]
        workshop.refresh_from_db()
        item = workshop.current_item
        rows = list(Vote.objects.filter(item=item).values_list("participant_id", "choice", "level"))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    by_participant: dict[str, list[str]] = defaultdict(list)
    for pid, choice, level in rows:
        by_participant[str(pid)].append(str(level) if choice == "level" else "dk")
    voters = [p for p in phones if p.participant and p.sent]
    lost = sum(1 for p in voters if by_participant.get(p.participant, [None])[-1] != p.sent)
    doubled = sum(len(v) - 1 for v in by_participant.values() if len(v) > 1)
    all_latencies = [v for values in stats.latency.values() for v in values]
    print(
        f"{'endpoint':<18} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}"
    )
    for name in sorted(stats.latency):
        values = stats.latency[name]
        print(
            f"{name:<18} {len(values):>8} {statistics.median(values):>8.1f} "
            f"{percentile(values, 0.95):>8.1f} {percentile(values, 0.99):>8.1f} "
            f"{stats.errors.get(name, 0):>7}"
        )
    for line in stats.examples:
        print(" ", line)
    errors = sum(stats.errors.values())
    print(
        f"joined {sum(1 for p in phones if p.participant)} of {len(phones)}; votes sent by "
        f"{len(voters)} people; rows in the database {len(rows)}"
    )
    print(
        f"database: {'PostgreSQL' if database.startswith('postgres') else 'SQLite'}; "
        f"gunicorn {args.workers} workers x {args.threads} threads"
    )
    requests = len(all_latencies)
    load = os.getloadavg()[0]
    print(
        f"{requests} requests in {wall:.1f} s; gunicorn CPU {server_cpu:.1f} s "
        f"({1000 * server_cpu / max(1, requests):.2f} ms a request), load generator CPU "
        f"{client_cpu:.1f} s; machine load average {load:.1f} on {os.cpu_count()} cores"
    )
    print(
        "A p95 far above the CPU a request costs means requests queued for a busy CPU: "
        "compare the load average with the core count."
    )
    org.delete()
    user.delete()
    print(
        f"RESULT voters={len(voters)} errors={errors} lost={lost} doubled={doubled} "
        f"p95_ms={percentile(all_latencies, 0.95):.0f} "
        f"vote_p95_ms={percentile(stats.latency['vote'], 0.95):.0f} "
        f"server_cpu_ms_per_request={1000 * server_cpu / max(1, requests):.2f} load={load:.1f}"
    )


if __name__ == "__main__":
    main()
