"""`make mutate`: mutation testing (mutmut) of the modules where a silent bug costs most.

Each area runs on its own: its modules are mutated and each mutant is run only against the
tests of that area that reach the mutated function (mutmut records which tests call what),
in forked children, two at a time by default, under `nice`. Prints the mutation score per
module and every surviving mutant with its diff, and writes the same to
var/mutate/report.md. Exits 1 when an area is below its target.

    .venv/bin/python scripts/mutate.py                 # every area
    .venv/bin/python scripts/mutate.py scoring access  # some areas
    MUTATE_CHILDREN=1 .venv/bin/python scripts/mutate.py scan-safety
    MUTATE_ONLY="scoring.rubric.*" .venv/bin/python scripts/mutate.py scoring  # one module

Survivors that no test can kill (equivalent or harmless mutants) are listed, with the
reason, in docs/testing.md.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "mutate"
VENV = ROOT / ".venv" / "bin"
# What the tests import or read, linked into each area's staging folder; mutmut copies it.
TREE = (
    "scoring", "assessments", "reports", "config", "templates", "static", "tests", "manage.py", "docs",
)  # fmt: skip
KILLED = {1, 3, 24, 36, -24, 152, 255, 37}  # killed, timeout (a mutant that hangs is caught)
SKIPPED = {34, 2, None}
NOT_BROWSER = ["-m", "not browser and not worker"]
# Property tests (hypothesis) try at most this many examples per mutant, the same ones for every
# mutant (tests/conftest.py): they ran 110 of the scoring tests' 170 seconds, which every
# surviving mutant of the score functions paid again. MUTATE_EXAMPLES=0 keeps their own counts.
EXAMPLES = int(os.environ.get("MUTATE_EXAMPLES", "10"))
# MUTATE_SAMPLE=3 runs one mutant in ten (those numbered 3, 13, 23, ...), =37 two in ten;
# empty (the default) runs every mutant. The score of a sample is printed with its 95% range.
SAMPLE = "".join(sorted(set(os.environ.get("MUTATE_SAMPLE", "")) & set("0123456789")))
# MUTATE_ONLY="scoring.rubric.*,scoring.result.*" narrows an area to these mutant-name globs
# (a module, a function): the quick loop while writing the tests that kill its survivors.
ONLY = tuple(g.strip() for g in os.environ.get("MUTATE_ONLY", "").split(",") if g.strip())


@dataclass(frozen=True)
class Area:
    name: str
    modules: tuple[str, ...]
    tests: tuple[str, ...]
    target: float
    database: bool
    # Restrict to these functions (mutmut's mutant-name globs) where a module holds more
    # than the area (reports/views.py holds every report view; the area is the share links).
    only: tuple[str, ...] = ()
    # Tests that cannot run against mutmut's copy and kill nothing there (the import-boundary
    # test reads the imports of the mutated modules, which mutmut's trampolines change).
    ignore: tuple[str, ...] = ()
    # MUTATE_ONLY's globs: this run looks at the mutants that match both these and `only`.
    narrow: tuple[str, ...] = ()

    @property
    def stage_name(self) -> str:
        """A narrowed run stages apart, so the area's whole run keeps its results."""
        return f"{self.name}-only" if self.narrow else self.name

    def wanted(self, name: str) -> bool:
        return all(
            not globs or any(fnmatch.fnmatchcase(name, g) for g in globs)
            for globs in (self.only, self.narrow)
        )


