"""The catalogue as a table: one row per process, read from and written to CSV or XLSX.

A row is checked as a whole: a row with any problem imports nothing and gets one message per
problem (row number as a spreadsheet shows it, the header being row 1). Steps sit in one cell,
separated by "|" or new lines, each written `name @ system [API] [decides]`, for example
`Check the budget @ SAP [no API] [decides]`.

Cells a spreadsheet could read as a formula are written with a leading apostrophe, and that
apostrophe is removed again on import, so an export imports back unchanged.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

COLUMNS = (
    "name",
    "team",
    "owner",
    "trigger",
    "outcome",
    "steps",
    "runs_per_week",
    "minutes_per_run",
    "error_rate_percent",
    "verification",
    "reversibility",
    "blast_radius",
    "doc_url",
    "recording",
)
REQUIRED = ("name",)
MAX_ROWS = 2000
MAX_BYTES = 5 * 1024 * 1024
MAX_STEPS = 50

VERIFICATION = {
    "automated": ("automated", "automated tests or checks", "tests", "automated checks"),
    "checklist": ("checklist", "a checklist"),
    "sign_off": ("sign_off", "sign-off", "signoff", "human sign-off", "a person signs it off"),
    "none": ("none", "nothing", ""),
}
REVERSIBILITY = {
    "reversible": ("reversible", "fully reversible", "yes"),
    "effort": ("effort", "reversible with effort", "partly"),
    "irreversible": ("irreversible", "cannot be undone", "no"),
}
RECORDING = {
    "none": ("none", "no", ""),
    "recording": ("recording", "a recording or walkthrough of a run", "walkthrough", "video"),
    "trace": ("trace", "an event log or trace", "event log", "log"),
}
BLAST = {
    1: ("1", "one person or team", "team"),
    2: ("2", "several teams", "teams", "internal"),
    3: ("3", "customers or partners", "customers"),
    4: ("4", "money, legal or safety", "critical"),
}
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
_LIMITS = {
    "name": 200,
    "team": 120,
    "owner": 200,
    "trigger": 500,
    "outcome": 500,
    "doc_url": 500,
}


class TableError(ValueError):
    """The file as a whole cannot be read (not the row-by-row problems)."""


@dataclass(frozen=True)
class StepRow:
    name: str
    system: str = ""
    api: str = "unknown"
    decides: bool = False


@dataclass(frozen=True)
class ProcessRow:
    row_number: int
    name: str
    team: str = ""
    owner: str = ""
    trigger: str = ""
    outcome: str = ""
    steps: tuple[StepRow, ...] = ()
    runs_per_week: float | None = None
    minutes_per_run: float | None = None
    error_rate: float | None = None  # percent
    verification: str = "none"
    reversibility: str = "effort"
    blast_radius: int = 2
    doc_url: str = ""
    recording: str = "none"


@dataclass(frozen=True)
class RowProblem:
    row_number: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f", column {self.column}" if self.column else ""
        return f"Row {self.row_number}{where}: {self.message}"


@dataclass(frozen=True)
class ParsedTable:
    rows: tuple[ProcessRow, ...]
    problems: tuple[RowProblem, ...]
    total_rows: int
    unknown_columns: tuple[str, ...] = field(default=())


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_COLUMN_KEYS = {_key(c): c for c in COLUMNS} | {
    "process": "name",
    "processname": "name",
    "errorrate": "error_rate_percent",
    "errorratepercent": "error_rate_percent",
    "verifiedby": "verification",
    "blastradiusofamistake": "blast_radius",
    "documentation": "doc_url",
    "doclink": "doc_url",
    "whereitiswrittendown": "doc_url",
    "recordingortrace": "recording",
    "runsweek": "runs_per_week",
    "volumeperweek": "runs_per_week",
    "minutesofhumanworkperrun": "minutes_per_run",
}


def unescape(value: str) -> str:
    if value.startswith("'") and value[1:2] and (value[1:].startswith(_DANGEROUS)):
        return value[1:]
    return value


def escape(value: Any) -> Any:
    if isinstance(value, str) and value and (value.startswith(_DANGEROUS) or ord(value[0]) < 32):
        return "'" + value
    return value


# --- Reading files ----------------------------------------------------------------------------


def read_csv(data: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    if len(data) > MAX_BYTES:
        raise TableError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise TableError("The file is empty.") from None
    except csv.Error as exc:
        raise TableError(f"The CSV file could not be read ({exc}).") from None
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= MAX_ROWS:
                raise TableError(f"The file has more than {MAX_ROWS} processes.")
            rows.append((number, dict(zip(header, record, strict=False))))
    except csv.Error as exc:
        raise TableError(f"The CSV file could not be read ({exc}).") from None
    return header, rows


def read_xlsx(data: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    from openpyxl import load_workbook

    if len(data) > MAX_BYTES:
        raise TableError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a broken file
        raise TableError("The file is not a readable XLSX workbook.") from None
    try:
        sheet = book["Processes"] if "Processes" in book.sheetnames else book.worksheets[0]
        values = sheet.iter_rows(values_only=True)
        try:
            header = [str(h or "").strip() for h in next(values)]
        except StopIteration:
            raise TableError("The workbook's first sheet is empty.") from None
        rows: list[tuple[int, dict[str, str]]] = []
        for number, record in enumerate(values, start=2):
            cells = ["" if v is None else _xlsx_text(v) for v in record]
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise TableError(f"The file has more than {MAX_ROWS} processes.")
            rows.append((number, dict(zip(header, cells, strict=False))))
    finally:
        book.close()
    return header, rows


def _xlsx_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_table(data: bytes, filename: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and rows of a CSV or XLSX file (told apart by content, not by name)."""
    if data[:4] == b"PK\x03\x04":
        return read_xlsx(data)
    if filename.lower().endswith(".xlsx"):
        raise TableError("This is not an XLSX workbook (checked by its content, not its name).")
    if b"\x00" in data[:4096]:
        raise TableError("This is not a CSV file (it holds binary data).")
    return read_csv(data)


