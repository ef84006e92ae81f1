"""The demo's evidence: a scanned repository and delivery exports, so the demo's results and
report show agreements, contradictions, evidence-adjusted scores and DORA metrics.

The repository is built by this module (one `git fast-import`, fixed names, contents and
times relative to the day it runs), scanned by the real engine, and recorded like any scan;
the deployments and incidents are CSV exports imported through the same service as uploads,
shipping the repository's own commits. The same day always gives the same evidence.
"""

from __future__ import annotations

import csv
import io
import random
import subprocess  # nosec B404 - git on a repository this module creates, fixed arguments
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile

from assessments.models import Assessment
from assessments.scans.engine.scan import scan_repository
from assessments.scans.models import ScanSource
from assessments.scans.services import scan_result_record, source_add

SEED = 2026
REPOSITORY = "route-planner"
ENGINEERS = [
    ("Jonas Weber", "jonas@halvorsen-logistics.example"),
    ("Aiko Tanaka", "aiko@halvorsen-logistics.example"),
    ("Samuel Okafor", "samuel@halvorsen-logistics.example"),
    ("Lena Fischer", "lena@halvorsen-logistics.example"),
    ("Rafael Costa", "rafael@halvorsen-logistics.example"),
]
RENOVATE = ("renovate[bot]", "29139614+renovate[bot]@users.noreply.github.com")
CLAUDE = "Claude <noreply@anthropic.com>"
WEEKS = 16

# The layout: a Python service with CI, tests, containers, Kubernetes and Terraform, telemetry
# libraries; no agent instructions, alert rules, SLOs or agent tracing (the gaps).
FILES = {
    "README.md": "# Route planner\n\nSet up with `uv sync`, then run `make test`.\n",
    "Makefile": "test:\n\tuv run pytest --cov\n",
    "pyproject.toml": (
        "[project]\nname = 'route-planner'\nversion = '1.0.0'\n"
        "dependencies = ['fastapi', 'opentelemetry-sdk', 'prometheus-client', 'structlog', "
        "'sentry-sdk']\n\n[tool.ruff]\nline-length = 100\n\n[tool.mypy]\nstrict = true\n\n"
        "[tool.coverage.run]\nbranch = true\n"
    ),
    "uv.lock": "version = 1\n",
    ".github/CODEOWNERS": "* @halvorsen/platform\n",
    ".github/dependabot.yml": "version: 2\nupdates:\n  - package-ecosystem: pip\n    directory: /\n    schedule: {interval: weekly}\n",
    ".github/workflows/ci.yml": (
        "name: ci\non: [push, pull_request]\npermissions:\n  contents: read\njobs:\n  test:\n"
        "    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
        "      - run: uv run ruff check .\n      - run: uv run mypy src\n"
        "      - run: uv run pytest --cov\n      - uses: codecov/codecov-action@v4\n"
    ),
    ".github/workflows/deploy.yml": (
        "name: deploy\non:\n  push: {branches: [main]}\npermissions:\n  contents: read\n"
        "jobs:\n  deploy:\n    runs-on: ubuntu-latest\n    environment: production\n"
        "    steps:\n      - uses: actions/checkout@v4\n"
        "      - run: kubectl apply -f deploy/k8s/\n"
    ),
    "Dockerfile": "FROM python:3.13-slim\nCOPY . /app\nHEALTHCHECK CMD curl -f http://localhost:8000/health\n",
    "deploy/k8s/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: route-planner\nspec:\n"
        "  template:\n    spec:\n      containers:\n        - name: app\n"
        "          readinessProbe:\n            httpGet: {path: /health, port: 8000}\n"
    ),
    "infra/main.tf": 'resource "google_container_cluster" "main" {\n  name = "routes"\n}\n',
    "tests/test_routes.py": "def test_shortest_route():\n    assert True\n",
}


@dataclass(frozen=True)
class _Commit:
    when: datetime
    author: tuple[str, str]
    message: str
    path: str
    content: str


