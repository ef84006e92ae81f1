"""Precision and recall of the repository detectors on real public repositories, per family.

    .venv/bin/python benchmarks/accuracy.py                        # mirrors under /work/.mirror
    .venv/bin/python benchmarks/accuracy.py --mirrors DIR          # DIR/<owner>+<name>/repo
    .venv/bin/python benchmarks/accuracy.py --repo stakater/Reloader -v

The labels (benchmarks/accuracy_labels.yaml) say, per repository and detector, what a person
reading the tree decided the detector should report, with the file that settles it. Each
labelled repository is scanned from a local copy (a bare or ordinary git repository at
`<mirrors>/<owner>+<name>/repo`, as `git clone --mirror` leaves it) exactly as the command line
scans a path, and each labelled detector is scored:

- true positive: labelled found, reported found;
- false positive: labelled absent, reported found;
- false negative: labelled found, reported absent or "could not determine";
- "could not determine" on a detector labelled absent is counted apart (undetermined): it is
  not a claim either way.

Repositories with no local copy are skipped with a line saying so (CI has no network to fetch
them); a copy whose HEAD is not the labelled commit is scanned and flagged, since the labels
may no longer hold. Per family it prints TP/FP/FN, precision and recall, and ends with

    RESULT repos=... skipped=... labels=... precision_min=... recall_min=...
           heldout_precision_min=... heldout_recall_min=... undetermined=...

where the minimums are over families (a family with no positive label has no recall), for all
repositories and for the held-out ones alone (`set: held-out` in the labels: labelled after the
detector fixes the others led to, so their figures were not used to tune anything).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assessments.scans.engine.model import Limits, ScanError  # noqa: E402
from assessments.scans.engine.scan import scan_repository  # noqa: E402

LABELS = ROOT / "benchmarks" / "accuracy_labels.yaml"
DEFAULT_MIRRORS = Path(os.environ.get("ACCURACY_MIRRORS", "/work/.mirror"))


def _head(path: Path) -> str:
    out = subprocess.run(
        [
            "git",
            "--git-dir",
            str(path if (path / "HEAD").is_file() else path / ".git"),
            "rev-parse",
            "HEAD",
        ],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"},
        check=False,
    )
    return out.stdout.strip()


def _scan(path: Path) -> dict[str, tuple[str, str, list[str]]]:
    """detector id -> (status, detail, evidence refs) for one local repository."""
    with tempfile.TemporaryDirectory(prefix="accuracy-") as workdir:
        result = scan_repository(
            source=path,
            kind="path",
            workdir=Path(workdir),
            now=datetime.now(UTC),
            allowed_roots=[path],
            limits=Limits(timeout_seconds=600),
        )
    out: dict[str, tuple[str, str, list[str]]] = {}
    for finding in result.findings:
        out.setdefault(
            finding.detector,
            (finding.status, finding.detail, [p.ref for p in finding.evidence]),
        )
    return out


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _table(
    title: str, families: dict[str, Any], counts: dict[str, dict[str, int]]
) -> tuple[float | None, float | None, int]:
    """Print one TP/FP/FN table; (lowest precision, lowest recall, undetermined) over families."""
    print(f"\n[{title}]")
    print(
        f"{'family':15} {'TP':>4} {'FP':>4} {'FN':>4} {'TN':>4} {'undet':>5} {'precision':>9} {'recall':>7}"
    )
    precisions, recalls, undetermined = [], [], 0
    for family in families:
        c = counts[family]
        tp, fp, fn, tn, und = c["TP"], c["FP"], c["FN"], c["TN"], c["undetermined"]
        undetermined += und
        precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        if precision is not None:
            precisions.append(precision)
        if recall is not None:
            recalls.append(recall)
        print(
            f"{family:15} {tp:4d} {fp:4d} {fn:4d} {tn:4d} {und:5d} {_fmt(precision):>9} {_fmt(recall):>7}"
        )
    total = {k: sum(counts[f][k] for f in families) for k in ("TP", "FP", "FN")}
    print(
        f"{'all families':15} {total['TP']:4d} {total['FP']:4d} {total['FN']:4d}{'':11}"
        f"{_fmt(_ratio(total['TP'], total['TP'] + total['FP'])):>9}"
        f" {_fmt(_ratio(total['TP'], total['TP'] + total['FN'])):>7}"
    )
    return (
        min(precisions) if precisions else None,
        min(recalls) if recalls else None,
        undetermined,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mirrors", type=Path, default=DEFAULT_MIRRORS)
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--repo", action="append", help="only this owner/name (repeatable)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every label")
    options = parser.parse_args(argv)

    spec: dict[str, Any] = yaml.safe_load(options.labels.read_text())
    family_of = {d: fam for fam, ids in spec["families"].items() for d in ids}
    # set ("tuning" or "held-out") -> family -> outcome -> count
    counts: dict[str, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    scanned, skipped, labels = 0, 0, 0
    for name, entry in spec["repos"].items():
        if options.repo and name not in options.repo:
            continue
        path = options.mirrors / name.replace("/", "+") / "repo"
        if not path.is_dir():
            print(f"SKIP {name}: no local copy at {path} (fetch it to score it)")
            skipped += 1
            continue
        head = _head(path)
        note = (
            ""
            if head == entry["commit"]
            else f" (HEAD {head[:12]} is not the labelled {entry['commit'][:12]}: labels may be stale)"
        )
        try:
            got = _scan(path)
        except ScanError as exc:
            print(f"SKIP {name}: the scan failed: {exc}")
            skipped += 1
            continue
        scanned += 1
        subset = entry.get("set", "tuning")
        print(f"== {name} ({entry['kind']}; {subset}){note}")
        for detector, (expect, why) in entry["labels"].items():
            family = family_of.get(detector)
            if family is None:
                raise SystemExit(f"{name}: {detector} is in no family of {options.labels}")
            if detector not in got:
                raise SystemExit(f"{name}: the scan reported nothing for {detector}")
            status, detail, refs = got[detector]
            labels += 1
            if expect == "found":
                outcome = "TP" if status == "found" else "FN"
            elif status == "found":
                outcome = "FP"
            else:
                outcome = "undetermined" if status == "unknown" else "TN"
            counts[subset][family][outcome] += 1
            if outcome in ("FP", "FN", "undetermined") or options.verbose:
                print(
                    f"  {outcome:4} {detector:28} labelled {expect} ({why}); "
                    f"reported {status}: {detail[:140]} {refs[:3]}"
                )

    merged: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for per_family in counts.values():
        for family, outcomes in per_family.items():
            for outcome, n in outcomes.items():
                merged[family][outcome] += n
    mins: dict[str, tuple[float | None, float | None, int]] = {}
    for title, table in [*sorted(counts.items()), ("all", merged)]:
        mins[title] = _table(title, spec["families"], table)
    precision, recall, undetermined = mins["all"]
    held = mins.get("held-out", (None, None, 0))
    print(
        f"RESULT repos={scanned} skipped={skipped} labels={labels} "
        f"precision_min={_fmt(precision)} recall_min={_fmt(recall)} "
        f"heldout_precision_min={_fmt(held[0])} heldout_recall_min={_fmt(held[1])} "
        f"undetermined={undetermined}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
