"""Load on a production-like web tier: gunicorn (3 workers, config/gunicorn.conf.py, DEBUG=0)
on PostgreSQL, driven from this machine's loopback only, with bounded loops that stop by
themselves.

Usage: .venv/bin/python benchmarks/load.py --database-url postgres://.../opready_bench [--quick]

Phase 1 (5 minutes; --quick: 60 s), all at once:
- 100 respondents autosaving one answer every 2 to 5 s (each its own session);
- 5 respondents with two tabs open, both tabs writing the same question at the same moment;
- 5 leaders reloading the results page every 1 to 3 s.
Phase 2 (ceiling, 15 s each, the same clients and server): 16 closed-loop clients hitting the
autosave endpoint, then the same 16 hitting /healthz (a trivial Django view with the same
middleware), then /bench/write (the same stack and one committed single-row UPDATE, nothing
else: benchmarks/floor_urls.py, served only by this benchmark's gunicorn);
ratio_vs_django = autosave requests per second / trivial ones, and write_floor_vs_django =
bare writes per second / trivial ones: the most any view that must commit a write can reach.

Then the database is checked: every answer a respondent saved is there once (no answer lost or
doubled), holding the value of the newest write (highest sequence number) its tabs sent.

Prints throughput and p50/p95/p99 per endpoint and ends with
`RESULT lost=... doubled=... error_ratio=... p95_ms=... ratio_vs_django=...` (p95 of autosave
in phase 1). The database named in --database-url is created from scratch (its name must
contain "bench"); it is dropped at the end unless --keep.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class Session:
    """One browser: a keep-alive connection, its cookies and CSRF token."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(
        self, method: str, path: str, body: dict[str, str] | None = None
    ) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
            headers["HX-Request"] = "true"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode(errors="replace")
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, text


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)

    def timed(self, name: str, call: Any, ok: tuple[int, ...] = (200,)) -> tuple[int, str]:
        started = time.perf_counter()
        try:
            status, text = call()
        except Exception:
            status, text = 599, ""
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.times[name].append(elapsed)
            if status not in ok:
                self.errors[name] += 1
        return status, text


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _setup(n_people: int) -> tuple[str, str, list[tuple[str, str, str]]]:
    """An organisation, its leader, an assessment and personal links (respondent, token, qid)."""
    from django.contrib.auth import get_user_model

    from assessments import services
    from assessments.models import Membership, Organisation
    from scoring.rubric import DEFAULT_RUBRIC

    password = secrets.token_urlsafe(16)
    leader = get_user_model().objects.create_user("leader", "leader@example.com", password)
    org = Organisation.objects.create(name="Load test")
    Membership.objects.create(user=leader, organisation=org, role="owner")
    assessment = services.assessment_create(
        organisation=org, title="Load", created_by=leader,
        rubric_id=DEFAULT_RUBRIC[0], rubric_version=DEFAULT_RUBRIC[1],
    )  # fmt: skip
    questions = [q.id for q in assessment.rubric.questions_for("engineering")]
    people = []
    for i in range(n_people):
        issued = services.invitation_create_personal(
            assessment=assessment, role="engineering", name=f"P{i}"
        )
        respondent = issued.invitation.respondents.get()
        people.append((str(respondent.pk), issued.token, questions[i % len(questions)]))
    # Some submitted answers, so the results page has something to compute.
    for rid, _token, qid in people[:10]:
        from assessments.models import Respondent

        r = Respondent.objects.get(pk=rid)
        services.answer_save(respondent=r, question_id=qid, value="3", comment="", seq=1)
        services.respondent_submit(respondent=r)
    return str(assessment.pk), password, people[10:]