# --- Checking rows ----------------------------------------------------------------------------


def _choice(value: str, options: Mapping[Any, Sequence[str]]) -> Any:
    wanted = value.strip().lower()
    for code, names in options.items():
        if wanted in names:
            return code
    raise ValueError


def _number(value: str, *, low: float, high: float) -> float | None:
    text = value.strip().replace(",", ".").rstrip("%").strip()
    if not text:
        return None
    number = float(text)  # ValueError for text
    if number != number or not low <= number <= high:  # NaN, or out of range
        raise ValueError
    return number


_STEP_FLAG = re.compile(r"\[([^\]]*)\]")


def parse_steps(cell: str) -> tuple[StepRow, ...]:
    """`name @ system [API] [decides]` per step, separated by "|" or new lines."""
    steps = []
    for raw in re.split(r"\s*(?:\||\n)\s*", cell.strip()):
        if not raw.strip():
            continue
        flags = [f.strip().lower() for f in _STEP_FLAG.findall(raw)]
        text = _STEP_FLAG.sub("", raw).strip()
        name, _sep, system = text.partition("@")
        api = "unknown"
        decides = False
        for flag in flags:
            if flag in ("api", "has api", "api: yes", "api=yes"):
                api = "yes"
            elif flag in ("no api", "api: no", "api=no"):
                api = "no"
            elif flag in ("api?", "api: unknown", "api=unknown", "api not known"):
                api = "unknown"
            elif flag in ("decides", "decision", "person decides"):
                decides = True
            else:
                raise ValueError(f"unknown step flag [{flag}]; use [API], [no API] or [decides]")
        if not name.strip():
            raise ValueError(f"a step without a name ({raw.strip()[:60]!r})")
        if len(name.strip()) > 200 or len(system.strip()) > 200:
            raise ValueError("a step name or system is longer than 200 characters")
        steps.append(StepRow(name.strip(), system.strip(), api, decides))
    if len(steps) > MAX_STEPS:
        raise ValueError(f"more than {MAX_STEPS} steps")
    return tuple(steps)


