"""Who is an AI agent or a bot: the maintained identity list in agents.yaml.

`classify(name, email)` looks at a commit identity (author, committer, or a Co-authored-by
trailer); `classify_login(login, user_type)` at a GitHub account. Both return the first matching
identity, or None for a person. "ai-agent" (coding agents and AI reviewers) is kept apart from
"dependency-bot" (Dependabot, Renovate ...) and "bot" (other automation), so delivery metrics
can be split by AI involvement without counting dependency bumps as AI work.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

IdentityKind = Literal["ai-agent", "dependency-bot", "bot"]
AGENTS_PATH = Path(__file__).with_name("agents.yaml")
_KINDS = ("ai-agent", "dependency-bot", "bot")
_TRAILER_IDENTITY = re.compile(r"^\s*(.*?)\s*<([^<>]*)>\s*$")


@dataclass(frozen=True)
class Identity:
    label: str
    kind: IdentityKind
    names: re.Pattern[str] | None
    emails: re.Pattern[str] | None


def _compile(patterns: object, where: str) -> re.Pattern[str] | None:
    if patterns is None:
        return None
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise ValueError(f"agents.yaml: {where} must be a list of patterns")
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


@functools.cache
def load_identities(path: Path = AGENTS_PATH) -> tuple[Identity, ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for index, raw in enumerate(data["identities"]):
        kind = raw.get("kind")
        if kind not in _KINDS or not isinstance(raw.get("label"), str):
            raise ValueError(f"agents.yaml: identities[{index}] needs a label and a known kind")
        out.append(
            Identity(
                label=raw["label"],
                kind=kind,
                names=_compile(raw.get("names"), f"identities[{index}].names"),
                emails=_compile(raw.get("emails"), f"identities[{index}].emails"),
            )
        )
    return tuple(out)


@functools.lru_cache(maxsize=65536)
def classify(name: str, email: str) -> Identity | None:
    """The identity of a commit author/committer/co-author, or None for a person."""
    name, email = name.strip(), email.strip()
    for identity in load_identities():
        if identity.names is not None and name and identity.names.fullmatch(name):
            return identity
        if identity.emails is not None and email and identity.emails.fullmatch(email):
            return identity
    return None


def classify_trailer(value: str) -> Identity | None:
    """The identity in a `Name <email>` trailer value (Co-authored-by)."""
    match = _TRAILER_IDENTITY.match(value)
    if match:
        return classify(match.group(1), match.group(2))
    return classify(value, "")


@functools.lru_cache(maxsize=16384)
def classify_login(login: str, user_type: str | None = None) -> Identity | None:
    """A GitHub account: by login, then by type ("Bot" accounts are at least bots)."""
    found = classify(login, "")
    if found is None and user_type == "Bot":
        return Identity(label="Other bots", kind="bot", names=None, emails=None)
    return found
