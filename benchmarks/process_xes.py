"""XES import: the generated log of `process_log.py` written as XES, then analysed.

XES is read with expat, element by element in Python, so it is slower per event than a CSV the
pandas parser reads; this prints how much, and that memory stays bounded (the file is
streamed). Each run is a fresh process; the figures are medians.

    .venv/bin/python benchmarks/process_xes.py [--events 500000] [--runs 3]

Ends with: RESULT events=... seconds=... events_per_second=... peak_mb=... file_mb=...
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import quoteattr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.process_log import _peak_mb, generate  # noqa: E402


def write_xes(csv_path: Path, xes_path: Path) -> None:
    import pandas as pd

    frame = pd.read_csv(csv_path, dtype=str)
    with xes_path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">\n')
        for case, events in frame.groupby("case_id", sort=False):
            out.write(f'<trace><string key="concept:name" value={quoteattr(str(case))}/>\n')
            for activity, stamp, resource in zip(
                events["activity"], events["timestamp"], events["resource"], strict=True
            ):
                out.write(
                    f'<event><string key="concept:name" value={quoteattr(activity)}/>'
                    f'<string key="lifecycle:transition" value="complete"/>'
                    f'<date key="time:timestamp" value="{stamp}.000+01:00"/>'
                    f'<string key="org:resource" value={quoteattr(resource)}/></event>\n'
                )
            out.write("</trace>\n")
        out.write("</log>\n")


def child(path: str) -> None:
    from assessments.processes.core.eventlog import LogOptions, analyse

    options = LogOptions(
        {
            "case": "case:concept:name",
            "activity": "concept:name",
            "timestamp": "time:timestamp",
            "resource": "org:resource",
        }
    )
    start = time.perf_counter()
    with open(path, "rb") as handle:
        result = analyse(handle, options, total_bytes=os.path.getsize(path), source="xes")
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mb": _peak_mb(), "rows": result["events_used"]}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", metavar="PATH")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        csv_path, xes_path = Path(tmp) / "log.csv", Path(tmp) / "log.xes"
        generate(csv_path, args.events)
        write_xes(csv_path, xes_path)
        size_mb = xes_path.stat().st_size / 1024 / 1024
        print(f"generated {args.events} events as XES ({size_mb:.0f} MB)")
        runs = []
        for run in range(args.runs):
            done = subprocess.run(
                [sys.executable, __file__, "--child", str(xes_path)],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            runs.append(figures)
            print(f"run {run + 1} {figures['seconds']:.2f} s  peak {figures['peak_mb']:.0f} MB")
        seconds = statistics.median(f["seconds"] for f in runs)
        peak = max(f["peak_mb"] for f in runs)
        print(
            f"RESULT events={args.events} seconds={seconds:.2f} "
            f"events_per_second={args.events / seconds:.0f} peak_mb={peak:.0f} "
            f"file_mb={size_mb:.0f}"
        )


if __name__ == "__main__":
    main()
