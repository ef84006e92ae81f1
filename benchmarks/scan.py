"""The whole command-line scan beside plain `git log --numstat`, on generated histories.

    .venv/bin/python benchmarks/scan.py                  # 60,000 and 6,000 commits, 5 rounds
    .venv/bin/python benchmarks/scan.py --rounds 7
    .venv/bin/python benchmarks/scan.py --commits 6000 --small 1200 --rounds 3  # a quick look

What a user waits for is the whole process: `manage.py scan PATH --json` (start-up, the clean
copy, the file detectors, the history). Each comparison is run in pairs, A then B, round after
round (A B A B ...), so both sides see the same machine load, and medians are reported:

- full history: the scan over the longest window (back to 1970, `--window-days` at its
  maximum), against `git log --numstat` over the same range (the least work that reads the
  same history);
- default window (180 days): the scan against `git log --numstat --since` of that window;
- history that is not read: the default-window scan of the large history against the same
  scan of a small history with the same recent activity (same dates, authors and kinds of
  change in the last 200 days; the small one has ten times fewer older commits).

The peak memory of each scan is the largest resident set of the scan process or any git it ran
(`wait4`). Histories are written by `git fast-import` (small edits across ~2,000 files that keep their size, topic
branches merged back, trailers, bot and agent authors, reverts, large changes, release tags),
spread over ten years, and cached under var/bench-scan/ (delete it to regenerate). The last
line is

    RESULT ratio_full_vs_git_log=... ratio_window_60k_vs_6k=... peak_mb=...

with the ratios as medians of the per-round ratios and `peak_mb` the largest peak of the
large history's default-window scans. Targets: both ratios at most 1.5, memory flat.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "var" / "bench-scan"
GENERATOR_VERSION = 3
NOW = datetime(2026, 6, 1, tzinfo=UTC)
YEARS = 10
RECENT_DAYS = 200
RECENT_COMMITS = 3000
WINDOW_DAYS = 180
GIT_ENV = {
    "PATH": "/usr/bin:/bin",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "LC_ALL": "C",
}
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
    "pi",
]


def _data(payload: bytes) -> bytes:
    return b"data %d\n%s\n" % (len(payload), payload)


class _Writer:
    """Commits for `git fast-import`, with file contents kept in memory."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.files: dict[str, list[str]] = {}
        self.mark = 0
        self.main = 0
        self.made = 0
        self.chunks: list[bytes] = []

    def flush(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"".join(self.chunks))
        self.chunks.clear()

    def edit(self, rng: random.Random, paths: list[str]) -> bytes:
        def line() -> str:
            return " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9))) + "\n"

        out = []
        for name in paths:
            body = self.files.get(name)
            if name.startswith("data/"):  # a large change: the whole file rewritten
                body = self.files[name] = [line() for _ in range(600)]
            elif body is None:
                body = self.files[name] = [line() for _ in range(rng.randint(20, 80))]
            else:
                for _ in range(rng.randint(1, 6)):
                    body[rng.randrange(len(body))] = line()
                if rng.random() < 0.3:
                    body += [line() for _ in range(rng.randint(1, 10))]
                # Files keep their size however long the history: the same recent activity
                # then means the same work, whatever came before it.
                while len(body) > 90:
                    del body[rng.randrange(len(body))]
            out.append(b"M 100644 inline %s\n" % name.encode() + _data("".join(body).encode()))
        return b"".join(out)

    def commit(
        self,
        ref: str,
        when: int,
        who: tuple[str, str],
        message: str,
        body: bytes,
        parents: list[int],
    ) -> int:
        self.mark += 1
        ident = f"{who[0]} <{who[1]}> {when} +0000".encode()
        head = b"commit %s\nmark :%d\nauthor %s\ncommitter %s\n" % (
            ref.encode(), self.mark, ident, ident,
        )  # fmt: skip
        head += _data(message.encode())
        if parents:
            head += b"from :%d\n" % parents[0]
            for other in parents[1:]:
                head += b"merge :%d\n" % other
        self.chunks.append(head + body + b"\n")
        if len(self.chunks) > 500:
            self.flush()
        return self.mark

    def activity(self, rng: random.Random, count: int, start: int, end: int) -> None:
        """`count` commits spread evenly from `start` to `end` (epoch seconds)."""
        pool = [f"src/pkg{i % 40}/module_{i}.py" for i in range(2000)]
        step = (end - start) / count
        done = 0
        while done < count:
            when = int(start + done * step + rng.uniform(0, step / 2))
            who = rng.choice(HUMANS)
            roll = rng.random()
            if roll < 0.08 and done + 2 <= count:  # a topic branch merged back
                body = self.edit(rng, rng.sample(pool, rng.randint(1, 4)))
                topic = self.commit(
                    "refs/heads/topic", when - 3600, who,
                    f"topic work {self.made}\n\nSigned-off-by: {who[0]} <{who[1]}>", body, [self.main],
                )  # fmt: skip
                self.main = self.commit(
                    "refs/heads/main", when, rng.choice(HUMANS),
                    f"Merge branch 'topic-{self.made}'", body, [self.main, topic],
                )  # fmt: skip
                done += 2
                self.made += 2
                continue
            if roll < 0.12:
                who, paths = DEPENDABOT, ["requirements.txt"]
                message = f"Bump sentry-sdk to 2.{self.made}"
                self.files.setdefault("requirements.txt", ["sentry-sdk\n", "structlog\n"])
            elif roll < 0.16:
                who, paths = COPILOT, rng.sample(pool, rng.randint(1, 3))
                message = f"Add feature {self.made}"
            elif roll < 0.26:
                paths = rng.sample(pool, rng.randint(1, 4))
                message = f"Change {self.made}\n\nCo-authored-by: Claude <noreply@anthropic.com>"
            elif roll < 0.27:
                paths = rng.sample(pool, 1)
                message = f'Revert "Change {self.made - 5}"\n\nThis reverts the change.'
            elif roll < 0.28:
                paths = [f"data/fixture_{rng.randrange(5)}.txt"]
                message = f"Regenerate fixtures {self.made}"
            else:
                paths = rng.sample(pool, rng.randint(1, 4))
                message = f"polys: change {self.made}\n\nReviewed-by: {rng.choice(HUMANS)[0]} <r@example.com>"
            self.main = self.commit(
                "refs/heads/main", when, who, message, self.edit(rng, paths), [self.main]
            )
            done += 1
            self.made += 1
            if self.made % 300 == 0:
                self.chunks.append(
                    b"tag v1.%d.0\nfrom :%d\ntagger %s <%s> %d +0000\n"
                    % (self.made // 300, self.main, who[0].encode(), who[1].encode(), when + 7200)
                    + _data(b"release")
                )


def generate(path: Path, commits: int) -> None:
    """A bare repository of `commits` commits over YEARS years ending at NOW, whose last
    RECENT_DAYS days hold the same RECENT_COMMITS commits whatever `commits` is."""
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    env = GIT_ENV | {"HOME": str(path.parent)}
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(tmp)], check=True, env=env)
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"], cwd=tmp, stdin=subprocess.PIPE, env=env
    )
    writer = _Writer(proc)
    end = int(NOW.timestamp())
    recent_start = end - RECENT_DAYS * 86400
    start = end - YEARS * 365 * 86400
    seed = {
        ".github/workflows/ci.yml": "name: ci\non: push\npermissions: read-all\njobs: {}\n",
        "Dockerfile": "FROM python:3.13\n",
        "requirements.txt": "sentry-sdk\nstructlog\n",
        "README.md": "Run `make test`.\n",
    }
    first = b"".join(
        b"M 100644 inline %s\n" % k.encode() + _data(v.encode()) for k, v in seed.items()
    )
    writer.main = writer.commit("refs/heads/main", start, HUMANS[0], "Initial commit", first, [])
    writer.activity(random.Random(11), commits - 1 - RECENT_COMMITS, start + 3600, recent_start)
    writer.activity(random.Random(29), RECENT_COMMITS, recent_start, end - 3600)
    writer.chunks.append(b"reset refs/heads/topic\nfrom 0000000000000000000000000000000000000000\n")
    writer.chunks.append(b"done\n")
    writer.flush()
    assert proc.stdin is not None
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "--git-dir", str(tmp), "gc", "-q"], check=True, env=env)
    tmp.rename(path)