def format_steps(steps: Iterable[StepRow]) -> str:
    out = []
    for s in steps:
        text = s.name + (f" @ {s.system}" if s.system else "")
        if s.api == "yes":
            text += " [API]"
        elif s.api == "no":
            text += " [no API]"
        if s.decides:
            text += " [decides]"
        out.append(text)
    return " | ".join(out)


def _url(value: str) -> str:
    text = value.strip()
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError
    return text


def parse_rows(
    header: Sequence[str], rows: Sequence[tuple[int, Mapping[str, str]]], *, teams: set[str]
) -> ParsedTable:
    """Check every row; `teams` are the organisation's team names (a row may name one)."""
    columns: dict[str, str] = {}
    unknown = []
    for column in header:
        target = _COLUMN_KEYS.get(_key(column))
        if target is None:
            if column.strip():
                unknown.append(column)
        elif target not in columns:
            columns[target] = column
    if "name" not in columns:
        raise TableError(
            "The file has no 'name' column. Download the template to see the columns: "
            + ", ".join(COLUMNS)
            + "."
        )
    team_names = {t.lower(): t for t in teams}
    good: list[ProcessRow] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for number, raw in rows:

        def cell(name: str, raw: Mapping[str, str] = raw) -> str:
            column = columns.get(name)
            return unescape(str(raw.get(column, "") or "")).strip() if column else ""

        row_problems: list[RowProblem] = []

        def bad(
            column: str, message: str, number: int = number, found: list[RowProblem] = row_problems
        ) -> None:
            found.append(RowProblem(number, column, message))

        values: dict[str, Any] = {}
        for name, limit in _LIMITS.items():
            text = cell(name)
            if len(text) > limit:
                bad(name, f"longer than {limit} characters")
            values[name] = text
        if not values["name"]:
            bad("name", "a process needs a name")
        elif values["name"].lower() in seen:
            bad(
                "name",
                f"the process {values['name']!r} is already in row {seen[values['name'].lower()]}",
            )
        if values["team"]:
            if values["team"].lower() not in team_names:
                bad("team", f"no team named {values['team']!r} in this organisation")
            else:
                values["team"] = team_names[values["team"].lower()]
        for name, low, high, what in (
            ("runs_per_week", 0, 1_000_000, "a number of runs a week"),
            ("minutes_per_run", 0, 100_000, "a number of minutes"),
            ("error_rate_percent", 0, 100, "a percentage from 0 to 100"),
        ):
            try:
                values[name] = _number(cell(name), low=low, high=high)
            except ValueError:
                bad(name, f"{cell(name)[:40]!r} is not {what}")
        for name, options, hint in (
            ("verification", VERIFICATION, "automated, checklist, sign_off or none"),
            ("reversibility", REVERSIBILITY, "reversible, effort or irreversible"),
            ("recording", RECORDING, "none, recording or trace"),
            ("blast_radius", BLAST, "1 (one team) to 4 (money, legal or safety)"),
        ):
            text = cell(name)
            if not text and name in ("reversibility", "blast_radius"):
                values[name] = {"reversibility": "effort", "blast_radius": 2}[name]
                continue
            try:
                values[name] = _choice(text, options)
            except ValueError:
                bad(name, f"{text[:40]!r} is not one of: {hint}")
        try:
            values["doc_url"] = _url(values["doc_url"])
        except ValueError:
            bad("doc_url", "not an http(s) link")
        try:
            values["steps"] = parse_steps(cell("steps"))
        except ValueError as exc:
            bad("steps", str(exc))
        if row_problems:
            problems += row_problems
            continue
        seen[values["name"].lower()] = number
        good.append(
            ProcessRow(
                row_number=number,
                name=values["name"],
                team=values["team"],
                owner=values["owner"],
                trigger=values["trigger"],
                outcome=values["outcome"],
                steps=values["steps"],
                runs_per_week=values["runs_per_week"],
                minutes_per_run=values["minutes_per_run"],
                error_rate=values["error_rate_percent"],
                verification=values["verification"],
                reversibility=values["reversibility"],
                blast_radius=values["blast_radius"],
                doc_url=values["doc_url"],
                recording=values["recording"],
            )
        )
    return ParsedTable(tuple(good), tuple(problems), len(rows), tuple(unknown))


