"""Event-log analysis on a generated log of 2,000,000 events, beside pandas reading the same
CSV with no analysis.

Each measurement runs in a fresh process (so its peak memory is its own), alternating the two
kinds; the figures are medians. The analysis streams the file in chunks, so its peak memory
should stay far below the file's size in Python strings.

    .venv/bin/python benchmarks/process_log.py [--events 2000000] [--runs 3]

Ends with: RESULT events=... seconds=... peak_mb=... ratio_vs_read_csv=...
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ACTIVITIES = [
    "Receive request",
    "Triage",
    "Check budget",
    "Ask for details",
    "Approve",
    "Reject",
    "Order",
    "Receive goods",
    "Check invoice",
    "Pay invoice",
    "Archive",
    "Notify requester",
]


def generate(path: Path, events: int, seed: int = 7) -> None:
    """Cases of 4-16 events following a main path with detours and rework, over a year."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    sizes = rng.integers(4, 17, size=events // 4)
    sizes = sizes[np.cumsum(sizes) <= events]
    if sizes.sum() < events:
        sizes = np.append(sizes, events - sizes.sum())
    n_cases = len(sizes)
    case = np.repeat(np.arange(n_cases), sizes)
    step = np.arange(events) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    # Mostly the main path, sometimes a repeat of the step before (rework) or a detour.
    activity = np.minimum(step, len(ACTIVITIES) - 1)
    rework = rng.random(events) < 0.08
    activity = np.where(rework & (activity > 0), activity - 1, activity)
    detour = rng.random(events) < 0.05
    activity = np.where(detour, rng.integers(0, len(ACTIVITIES), size=events), activity)
    start = (
        pd.Timestamp("2025-01-06T08:00:00").value + rng.integers(0, 365 * 86_400, n_cases) * 10**9
    )
    gaps = rng.exponential(5 * 3_600, size=events).astype(np.int64) * 10**9
    gaps[np.cumsum(sizes) - sizes] = 0
    time = np.repeat(start, sizes) + (
        np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[np.cumsum(sizes) - sizes], sizes)
    )
    frame = pd.DataFrame(
        {
            "case_id": pd.Series(case).map("C{:07d}".format),
            "activity": np.array(ACTIVITIES, dtype=object)[activity],
            "timestamp": pd.to_datetime(time).strftime("%Y-%m-%dT%H:%M:%S"),
            "resource": pd.Series(rng.integers(0, 60, size=events)).map("user{:02d}".format),
        }
    )
    frame.to_csv(path, index=False)


def child(kind: str, path: str) -> None:
    import pandas as pd

    start = time.perf_counter()
    cpu_start = time.process_time()
    if kind == "read_csv":
        frame = pd.read_csv(path)
        rows = len(frame)
    else:
        from assessments.processes.core.eventlog import LogOptions, analyse

        options = LogOptions(
            {
                "case": "case_id",
                "activity": "activity",
                "timestamp": "timestamp",
                "resource": "resource",
            },
            time_zone="Europe/Oslo",
        )
        with open(path, "rb") as handle:
            result = analyse(handle, options, total_bytes=os.path.getsize(path))
        rows = result["events_read"]
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": _peak_mb(), "rows": rows}))


def _peak_mb() -> float:
    """This process's own peak resident memory: VmHWM belongs to the address space, which
    exec replaced (ru_maxrss can carry the parent's peak across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.csv"
        started = time.perf_counter()
        generate(path, args.events)
        size_mb = path.stat().st_size / 1024 / 1024
        print(
            f"generated {args.events} events ({size_mb:.0f} MB) in {time.perf_counter() - started:.1f} s"
        )
        analysed: list[dict[str, float]] = []
        read: list[dict[str, float]] = []
        for run in range(args.runs):
            # Alternate which goes first, so neither always meets a warm page cache.
            order = ("analyse", "read_csv") if run % 2 == 0 else ("read_csv", "analyse")
            for kind in order:
                figures = measure(kind, path)
                (analysed if kind == "analyse" else read).append(figures)
                print(
                    f"run {run + 1} {kind:8s} {figures['seconds']:.2f} s  "
                    f"(cpu {figures['cpu']:.2f} s)  peak {figures['peak_mb']:.0f} MB"
                )
        seconds = statistics.median(f["seconds"] for f in analysed)
        baseline = statistics.median(f["seconds"] for f in read)
        peak = max(f["peak_mb"] for f in analysed)
        baseline_peak = max(f["peak_mb"] for f in read)
        print(
            f"analysis median {seconds:.2f} s, read_csv median {baseline:.2f} s; peak {peak:.0f} MB against {baseline_peak:.0f} MB for read_csv"
        )
        # Each run's analysis against the read_csv of the same run (measured back to back), so
        # a burst of load on a shared machine skews one pair, not the ratio.
        ratio = statistics.median(
            a["seconds"] / r["seconds"] for a, r in zip(analysed, read, strict=True)
        )
        # The same pairing on processor time: on a machine shared with other work, waiting
        # for a core inflates wall-clock seconds but not these.
        cpu_ratio = statistics.median(
            a["cpu"] / r["cpu"] for a, r in zip(analysed, read, strict=True)
        )
        print(
            f"RESULT events={args.events} seconds={seconds:.2f} peak_mb={peak:.0f} "
            f"ratio_vs_read_csv={ratio:.2f} cpu_ratio_vs_read_csv={cpu_ratio:.2f} "
            f"read_csv_seconds={baseline:.2f} read_csv_peak_mb={baseline_peak:.0f}"
        )


if __name__ == "__main__":
    main()
