"""Dependency names from package manifests, for the catalogue's `dependencies` matches.

Supported: Python (requirements*.txt, pyproject.toml, Pipfile, setup.cfg), JavaScript
(package.json), Go (go.mod), Java (pom.xml, build.gradle, build.gradle.kts, Gradle version
catalogues), Ruby (Gemfile, *.gemspec) and Rust (Cargo.toml). Parsers never execute anything
and read XML and Gradle files with bounded regular expressions (no entity expansion).
A manifest that cannot be parsed raises ManifestError: its ecosystem's dependency detectors
then report "could not determine" rather than "absent".
"""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from collections.abc import Callable, Iterable
from typing import Any

from assessments.scans.engine.detectors import normalise_dependency

# glob -> (ecosystem, parser name)
MANIFESTS: dict[str, tuple[str, str]] = {
    "**/requirements*.txt": ("python", "requirements"),
    "**/requirements/*.txt": ("python", "requirements"),
    "**/pyproject.toml": ("python", "pyproject"),
    "**/Pipfile": ("python", "pipfile"),
    "**/setup.cfg": ("python", "setupcfg"),
    "**/package.json": ("javascript", "packagejson"),
    "**/go.mod": ("go", "gomod"),
    "**/pom.xml": ("java", "pom"),
    "**/build.gradle": ("java", "gradle"),
    "**/build.gradle.kts": ("java", "gradle"),
    "**/libs.versions.toml": ("java", "versioncatalog"),
    "**/Gemfile": ("ruby", "gemfile"),
    "**/*.gemspec": ("ruby", "gemspec"),
    "**/Cargo.toml": ("rust", "cargo"),
}

_PEP508_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


class ManifestError(ValueError):
    pass


def _line_of(text: str, name: str) -> int | None:
    """The first line mentioning the dependency (for the evidence pointer)."""
    lowered = text.lower()
    for candidate in (name, name.replace("-", "_"), name.replace("-", ".")):
        index = lowered.find(candidate.lower())
        if index >= 0:
            return lowered.count("\n", 0, index) + 1
    return None


def _pep508(items: Iterable[Any]) -> list[str]:
    names = []
    for item in items:
        if isinstance(item, str):
            match = _PEP508_NAME.match(item)
            if match:
                names.append(match.group(1))
    return names


def _requirements(text: str) -> list[str]:
    """Requirement names. A compiled lock file (pip-compile, `uv pip compile`) annotates each
    pin with `# via`: a pin brought in only by other packages, not by a `-r`/`-c` input file
    or the project itself, is a dependency of a dependency and is left out."""
    names: list[str] = []
    current: str | None = None
    via: dict[str, list[str]] = {}
    in_via = False
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#"):
            comment = stripped.lstrip("#").strip()
            if current is not None and comment.startswith("via"):
                rest = comment[3:].strip()
                via.setdefault(current, []).extend([rest] if rest else [])
                in_via = True
            elif current is not None and in_via and comment:
                via.setdefault(current, []).append(comment)
            continue
        in_via = False
        line, _, inline = raw.partition(" #")
        line = line.strip()
        if not line or line.startswith("-") or "://" in line:
            current = None
            continue
        match = _PEP508_NAME.match(line)
        current = match.group(1) if match else None
        if current is not None:
            names.append(current)
            inline = inline.strip().lstrip("#").strip()
            if inline.startswith("via"):
                rest = inline[3:].strip()
                via.setdefault(current, []).extend([rest] if rest else [])
                in_via = True

    def direct(name: str) -> bool:
        sources = via.get(name)
        if sources is None:
            return True  # not a compiled file, or no annotation: listed by hand
        return not sources or any(
            s.startswith(("-r", "-c", "-e", "."))
            or s.endswith((".in", ".txt", ".toml", ".cfg"))
            or s.startswith(("pyproject", "setup"))
            for s in sources
        )

    return [name for name in names if direct(name)]


def _toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(str(exc)) from None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _pyproject(text: str) -> list[str]:
    data = _toml(text)
    project = _dict(data.get("project"))
    names = _pep508(project.get("dependencies") or [])
    for group in _dict(project.get("optional-dependencies")).values():
        names += _pep508(group if isinstance(group, list) else [])
    for group in _dict(data.get("dependency-groups")).values():
        names += _pep508(group if isinstance(group, list) else [])
    tool = _dict(data.get("tool"))
    poetry = _dict(tool.get("poetry"))
    names += [n for n in _dict(poetry.get("dependencies")) if n != "python"]
    names += list(_dict(poetry.get("dev-dependencies")))
    for group in _dict(poetry.get("group")).values():
        names += list(_dict(_dict(group).get("dependencies")))
    for group in _dict(_dict(tool.get("pdm")).get("dev-dependencies")).values():
        names += _pep508(group if isinstance(group, list) else [])
    uv_dev = _dict(tool.get("uv")).get("dev-dependencies")
    names += _pep508(uv_dev if isinstance(uv_dev, list) else [])
    return names