def _commits(rng: random.Random, today: datetime) -> tuple[list[_Commit], list[int]]:
    """Two weekday commits by the team over WEEKS weeks, some AI co-authored, a weekly
    dependency bump by Renovate, a revert; and the indexes of the weekly release commits."""
    start = today - timedelta(weeks=WEEKS)
    commits = [
        _Commit(start - timedelta(days=1), ENGINEERS[0], "Initial layout", "", ""),
    ]
    releases = []
    for offset in range(WEEKS * 7):
        day = start + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for slot in range(2):
            who = ENGINEERS[rng.randrange(len(ENGINEERS))]
            module = rng.choice(["routing", "pricing", "tracking", "fleet"])
            message = f"{module}: {rng.choice(['handle', 'speed up', 'tidy', 'cover'])} {rng.choice(['depots', 'tolls', 'eta', 'batches'])}"
            if rng.random() < 0.22:
                message += f"\n\nCo-authored-by: {CLAUDE}"
            when = day + timedelta(hours=9 + 3 * slot, minutes=rng.randrange(60))
            commits.append(
                _Commit(
                    when, who, message, f"src/route_planner/{module}.py", f"# {offset}-{slot}\n"
                )
            )
        if day.weekday() == 0:
            commits.append(
                _Commit(
                    day + timedelta(hours=6),
                    RENOVATE,
                    "chore(deps): update dependency fastapi",
                    "uv.lock",
                    f"version = 1\n# {offset}\n",
                )
            )
        if day.weekday() == 4:
            releases.append(len(commits) - 1)
    revert_at = len(commits) // 2
    commits.insert(
        revert_at,
        _Commit(
            commits[revert_at - 1].when + timedelta(minutes=30),
            ENGINEERS[1],
            'Revert "pricing: speed up tolls"\n\nThis reverts a change that broke toll quotes.',
            "src/route_planner/pricing.py",
            "# reverted\n",
        ),
    )
    return commits, [r + (1 if r >= revert_at else 0) for r in releases]


def _stamp(when: datetime) -> str:
    return f"{int(when.timestamp())} +0000"


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n" % len(raw) + raw + b"\n"


