"""The catalogue table: per-row checks and the CSV/XLSX round trip."""

from __future__ import annotations

from assessments.processes.core import table


def test_a_row_with_any_problem_imports_nothing_and_says_why() -> None:
    header = list(table.COLUMNS)
    rows = [
        (2, {"name": "Good", "runs_per_week": "5", "verification": "checklist"}),
        (3, {"name": "Bad", "runs_per_week": "lots", "verification": "maybe", "team": "Nope"}),
        (4, {"name": "", "runs_per_week": "1"}),
        (5, {"name": "good"}),
        (6, {"name": "Steps", "steps": "A @ X [API] | B [teleport]"}),
        (7, {"name": "Link", "doc_url": "javascript:alert(1)"}),
    ]
    parsed = table.parse_rows(header, rows, teams={"Platform"})
    assert [r.name for r in parsed.rows] == ["Good"]
    messages = [str(p) for p in parsed.problems]
    assert "Row 3, column runs_per_week: 'lots' is not a number of runs a week" in messages
    assert any(m.startswith("Row 3, column verification") for m in messages)
    assert "Row 3, column team: no team named 'Nope' in this organisation" in messages
    assert "Row 4, column name: a process needs a name" in messages
    assert "Row 5, column name: the process 'good' is already in row 2" in messages
    assert any(m.startswith("Row 6, column steps: unknown step flag [teleport]") for m in messages)
    assert "Row 7, column doc_url: not an http(s) link" in messages


def test_steps_cell_reads_systems_api_and_decisions() -> None:
    steps = table.parse_steps("Export @ Okta [API] | Compare @ Workday [no API]\nDecide [decides]")
    assert steps == (
        table.StepRow("Export", "Okta", "yes", False),
        table.StepRow("Compare", "Workday", "no", False),
        table.StepRow("Decide", "", "unknown", True),
    )
    assert table.parse_steps(table.format_steps(steps)) == steps


def _round_trip(data: bytes, name: str) -> table.ParsedTable:
    header, rows = table.read_table(data, name)
    return table.parse_rows(header, rows, teams={"Platform"})


def test_csv_and_xlsx_round_trip_including_formula_like_text() -> None:
    rows = [
        table.EXAMPLE,
        table.ProcessRow(
            row_number=3,
            name='=HYPERLINK("http://evil")',
            team="Platform",
            owner="+owner",
            steps=(table.StepRow("-step", "@sys", "no", True),),
            runs_per_week=12.5,
            error_rate=0,
            verification="automated",
            reversibility="irreversible",
            blast_radius=4,
            recording="trace",
        ),
    ]
    for data, name in ((table.write_csv(rows), "x.csv"), (table.write_xlsx(rows), "x.xlsx")):
        parsed = _round_trip(data, name)
        assert parsed.problems == ()
        got = [r.__class__(**{**r.__dict__, "row_number": 0}) for r in parsed.rows]
        want = [r.__class__(**{**r.__dict__, "row_number": 0}) for r in rows]
        assert got == want, name
    assert b"'=HYPERLINK" in table.write_csv(rows)


def test_template_imports_cleanly() -> None:
    for data, name in (
        (table.write_csv([table.EXAMPLE]), "t.csv"),
        (table.write_xlsx([table.EXAMPLE], with_help=True), "t.xlsx"),
    ):
        parsed = _round_trip(data, name)
        assert parsed.problems == () and parsed.rows[0].name == "Monthly access review"