def history(commits: int) -> Path:
    path = CACHE / f"v{GENERATOR_VERSION}-{commits}.git"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        generate(path, commits)
        print(f"generated {commits} commits in {time.perf_counter() - started:.1f} s: {path}")
    return path


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB of the process or any process it waited for)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}")
    return seconds, usage.ru_maxrss / 1024


def scan(repo: Path, window_days: int) -> Callable[[], tuple[float, float]]:
    argv = [
        sys.executable, "manage.py", "scan", str(repo), "--json",
        f"--window-days={window_days}", f"--now={NOW.isoformat()}",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return lambda: timed(argv, env)


def git_log(repo: Path, window_days: int) -> Callable[[], tuple[float, float]]:
    since = int(NOW.timestamp()) - window_days * 86400
    argv = ["git", f"--git-dir={repo}", "log", "--numstat", f"--since=@{since} +0000", "HEAD"]
    env = GIT_ENV | {"HOME": str(CACHE)}
    return lambda: timed(argv, env)


def paired(
    label: str,
    a: Callable[[], tuple[float, float]],
    b: Callable[[], tuple[float, float]],
    rounds: int,
) -> dict[str, float]:
    a(), b()  # warm the page cache for both sides
    times_a, times_b, ratios, peaks_a, peaks_b = [], [], [], [], []
    for _ in range(rounds):
        seconds_a, peak_a = a()
        seconds_b, peak_b = b()
        times_a.append(seconds_a)
        times_b.append(seconds_b)
        ratios.append(seconds_a / seconds_b)
        peaks_a.append(peak_a)
        peaks_b.append(peak_b)
    row = {
        "a": statistics.median(times_a),
        "b": statistics.median(times_b),
        "ratio": statistics.median(ratios),
        "peak_a": max(peaks_a),
        "peak_b": max(peaks_b),
    }
    print(
        f"{label}: median {row['a']:.3f} s vs {row['b']:.3f} s, median ratio {row['ratio']:.3f}; "
        f"peak {row['peak_a']:.0f} vs {row['peak_b']:.0f} MiB; "
        f"A {[round(t, 3) for t in times_a]} B {[round(t, 3) for t in times_b]}",
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commits", type=int, default=60_000)
    parser.add_argument("--small", type=int, default=6_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--generate-only", action="store_true")
    args = parser.parse_args()
    if args.rounds < 5 and not args.generate_only:
        print("note: fewer than 5 rounds is a quick look, not a measurement")
    if min(args.commits, args.small) <= RECENT_COMMITS:
        raise SystemExit(f"--commits and --small must be above {RECENT_COMMITS}")
    large, small = history(args.commits), history(args.small)
    if args.generate_only:
        return
    full_days = int(NOW.timestamp()) // 86400  # the longest window: back to 1970
    full = paired(
        f"full history, {args.commits} commits: scan (A) vs git log --numstat (B)",
        scan(large, full_days), git_log(large, full_days), args.rounds,
    )  # fmt: skip
    window = paired(
        f"default window, {args.commits} commits: scan (A) vs git log --numstat (B)",
        scan(large, WINDOW_DAYS), git_log(large, WINDOW_DAYS), args.rounds,
    )  # fmt: skip
    versus = paired(
        f"default window: scan of {args.commits} (A) vs {args.small} commits (B)",
        scan(large, WINDOW_DAYS), scan(small, WINDOW_DAYS), args.rounds,
    )  # fmt: skip
    print(
        f"peak memory of the default-window scan: {versus['peak_a']:.0f} MiB at {args.commits} "
        f"commits, {versus['peak_b']:.0f} MiB at {args.small}; full history "
        f"{full['peak_a']:.0f} MiB (git log alone {full['peak_b']:.0f} MiB); window scan vs "
        f"its git log: ratio {window['ratio']:.3f}"
    )
    print(
        f"RESULT ratio_full_vs_git_log={full['ratio']:.3f} "
        f"ratio_window_60k_vs_6k={versus['ratio']:.3f} "
        f"peak_mb={max(window['peak_a'], versus['peak_a']):.0f}"
    )


if __name__ == "__main__":
    main()