AREAS = (
    Area(
        "scoring",
        ("scoring/*.py",),
        ("tests/scoring",),
        90.0,
        database=False,
        ignore=("tests/scoring/test_boundary.py",),
    ),
    Area(
        "access",
        ("assessments/access.py", "assessments/services.py"),
        (
            "tests/assessments/test_survey_flow.py",
            "tests/assessments/test_locks.py",
            "tests/assessments/test_layers.py",
            "tests/assessments/test_concurrency.py",
            "tests/assessments/test_leader_views.py",
            "tests/assessments/test_tenancy.py",
            "tests/test_link_lifecycle.py",
            "tests/assessments/test_service_refusals.py",
            "tests/assessments/test_invitations.py",
            "tests/assessments/test_link_abuse.py",
            "tests/workshops/test_refusals.py",
            "tests/workshops/test_flow.py",
        ),
        90.0,
        database=True,
    ),
    Area(
        "scan-safety",
        (
            "assessments/scans/engine/gitrunner.py",
            "assessments/scans/engine/archives.py",
            "assessments/scans/engine/urls.py",
        ),
        (
            "tests/scans/engine/test_runner.py",
            "tests/scans/engine/test_archives.py",
            "tests/scans/engine/test_urls.py",
            "tests/scans/engine/test_lab.py",
            "tests/scans/engine/test_copy_contents.py",
            "tests/scans/engine/test_layers.py",
            "tests/scans/engine/test_packed_copy.py",
            "tests/scans/engine/test_missing_objects.py",
        ),
        85.0,
        database=False,
    ),
    Area(
        "scan-copy",
        ("assessments/scans/engine/sources.py",),
        (
            "tests/scans/engine/test_lab.py",
            "tests/scans/engine/test_copy_contents.py",
            "tests/scans/engine/test_packed_copy.py",
            "tests/scans/engine/test_window_copy.py",
            "tests/scans/engine/test_missing_objects.py",
            "tests/scans/engine/test_layers.py",
            "tests/scans/engine/test_history.py",
            "tests/scans/engine/test_urls.py",
        ),
        85.0,
        database=False,
    ),
    Area(
        "exports",
        ("reports/exports.py",),
        (
            "tests/reports/test_reports.py",
            "tests/reports/test_what_counts.py",
            "tests/reports/test_results_evidence.py",
            "tests/reports/test_report_sections.py",
            "tests/reports/test_exports.py",
        ),
        85.0,
        database=True,
    ),
    Area(
        "share-links",
        ("reports/views.py", "reports/models.py"),
        (
            "tests/test_link_lifecycle.py",
            "tests/reports/test_reports.py",
            "tests/reports/test_report_sections.py",
        ),
        85.0,
        database=True,
        only=(
            "reports.views.x_shared*",
            "reports.views.x__current_pdfs*",
            "reports.models.xǁShareLinkǁ*",
        ),
    ),
)


@dataclass
class Score:
    killed: int = 0
    total: int = 0
    survivors: list[str] = field(default_factory=list)

    @property
    def percent(self) -> float:
        return 100.0 * self.killed / self.total if self.total else 100.0


def _pyproject(area: Area) -> str:
    """The project's pyproject.toml with this area's [tool.mutmut] section."""
    text = (ROOT / "pyproject.toml").read_text()
    text = re.sub(r"\n\[tool\.mutmut\].*?(?=\n\[|\Z)", "", text, flags=re.S)
    selection = [*area.tests, *NOT_BROWSER, *(f"--ignore={path}" for path in area.ignore)]
    extra = ["-p", "no:cacheprovider", "-p", "no:randomly", "-W", "ignore"]
    if area.database:
        extra.append("--reuse-db")  # each child copies a migrated template (tests/conftest.py)
    return (
        text
        + "\n[tool.mutmut]\n"
        + f"source_paths = {json.dumps(list(TREE[:4]))}\n"
        + f"only_mutate = {json.dumps(list(area.modules))}\n"
        + 'also_copy = ["templates", "static", "manage.py", "docs"]\n'
        + f"pytest_add_cli_args_test_selection = {json.dumps(selection)}\n"
        + f"pytest_add_cli_args = {json.dumps(extra)}\n"
        + "use_git_change_detection = false\n"
    )


def _stage(area: Area, again: bool) -> Path:
    """A fresh staging folder, or with `again` the previous one (its mutants and results)."""
    stage = WORK / area.stage_name
    if not again and stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True, exist_ok=True)
    for name in TREE:
        if not (stage / name).is_symlink():
            (stage / name).symlink_to(ROOT / name)
    (stage / "pyproject.toml").write_text(_pyproject(area))
    return stage