def _open(port: int, token: str, rid: str) -> Session:
    s = Session(port)
    s.request("GET", f"/i/{token}/")
    s.request("GET", f"/r/{rid}/")  # sets the CSRF cookie (the page has a form)
    return s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    url = urlsplit(args.database_url)
    if not url.scheme.startswith("postgres") or "bench" not in url.path:
        sys.exit("Give --database-url postgres://.../<name containing 'bench'> (it is recreated).")
    duration = 60 if args.quick else 300
    ceiling_seconds = 15
    workdir = Path(tempfile.mkdtemp(prefix="opready-load-"))
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "SECURE_HSTS_SECONDS": "0",
        "OPREADY_VAR_DIR": str(workdir),
        "STATIC_ROOT": str(workdir / "static"),
        "CELERY_BROKER_URL": "filesystem://",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # Many sessions from one address: the benchmark is not an attack.
        "OPEN_LINK_JOINS_PER_ADDRESS": "100000",
        "TOKEN_RATE_LIMIT_PER_MINUTE": "100000",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    name = url.path.lstrip("/")
    admin = subprocess.run(
        ["psql", args.database_url.replace(url.path, "/postgres"), "-q",
         "-c", f'DROP DATABASE IF EXISTS "{name}"', "-c", f'CREATE DATABASE "{name}"'],
        capture_output=True, text=True,
    )  # fmt: skip
    if admin.returncode:
        sys.exit(admin.stderr)
    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    assessment_id, password, people = _setup(10 + 100 + 5 + 16)
    from assessments.models import WorkerHeartbeat  # the row /bench/write updates

    WorkerHeartbeat.objects.create(name="load-benchmark", queue="load-benchmark")
    connection.close()

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py",
         "--workers", "3", "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null",
         "config.wsgi"],
        cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "benchmarks.floor_settings"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(300):
            try:
                if Session(port).request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        result = _run(port, assessment_id, password, people, duration, ceiling_seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    lost, doubled, wrong = _check(result["expected"])
    stats: Stats = result["stats"]
    print(
        f"{'endpoint':22} {'requests':>9} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} errors"
    )
    for endpoint, times in sorted(stats.times.items()):
        seconds = ceiling_seconds if endpoint.startswith("ceiling") else duration
        print(
            f"{endpoint:22} {len(times):9} {len(times) / seconds:7.1f} {_pct(times, 0.5):8.1f} "
            f"{_pct(times, 0.95):8.1f} {_pct(times, 0.99):8.1f} {stats.errors[endpoint]}"
        )
    total = sum(len(t) for t in stats.times.values())
    errors = sum(stats.errors.values())
    autosave_rps = len(stats.times["ceiling autosave"]) / ceiling_seconds
    django_rps = len(stats.times["ceiling healthz"]) / ceiling_seconds
    write_rps = len(stats.times["ceiling bare write"]) / ceiling_seconds
    print(f"answers checked: {len(result['expected'])}; newest write lost to an older one: {wrong}")
    print(
        f"RESULT lost={lost} doubled={doubled} stale_wins={wrong} "
        f"error_ratio={errors / max(total, 1):.4f} "
        f"p95_ms={_pct(stats.times['autosave'], 0.95):.1f} "
        f"autosave_rps={autosave_rps:.1f} django_rps={django_rps:.1f} "
        f"ratio_vs_django={autosave_rps / max(django_rps, 0.001):.2f} "
        f"write_rps={write_rps:.1f} write_floor_vs_django={write_rps / max(django_rps, 0.001):.2f} "
        f"load={os.getloadavg()[0]:.1f}"
    )
    if not args.keep:
        subprocess.run(
            ["psql", args.database_url.replace(url.path, "/postgres"), "-qc",
             f'DROP DATABASE IF EXISTS "{name}";'],
            capture_output=True,
        )  # fmt: skip


def _run(
    port: int, assessment_id: str, password: str, people: list[tuple[str, str, str]],
    duration: int, ceiling_seconds: int,
) -> dict[str, Any]:  # fmt: skip
    stats = Stats()
    expected: dict[tuple[str, str], tuple[int, str]] = {}
    expected_lock = threading.Lock()
    seq_lock = threading.Lock()
    seq_counter = [time.time_ns() // 1_000_000]

    def next_seq() -> int:
        with seq_lock:
            seq_counter[0] += 1
            return seq_counter[0]

    def save(s: Session, rid: str, qid: str, value: str, name: str = "autosave") -> None:
        seq = next_seq()
        status, _ = stats.timed(
            name,
            lambda: s.request(
                "POST", f"/r/{rid}/answer/",
                {"question": qid, f"q-{qid}": value, f"c-{qid}": "", "seq": str(seq)},
            ),
        )  # fmt: skip
        if status == 200:
            with expected_lock:
                if seq > expected.get((rid, qid), (0, ""))[0]:
                    expected[(rid, qid)] = (seq, value)

    deadline = time.monotonic() + duration
    respondents, two_tab, ceiling = people[:100], people[100:105], people[105:121]

    def respondent(rid: str, token: str, qid: str) -> None:
        s = _open(port, token, rid)
        while time.monotonic() < deadline:
            time.sleep(random.uniform(2, 5))
            save(s, rid, qid, str(random.randint(1, 5)))

    def tabs(rid: str, token: str, qid: str) -> None:
        first = _open(port, token, rid)
        second = Session(port)
        second.cookies = dict(first.cookies)
        while time.monotonic() < deadline:
            time.sleep(random.uniform(1, 3))
            barrier = threading.Barrier(2)

            def tab(s: Session, value: str, barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                save(s, rid, qid, value, "autosave (two tabs)")

            pair = [
                threading.Thread(target=tab, args=(s, v)) for s, v in ((first, "2"), (second, "4"))
            ]
            for t in pair:
                t.start()
            for t in pair:
                t.join()

    def leader() -> None:
        s = Session(port)
        s.request("GET", "/login/")
        s.request("POST", "/login/", {"username": "leader", "password": password})
        while time.monotonic() < deadline:
            time.sleep(random.uniform(1, 3))
            stats.timed(
                "results page", lambda: s.request("GET", f"/assessments/{assessment_id}/results/")
            )

    threads = [threading.Thread(target=respondent, args=p) for p in respondents]
    threads += [threading.Thread(target=tabs, args=p) for p in two_tab]
    threads += [threading.Thread(target=leader) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    sessions = [(_open(port, token, rid), rid, qid) for rid, token, qid in ceiling]

    def hammer(kind: str, s: Session, rid: str, qid: str, until: float) -> None:
        while time.monotonic() < until:
            if kind == "autosave":
                save(s, rid, qid, str(random.randint(1, 5)), "ceiling autosave")
            elif kind == "write":
                stats.timed("ceiling bare write", lambda: s.request("POST", "/bench/write"))
            else:
                stats.timed("ceiling healthz", lambda: s.request("GET", "/healthz"))

    for kind in ("autosave", "healthz", "write"):
        until = time.monotonic() + ceiling_seconds
        workers = [
            threading.Thread(target=hammer, args=(kind, s, r, q, until)) for s, r, q in sessions
        ]
        for t in workers:
            t.start()
        for t in workers:
            t.join()
    return {"stats": stats, "expected": expected}


def _check(expected: dict[tuple[str, str], tuple[int, str]]) -> tuple[int, int, int]:
    """Answers lost (saved with 200 but missing), doubled (two rows for one question) and
    stale wins (the stored value is not the newest write's)."""
    from django.db.models import Count

    from assessments.models import Answer

    rows = {(str(a.respondent_id), a.question_id): a for a in Answer.objects.all()}
    doubled = (
        Answer.objects.values("respondent_id", "question_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    lost = sum(1 for key in expected if key not in rows)
    wrong = sum(
        1 for key, (seq, value) in expected.items()
        if key in rows and (rows[key].seq != seq or rows[key].form_value != value)
    )  # fmt: skip
    return lost, doubled, wrong


if __name__ == "__main__":
    main()
