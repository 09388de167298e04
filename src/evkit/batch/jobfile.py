"""Reading a batch job file (YAML or CSV) and checking all of it before any job starts.

A typo found three hours into a night's processing costs the night, so the whole file is checked
first and the first problem is reported with the job's position, its case number and the field
(exit code 2, nothing created). Only what a worker alone can know, whether a source exists on the
storage *it* sees, is left to the job, and then fails that job only.

Values are taken as written, never coerced: YAML reads ``0012`` as the number 10 and ``2024-01-05``
as a date, so a case or evidence number that is not a string is an error asking for quotes.

One job is one case. A job's ``source`` may list several evidence items; they are numbered
``<evidence_number>-1``, ``-2``, ... in the order listed (one source keeps the number as given).
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from evkit.case.safenames import safe_component
from evkit.errors import UsageError
from evkit.profiles.loader import unknown_profile
from evkit.profiles.model import Profile

TOP_KEYS = ("cases_dir", "examiner", "agency", "profiles", "report", "jobs")
JOB_KEYS = ("case_number", "evidence_number", "source", "description", "profiles", "globs")
CSV_REQUIRED = ("case_number", "evidence_number", "source")
CSV_LISTS = ("source", "profiles", "globs")
SEPARATOR = ";"


class JobFileError(UsageError):
    """A problem in the job file; the message names the file, and the job and field when there is one."""


@dataclass(frozen=True)
class Evidence:
    number: str
    source: str  # absolute
    description: str


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker needs for one job. Plain picklable data, so any worker process can take it;
    the profiles travel as loaded and checked here, so a worker never parses a different version."""

    index: int  # 1-based position in the job file
    case_number: str
    case_dir: str
    log_file: str
    examiner: str
    agency: str
    evidence: tuple[Evidence, ...]
    globs: tuple[str, ...]
    profiles: tuple[Profile, ...]  # empty: no profile step
    reports: tuple[str, ...]  # empty: no report step
    jobs_file: str
    argv: tuple[str, ...]  # the batch command line, recorded in custody events and resume markers

    def definition(self) -> dict[str, Any]:
        """What the job asks of its case; a finished case is only taken as done for the same definition.

        Examiner and agency are left out: they only matter when the case is created.
        """
        return {"case_number": self.case_number,
                "evidence": [{"number": e.number, "source": e.source, "description": e.description} for e in self.evidence],
                "globs": list(self.globs), "profiles": sorted(p.id for p in self.profiles), "report": list(self.reports)}

    def digest(self) -> str:
        text = json.dumps(self.definition(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Settings:
    """Top-level settings from the command line: each one given replaces the file's (CSV has none of its own)."""

    cases_dir: Path | None = None
    examiner: str | None = None
    agency: str | None = None
    profiles: list[str] | None = None
    report: list[str] | None = None


@dataclass
class _RawJob:
    index: int
    line: int | None  # CSV only: YAML positions are told by index
    data: dict[str, Any]

    def label(self) -> str:
        parts = [f"line {self.line}"] if self.line else []
        number = self.data.get("case_number")
        if isinstance(number, str) and number:
            parts.append(f"case_number {number}")
        return f"job {self.index}" + (f" ({', '.join(parts)})" if parts else "")


class _Bad(Exception):
    """A value's problem, before it is known which job and field it belongs to."""


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return f"the date {value.isoformat()}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _text(value: Any) -> str:
    if not isinstance(value, str):
        hint = "; put it in quotes" if isinstance(value, (int, float, datetime.date)) and not isinstance(value, bool) else ""
        raise _Bad(f"must be text, not {_kind(value)}{hint}")
    if not value.strip():
        raise _Bad("must not be empty")
    return value


def _texts(value: Any, one_allowed: bool = False) -> list[str]:
    if one_allowed and isinstance(value, str):
        return [_text(value)]
    if not isinstance(value, list):
        raise _Bad(f"must be a list{' (or one text)' if one_allowed else ''}, not {_kind(value)}")
    out = []
    for i, item in enumerate(value, start=1):
        try:
            out.append(_text(item))
        except _Bad as exc:
            raise _Bad(f"item {i} {exc}") from None
    return out


def _profile_ids(value: Any, available: dict[str, Profile]) -> list[str]:
    ids = _texts(value)
    for pid in ids:
        if pid not in available:
            raise _Bad(unknown_profile(pid, available))
    return sorted(set(ids))


def _report_formats(value: Any) -> list[str]:
    from evkit.reports import FORMAT_NAMES

    formats = _texts(value)
    for fmt in formats:
        if fmt not in FORMAT_NAMES:
            raise _Bad(f"unknown report format {fmt!r} (known: {', '.join(FORMAT_NAMES)})")
    return list(dict.fromkeys(formats))


def case_folder(case_number: str) -> str:
    """A case number as one safe folder name (``/`` becomes ``=2F``, as every unsafe character)."""
    return safe_component(case_number)


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.base = Path(os.path.abspath(path)).parent

    def fail(self, message: str, job: _RawJob | None = None, field: str | None = None) -> JobFileError:
        where = [str(self.path)] + ([job.label()] if job else []) + ([field] if field else [])
        return JobFileError(": ".join(where + [message]))

    def absolute(self, value: str) -> str:
        """Relative paths in the file are relative to the file's own folder, not to where evkit runs."""
        return os.path.abspath(self.base / value)

    # -- the two formats ---------------------------------------------------------------------
    def yaml(self) -> tuple[dict[str, Any], list[_RawJob]]:
        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except UnicodeError:
            raise self.fail("not UTF-8 text") from None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            raise self.fail(f"malformed YAML{f' at line {mark.line + 1}' if mark else ''}: {exc.problem}") from None
        except yaml.YAMLError as exc:
            raise self.fail(f"malformed YAML: {exc}") from None
        if data is None:
            raise self.fail("the file is empty")
        if not isinstance(data, dict):
            raise self.fail(f"must be a mapping with cases_dir, examiner and jobs, not {_kind(data)}")
        for key in data:
            if key not in TOP_KEYS:
                raise self.fail(f"unknown key (known: {', '.join(TOP_KEYS)})", field=str(key))
        if "jobs" not in data:
            raise self.fail("required field is missing", field="jobs")
        jobs = data["jobs"]
        if not isinstance(jobs, list):
            raise self.fail(f"must be a list of jobs, not {_kind(jobs)}", field="jobs")
        if not jobs:
            raise self.fail("must list at least one job", field="jobs")
        raw = []
        for i, item in enumerate(jobs, start=1):
            job = _RawJob(i, None, item if isinstance(item, dict) else {})
            if not isinstance(item, dict):
                raise self.fail(f"must be a mapping of job fields, not {_kind(item)}", job)
            for key in item:
                if key not in JOB_KEYS:
                    raise self.fail(f"unknown key (known: {', '.join(JOB_KEYS)})", job, str(key))
            raw.append(job)
        top = {k: v for k, v in data.items() if k != "jobs"}
        if "cases_dir" in top and isinstance(top["cases_dir"], str):
            top["cases_dir"] = self.absolute(top["cases_dir"])
        return top, raw

    def csv(self) -> tuple[dict[str, Any], list[_RawJob]]:
        try:
            with open(self.path, newline="", encoding="utf-8-sig") as fh:
                rows = list(_numbered(csv.reader(fh, strict=True)))
        except UnicodeError:
            raise self.fail("not UTF-8 text") from None
        except csv.Error as exc:
            raise self.fail(f"malformed CSV: {exc}") from None
        rows = [(n, row) for n, row in rows if any(cell.strip() for cell in row)]
        if not rows:
            raise self.fail("the file is empty")
        header = [cell.strip() for cell in rows[0][1]]
        for name in header:
            if name not in JOB_KEYS:
                raise self.fail(f"unknown column {name!r} in the header (known: {', '.join(JOB_KEYS)})")
            if header.count(name) > 1:
                raise self.fail(f"column {name!r} appears twice in the header")
        for name in CSV_REQUIRED:
            if name not in header:
                raise self.fail(f"the header has no {name!r} column (needed: {', '.join(CSV_REQUIRED)})")
        if len(rows) == 1:
            raise self.fail("no jobs below the header")
        raw = []
        for i, (line, row) in enumerate(rows[1:], start=1):
            cells = [c.strip() for c in row]
            job = _RawJob(i, line, {})
            for name, cell in zip(header, cells, strict=False):  # a short row leaves its last cells empty
                if not cell:
                    continue
                if name in CSV_LISTS:
                    parts = [p.strip() for p in cell.split(SEPARATOR) if p.strip()]
                    job.data[name] = parts[0] if name == "source" and len(parts) == 1 else parts
                else:
                    job.data[name] = cell
            if len(cells) > len(header) and any(cells[len(header):]):
                raise self.fail(f"has {len(cells)} cells, the header names {len(header)}", job)
            raw.append(job)
        return {}, raw


def _numbered(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """Each CSV row with the line it starts on (quoted cells may span lines)."""
    start = 1
    for row in reader:
        yield start, row
        start = reader.line_num + 1


def load_jobs(path: Path, settings: Settings, available: dict[str, Profile], argv: list[str]) -> list[JobSpec]:
    """Every job of the file, checked and resolved; raises :class:`JobFileError` at the first problem."""
    reader = _Reader(path)
    if not path.is_file():
        raise UsageError(f"{path}: job file not found")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        top, raw = reader.yaml()
    elif suffix == ".csv":
        top, raw = reader.csv()
        if settings.cases_dir is None or settings.examiner is None:
            raise UsageError(f"{path}: a CSV job file needs --cases-dir and --examiner (a YAML file can hold them)")
    else:
        raise UsageError(f"{path}: a job file must end in .yaml, .yml or .csv")
    if settings.cases_dir is not None:
        top["cases_dir"] = os.path.abspath(settings.cases_dir)
    for key in ("examiner", "agency", "profiles", "report"):
        if getattr(settings, key) is not None:
            top[key] = getattr(settings, key)

    def setting(key: str, check: Any, required: bool = False) -> Any:
        if key not in top:
            if required:
                raise reader.fail("required field is missing", field=key)
            return None
        try:
            return check(top[key])
        except _Bad as exc:
            raise reader.fail(str(exc), field=key) from None

    cases_dir = Path(setting("cases_dir", _text, required=True))
    examiner = setting("examiner", _text, required=True)
    agency = setting("agency", _text) or ""
    default_profiles = setting("profiles", lambda v: _profile_ids(v, available))
    reports = setting("report", _report_formats) or []

    specs: list[JobSpec] = []
    seen_numbers: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    def field(job: _RawJob, key: str, check: Any, required: bool = False) -> Any:
        if key not in job.data:
            if required:
                raise reader.fail("required field is missing", job, key)
            return None
        try:
            return check(job.data[key])
        except _Bad as exc:
            raise reader.fail(str(exc), job, key) from None

    for job in raw:
        case_number = field(job, "case_number", _text, required=True)
        number = field(job, "evidence_number", _text, required=True)
        sources = [reader.absolute(s) for s in field(job, "source", lambda v: _texts(v, one_allowed=True), required=True)]
        if not sources:
            raise reader.fail("must name at least one source", job, "source")
        for s in sources:
            if sources.count(s) > 1:
                raise reader.fail(f"{s} is listed twice", job, "source")
        description = field(job, "description", _text) or ""
        profiles = field(job, "profiles", lambda v: _profile_ids(v, available))
        if profiles is None:
            profiles = default_profiles if default_profiles is not None else sorted(available)
        globs = field(job, "globs", _texts) or []

        if case_number in seen_numbers:
            raise reader.fail(f"{case_number} is also job {seen_numbers[case_number]}'s; one job per case "
                              "(list several sources in one job for several evidence items)", job, "case_number")
        folder = case_folder(case_number)
        log_name = f"{folder}.log"
        for name in (folder, log_name):
            other = seen_names.get(name.lower())
            if other is not None:
                raise reader.fail(f"its folder or log file name {name!r} clashes with job {other}'s", job, "case_number")
        seen_numbers[case_number] = job.index
        seen_names[folder.lower()] = seen_names[log_name.lower()] = job.index

        evidence = tuple(Evidence(number if len(sources) == 1 else f"{number}-{i}", s, description)
                         for i, s in enumerate(sources, start=1))
        specs.append(JobSpec(
            index=job.index, case_number=case_number, case_dir=str(cases_dir / folder),
            log_file=str(cases_dir / log_name), examiner=examiner, agency=agency, evidence=evidence,
            globs=tuple(globs), profiles=tuple(available[p] for p in profiles), reports=tuple(reports),
            jobs_file=os.path.abspath(path), argv=tuple(argv)))
    return specs