def _pipfile(text: str) -> list[str]:
    data = _toml(text)
    return list(_dict(data.get("packages"))) + list(_dict(data.get("dev-packages")))


def _setupcfg(text: str) -> list[str]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise ManifestError(str(exc)) from None
    values = []
    if parser.has_section("options"):
        for key in ("install_requires", "tests_require", "setup_requires"):
            values.append(parser.get("options", key, fallback=""))
    if parser.has_section("options.extras_require"):
        values += [v for _k, v in parser.items("options.extras_require")]
    return _requirements("\n".join(values))


def _packagejson(text: str) -> list[str]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ManifestError(str(exc)) from None
    if not isinstance(data, dict):
        raise ManifestError("package.json is not an object")
    names: list[str] = []
    for key in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
        names += list(_dict(data.get(key)))
    return names


def _gomod(text: str) -> list[str]:
    """Direct requirements only: a `// indirect` requirement is a dependency of a dependency,
    not something the project uses (go mod tidy marks it so)."""
    names, in_block = [], False
    for raw in text.splitlines():
        line, _, comment = raw.partition("//")
        line = line.strip()
        if comment.strip().startswith("indirect"):
            if line.startswith(")"):
                in_block = False
            continue
        if in_block:
            if line.startswith(")"):
                in_block = False
            elif line:
                names.append(line.split()[0])
        elif line.startswith("require ("):
            in_block = True
        elif line.startswith("require "):
            parts = line.split()
            if len(parts) >= 2:
                names.append(parts[1])
    return names


_POM_BLOCK = re.compile(r"<(dependency|plugin)>(.{0,4000}?)</\1>", re.S)
_POM_GROUP = re.compile(r"<groupId>\s*([^<\s]{1,200})\s*</groupId>")
_POM_ARTIFACT = re.compile(r"<artifactId>\s*([^<\s]{1,200})\s*</artifactId>")


def _pom(text: str) -> list[str]:
    names = []
    for match in _POM_BLOCK.finditer(text):
        body = match.group(2)
        group = _POM_GROUP.search(body)
        artifact = _POM_ARTIFACT.search(body)
        if artifact:
            prefix = group.group(1) if group else "org.apache.maven.plugins"
            names.append(f"{prefix}:{artifact.group(1)}")
    return names


_GRADLE_COORD = re.compile(r"""["']([\w.\-]{1,200}):([\w.\-]{1,200})(?::[^"'\s]{0,100})?["']""")


def _gradle(text: str) -> list[str]:
    return [f"{g}:{a}" for g, a in _GRADLE_COORD.findall(text)]


def _versioncatalog(text: str) -> list[str]:
    names = []
    for value in _dict(_toml(text).get("libraries")).values():
        if isinstance(value, str):
            parts = value.split(":")
            if len(parts) >= 2:
                names.append(f"{parts[0]}:{parts[1]}")
        elif isinstance(value, dict):
            module = value.get("module")
            if isinstance(module, str):
                names.append(module)
            elif isinstance(value.get("group"), str) and isinstance(value.get("name"), str):
                names.append(f"{value['group']}:{value['name']}")
    return names


_GEM = re.compile(r"""^\s*gem\s+["']([^"']{1,200})["']""", re.M)
_GEMSPEC = re.compile(
    r"""add_(?:runtime_|development_)?dependency\s*\(?\s*["']([^"']{1,200})["']"""
)


def _gemfile(text: str) -> list[str]:
    return _GEM.findall(text)


def _gemspec(text: str) -> list[str]:
    return _GEMSPEC.findall(text)


def _cargo(text: str) -> list[str]:
    data = _toml(text)
    sections = ("dependencies", "dev-dependencies", "build-dependencies")
    names: list[str] = []
    for section in sections:
        names += list(_dict(data.get(section)))
    names += list(_dict(_dict(data.get("workspace")).get("dependencies")))
    for target in _dict(data.get("target")).values():
        for section in sections:
            names += list(_dict(_dict(target).get(section)))
    return names


_PARSERS: dict[str, Callable[[str], list[str]]] = {
    "requirements": _requirements,
    "pyproject": _pyproject,
    "pipfile": _pipfile,
    "setupcfg": _setupcfg,
    "packagejson": _packagejson,
    "gomod": _gomod,
    "pom": _pom,
    "gradle": _gradle,
    "versioncatalog": _versioncatalog,
    "gemfile": _gemfile,
    "gemspec": _gemspec,
    "cargo": _cargo,
}


def parse_manifest(parser: str, ecosystem: str, text: str) -> dict[str, int | None]:
    """Normalised dependency name -> the line that mentions it (None if not found)."""
    names = _PARSERS[parser](text)
    out: dict[str, int | None] = {}
    for name in names:
        key = normalise_dependency(ecosystem, name)
        if key and key not in out:
            out[key] = _line_of(text, name)
    return out