def _environment(stage: Path, area: Area) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "PYTEST_ADDOPTS"}
    }
    env |= {
        "DJANGO_ALLOW_ASYNC_UNSAFE": "true",
        "OPREADY_VAR_DIR": str(stage / "var"),
        "MEDIA_ROOT": str(stage / "var" / "media"),
        "OPREADY_CELERY_QUEUE": f"opready-mutate-{area.name}",
        "OPREADY_MUTATE_EXAMPLES": str(EXAMPLES),
    }
    if area.database:
        template = stage / "var" / "template.sqlite3"
        template.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [str(VENV / "python"), "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env | {"DATABASE_URL": f"sqlite:///{template}"},
            check=True,
        )
        env["OPREADY_MUTATE_DB_TEMPLATE"] = str(template)
    return env


def _codes(stage: Path) -> dict[str, int | None]:
    """Every mutant's last exit code, by name."""
    codes: dict[str, int | None] = {}
    for meta in (stage / "mutants").rglob("*.py.meta"):
        codes |= json.loads(meta.read_text())["exit_code_by_key"]
    return codes


def _scores(
    stage: Path, area: Area, earlier: dict[str, int | None] | None = None
) -> dict[str, Score]:
    """Scores per module; with `earlier`, a mutant that has no result now keeps its earlier one
    (mutmut forgets every result when an area's test list changes, and --again reruns only
    the survivors)."""
    scores: dict[str, Score] = {}
    for meta in sorted((stage / "mutants").rglob("*.py.meta")):
        module = str(meta.relative_to(stage / "mutants"))[: -len(".meta")]
        if not any(fnmatch.fnmatch(module, pattern) for pattern in area.modules):
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if earlier:
            codes = {n: c if c is not None else earlier.get(n) for n, c in codes.items()}
        score = Score()
        for name, code in sorted(codes.items()):
            if not area.wanted(name):
                continue
            if SAMPLE and name[-1] not in SAMPLE:
                continue
            if code in SKIPPED:
                continue
            score.total += 1
            if code in KILLED:
                score.killed += 1
            else:
                score.survivors.append(name)
        if score.total:
            scores[module] = score
    return scores


def _wilson(killed: int, total: int) -> tuple[float, float]:
    """The 95% Wilson interval of a sampled score, in percent."""
    if not total:
        return 0.0, 100.0
    z, p = 1.96, killed / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * ((p * (1 - p) + z * z / (4 * total)) / total) ** 0.5 / (1 + z * z / total)
    return 100 * (centre - half), 100 * (centre + half)


