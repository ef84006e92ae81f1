"""The detector catalogue (detectors.yaml): loading, validation and path globs.

The catalogue is data. Each repository detector (`repo.*`) says what it matches: path globs,
dependency names in manifests, bounded content patterns, or one named built-in check (for
rules that need parsing, such as workflow token permissions). Measures (`history.*`,
`github.*`, `delivery.*`) are computed in code; the catalogue declares their capability,
title and strength so there is one list of every detector id. Loading validates everything
and reports all problems at once (CatalogueError).

Globs are matched case-insensitively against repository paths: `*` and `?` stay within one
path segment, `**/` matches any number of directories, `{a,b}` alternatives, `[...]` classes.
A glob without a `/` matches only at the repository root (`Dockerfile`); use `**/Dockerfile`
for anywhere.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from assessments.scans.engine.model import CAPABILITIES, Finding, Pointer, Status

CATALOGUE_PATH = Path(__file__).with_name("detectors.yaml")
ECOSYSTEMS = ("python", "javascript", "go", "java", "ruby", "rust")
CHECKS = ("workflow-permissions", "dangerous-workflow", "pinned-actions")
MeasureSource = Literal["history", "github", "delivery"]

_REPO_ID = re.compile(r"^repo\.[a-z0-9]+(-[a-z0-9]+)*$")
_MEASURE_ID = re.compile(r"^(history|github|delivery)\.[a-z0-9]+(-[a-z0-9]+)*$")
_DETECTOR_KEYS = {
    "id",
    "capability",
    "also",
    "title",
    "strength",
    "description",
    "matches",
    "group",
}
_MEASURE_KEYS = {"id", "capability", "also", "title", "strength", "description"}
_MATCH_KEYS = {"paths", "dependencies", "content", "check", "remote_workflows"}
_CONTENT_KEYS = {"files", "pattern", "max_kb", "ignore_case"}


class CatalogueError(ValueError):
    """The catalogue is invalid; `problems` lists every problem found, one line each."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"{source}: {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the detector catalogue:\n{lines}")


@dataclass(frozen=True)
class ContentRule:
    files: tuple[str, ...]
    pattern: re.Pattern[str]
    max_bytes: int | None  # None: Limits.content_scan_bytes


@dataclass(frozen=True)
class Detector:
    id: str
    capability: str
    also: tuple[str, ...]
    title: str
    strength: int
    description: str
    paths: tuple[str, ...]
    dependencies: Mapping[str, tuple[str, ...]]
    content: tuple[ContentRule, ...]
    check: str | None
    # Detectors sharing a group are alternatives (GitHub Actions or Jenkins): evidence reads
    # them as one fact, in place when any one is found. "" for a detector on its own.
    group: str = ""
    # True: when nothing matched and a workflow calls a reusable workflow of another
    # repository (which the scan cannot read), the detector could not determine.
    remote_workflows: bool = False

    @property
    def capabilities(self) -> tuple[str, ...]:
        return (self.capability, *self.also)


@dataclass(frozen=True)
class Measure:
    id: str
    capability: str
    also: tuple[str, ...]
    title: str
    strength: int
    description: str

    @property
    def source(self) -> MeasureSource:
        prefix = self.id.split(".", 1)[0]
        assert prefix in ("history", "github", "delivery")
        return prefix  # type: ignore[return-value]

    @property
    def capabilities(self) -> tuple[str, ...]:
        return (self.capability, *self.also)

    def findings(self, status: Status, detail: str, evidence: Sequence[Pointer]) -> list[Finding]:
        """One finding per capability this measure speaks to, all with the same outcome."""
        return [
            Finding(self.id, capability, status, self.strength, self.title, detail, tuple(evidence))
            for capability in self.capabilities
        ]


@dataclass(frozen=True)
class Catalogue:
    detectors: tuple[Detector, ...]
    measures: tuple[Measure, ...]
    ignore: tuple[str, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.detectors) + tuple(m.id for m in self.measures)

    def measure(self, detector_id: str) -> Measure:
        for measure in self.measures:
            if measure.id == detector_id:
                return measure
        raise KeyError(detector_id)


# -- YAML with duplicate keys refused ------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _value in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first on line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    loader.flatten_mapping(node)
    return dict(loader.construct_pairs(node))


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


# -- loading -------------------------------------------------------------------------------


@functools.cache
def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    """The catalogue at `path` (the shipped one by default), validated, loaded once."""
    return load_catalogue_text(path.read_text(encoding="utf-8"), source=str(path.name))


def load_catalogue_text(text: str, *, source: str = "<catalogue>") -> Catalogue:
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass  # nosec B506
    except yaml.YAMLError as exc:
        raise CatalogueError(source, [f"invalid YAML: {exc}"]) from None
    problems: list[str] = []
    if not isinstance(data, dict):
        raise CatalogueError(source, ["the document must be a mapping"])
    unknown = set(data) - {"version", "ignore", "detectors", "measures"}
    problems += [f"unknown top-level key {key!r}" for key in sorted(map(str, unknown))]
    ignore = _globs(data.get("ignore", []), "ignore", problems)
    seen: set[str] = set()
    detectors: list[Detector] = []
    for index, raw in enumerate(_list(data.get("detectors"), "detectors", problems)):
        detector = _detector(raw, f"detectors[{index}]", problems, seen)
        if detector is not None:
            detectors.append(detector)
    measures: list[Measure] = []
    for index, raw in enumerate(_list(data.get("measures", []), "measures", problems)):
        measure = _measure(raw, f"measures[{index}]", problems, seen)
        if measure is not None:
            measures.append(measure)
    if problems:
        raise CatalogueError(source, problems)
    return Catalogue(tuple(detectors), tuple(measures), tuple(ignore))


def _list(value: Any, where: str, problems: list[str]) -> list[Any]:
    if not isinstance(value, list):
        problems.append(f"{where}: must be a list")
        return []
    return value


def _common(
    raw: Any,
    where: str,
    allowed: set[str],
    id_pattern: re.Pattern[str],
    id_hint: str,
    problems: list[str],
    seen: set[str],
) -> tuple[str, str, tuple[str, ...], str, int, str] | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    ident = raw.get("id")
    if isinstance(ident, str):
        where = f"{where} ({ident})"
    for key in sorted(set(map(str, raw)) - allowed):
        problems.append(f"{where}: unknown key {key!r}; allowed: {', '.join(sorted(allowed))}")
    ok = True
    if not isinstance(ident, str) or not id_pattern.match(ident):
        problems.append(f"{where}.id: must look like {id_hint}")
        ok = False
    elif ident in seen:
        problems.append(f"{where}.id: duplicate detector id {ident!r}")
        ok = False
    else:
        seen.add(ident)
    capability = raw.get("capability")
    if capability not in CAPABILITIES:
        problems.append(f"{where}.capability: unknown capability {capability!r}")
        ok = False
    also_raw = raw.get("also", [])
    also: list[str] = []
    if not isinstance(also_raw, list):
        problems.append(f"{where}.also: must be a list of capability ids")
        ok = False
    else:
        for item in also_raw:
            if item not in CAPABILITIES:
                problems.append(f"{where}.also: unknown capability {item!r}")
                ok = False
            elif item == capability or item in also:
                problems.append(f"{where}.also: {item!r} is listed twice")
                ok = False
            else:
                also.append(item)
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append(f"{where}.title: must be a non-empty text")
        ok = False
    strength = raw.get("strength")
    if isinstance(strength, bool) or strength not in (1, 2, 3):
        problems.append(f"{where}.strength: must be 1, 2 or 3")
        ok = False
    description = raw.get("description", "")
    if not isinstance(description, str):
        problems.append(f"{where}.description: must be text")
        ok = False
    if not ok:
        return None
    assert isinstance(ident, str) and isinstance(capability, str) and isinstance(title, str)
    assert isinstance(strength, int) and isinstance(description, str)
    return ident, capability, tuple(also), title.strip(), strength, description.strip()


def _detector(raw: Any, where: str, problems: list[str], seen: set[str]) -> Detector | None:
    common = _common(
        raw, where, _DETECTOR_KEYS, _REPO_ID, "repo.<lower-case-words>", problems, seen
    )
    matches = raw.get("matches") if isinstance(raw, dict) else None
    if common is None:
        return None
    ident = common[0]
    where = f"{where} ({ident}).matches"
    if not isinstance(matches, dict) or not matches:
        problems.append(f"{where}: must be a mapping with paths, dependencies, content or check")
        return None
    for key in sorted(set(map(str, matches)) - _MATCH_KEYS):
        problems.append(f"{where}: unknown key {key!r}; allowed: {', '.join(sorted(_MATCH_KEYS))}")
    paths = tuple(_globs(matches.get("paths", []), f"{where}.paths", problems))
    dependencies = _dependencies(matches.get("dependencies", {}), f"{where}.dependencies", problems)
    content = _content(matches.get("content", []), f"{where}.content", problems)
    check = matches.get("check")
    if check is not None:
        if check not in CHECKS:
            problems.append(f"{where}.check: unknown check {check!r}; known: {', '.join(CHECKS)}")
        if paths or dependencies or content:
            problems.append(
                f"{where}: a check cannot be combined with paths, dependencies or content"
            )
    elif not (paths or dependencies or content):
        problems.append(f"{where}: matches nothing (give paths, dependencies, content or check)")
    group = raw.get("group", "")
    if not isinstance(group, str) or (group and not group.strip()):
        problems.append(f"{where[: -len('.matches')]}.group: must be a short non-empty label")
        group = ""
    remote = matches.get("remote_workflows", False)
    if not isinstance(remote, bool):
        problems.append(f"{where}.remote_workflows: must be true or false")
    return Detector(
        id=ident,
        capability=common[1],
        also=common[2],
        title=common[3],
        strength=common[4],
        description=common[5],
        paths=paths,
        dependencies=dependencies,
        content=content,
        check=check if isinstance(check, str) else None,
        group=group.strip(),
        remote_workflows=remote is True,
    )


def _measure(raw: Any, where: str, problems: list[str], seen: set[str]) -> Measure | None:
    common = _common(
        raw,
        where,
        _MEASURE_KEYS,
        _MEASURE_ID,
        "history.<x>, github.<x> or delivery.<x>",
        problems,
        seen,
    )
    if common is None:
        return None
    return Measure(*common)


def glob_problem(glob: str) -> str | None:
    if not glob or glob != glob.strip():
        return "must be a non-empty glob without surrounding spaces"
    if glob.startswith("/") or "\\" in glob:
        return "must be relative and use '/'"
    if ".." in glob.split("/"):
        return "must not contain '..'"
    if glob.count("{") != glob.count("}") or glob.count("[") != glob.count("]"):
        return "has unbalanced braces or brackets"
    try:
        for expanded in expand_braces(glob):
            re.compile(glob_to_regex(expanded))
    except re.error as exc:
        return f"is not a valid glob ({exc})"
    return None


def _globs(value: Any, where: str, problems: list[str]) -> list[str]:
    if not isinstance(value, list):
        problems.append(f"{where}: must be a list of globs")
        return []
    out = []
    for item in value:
        problem = glob_problem(item) if isinstance(item, str) else "must be text"
        if problem:
            problems.append(f"{where}: {item!r} {problem}")
        else:
            out.append(item)
    return out


def normalise_dependency(ecosystem: str, name: str) -> str:
    """Dependency names compare case-insensitively; Python and Rust treat -, _ and . alike."""
    name = name.strip().lower()
    if ecosystem == "python":
        return re.sub(r"[-_.]+", "-", name)
    if ecosystem == "rust":
        return name.replace("_", "-")
    return name


def _dependencies(value: Any, where: str, problems: list[str]) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        problems.append(f"{where}: must map an ecosystem to a list of names")
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for ecosystem, names in value.items():
        if ecosystem not in ECOSYSTEMS:
            problems.append(
                f"{where}: unknown ecosystem {ecosystem!r}; known: {', '.join(ECOSYSTEMS)}"
            )
            continue
        if (
            not isinstance(names, list)
            or not names
            or not all(isinstance(n, str) and n.strip() for n in names)
        ):
            problems.append(f"{where}.{ecosystem}: must be a non-empty list of names")
            continue
        normalised = [normalise_dependency(ecosystem, n) for n in names]
        if len(set(normalised)) != len(normalised):
            problems.append(f"{where}.{ecosystem}: a name is listed twice")
        out[ecosystem] = tuple(normalised)
    return out


def _content(value: Any, where: str, problems: list[str]) -> tuple[ContentRule, ...]:
    if not isinstance(value, list):
        problems.append(f"{where}: must be a list of rules")
        return ()
    rules = []
    for index, raw in enumerate(value):
        at = f"{where}[{index}]"
        if not isinstance(raw, dict):
            problems.append(f"{at}: must be a mapping with files and pattern")
            continue
        for key in sorted(set(map(str, raw)) - _CONTENT_KEYS):
            problems.append(
                f"{at}: unknown key {key!r}; allowed: {', '.join(sorted(_CONTENT_KEYS))}"
            )
        files = _globs(raw.get("files"), f"{at}.files", problems)
        if not files:
            problems.append(f"{at}.files: give at least one glob (content is searched only there)")
        pattern = raw.get("pattern")
        flags = re.MULTILINE | (re.IGNORECASE if raw.get("ignore_case", False) is True else 0)
        if not isinstance(raw.get("ignore_case", False), bool):
            problems.append(f"{at}.ignore_case: must be true or false")
        compiled = None
        if not isinstance(pattern, str) or not pattern:
            problems.append(f"{at}.pattern: must be a non-empty regular expression")
        else:
            try:
                compiled = re.compile(pattern, flags)
            except re.error as exc:
                problems.append(f"{at}.pattern: bad regular expression ({exc})")
        max_kb = raw.get("max_kb")
        if max_kb is not None and (
            isinstance(max_kb, bool) or not isinstance(max_kb, int) or not 1 <= max_kb <= 1024
        ):
            problems.append(f"{at}.max_kb: must be a whole number from 1 to 1024")
            max_kb = None
        if compiled is not None and files:
            rules.append(
                ContentRule(tuple(files), compiled, None if max_kb is None else max_kb * 1024)
            )
    return tuple(rules)


# -- globs ---------------------------------------------------------------------------------


def expand_braces(glob: str) -> list[str]:
    """`a/{b,c}/*.{yml,yaml}` -> four globs. Nested braces are expanded too."""
    start = glob.find("{")
    if start < 0:
        return [glob]
    depth = 0
    for end in range(start, len(glob)):
        if glob[end] == "{":
            depth += 1
        elif glob[end] == "}":
            depth -= 1
            if depth == 0:
                break
    else:
        raise re.error("unbalanced '{'")
    inner, options, depth, current = glob[start + 1 : end], [], 0, ""
    for char in inner:
        if char == "," and depth == 0:
            options.append(current)
            current = ""
            continue
        depth += char == "{"
        depth -= char == "}"
        current += char
    options.append(current)
    out: list[str] = []
    for option in options:
        out += expand_braces(glob[:start] + option + glob[end + 1 :])
    return out


def glob_to_regex(glob: str) -> str:
    """A regex source matching whole lower-cased paths for one brace-free glob."""
    glob = glob.lower()
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("/.*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[":
            end = glob.find("]", i + 2)
            if end < 0:
                raise re.error("unbalanced '['")
            body = glob[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)


_WILD = re.compile(r"[*?\[]")
_SIMPLE_SUFFIX = re.compile(r"^\*(\.[^*?\[/]+)$")


class GlobSet:
    """Many globs, each tagged with a key, matched against paths in one call.

    Most globs end in a literal file name or `*.<suffix>`, so they are indexed by name and
    suffix and only those candidates run a regex; the rest are tried one by one behind a
    cheap literal-substring filter. This keeps a 100k-file tree fast.
    """

    def __init__(self) -> None:
        self._by_name: dict[str, list[tuple[re.Pattern[str], object]]] = {}
        self._by_suffix: dict[str, list[tuple[re.Pattern[str], object]]] = {}
        self._other: list[tuple[str, re.Pattern[str], object]] = []

    def add(self, glob: str, key: object) -> None:
        for expanded in expand_braces(glob):
            regex = re.compile(glob_to_regex(expanded))
            last = expanded.lower().rsplit("/", 1)[-1]
            suffix = _SIMPLE_SUFFIX.match(last)
            if not _WILD.search(last):
                self._by_name.setdefault(last, []).append((regex, key))
            elif suffix:
                self._by_suffix.setdefault(suffix.group(1), []).append((regex, key))
            else:
                # Every literal run (outer slashes dropped: `**/` may match nothing) must
                # occur in a matching path, so the longest one is a safe pre-filter.
                pieces = re.split(r"\*\*|[*?]|\[[^\]]*\]", expanded.lower())
                literals = [part.strip("/") for part in pieces if part.strip("/")]
                hint = max(literals, key=len) if literals else ""
                self._other.append((hint, regex, key))

    def match(self, path: str) -> Iterator[object]:
        """Every key whose glob matches `path` (a key may repeat if several globs match)."""
        lower = path.lower()
        name = lower.rsplit("/", 1)[-1]
        for regex, key in self._by_name.get(name, ()):
            if regex.fullmatch(lower):
                yield key
        dot = name.find(".")
        while dot >= 0:
            for regex, key in self._by_suffix.get(name[dot:], ()):
                if regex.fullmatch(lower):
                    yield key
            dot = name.find(".", dot + 1)
        for hint, regex, key in self._other:
            if hint in lower and regex.fullmatch(lower):
                yield key


@functools.cache
def practice_titles() -> dict[str, str]:
    """Each detector's and measure's id -> the practice it looks for, as users read it."""
    catalogue = load_catalogue()
    titles = {d.id: d.title for d in catalogue.detectors}
    return titles | {m.id: m.title for m in catalogue.measures}
