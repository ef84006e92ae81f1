"""How far below a trivial view any committed write sits: the floor under load.py's
`ratio_vs_django`.

load.py's ceiling compares autosave's throughput with /healthz, a Django view that touches no
database. Autosave must make one committed, locked write (the integrity rules: the row lock
that keeps answers out of a submitted survey, newest write wins). This measures, in one
process on one database connection, paired (A B C A B C ...), seven rounds of 200 calls each,
medians:

- `/healthz` through Django's whole middleware stack (the test client; no network);
- a bare committed write: BEGIN, one single-row UPDATE through the ORM, COMMIT; no request,
  no middleware, no template;
- one autosave request through the same stack.

`bare_write_rate_vs_healthz` is the highest `ratio_vs_django` that any view making a committed
write could reach on this machine and database, before doing anything else.

Usage: .venv/bin/python benchmarks/write_floor.py --database-url postgres://.../<name with "bench">
Ends `RESULT healthz_ms=... bare_write_ms=... autosave_ms=... bare_write_rate_vs_healthz=...
autosave_rate_vs_healthz=... autosave_vs_bare_write=...`. The database is created from scratch
and dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROUNDS, CALLS = 7, 200


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    args = parser.parse_args()
    url = urlsplit(args.database_url)
    if not url.scheme.startswith("postgres") or "bench" not in url.path:
        sys.exit("Give --database-url postgres://.../<name containing 'bench'> (it is recreated).")
    name = url.path.lstrip("/")
    admin_url = args.database_url.replace(url.path, "/postgres")
    workdir = Path(tempfile.mkdtemp(prefix="opready-floor-"))
    os.environ.update(
        {
            "DATABASE_URL": args.database_url,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_COOKIES": "0",
            "SECURE_HSTS_SECONDS": "0",
            "OPREADY_VAR_DIR": str(workdir),
            "STATIC_ROOT": str(workdir / "static"),
            "CELERY_BROKER_URL": "filesystem://",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "TOKEN_RATE_LIMIT_PER_MINUTE": "100000",
        }
    )
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    subprocess.run(
        ["psql", admin_url, "-q", "-c", f'DROP DATABASE IF EXISTS "{name}"',
         "-c", f'CREATE DATABASE "{name}"'],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        print(_measure())
    finally:
        from django.db import connections

        connections.close_all()
        subprocess.run(
            ["psql", admin_url, "-qc", f'DROP DATABASE IF EXISTS "{name}"'], capture_output=True
        )


def _measure() -> str:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.test import Client
    from django.utils import timezone

    from assessments.models import Respondent
    from benchmarks.load import _setup

    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    _assessment_id, _password, people = _setup(11)
    rid, token, qid = people[0]
    client = Client()
    client.get(f"/i/{token}/")
    client.get(f"/r/{rid}/")
    seq = [0]

    def healthz() -> None:
        assert client.get("/healthz").status_code == 200

    def bare_write() -> None:
        with transaction.atomic():
            Respondent.objects.filter(pk=rid).update(last_answer_at=timezone.now())

    def autosave() -> None:
        seq[0] += 1
        value = str(seq[0] % 5 + 1)
        form = {"question": qid, f"q-{qid}": value, f"c-{qid}": "", "seq": str(seq[0])}
        assert client.post(f"/r/{rid}/answer/", form).status_code == 200

    calls: dict[str, Callable[[], None]] = {
        "healthz": healthz,
        "bare_write": bare_write,
        "autosave": autosave,
    }
    for call in calls.values():
        call()  # warm: connection, templates, prepared code paths
    times: dict[str, list[float]] = {key: [] for key in calls}
    for _round in range(ROUNDS):
        for key, call in calls.items():
            started = time.perf_counter()
            for _ in range(CALLS):
                call()
            times[key].append((time.perf_counter() - started) / CALLS * 1000)
    ms = {key: statistics.median(values) for key, values in times.items()}
    for key, values in times.items():
        print(f"{key:11} median {ms[key]:7.3f} ms per call  rounds: "
              + " ".join(f"{v:.3f}" for v in values))  # fmt: skip
    return (
        f"RESULT healthz_ms={ms['healthz']:.3f} bare_write_ms={ms['bare_write']:.3f} "
        f"autosave_ms={ms['autosave']:.3f} "
        f"bare_write_rate_vs_healthz={ms['healthz'] / ms['bare_write']:.2f} "
        f"autosave_rate_vs_healthz={ms['healthz'] / ms['autosave']:.2f} "
        f"autosave_vs_bare_write={ms['autosave'] / ms['bare_write']:.2f} "
        f"load={os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