# --- Writing files ----------------------------------------------------------------------------


def row_cells(row: ProcessRow) -> list[Any]:
    return [
        row.name,
        row.team,
        row.owner,
        row.trigger,
        row.outcome,
        format_steps(row.steps),
        row.runs_per_week,
        row.minutes_per_run,
        row.error_rate,
        row.verification,
        row.reversibility,
        row.blast_radius,
        row.doc_url,
        row.recording,
    ]


def write_csv(rows: Iterable[ProcessRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            [
                "" if v is None else f"{v:g}" if isinstance(v, float) else escape(v)
                for v in row_cells(row)
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8


HELP = (
    (
        "name",
        "Required. Unique within the organisation; an existing process of that name is updated.",
    ),
    (
        "team",
        "Optional: the name of one of the organisation's teams; empty for the whole organisation.",
    ),
    ("owner", "Who answers for the process."),
    ("trigger", "What starts a run (a ticket, a date, a request)."),
    ("outcome", "What a finished run produces."),
    (
        "steps",
        "Steps separated by |, each 'name @ system [API] [decides]': [API] or [no API] says whether the organisation can use the system's API; [decides] marks a step where a person decides rather than executes.",
    ),
    ("runs_per_week", "How many times it runs in a week."),
    ("minutes_per_run", "Minutes of human work in one run."),
    ("error_rate_percent", "Percent of runs with an error or rework, 0-100."),
    (
        "verification",
        "How a good run is told from a bad one: automated, checklist, sign_off or none.",
    ),
    ("reversibility", "reversible, effort or irreversible."),
    (
        "blast_radius",
        "Who a mistake reaches: 1 one person or team, 2 several teams, 3 customers or partners, 4 money, legal or safety.",
    ),
    ("doc_url", "A link to where the process is written down."),
    ("recording", "none, recording (a recording or walkthrough of a run) or trace (an event log)."),
)
EXAMPLE = ProcessRow(
    row_number=2,
    name="Monthly access review",
    owner="IT operations lead",
    trigger="First working day of the month",
    outcome="Stale accounts removed and the review filed",
    steps=(
        StepRow("Export the account list", "Okta", "yes"),
        StepRow("Compare with the HR roster", "Workday", "no"),
        StepRow("Decide which accounts to remove", "", "unknown", True),
        StepRow("Remove the accounts", "Okta", "yes"),
    ),
    runs_per_week=0.25,
    minutes_per_run=240,
    error_rate=5,
    verification="checklist",
    reversibility="effort",
    blast_radius=2,
    doc_url="https://wiki.example.com/access-review",
    recording="none",
)


def write_xlsx(rows: Iterable[ProcessRow], *, with_help: bool = False) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Processes"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([escape(v) for v in row_cells(row)])
    widths = {"name": 32, "steps": 70, "trigger": 30, "outcome": 30, "doc_url": 36}
    for index, column in enumerate(COLUMNS):
        sheet.column_dimensions[sheet.cell(1, index + 1).column_letter].width = widths.get(
            column, 16
        )
    if with_help:
        info = book.create_sheet("How to fill it in")
        info.append(["column", "what to write"])
        for cell in info[1]:
            cell.font = Font(bold=True)
        for name, text in HELP:
            info.append([name, text])
        info.column_dimensions["A"].width = 22
        info.column_dimensions["B"].width = 110
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