def build_repository(path: Path, *, today: datetime) -> list[tuple[str, datetime]]:
    """A bare repository at `path`; returns (sha, commit time) of every commit, oldest first."""
    rng = random.Random(SEED)
    commits, releases = _commits(rng, today)
    stream = io.BytesIO()
    for index, commit in enumerate(commits, start=1):
        name, email = commit.author
        stream.write(b"commit refs/heads/main\nmark :%d\n" % index)
        for role in (b"author", b"committer"):
            stream.write(role + f" {name} <{email}> {_stamp(commit.when)}\n".encode())
        stream.write(_data(commit.message))
        if index > 1:
            stream.write(b"from :%d\n" % (index - 1))
        files = FILES if index == 1 else {commit.path: commit.content}
        for file_path, content in files.items():
            stream.write(f"M 100644 inline {file_path}\n".encode() + _data(content))
        stream.write(b"\n")
    for number, at in enumerate(releases, start=1):
        commit = commits[at]
        stream.write(f"tag v1.{number}.0\nfrom :{at + 1}\n".encode())
        stream.write(
            f"tagger {ENGINEERS[0][0]} <{ENGINEERS[0][1]}> {_stamp(commit.when)}\n".encode()
        )
        stream.write(_data(f"Release 1.{number}.0"))
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(path.parent),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "LC_ALL": "C",
    }
    git = ["git", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q", "--bare", str(path)], env=env, check=True)  # nosec B603
    subprocess.run(  # nosec B603
        [*git, "--git-dir", str(path), "fast-import", "--quiet"],
        env=env,
        input=stream.getvalue(),
        check=True,
    )
    out = subprocess.run(  # nosec B603
        [*git, "--git-dir", str(path), "log", "--reverse", "--format=%H %ct", "main"],
        env=env,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [
        (sha, datetime.fromtimestamp(int(ts), UTC))
        for sha, ts in (line.split() for line in out.splitlines())
    ]


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def delivery_exports(
    commits: list[tuple[str, datetime]], *, today: datetime
) -> tuple[bytes, bytes]:
    """(deployments CSV, incidents CSV): a production deployment most weekday afternoons
    shipping the commits since the last one, staging deployments before each, a few failed
    runs, incidents caused by some deployments, and hotfix deployments after them."""
    rng = random.Random(SEED + 1)
    deployments: list[list[Any]] = []
    incidents: list[list[Any]] = []
    shipped = 0
    number = 0
    start = today - timedelta(days=88)
    for offset in range(88):
        day = start + timedelta(days=offset)
        if day.weekday() >= 5 or rng.random() < 0.15:
            continue
        at = day + timedelta(hours=16)
        batch = [sha for sha, when in commits[shipped:] if when < at]
        if not batch:
            continue
        shipped += len(batch)
        number += 1
        shas = ";".join(batch)
        deployments.append(
            [
                f"stg-{number}",
                (at - timedelta(hours=2)).isoformat(),
                "success",
                shas,
                "staging",
                "no",
            ]
        )
        if rng.random() < 0.05:
            deployments.append(
                [
                    f"prd-{number}-failed",
                    (at - timedelta(minutes=20)).isoformat(),
                    "failure",
                    shas,
                    "production",
                    "no",
                ]
            )
        deployments.append([f"prd-{number}", at.isoformat(), "success", shas, "production", "no"])
        if rng.random() < 0.12:
            opened = at + timedelta(hours=rng.randrange(1, 6))
            hours = rng.choice([1.5, 3, 5, 9, 30])
            incidents.append(
                [
                    f"INC-{len(incidents) + 101}",
                    opened.isoformat(),
                    (opened + timedelta(hours=hours)).isoformat(),
                    f"prd-{number}",
                    "",
                    "Route quotes failing for some depots",
                ]
            )
            deployments.append(
                [
                    f"prd-{number}-hotfix",
                    (opened + timedelta(hours=1)).isoformat(),
                    "success",
                    "",
                    "production",
                    "yes",
                ]
            )
    # One incident nobody could tie to a deployment (a provider outage): it still has a time
    # to restore.
    outage = today - timedelta(days=20, hours=-10)
    incidents.append(
        [
            "INC-900",
            outage.isoformat(),
            (outage + timedelta(hours=2)).isoformat(),
            "",
            "",
            "Map provider outage",
        ]
    )
    return (
        _csv(["id", "deployed_at", "status", "commits", "environment", "hotfix"], deployments),
        _csv(
            ["incident_number", "created_on", "resolved_on", "deployment_id", "sha", "title"],
            incidents,
        ),
    )


def demo_evidence_add(*, assessment: Assessment, user: Any, now: datetime) -> None:
    """Scan the demo repository and import the demo exports into `assessment`."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with tempfile.TemporaryDirectory(prefix="opready-demo-") as tmp:
        root = Path(tmp)
        repo = root / f"{REPOSITORY}.git"
        commits = build_repository(repo, today=today)
        job = root / "job"
        job.mkdir()
        result = scan_repository(
            source=repo, kind="path", workdir=job, now=now, allowed_roots=[root]
        )
    scan_result_record(
        assessment=assessment,
        kind=ScanSource.Kind.REPO_PATH,
        location=f"demo:{REPOSITORY}",
        label=f"{REPOSITORY} (demo repository)",
        result=result,
        user=user,
    )
    deployments, incidents = delivery_exports(commits, today=today)
    for kind, name, data in (
        (ScanSource.Kind.INCIDENTS, "incidents.csv", incidents),
        (ScanSource.Kind.DEPLOYMENTS, "deployments.csv", deployments),
    ):
        source_add(
            assessment=assessment,
            kind=kind,
            user=user,
            label=f"{name} (demo export)",
            upload=ContentFile(data, name=name),
        )
