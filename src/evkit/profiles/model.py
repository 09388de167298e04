"""Profiles as Python objects, once the YAML has been validated."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "text"
    format: str | None = None
    map: dict[str, Any] | None = None
    blob: str | None = None
    label: str | None = None
    zero_is_null: bool = True


@dataclass(frozen=True)
class Query:
    sql: str
    requires: dict[str, list[str]] = field(default_factory=dict)
    # Tables and columns the query reads that some versions of the app lack: read as null (a
    # missing table as an empty one), with a note naming them, and every other column still read.
    optional: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Artifact:
    name: str
    description: str = ""
    queries: tuple[Query, ...] = ()
    table: str | None = None
    pattern: str | None = None
    columns: dict[str, Column] = field(default_factory=dict)
    timeline_time: str | None = None
    timeline_description: str | None = None
    chat: dict[str, str] | None = None
    location: dict[str, str] | None = None
    contact: dict[str, Any] | None = None
    # Read every query whose tables exist and merge their rows on these output columns (the first
    # query's row wins; a row with a null key is always kept): a database in the middle of a
    # schema migration holds the whole history in the old table and part of it in the new one.
    merge_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceSpec:
    names: tuple[str, ...]
    paths: tuple[str, ...] = ()
    case_insensitive: bool = False

    def matches(self, path: str, name: str) -> bool:
        """The name and, when the spec has paths, the path: the artefact where the app keeps it."""
        if not self.name_matches(name):
            return False
        if self.case_insensitive:
            path = path.lower()
        return not self.paths or any(_glob(pattern, path, self.case_insensitive) for pattern in self.paths)

    def name_matches(self, name: str) -> bool:
        if self.case_insensitive:
            name = name.lower()
        return any(_glob(pattern, name, self.case_insensitive) for pattern in self.names)


def _glob(pattern: str, text: str, fold: bool) -> bool:
    return bool(_compile(pattern.lower() if fold else pattern).match(text))


_CACHE: dict[str, re.Pattern[str]] = {}


def _compile(pattern: str) -> re.Pattern[str]:
    """Globs where ``**/`` matches any number of folders (including none) and ``*`` stays in one."""
    rx = _CACHE.get(pattern)
    if rx is None:
        parts = []
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                parts.append("(?:.*/)?")
                i += 3
            elif pattern.startswith("**", i):
                parts.append(".*")
                i += 2
            elif pattern[i] == "*":
                parts.append("[^/]*")
                i += 1
            elif pattern[i] == "?":
                parts.append("[^/]")
                i += 1
            else:
                parts.append(re.escape(pattern[i]))
                i += 1
        rx = _CACHE[pattern] = re.compile("^" + "".join(parts) + "$", re.DOTALL)
    return rx


@dataclass(frozen=True)
class Profile:
    id: str
    name: str
    version: str
    parser: str
    sources: tuple[SourceSpec, ...]
    artifacts: dict[str, Artifact]
    identify: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    author: str = ""
    category: str = ""
    platforms: tuple[str, ...] = ()
    origin: Path | None = None

    def matches_name(self, path: str, name: str) -> bool:
        """Name and path as the app lays the file out."""
        return any(s.matches(path, name) for s in self.sources)

    def name_only(self, name: str) -> bool:
        """The name alone matches (wherever the file lies: a loose copy, a lab's folder of profile
        copies); enough for a profile whose ``identify`` checks the content."""
        return bool(self.identify) and any(s.name_matches(name) for s in self.sources)


def build(data: dict[str, Any], origin: Path | None) -> Profile:
    artifacts = {}
    for name, a in data["artifacts"].items():
        columns = {c: Column(name=c, type=spec.get("type", "text"), format=spec.get("format"), map=spec.get("map"),
                             blob=spec.get("blob"), label=spec.get("label"), zero_is_null=spec.get("zero_is_null", True))
                   for c, spec in (a.get("columns") or {}).items()}
        timeline = a.get("timeline") or {}
        artifacts[name] = Artifact(
            name=name, description=a.get("description", ""),
            queries=tuple(Query(sql=q["sql"], requires=q.get("requires") or {}, optional=q.get("optional") or {})
                          for q in a.get("queries") or []),
            table=a.get("table"), pattern=a.get("pattern"), columns=columns,
            timeline_time=timeline.get("time"), timeline_description=timeline.get("description"),
            chat=a.get("chat"), location=a.get("location"), contact=a.get("contact"),
            merge_on=tuple(a.get("merge_on") or ()))
    return Profile(
        id=data["id"], name=data["name"], version=str(data["version"]), parser=data["parser"],
        sources=tuple(SourceSpec(names=tuple(s["names"]), paths=tuple(s.get("paths") or ()),
                                 case_insensitive=bool(s.get("case_insensitive"))) for s in data["sources"]),
        artifacts=artifacts, identify=data.get("identify") or {}, description=data.get("description", ""),
        author=data.get("author", ""), category=data.get("category", ""),
        platforms=tuple(data.get("platforms") or ()), origin=origin)