def _diff(stage: Path, env: dict[str, str], name: str) -> str:
    shown = subprocess.run(
        [str(VENV / "mutmut"), "show", name], cwd=stage, env=env, capture_output=True, text=True
    ).stdout
    lines = [
        line
        for line in shown.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return " | ".join(line.strip() for line in lines)[:300]


def run(
    area: Area, children: int, out: list[str], again: bool = False, reuse: bool = False
) -> bool:
    print(f"\n=== {area.name}: {', '.join(area.modules)} (target {area.target:.0f}%)", flush=True)
    again = again and (WORK / area.stage_name / "mutants").is_dir()
    reuse = reuse and (WORK / area.stage_name / "mutants").is_dir()
    stage = _stage(area, again or reuse)
    env = _environment(stage, area)
    started = time.monotonic()
    command = ["nice", "-n", "10", str(VENV / "mutmut"), "run", "--max-children", str(children)]
    survivors: list[str] = []
    earlier: dict[str, int | None] = {}
    if again:
        # Only the previous run's survivors run again (against the tests as they are now);
        # every other result stands. The mutated modules must not have changed since.
        earlier = _codes(stage)
        survivors = [n for s in _scores(stage, area).values() for n in s.survivors]
        print(f"running the {len(survivors)} survivors of the previous run again", flush=True)
        command += survivors
    elif reuse:
        # Only the mutants (of the sample, if sampling) that have no result yet: a run that
        # was stopped carries on where it stopped; every result it has stands.
        earlier = _codes(stage)
        pending = [
            n
            for n, code in sorted(earlier.items())
            if code is None and (not SAMPLE or n[-1] in SAMPLE) and area.wanted(n)
        ]
        print(f"running the {len(pending)} mutants without a result", flush=True)
        command += pending
        survivors = pending
    elif SAMPLE:
        # A systematic sample: the mutants whose number (mutmut numbers each function's
        # mutants 1, 2, 3, ...) ends in one of these digits, in every function of the area.
        globs = area.narrow or area.only or ("*",)
        command += [f"{g}__mutmut_*{d}" for g in globs for d in SAMPLE]
    else:
        command += list(area.narrow or area.only)
    if not (again or reuse) or survivors:
        with open(stage / "mutmut.log", "a" if again or reuse else "w") as log:
            subprocess.run(command, cwd=stage, env=env, stdout=log, stderr=subprocess.STDOUT)
    minutes = (time.monotonic() - started) / 60
    scores = _scores(stage, area, earlier)
    if not scores:
        print(f"mutmut produced no results; see {stage / 'mutmut.log'}")
        out.append(f"## {area.name}\n\nno results (see var/mutate/{area.stage_name}/mutmut.log)\n")
        return False
    killed = sum(s.killed for s in scores.values())
    total = sum(s.total for s in scores.values())
    overall = 100.0 * killed / total if total else 100.0
    out.append(f"## {area.name} ({overall:.1f}%, target {area.target:.0f}%, {minutes:.0f} min)\n")
    out.append("| module | killed | mutants | score |\n|---|---|---|---|")
    for module, score in scores.items():
        line = f"{module:55} {score.killed:5d} / {score.total:5d}  {score.percent:5.1f}%"
        print(line)
        out.append(f"| {module} | {score.killed} | {score.total} | {score.percent:.1f}% |")
    print(f"{area.name}: {killed} / {total} killed, {overall:.1f}% in {minutes:.1f} min")
    if SAMPLE:
        low, high = _wilson(killed, total)
        sampled = f"sample of {len(SAMPLE)} in 10 (numbers ending in {SAMPLE})"
        print(f"{area.name}: {sampled}; 95% range {low:.1f}% to {high:.1f}%")
        out.append(f"{sampled}; 95% range of the whole area's score: {low:.1f}% to {high:.1f}%\n")
    out.append("\nSurvivors:\n")
    for score in scores.values():
        for name in score.survivors:
            diff = _diff(stage, env, name)
            print(f"  survived {name}: {diff}")
            out.append(f"- `{name}`: `{diff}`")
    out.append("")
    return overall >= area.target


def main(argv: list[str]) -> int:
    names = set(argv)
    again, reuse = "--again" in names, "--reuse" in names
    names -= {"--again", "--reuse"}
    unknown = names - {a.name for a in AREAS}
    if unknown:
        print(f"unknown area(s): {', '.join(sorted(unknown))}; areas: "
              + ", ".join(a.name for a in AREAS))  # fmt: skip
        return 2
    if ONLY and not names:
        print("MUTATE_ONLY narrows one area's run: name the area (scoring, access, ...).")
        return 2
    children = int(os.environ.get("MUTATE_CHILDREN", "2"))
    WORK.mkdir(parents=True, exist_ok=True)
    report = ["# Mutation scores (make mutate)\n"]
    ok = True
    for area in AREAS:
        if names and area.name not in names:
            continue
        if ONLY:
            area = replace(area, narrow=ONLY)
        ok = run(area, children, report, again, reuse) and ok
    (WORK / "report.md").write_text("\n".join(report) + "\n")
    print(f"\nReport: {WORK / 'report.md'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
