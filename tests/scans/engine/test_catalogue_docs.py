"""docs/scans.md's detector tables are generated from the catalogue and must not drift."""

from __future__ import annotations

from pathlib import Path

from assessments.scans.engine.catalogue_docs import catalogue_tables, rewrite
from assessments.scans.engine.detectors import load_catalogue

DOC = Path(__file__).resolve().parents[3] / "docs" / "scans.md"


def test_the_detector_tables_in_the_docs_match_the_catalogue() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert rewrite(DOC) == text, (
        "docs/scans.md differs from the catalogue: run "
        "`python -m assessments.scans.engine.catalogue_docs docs/scans.md`"
    )


def test_every_detector_and_measure_has_a_row_saying_what_absent_and_unknown_mean() -> None:
    tables = catalogue_tables()
    catalogue = load_catalogue()
    for detector in catalogue.detectors:
        (row,) = [line for line in tables.splitlines() if line.startswith(f"| `{detector.id}` |")]
        cells = row.split(" | ")
        assert len(cells) == 8 and all(cell.strip() for cell in cells), detector.id
    for measure in catalogue.measures:
        assert f"| `{measure.id}` |" in tables
