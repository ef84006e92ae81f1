"""Scan speed and memory on a large history, beside plain `git log --numstat`.

    .venv/bin/python benchmarks/scan.py                 # generate 5k and 20k-commit repositories
    .venv/bin/python benchmarks/scan.py --repo PATH     # measure an existing repository too
    .venv/bin/python benchmarks/scan.py --small 500 --commits 2000   # a quick run

For each repository it makes the same clean bare copy a scan makes, then times (median of
--runs runs each, interleaved) the scan's file and history stages against plain
`git log --numstat` over the same window, and against the scan's own, heavier `git log`
command line (same flags, format and window), both with their output sent to /dev/null; and
it measures the scan's peak Python memory (tracemalloc) and peak RSS in a fresh child process.
The last line is, for the largest repository:

    RESULT commits=... scan_seconds=... git_log_seconds=... ratio_vs_git_log=...
           scan_log_seconds=... peak_mb=...

(on one line) where `git_log_seconds` is plain `git log --numstat`, `ratio_vs_git_log` is
the scan's time over it, and `scan_log_seconds` is the scan's own `git log` command alone. Generated histories come from `git fast-import`: realistic small
edits across ~2000 files, merges of topic branches, Co-authored-by/Reviewed-by/Signed-off-by
trailers, bot and agent authors, reverts, occasional large changes and release tags.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assessments.scans.engine.detectors import load_catalogue  # noqa: E402
from assessments.scans.engine.files import read_head, scan_files  # noqa: E402
from assessments.scans.engine.gitrunner import GitRunner  # noqa: E402
from assessments.scans.engine.history import log_args, scan_history  # noqa: E402
from assessments.scans.engine.model import Limits  # noqa: E402
from assessments.scans.engine.sources import sanitising_clone  # noqa: E402

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SPAN_DAYS = 170
HUMANS = [(f"Dev {i}", f"dev{i}@example.com") for i in range(30)]
DEPENDABOT = ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
COPILOT = ("Copilot", "198982749+Copilot@users.noreply.github.com")
WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "omicron",
    "pi",
]


def _data(payload: bytes) -> bytes:
    return b"data %d\n%s\n" % (len(payload), payload)


def generate(path: Path, commits: int, *, seed: int = 11) -> None:
    """A non-bare repository with `commits` commits ending at NOW, written by fast-import."""
    rng = random.Random(seed)
    path.mkdir(parents=True)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(path),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
    }
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=env)
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"], cwd=path, stdin=subprocess.PIPE, env=env
    )
    assert proc.stdin is not None
    files: dict[str, list[str]] = {}
    start = int(NOW.timestamp()) - SPAN_DAYS * 86400
    step = SPAN_DAYS * 86400 / commits
    mark = 0
    main_mark = 0
    chunks: list[bytes] = []

    def line() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9))) + "\n"

    def edit(paths: list[str]) -> bytes:
        out = []
        for name in paths:
            body = files.get(name)
            if body is None:
                body = files[name] = [line() for _ in range(rng.randint(20, 80))]
            else:
                for _ in range(rng.randint(1, 6)):
                    body[rng.randrange(len(body))] = line()
                if rng.random() < 0.3:
                    body += [line() for _ in range(rng.randint(1, 10))]
            out.append(b"M 100644 inline %s\n" % name.encode() + _data("".join(body).encode()))
        return b"".join(out)

    def commit(
        ref: str, when: int, who: tuple[str, str], message: str, body: bytes, parents: list[int]
    ) -> int:
        nonlocal mark
        mark += 1
        ident = f"{who[0]} <{who[1]}> {when} +0000".encode()
        head = b"commit %s\nmark :%d\nauthor %s\ncommitter %s\n" % (
            ref.encode(),
            mark,
            ident,
            ident,
        )
        head += _data(message.encode())
        if parents:
            head += b"from :%d\n" % parents[0]
            for other in parents[1:]:
                head += b"merge :%d\n" % other
        chunks.append(head + body + b"\n")
        return mark

    seed_files = {
        ".github/workflows/ci.yml": "name: ci\non: push\npermissions: read-all\njobs: {}\n",
        "Dockerfile": "FROM python:3.13\n",
        "requirements.txt": "sentry-sdk\nstructlog\n",
        "README.md": "Run `make test`.\n",
    }
    first = b"".join(
        b"M 100644 inline %s\n" % k.encode() + _data(v.encode()) for k, v in seed_files.items()
    )
    main_mark = commit("refs/heads/main", start, HUMANS[0], "Initial commit", first, [])
    made = 1
    pool = [f"src/pkg{i % 40}/module_{i}.py" for i in range(2000)]
    while made < commits:
        when = int(start + made * step + rng.uniform(0, step / 2))
        who = rng.choice(HUMANS)
        roll = rng.random()
        if roll < 0.08 and made + 2 <= commits:  # a topic branch merged back
            paths = rng.sample(pool, rng.randint(1, 4))
            body = edit(paths)
            topic = commit(
                "refs/heads/topic",
                when - 3600,
                who,
                f"topic work {made}\n\nSigned-off-by: {who[0]} <{who[1]}>",
                body,
                [main_mark],
            )
            merger = rng.choice(HUMANS)
            main_mark = commit(
                "refs/heads/main",
                when,
                merger,
                f"Merge branch 'topic-{made}'",
                body,
                [main_mark, topic],
            )
            made += 2
            continue
        if roll < 0.12:
            who, paths, message = DEPENDABOT, ["requirements.txt"], f"Bump sentry-sdk to 2.{made}"
            files.setdefault("requirements.txt", ["sentry-sdk\n", "structlog\n"])
        elif roll < 0.16:
            who, paths, message = (
                COPILOT,
                rng.sample(pool, rng.randint(1, 3)),
                f"Add feature {made}",
            )
        elif roll < 0.26:
            paths = rng.sample(pool, rng.randint(1, 4))
            message = f"Change {made}\n\nCo-authored-by: Claude <noreply@anthropic.com>"
        elif roll < 0.27:
            paths, message = (
                rng.sample(pool, 1),
                f'Revert "Change {made - 5}"\n\nThis reverts the change.',
            )
        elif roll < 0.28:
            name = f"data/generated_{made}.txt"
            files[name] = [line() for _ in range(600)]
            paths, message = [], f"Add large fixture {made}"
            chunks_body = b"M 100644 inline %s\n" % name.encode() + _data(
                "".join(files[name]).encode()
            )
            main_mark = commit("refs/heads/main", when, who, message, chunks_body, [main_mark])
            made += 1
            continue
        else:
            paths = rng.sample(pool, rng.randint(1, 4))
            message = (
                f"polys: change {made}\n\nReviewed-by: {rng.choice(HUMANS)[0]} <r@example.com>"
            )
        main_mark = commit("refs/heads/main", when, who, message, edit(paths), [main_mark])
        made += 1
        if made % 300 == 0:
            chunks.append(
                b"tag v1.%d.0\nfrom :%d\ntagger %s <%s> %d +0000\n"
                % (made // 300, main_mark, who[0].encode(), who[1].encode(), when + 7200)
                + _data(b"release")
            )
        if len(chunks) > 500:
            proc.stdin.write(b"".join(chunks))
            chunks.clear()
    chunks.append(b"done\n")
    proc.stdin.write(b"".join(chunks))
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")


def bare_copy(source: Path, job: Path) -> Path:
    runner = GitRunner(job_root=job)
    bare = job / "repo.git"
    sanitising_clone(runner=runner, source=source, dest=bare, limits=Limits())
    runner.cleanup()
    return bare


def scan_once(
    bare: Path, job: Path, now: datetime, window: int, limits: Limits
) -> dict[str, object]:
    runner = GitRunner(job_root=job)
    try:
        head, _branch = read_head(runner=runner, git_dir=bare)
        scan_files(catalogue=load_catalogue(), runner=runner, git_dir=bare, limits=limits)
        _findings, facts = scan_history(
            runner=runner,
            git_dir=bare,
            catalogue=load_catalogue(),
            head=head,
            now=now,
            window_days=window,
            limits=limits,
        )
    finally:
        runner.cleanup()
    return facts


def raw_log_seconds(bare: Path, job: Path, now: datetime, window: int) -> float:
    """The scan's own git log command line (format, trailers, topo order), output to
    /dev/null."""
    runner = GitRunner(job_root=job)
    since = int(now.timestamp()) - window * 86400
    argv = runner.build_argv(log_args(since=since), git_dir=bare)
    env = runner.build_env()
    started = time.perf_counter()
    subprocess.run(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        check=True,
        cwd=runner.home,
    )
    elapsed = time.perf_counter() - started
    runner.cleanup()
    return elapsed


def plain_log_seconds(bare: Path, now: datetime, window: int) -> float:
    """Plain `git log --numstat` over the window, output to /dev/null: the baseline."""
    since = int(now.timestamp()) - window * 86400
    started = time.perf_counter()
    subprocess.run(
        ["git", f"--git-dir={bare}", "log", "--numstat", f"--since=@{since}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
        env={"PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "HOME": str(bare)},
    )  # fmt: skip
    return time.perf_counter() - started


def child(args: argparse.Namespace) -> None:
    """Run one scan under tracemalloc in this fresh process; print JSON."""
    job = Path(tempfile.mkdtemp(prefix="bench-child-"))
    limits = Limits(max_change_records=args.records)
    tracemalloc.start()
    started = time.perf_counter()
    facts = scan_once(Path(args.bare), job, datetime.fromisoformat(args.now), args.window, limits)
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    shutil.rmtree(job, ignore_errors=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "peak_mb": peak / 2**20,
                "maxrss_mb": rss,
                "seconds": seconds,
                "commits": facts["commits"],
            }
        )
    )


def memory(bare: Path, now: datetime, window: int, records: int = 50_000) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--bare", str(bare), "--now", now.isoformat(), "--window", str(window), "--records", str(records)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure(
    label: str, source: Path, work: Path, now: datetime, window: int, runs: int
) -> dict[str, float]:
    job = work / f"job-{label}"
    job.mkdir()
    bare = bare_copy(source, job)
    scan_times, log_times, plain_times = [], [], []
    facts: dict[str, object] = {}
    scan_once(bare, job, now, window, Limits())  # warm the page cache for both sides
    for _ in range(runs):
        started = time.perf_counter()
        facts = scan_once(bare, job, now, window, Limits())
        scan_times.append(time.perf_counter() - started)
        log_times.append(raw_log_seconds(bare, job, now, window))
        plain_times.append(plain_log_seconds(bare, now, window))
    mem = memory(bare, now, window)
    mem_no_records = memory(bare, now, window, records=0)
    row = {
        "commits": float(facts["commits"]),  # type: ignore[arg-type]
        "scan": statistics.median(scan_times),
        "log": statistics.median(log_times),
        "plain": statistics.median(plain_times),
        "peak_mb": mem["peak_mb"],
        "peak_mb_no_records": mem_no_records["peak_mb"],
        "maxrss_mb": mem["maxrss_mb"],
    }
    print(
        f"{label:>10}: commits={row['commits']:.0f}  scan (files+history) {row['scan']:.3f} s  "
        f"plain `git log --numstat` {row['plain']:.3f} s  ratio {row['scan'] / row['plain']:.3f}  "
        f"(the scan's own git log {row['log']:.3f} s, ratio {row['scan'] / row['log']:.3f})  "
        f"runs: scan {[round(t, 3) for t in scan_times]} "
        f"plain {[round(t, 3) for t in plain_times]} log {[round(t, 3) for t in log_times]}"
    )
    print(
        f"{'':>10}  peak Python memory {row['peak_mb']:.1f} MiB "
        f"({row['peak_mb_no_records']:.1f} MiB without the per-change records), "
        f"child max RSS {row['maxrss_mb']:.1f} MiB"
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repo", type=Path, help="also measure this repository")
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--small", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--window", type=int, default=180)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bare", help=argparse.SUPPRESS)
    parser.add_argument("--now", help=argparse.SUPPRESS)
    parser.add_argument("--records", type=int, default=50_000, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.runs < 3:
        raise SystemExit("--runs must be at least 3")
    work = Path(tempfile.mkdtemp(prefix="opready-scan-bench-"))
    try:
        rows = []
        for count in sorted({args.small, args.commits}):
            source = work / f"gen-{count}"
            started = time.perf_counter()
            generate(source, count)
            print(
                f"generated {count} commits with git fast-import in {time.perf_counter() - started:.1f} s"
            )
            rows.append(measure(f"{count}", source, work, NOW, args.window, args.runs))
        if args.repo:
            head_time = subprocess.run(
                ["git", "-C", str(args.repo), "log", "-1", "--format=%ct"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            now = datetime.fromtimestamp(int(head_time), UTC)
            rows.append(measure(args.repo.name, args.repo, work, now, args.window, args.runs))
        small, large = rows[0], max(rows, key=lambda r: r["commits"])
        print(
            f"peak Python memory: {small['peak_mb']:.1f} MiB at {small['commits']:.0f} commits, "
            f"{large['peak_mb']:.1f} MiB at {large['commits']:.0f} commits; without the bounded "
            f"per-change records (capped at 50,000): {small['peak_mb_no_records']:.1f} vs "
            f"{large['peak_mb_no_records']:.1f} MiB"
        )
        print(
            f"RESULT commits={large['commits']:.0f} scan_seconds={large['scan']:.3f} "
            f"git_log_seconds={large['plain']:.3f} "
            f"ratio_vs_git_log={large['scan'] / large['plain']:.3f} "
            f"scan_log_seconds={large['log']:.3f} peak_mb={large['peak_mb']:.1f}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.pop("GIT_DIR", None)
    main()
